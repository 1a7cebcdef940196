"""Virtual devices named in the config: they wait in pairing mode until joining is opened."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable

import zigpy.application
import zigpy.types as t

from .sim import SimControllerApplication, SimStick, VirtualDevice
from .sim.profiles import KINDS, make_device

__all__ = ["ALIASES", "place_sim_devices", "resolve_kinds", "withdraw_sim_devices"]

_LOGGER = logging.getLogger(__name__)
# American spellings and short names people will type in a config.
ALIASES = {
    "color_bulb": "colour_bulb",
    "bulb": "colour_bulb",
    "dimmer": "dimmable_bulb",
    "plug": "metering_plug",
    "smart_plug": "metering_plug",
    "temperature_sensor": "temp_humidity_sensor",
    "contact": "door_contact",
    "motion": "motion_sensor",
    "lock": "door_lock",
    "button": "wireless_button",
    "remote": "wireless_button",
}


def resolve_kinds(names: Iterable[str]) -> list[str]:
    """Map config names to profile kinds; raises ValueError naming the unknown ones."""
    kinds: list[str] = []
    for name in names:
        kind = ALIASES.get(name, name)
        if kind not in KINDS:
            known = ", ".join(sorted({*KINDS, *ALIASES}))
            raise ValueError(f"unknown simulated device {name!r} (known: {known})")
        kinds.append(kind)
    return kinds


def place_sim_devices(
    app: zigpy.application.ControllerApplication,
    kinds: list[str],
    *,
    join_all: bool,
    join_delay: float,
) -> list[VirtualDevice]:
    """Put the devices near the simulated stick: known ones rejoin now, new ones wait."""
    assert isinstance(app, SimControllerApplication)
    stick = app.stick
    air = stick.air
    stick.join_all = join_all
    stick.join_delay = join_delay
    stick.waiting.clear()
    seen: Counter[str] = Counter()
    devices: list[VirtualDevice] = []
    for kind in kinds:
        # The n-th device of a kind keeps its IEEE address across restarts.
        device = make_device(kind, seen[kind])
        seen[kind] += 1
        known = app.devices.get(device.ieee)
        if known is not None and not known.is_initialized:
            known = None  # only an address in the stick's tables, never interviewed here
        existing = air.devices.get(device.ieee)
        if existing is not None and existing.is_joined and existing.network == stick.network:
            if known is not None:
                existing.start()  # still on our network from an earlier start
                devices.append(existing)
                continue
            # On this network but unknown to this hub (another config dir used the same
            # stick earlier in this process): reset it, so it waits to be paired here.
            air.leave(existing)
            existing.stop()
        if known is not None and stick.network is not None:
            # Paired before this process started: it comes back without pairing again.
            device.nwk = t.NWK(known.nwk)
            air.join(device, stick, force=True)
            _LOGGER.debug("zigbee sim: %s rejoined at 0x%04X", kind, device.nwk)
        else:
            air.add(device)
            stick.waiting.append(device)
        devices.append(device)
    return devices


def withdraw_sim_devices(stick: SimStick | None, devices: list[VirtualDevice]) -> None:
    """Power the config's devices off (hub stopping): no timers, no late frames.

    Left on the air, they could still answer a hub started next in this process on the same
    stick, which would then discover them by itself instead of pairing them. The next start
    makes them again from the config (those its zigpy database knows rejoin at once).
    """
    if stick is not None:
        stick.waiting.clear()
        for device in devices:
            stick.air.remove(device)
    for device in devices:
        device.stop()
