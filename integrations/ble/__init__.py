"""Bluetooth Low Energy: shared scanner, BTHome/Xiaomi sensors, a GATT bulb, pairing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from habluetooth import BluetoothServiceInfoBleak

from hub.integration import (
    STAGE_DONE,
    STAGE_FAILED,
    STAGE_FOUND,
    STAGE_READY,
    STAGE_SEARCHING,
    Integration,
    Manifest,
    PairingCandidate,
    PairingProgress,
    PairingRequest,
)
from hub.schema import Field, Schema

from .adapter_watch import AdapterWatch
from .bulb import SwitchBotBulbLight
from .errors import POWERED_OFF, BindKeyError, BluetoothUnavailable, DeviceNotFound
from .pairing import NearbyDevice, async_scan, async_verify_key, recognise
from .scanner import SharedScanner
from .sensor_device import AdvertSensorDevice
from .store import KINDS, DeviceStore, PairedDevice

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = ["INTEGRATION", "SCANNER_KEY", "BLEIntegration"]

_LOGGER = logging.getLogger(__name__)

PROTOCOL = "ble"
NOTIFICATION_ID = "ble_unavailable"
SCANNER_KEY = "ble.scanner"  # hub.data key: other BLE consumers share this one scanner


class BLEIntegration(Integration):
    """Owns the shared scanner and every BLE device the user paired or configured."""

    manifest = Manifest(
        domain="ble",
        name="Bluetooth LE",
        pairing=(PROTOCOL,),
        description="BTHome and Xiaomi sensors, SwitchBot Color Bulb; one shared BlueZ scanner",
    )
    config_schema = Schema(
        {
            "adapter": Field("str", description="BlueZ adapter, e.g. hci0; default: first powered"),
            "scan_mode": Field("enum", choices=("auto", "active", "passive"), default="auto"),
            "unavailable_after": Field(
                "float", min=1, max=86400, default=300.0, description="seconds of silence"
            ),
            "retry_interval": Field(
                "float", min=0.1, max=3600, default=30.0, description="seconds between retries"
            ),
            "verify_wait": Field(
                "float", min=0.1, max=600, default=30.0, description="pairing: wait for an advert"
            ),
            "reconnect_max": Field(
                "float", min=0.1, max=600, default=30.0, description="longest reconnect backoff"
            ),
            "devices": Field("any", default=[], description="[{address, kind, name, bind_key}]"),
        }
    )

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        super().__init__(hub, config)
        self.scanner = SharedScanner(config.get("adapter"), config.get("scan_mode", "auto"))
        self.unavailable_after = float(config.get("unavailable_after", 300.0))
        self.retry_interval = float(config.get("retry_interval", 30.0))
        self.verify_wait = float(config.get("verify_wait", 30.0))
        top = float(config.get("reconnect_max", 30.0))
        self.backoff = tuple(min(step, top) for step in (0.5, 1.0, 2.0, 5.0, 10.0, 30.0))
        self.store = DeviceStore(hub.config_dir / ".storage" / "ble_devices.json")
        self.status: BluetoothUnavailable | None = None
        self.paired: dict[str, PairedDevice] = {}
        self.sensors: dict[str, AdvertSensorDevice] = {}
        self.bulbs: dict[str, SwitchBotBulbLight] = {}
        self._unregister = self.scanner.async_register_callback(self._on_advert)
        self._watch: asyncio.Task[None] | None = None
        self._adapter_watch: AdapterWatch | None = None
        hub.data[SCANNER_KEY] = self.scanner

    async def async_setup(self) -> None:
        stored = await self.hub.async_add_executor_job(self.store.load)
        for device in [*_configured(self.config.get("devices")), *stored]:
            self.paired.setdefault(device.address, device)
        # Scanner first: BlueZ's device list is then loaded when the bulbs' links look for them.
        await self._async_try_start()
        for device in self.paired.values():
            await self._async_add_device(device)
        self._watch = self.hub.async_create_task(self._async_watch(), "ble-watch")

    async def async_teardown(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        self._unregister()
        if self._adapter_watch is not None:
            self._adapter_watch.stop()
        for bulb in self.bulbs.values():
            await bulb.link.async_stop()
        await self.scanner.async_stop()
        self.hub.data.pop(SCANNER_KEY, None)

    async def async_pair(self, request: PairingRequest) -> AsyncIterator[PairingProgress]:
        """No candidate: list nearby devices. With one: verify its bind key if needed, add it."""
        if self.status is not None:
            yield PairingProgress(STAGE_FAILED, PROTOCOL, self.status.message)
            return
        if request.candidate_id is None:
            yield PairingProgress(STAGE_SEARCHING, PROTOCOL, "Listening for BLE devices")
            for nearby in await async_scan(self.scanner, request.duration):
                yield PairingProgress(
                    STAGE_FOUND, PROTOCOL, _describe(nearby), candidate=_candidate(nearby)
                )
            yield PairingProgress(STAGE_DONE, PROTOCOL, "Scan finished")
            return
        async for step in self._async_pair_one(request):
            yield step

    async def _async_pair_one(self, request: PairingRequest) -> AsyncIterator[PairingProgress]:
        address = str(request.candidate_id).upper()
        latest = self.scanner.latest(address)
        kind = request.options.get("kind") or _kind_of(latest)
        if kind not in KINDS:
            yield PairingProgress(STAGE_FAILED, PROTOCOL, f"{address} is not a supported device")
            return
        name = str(request.options.get("name") or (latest.name if latest else address))
        raw_key = request.options.get("bind_key")
        bind_key = str(raw_key) if raw_key else None
        if kind != "switchbot_bulb":
            try:
                await async_verify_key(self.scanner, address, kind, bind_key, self.verify_wait)
            except (BindKeyError, DeviceNotFound) as exc:
                _LOGGER.warning("Pairing %s failed: %s", address, exc)
                yield PairingProgress(STAGE_FAILED, PROTOCOL, str(exc))
                return
        device = PairedDevice(address, kind, name, bind_key.strip() if bind_key else None)
        self.paired[address] = device
        await self.hub.async_add_executor_job(self.store.save, list(self.paired.values()))
        await self._async_add_device(device)
        latest = self.scanner.latest(address)
        sensor = self.sensors.get(address)
        if latest is not None and sensor is not None:
            sensor.on_advert(latest)  # entities appear now, not at the next advert
            await sensor.async_wait_added()
        entity_ids = tuple(
            e.entity_id
            for e in self.entities()
            if e.entity_id and e.device_info and ("ble", address) in e.device_info.identifiers
        )
        yield PairingProgress(
            STAGE_READY, PROTOCOL, f"Added {name}", entity_ids=entity_ids, suggested_name=name
        )

    async def _async_add_device(self, device: PairedDevice) -> None:
        # Pairing a known device again (a new bind key, a new name) keeps its live entities.
        if device.address in self.bulbs:
            return
        known = self.sensors.get(device.address)
        if known is not None:
            known.async_set_bind_key(device.bind_key)
            return
        if device.kind == "switchbot_bulb":
            bulb = SwitchBotBulbLight(
                device, lambda: self.scanner.ble_device(device.address), self.backoff
            )
            self.bulbs[device.address] = bulb
            await self.hub.entities.async_add(self.domain, [bulb])
            return
        try:
            self.sensors[device.address] = AdvertSensorDevice(
                self.hub, self.domain, device, self.unavailable_after
            )
        except ValueError as exc:
            _LOGGER.error(
                "BLE device %s has a malformed bind key (%s); skipped", device.address, exc
            )

    def _on_advert(self, info: BluetoothServiceInfoBleak) -> None:
        sensor = self.sensors.get(info.address)
        if sensor is not None:
            sensor.on_advert(info)
        bulb = self.bulbs.get(info.address)
        if bulb is not None:
            bulb.on_advert(info)

    async def _async_try_start(self) -> bool:
        try:
            await self.scanner.async_start()
        except BluetoothUnavailable as exc:
            self._set_unavailable(exc)
            return False
        if self.status is not None:
            _LOGGER.info("Bluetooth is available again")
            self.hub.notifications.async_dismiss(NOTIFICATION_ID)
        self.status = None
        if self._adapter_watch is None:
            watch = AdapterWatch(self._on_adapter_powered)
            try:
                await watch.async_start()
            except Exception as exc:
                _LOGGER.debug("Not watching adapter power: %s", exc)
            else:
                self._adapter_watch = watch
        return True

    def _set_unavailable(self, exc: BluetoothUnavailable) -> None:
        if self.status is None or self.status.reason != exc.reason:
            _LOGGER.error("%s", exc.message)
            self.hub.notifications.async_create(exc.message, "Bluetooth", NOTIFICATION_ID)
        self.status = exc

    def _on_adapter_powered(self, adapter: str, powered: bool) -> None:
        if self.scanner.adapter and adapter != self.scanner.adapter:
            return
        if not powered and self.status is None and self.scanner.running:
            self._set_unavailable(
                BluetoothUnavailable("powered_off", POWERED_OFF.format(adapter=adapter))
            )
            self.hub.async_create_task(self.scanner.async_stop(), "ble-scanner-stop")
        elif powered and self.status is not None:
            self.hub.async_create_task(self._async_try_start(), "ble-scanner-start")

    async def _async_watch(self) -> None:
        """Retry a scanner that could not start; mark silent sensors unavailable."""
        interval = min(self.unavailable_after / 4, self.retry_interval, 5.0)
        next_retry = time.monotonic() + self.retry_interval
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            if self.status is not None and now >= next_retry:
                await self._async_try_start()
                next_retry = now + self.retry_interval
            for sensor in self.sensors.values():
                sensor.check_available(now)


def _configured(raw: Any) -> list[PairedDevice]:
    if not isinstance(raw, list):
        if raw:
            _LOGGER.error("ble.devices must be a list of {address, kind, name, bind_key}")
        return []
    out = []
    for item in raw:
        try:
            out.append(PairedDevice.from_dict(dict(item)))
        except (KeyError, TypeError, ValueError) as exc:
            _LOGGER.error("Skipping ble.devices entry %r: %s", item, exc)
    return out


def _kind_of(info: BluetoothServiceInfoBleak | None) -> str | None:
    return recognise(info).kind if info is not None else None


def _candidate(nearby: NearbyDevice) -> PairingCandidate:
    readings = {r.key: r.value for r in nearby.readings}
    return PairingCandidate(
        id=nearby.address,
        protocol=PROTOCOL,
        name=nearby.name,
        model=nearby.model,
        manufacturer=nearby.manufacturer,
        needs=("bind_key",) if nearby.needs_bind_key else (),
        details={
            "kind": nearby.kind,
            "rssi": nearby.rssi,
            "encrypted": nearby.encrypted,
            "readings": readings,
        },
    )


def _describe(nearby: NearbyDevice) -> str:
    if nearby.kind is None:
        return f"{nearby.name}: not a supported device"
    what = nearby.model or nearby.kind
    if nearby.needs_bind_key:
        return f"{nearby.name}: {what}, encrypted (needs its bind key)"
    return f"{nearby.name}: {what}"


INTEGRATION = BLEIntegration
