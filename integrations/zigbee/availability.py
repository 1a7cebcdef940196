"""Availability from last-seen, with a timeout per device type (mains vs battery)."""

from __future__ import annotations

from dataclasses import dataclass, field

import zigpy.device
import zigpy.types as t

__all__ = ["AvailabilityPolicy", "LastHeard", "is_mains_powered"]


@dataclass(frozen=True, slots=True)
class AvailabilityPolicy:
    """How long a device may stay silent before it is unavailable."""

    mains_timeout_s: float = 2 * 3600.0
    battery_timeout_s: float = 25 * 3600.0
    check_interval_s: float = 60.0

    def timeout_for(self, device: zigpy.device.ZigbeeDevice) -> float:
        """The silence allowed for this device."""
        return self.mains_timeout_s if is_mains_powered(device) else self.battery_timeout_s

    def is_available(self, device: zigpy.device.ZigbeeDevice, heard_at: float, now: float) -> bool:
        """True if the device was heard from within its timeout (times on the hub's clock)."""
        return now - heard_at <= self.timeout_for(device)


@dataclass(slots=True)
class LastHeard:
    """When each device was last heard, on the hub's clock.

    zigpy stamps `last_seen` with the wall clock; Hearth measures silence on `hub.clock` (so
    tests can move time), noting the hub time whenever zigpy's stamp changes.
    """

    _stamp: dict[t.EUI64, float | None] = field(default_factory=dict)
    _heard: dict[t.EUI64, float] = field(default_factory=dict)

    def observe(self, device: zigpy.device.ZigbeeDevice, now: float) -> float:
        """Note the device's zigpy stamp; return the hub time it was last heard."""
        ieee, stamp = device.ieee, device.last_seen
        if ieee not in self._stamp:
            # First look: heard at its join, or a grace period starts now (hub start).
            self._heard.setdefault(ieee, now)
        elif stamp != self._stamp[ieee]:
            self._heard[ieee] = now  # zigpy heard it since the last look
        self._stamp[ieee] = stamp
        return self._heard[ieee]

    def heard(self, ieee: t.EUI64, now: float) -> None:
        """The device was just heard (joined, rejoined, answered)."""
        self._heard[ieee] = now

    def forget(self, ieee: t.EUI64) -> None:
        """Drop a removed device."""
        self._stamp.pop(ieee, None)
        self._heard.pop(ieee, None)


def is_mains_powered(device: zigpy.device.ZigbeeDevice) -> bool:
    """Routers and mains-powered nodes answer at any time; sleepy end devices do not."""
    desc = device.node_desc
    if desc is None:
        return False
    return bool(desc.is_mains_powered or desc.is_router)
