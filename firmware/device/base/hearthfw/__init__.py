"""Hearth reference firmware base: hardware layer, bootloader, OTA, provisioning (not updatable)."""
