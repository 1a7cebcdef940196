"""Zigbee through the real zigpy stack: sim/znp/ezsp radios, pairing, OTA, backups.

Configuration (``zigbee:`` in configuration.yaml)::

    zigbee:
      radio: znp                 # required: znp (TI), ezsp (Silicon Labs) or sim (simulated)
      device: /dev/ttyUSB0       # serial port or socket://host:port; sim://<name> for sim
      channel: 15
      ota_dir: firmware/zigbee   # folder of Zigbee OTA image files (default: the repo's)
      mains_timeout: 7200        # seconds of silence before a mains device is unavailable
      battery_timeout: 90000     # the same for battery (sleepy) devices
      availability_interval: 60  # how often availability is checked, seconds
      poll_interval: 300         # how often attributes a device will not report are read
      reconnect_max: 60          # longest pause between attempts after the radio is lost
      # Simulated radio only: virtual devices in pairing mode near the stick. They join
      # when permit-join opens (from the dashboard, the API or `hearth pair zigbee`), so a
      # person or a browser test can pair a device with no test hooks.
      sim_devices: [color_bulb, door_contact]
      sim_join: one              # one device per permit-join opening, or all at once
      sim_join_delay: 0.5        # seconds after joining opens before a device joins

``sim_devices`` kinds: colour_bulb (color_bulb, bulb), dimmable_bulb (dimmer), metering_plug
(plug, smart_plug), temp_humidity_sensor (temperature_sensor), door_contact (contact),
motion_sensor (motion), thermostat, door_lock (lock), wireless_button (button, remote). The n-th
device of a kind always has the same IEEE address, so one paired before a restart comes back on
its own, with its entities and names.

There is no default radio: the simulated stick runs only with ``radio: sim`` (its device
defaults to ``sim://hearth``). A serial device that is missing or not a character device fails
the integration with an error naming the path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from hub.errors import ConfigError, EntityNotFound, IntegrationError, InvalidServiceData
from hub.integration import (
    STAGE_CONFIGURED,
    STAGE_DONE,
    STAGE_FAILED,
    STAGE_INTERVIEWING,
    STAGE_JOINED,
    STAGE_READY,
    STAGE_SEARCHING,
    Integration,
    Manifest,
    PairingProgress,
    PairingRequest,
)
from hub.schema import Field, Schema
from hub.services import ServiceCall

from .availability import AvailabilityPolicy
from .gateway import DeviceProgress, ZigbeeGateway, backoff_schedule
from .ota import OtaProgress, async_find_update, async_update_device
from .radio import (
    RADIO_TYPES,
    RadioConfig,
    RadioDeviceMissing,
    RadioLibraryMissing,
    check_device_path,
)
from .sim import SimControllerApplication, SimStick, VirtualDevice
from .sim_devices import place_sim_devices, resolve_kinds, withdraw_sim_devices

__all__ = ["EVENT_ZIGBEE_OTA", "INTEGRATION", "ZigbeeIntegration"]

_LOGGER = logging.getLogger(__name__)
PROTOCOL = "zigbee"
EVENT_ZIGBEE_OTA = "zigbee_ota_progress"
DEFAULT_OTA_DIR = Path(__file__).resolve().parents[2] / "firmware" / "zigbee"
_STAGES = {
    "joined": STAGE_JOINED,
    "interviewing": STAGE_INTERVIEWING,
    "configured": STAGE_CONFIGURED,
    "ready": STAGE_READY,
    "failed": STAGE_FAILED,
}


class ZigbeeIntegration(Integration):
    """One Zigbee network on one coordinator radio."""

    manifest = Manifest(
        domain="zigbee",
        name="Zigbee",
        pairing=(PROTOCOL,),
        description="Zigbee devices through zigpy (simulated, TI ZNP or Silicon Labs EZSP radio)",
    )
    config_schema = Schema(
        {
            "radio": Field(
                "enum", choices=tuple(RADIO_TYPES), description="required: znp, ezsp or sim"
            ),
            "device": Field("str", description="serial port, socket://host:port or sim://name"),
            "baudrate": Field("int", min=9600, max=1_000_000),
            "channel": Field("int", min=11, max=26, default=15),
            "ota_dir": Field("str", description="folder of OTA images (default firmware/zigbee)"),
            "mains_timeout": Field("float", min=1, default=7200.0, description="seconds"),
            "battery_timeout": Field("float", min=1, default=90000.0, description="seconds"),
            "availability_interval": Field("float", min=0.05, default=60.0),
            "poll_interval": Field("float", min=0.05, default=300.0, description="seconds"),
            "reconnect_max": Field("float", min=0.05, max=600, default=60.0),
            "sim_devices": Field("str_list", default=[], description="virtual devices to pair"),
            "sim_join": Field("enum", choices=("one", "all"), default="one"),
            "sim_join_delay": Field("float", min=0, max=60, default=0.5),
        }
    )

    def __init__(self, hub: Any, config: Any) -> None:
        super().__init__(hub, config)
        top = float(config.get("reconnect_max", 60.0))
        try:
            radio = RadioConfig.from_dict(dict(config))
        except ValueError as err:
            raise ConfigError(f"zigbee: {err}", str(hub.config.file)) from None
        self.gateway = ZigbeeGateway(
            hub,
            radio,
            ota_dir=Path(config.get("ota_dir") or DEFAULT_OTA_DIR),
            availability=AvailabilityPolicy(
                mains_timeout_s=float(config.get("mains_timeout", 7200.0)),
                battery_timeout_s=float(config.get("battery_timeout", 90000.0)),
                check_interval_s=float(config.get("availability_interval", 60.0)),
            ),
            backoff=backoff_schedule(top),
            poll_interval=float(config.get("poll_interval", 300.0)),
        )
        self._unregister: list[Any] = []
        self.sim_devices: list[VirtualDevice] = []
        self._sim_stick: SimStick | None = None

    async def async_setup(self) -> None:
        try:
            sim_kinds = resolve_kinds(self.config.get("sim_devices") or [])
        except ValueError as err:
            raise ConfigError(f"zigbee.sim_devices: {err}", str(self.hub.config.file)) from None
        if sim_kinds and self.gateway.radio.radio != "sim":
            raise ConfigError("zigbee.sim_devices needs radio: sim", str(self.hub.config.file))
        try:
            await self.hub.async_add_executor_job(check_device_path, self.gateway.radio)
            await self.gateway.async_start()
        except (RadioLibraryMissing, RadioDeviceMissing) as err:
            raise IntegrationError(str(err)) from err
        if sim_kinds and isinstance(self.gateway.app, SimControllerApplication):
            self._sim_stick = self.gateway.app.stick
            self.sim_devices = place_sim_devices(
                self.gateway.app,
                sim_kinds,
                join_all=self.config.get("sim_join") == "all",
                join_delay=float(self.config.get("sim_join_delay", 0.5)),
            )
        self._unregister.append(
            self.hub.services.async_register(
                "zigbee",
                "update_firmware",
                self._async_service_ota,
                # The device comes as a target: the core takes device_id out of the data.
                target=True,
                description="Update Zigbee devices (target device_id) from the OTA image folder",
                access="admin",
                risky=True,
            )
        )
        self._unregister.append(
            self.hub.services.async_register(
                "zigbee",
                "backup",
                self._async_service_backup,
                description="Back up the network settings and keys now",
                access="admin",
            )
        )

    async def async_teardown(self) -> None:
        for unregister in self._unregister:
            unregister()
        withdraw_sim_devices(self._sim_stick, self.sim_devices)
        await self.gateway.async_stop()

    async def async_pair(self, request: PairingRequest) -> AsyncIterator[PairingProgress]:
        """Permit joins for the requested time and report every joining device's progress."""
        app = self.gateway.app
        if app is None or not self.gateway.connected.is_set():
            yield PairingProgress(STAGE_FAILED, PROTOCOL, "the Zigbee radio is not connected")
            return
        queue: asyncio.Queue[DeviceProgress] = asyncio.Queue()
        self.gateway.progress_listeners.append(queue.put_nowait)
        duration = max(1, min(254, round(request.duration)))
        pending: set[str] = set()
        try:
            await app.permit(duration)
            yield PairingProgress(STAGE_SEARCHING, PROTOCOL, f"joining open for {duration} s")
            loop = asyncio.get_running_loop()
            deadline = loop.time() + duration
            # Keep reporting until the window closes and every started device finished.
            while loop.time() < deadline or pending:
                timeout = max(0.05, deadline - loop.time()) if not pending else 60.0
                try:
                    step = await asyncio.wait_for(queue.get(), timeout)
                except TimeoutError:
                    if pending:
                        for ieee in pending:
                            yield PairingProgress(STAGE_FAILED, PROTOCOL, f"{ieee}: timed out")
                        pending.clear()
                    continue
                if step.stage in ("joined", "interviewing", "configured"):
                    pending.add(step.ieee)
                else:
                    pending.discard(step.ieee)
                yield PairingProgress(
                    _STAGES[step.stage],
                    PROTOCOL,
                    step.message or step.ieee,
                    device_id=step.device_id,
                    entity_ids=step.entity_ids,
                    suggested_name=step.name,
                )
        finally:
            self.gateway.progress_listeners.remove(queue.put_nowait)
            with contextlib.suppress(Exception):
                if self.gateway.app is not None:
                    await self.gateway.app.permit(0)
        yield PairingProgress(STAGE_DONE, PROTOCOL, "joining closed")

    async def async_remove_device(self, device_id: str) -> None:
        ieee = self.gateway.ieee_for_device_id(device_id)
        if ieee is None:
            raise EntityNotFound(f"no zigbee device {device_id!r}")
        await self.gateway.async_remove(ieee)

    async def _async_service_backup(self, call: ServiceCall) -> dict[str, Any]:
        await self.gateway.async_backup()
        return {"backups": len(await self.hub.async_add_executor_job(self.gateway.backups.load))}

    async def _async_service_ota(self, call: ServiceCall) -> dict[str, Any]:
        """Update each targeted device; the answer is per device id."""
        device_ids = call.target.device_ids if call.target is not None else ()
        if not device_ids:
            raise InvalidServiceData("zigbee.update_firmware needs a device_id target")
        return {device_id: await self._async_update(device_id, call) for device_id in device_ids}

    async def _async_update(self, device_id: str, call: ServiceCall) -> dict[str, Any]:
        ieee = self.gateway.ieee_for_device_id(device_id)
        app = self.gateway.app
        if ieee is None or app is None or ieee not in app.devices:
            raise EntityNotFound(f"no zigbee device {device_id!r}")
        device = app.get_device(ieee=ieee)
        image = await async_find_update(device)  # type: ignore[arg-type]
        if image is None:
            return {"updated": False, "reason": "no newer image in the OTA folder"}

        def report(progress: OtaProgress) -> None:
            self.hub.bus.async_fire(
                EVENT_ZIGBEE_OTA,
                {
                    "device_id": device_id,
                    "ieee": progress.ieee,
                    "stage": progress.stage,
                    "percent": progress.percent,
                    "version": progress.version,
                    "reason": progress.reason,
                },
                context=call.context,
            )

        ok = await async_update_device(device, image, report)  # type: ignore[arg-type]
        return {"updated": ok, "version": int(image.version)}


INTEGRATION = ZigbeeIntegration
