"""Simulated Zigbee radio and virtual devices, layered like a zigpy radio library."""

from .device import VirtualDevice
from .radio import SimAir, SimControllerApplication, SimStick, forget_stick, get_stick

__all__ = [
    "SimAir",
    "SimControllerApplication",
    "SimStick",
    "VirtualDevice",
    "forget_stick",
    "get_stick",
]
