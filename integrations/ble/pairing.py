"""Pairing: list what is advertising nearby and what it is; check a device's bind key."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from habluetooth import BluetoothServiceInfoBleak

from . import switchbot_bulb
from .errors import BindKeyRequired, DeviceNotFound, WrongBindKey
from .parsers import AdvertParser, ParseOutcome, Reading, detect_family, parse_bind_key
from .scanner import SharedScanner
from .store import DeviceKind

__all__ = ["NearbyDevice", "async_scan", "async_verify_key", "recognise"]


@dataclass(frozen=True, slots=True)
class NearbyDevice:
    """A device heard during a scan session, with what was recognised from its advert."""

    address: str
    name: str
    rssi: int
    kind: DeviceKind | None
    model: str | None
    manufacturer: str | None
    encrypted: bool
    readings: tuple[Reading, ...]

    @property
    def needs_bind_key(self) -> bool:
        return self.encrypted


def recognise(info: BluetoothServiceInfoBleak) -> NearbyDevice:
    """Identify one advert: a SwitchBot bulb, a BTHome or Xiaomi sensor, or unknown."""
    if switchbot_bulb.is_color_bulb(info):
        return _nearby(info, "switchbot_bulb", "Color Bulb", "SwitchBot", False, ())
    family = detect_family(info)
    if family is None:
        return _nearby(info, None, None, None, False, ())
    parser = AdvertParser(info.address, family)
    outcome = parser.parse(info)
    if outcome is None:
        return _nearby(info, family, None, None, parser.encrypted, ())
    return _nearby(
        info, family, outcome.model, outcome.manufacturer, parser.encrypted, outcome.readings
    )


def _nearby(
    info: BluetoothServiceInfoBleak,
    kind: DeviceKind | None,
    model: str | None,
    manufacturer: str | None,
    encrypted: bool,
    readings: tuple[Reading, ...],
) -> NearbyDevice:
    return NearbyDevice(
        info.address, info.name, info.rssi, kind, model, manufacturer, encrypted, readings
    )


async def async_scan(scanner: SharedScanner, duration: float) -> list[NearbyDevice]:
    """Listen for `duration` seconds; every device heard, recognised ones first, nearest first."""
    started = time.monotonic()
    heard: dict[str, BluetoothServiceInfoBleak] = {
        info.address: info for info in scanner.all_latest() if started - info.time < duration
    }
    unregister = scanner.async_register_callback(lambda info: heard.__setitem__(info.address, info))
    try:
        await asyncio.sleep(duration)
    finally:
        unregister()
    found = [recognise(info) for info in heard.values()]
    return sorted(found, key=lambda d: (d.kind is None, -d.rssi, d.address))


async def async_verify_key(
    scanner: SharedScanner,
    address: str,
    family: DeviceKind,
    bind_key: str | None,
    wait: float,
) -> ParseOutcome:
    """Parse the device's adverts with `bind_key`; raise BindKeyRequired/WrongBindKey if it fails.

    The newest advert is tried first; otherwise adverts are awaited for up to `wait` seconds.
    """
    if family == "switchbot_bulb":
        raise ValueError("bulbs have no bind key")
    try:
        key = parse_bind_key(bind_key, family)
    except ValueError as exc:
        raise WrongBindKey(f"That bind key is not valid: {exc}.") from None
    parser = AdvertParser(address, family, key)
    queue: asyncio.Queue[BluetoothServiceInfoBleak] = asyncio.Queue()
    unregister = scanner.async_register_callback(
        lambda info: queue.put_nowait(info) if info.address == parser.address else None
    )
    latest = scanner.latest(address)
    if latest is not None:
        queue.put_nowait(latest)
    seen = False
    try:
        async with asyncio.timeout(wait):
            while True:
                info = await queue.get()
                seen = True
                outcome = parser.parse(info)
                if parser.encrypted and key is None:
                    raise BindKeyRequired(
                        f"{info.name} encrypts its data: enter its bind key (32 hex characters)."
                    )
                if parser.encrypted and not parser.key_verified:
                    raise WrongBindKey(
                        f"The bind key does not decrypt {info.name}'s data: check the key "
                        "(it is shown where the device's firmware was flashed or configured)."
                    )
                if outcome is not None:
                    return outcome
    except TimeoutError:
        if seen:
            raise DeviceNotFound(f"{address} sent no readable data within {wait:g} s") from None
        raise DeviceNotFound(f"{address} was not heard within {wait:g} s") from None
    finally:
        unregister()
