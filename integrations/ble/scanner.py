"""One bleak scanner shared by every BLE consumer in the hub: start, stop, fan adverts out."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Literal

from bleak import BleakScanner
from bleak.args.bluez import BlueZScannerArgs, OrPattern, OrPatternLike
from bleak.assigned_numbers import AdvertisementDataType
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import BleakDBusError, BleakError
from habluetooth import BluetoothServiceInfoBleak

from .errors import BluetoothUnavailable, explain_unavailable

__all__ = ["AdvertCallback", "ScanMode", "SharedScanner"]

_LOGGER = logging.getLogger(__name__)

ScanMode = Literal["auto", "active", "passive"]
AdvertCallback = Callable[[BluetoothServiceInfoBleak], None]

# BlueZ's passive mode reports only adverts matching an "or pattern". Every connectable or
# general-discoverable LE advert carries one of these Flags values, which covers sensors, beacons
# and bulbs alike (the same set Home Assistant uses).
_PASSIVE_PATTERNS: list[OrPatternLike] = [
    OrPattern(0, AdvertisementDataType.FLAGS, b"\x02"),
    OrPattern(0, AdvertisementDataType.FLAGS, b"\x06"),
    OrPattern(0, AdvertisementDataType.FLAGS, b"\x1a"),
]


class SharedScanner:
    """The hub's single BLE scanner; passive where BlueZ supports it, active otherwise."""

    def __init__(self, adapter: str | None = None, mode: ScanMode = "auto") -> None:
        self.adapter = adapter
        self.requested_mode: ScanMode = mode
        self.mode: Literal["active", "passive"] | None = None
        self._scanner: BleakScanner | None = None
        self._callbacks: list[AdvertCallback] = []
        self._latest: dict[str, BluetoothServiceInfoBleak] = {}

    @property
    def running(self) -> bool:
        return self._scanner is not None

    async def async_start(self) -> None:
        """Start scanning; raises BluetoothUnavailable with a clear message if it cannot."""
        if self._scanner is not None:
            return
        modes: list[Literal["active", "passive"]]
        modes = ["passive", "active"] if self.requested_mode == "auto" else [self.requested_mode]
        last_error: BaseException | None = None
        for mode in modes:
            try:
                scanner = self._make_scanner(mode)
                await scanner.start()
            except Exception as exc:
                unavailable = explain_unavailable(exc, self.adapter)
                if unavailable is not None:
                    raise unavailable from exc
                if mode == "passive" and _passive_unsupported(exc):
                    _LOGGER.info(
                        "Passive BLE scanning unsupported here (%s); scanning actively", exc
                    )
                    last_error = exc
                    continue
                raise BluetoothUnavailable("scan_failed", f"BLE scanning failed: {exc}") from exc
            self._scanner, self.mode = scanner, mode
            _LOGGER.info("BLE scanner running (%s, adapter %s)", mode, self.adapter or "default")
            return
        raise BluetoothUnavailable("scan_failed", f"BLE scanning failed: {last_error}")

    async def async_stop(self) -> None:
        scanner, self._scanner = self._scanner, None
        if scanner is None:
            return
        try:
            await scanner.stop()
        except Exception as exc:
            _LOGGER.debug("Stopping the BLE scanner: %s", exc)

    def async_register_callback(self, callback: AdvertCallback) -> Callable[[], None]:
        """Call `callback` for every advert; returns a function that unregisters it."""
        self._callbacks.append(callback)

        def unregister() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return unregister

    def latest(self, address: str) -> BluetoothServiceInfoBleak | None:
        """The most recent advert from `address` (upper-case MAC), if any."""
        return self._latest.get(address.upper())

    def all_latest(self) -> list[BluetoothServiceInfoBleak]:
        return list(self._latest.values())

    def ble_device(self, address: str) -> BLEDevice | None:
        info = self.latest(address)
        return info.device if info is not None else None

    def _make_scanner(self, mode: Literal["active", "passive"]) -> BleakScanner:
        bluez = BlueZScannerArgs()
        if self.adapter:
            bluez["adapter"] = self.adapter
        if mode == "passive":
            bluez["or_patterns"] = _PASSIVE_PATTERNS
        return BleakScanner(self._on_advert, scanning_mode=mode, bluez=bluez)

    def _on_advert(self, device: BLEDevice, adv: AdvertisementData) -> None:
        info = BluetoothServiceInfoBleak(
            name=adv.local_name or device.name or device.address,
            address=device.address.upper(),
            rssi=adv.rssi,
            manufacturer_data=adv.manufacturer_data,
            service_data=adv.service_data,
            service_uuids=adv.service_uuids,
            source=self.adapter or "local",
            device=device,
            advertisement=adv,
            connectable=True,
            time=time.monotonic(),
            tx_power=adv.tx_power,
        )
        self._latest[info.address] = info
        for callback in list(self._callbacks):
            try:
                callback(info)
            except Exception:
                # One consumer's bug must not stop adverts reaching the others.
                _LOGGER.exception("BLE advert callback failed for %s", info.address)


def _passive_unsupported(exc: BaseException) -> bool:
    if isinstance(exc, BleakDBusError):
        return exc.dbus_error in (
            "org.freedesktop.DBus.Error.UnknownMethod",
            "org.freedesktop.DBus.Error.UnknownInterface",
            "org.bluez.Error.NotSupported",
        )
    return isinstance(exc, BleakError) and "passive scanning" in str(exc)
