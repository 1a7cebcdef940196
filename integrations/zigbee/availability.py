"""Availability from last-seen, with a timeout per device type (mains vs battery)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import zigpy.device

__all__ = ["AvailabilityPolicy", "is_mains_powered"]


@dataclass(frozen=True, slots=True)
class AvailabilityPolicy:
    """How long a device may stay silent before it is unavailable."""

    mains_timeout_s: float = 2 * 3600.0
    battery_timeout_s: float = 25 * 3600.0
    check_interval_s: float = 60.0

    def timeout_for(self, device: zigpy.device.ZigbeeDevice) -> float:
        """The silence allowed for this device."""
        return self.mains_timeout_s if is_mains_powered(device) else self.battery_timeout_s

    def is_available(self, device: zigpy.device.ZigbeeDevice, now: float | None = None) -> bool:
        """True if the device was heard from within its timeout."""
        last_seen = device.last_seen
        if last_seen is None:
            return False
        now = time.time() if now is None else now
        return now - last_seen <= self.timeout_for(device)


def is_mains_powered(device: zigpy.device.ZigbeeDevice) -> bool:
    """Routers and mains-powered nodes answer at any time; sleepy end devices do not."""
    desc = device.node_desc
    if desc is None:
        return False
    return bool(desc.is_mains_powered or desc.is_router)
