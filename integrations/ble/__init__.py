"""Bluetooth Low Energy: shared scanner, BTHome/Xiaomi sensors, GATT devices, pairing."""
