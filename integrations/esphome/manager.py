"""Every ESPHome voice device of the hub: configured or found, connected, shown as devices."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hub.entity import DeviceInfo
from voice.audio import Audio
from voice.satellite.arbitration import WakeArbiter
from voice.satellite.entities import SatelliteLastHeard, SatelliteMute, SatelliteOnline
from voice.timers import Timer, TimerChange

from .device import DeviceConfig, EsphomeDevice
from .replies import ReplyServer

if TYPE_CHECKING:
    from hub.core import Hub
    from voice.pipeline import VoicePipeline

_LOGGER = logging.getLogger(__name__)

DOMAIN = "esphome"
IDENTIFIER_DOMAIN = "esphome"


@dataclass
class _Entities:
    online: SatelliteOnline
    last_heard: SatelliteLastHeard
    mute: SatelliteMute


class EsphomeManager:
    """Owns one EsphomeDevice per configured or discovered device, and their registry devices.

    `arbiter` is the Wyoming satellites' one when they run, so a wake word heard by a Wyoming
    satellite and an ESPHome device in the same window is answered once.
    """

    def __init__(
        self,
        hub: Hub,
        pipeline: VoicePipeline,
        arbiter: WakeArbiter,
        replies: ReplyServer,
        zeroconf: Any = None,
    ) -> None:
        self.hub = hub
        self.pipeline = pipeline
        self.arbiter = arbiter
        self.replies = replies
        self.zeroconf = zeroconf
        self.devices: dict[str, EsphomeDevice] = {}  # by host:port of its config
        self.entities: dict[str, _Entities] = {}  # by device key (MAC)
        self._unsubs: list[Callable[[], None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- lifecycle --------------------------------------------------------------------------
    async def async_start(self, configs: list[DeviceConfig]) -> None:
        """Never waits for a device: each connects in the background."""
        await self.replies.async_start()
        self._unsubs.append(self.pipeline.timers.listen(self._on_timer))
        for config in configs:
            await self.async_add(config)

    async def async_stop(self) -> None:
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        await asyncio.gather(*(d.async_stop() for d in self.devices.values()))
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.replies.async_stop()

    async def async_add(self, config: DeviceConfig) -> EsphomeDevice:
        """Connect to a device (in the background); a known one is only told to retry now."""
        known = self.devices.get(config.key)
        if known is not None:
            known.seen()
            return known
        device = EsphomeDevice(self, config)
        self.devices[config.key] = device
        await device.async_start()
        return device

    def find(self, host: str, port: int, mac: str | None = None) -> EsphomeDevice | None:
        for device in self.devices.values():
            if (device.config.host, device.config.port) == (host, port):
                return device
            if mac is not None and device.mac == mac:
                return device
        return None

    # -- what devices ask -------------------------------------------------------------------
    def registry_device(self, device: EsphomeDevice) -> Any:
        return self.hub.registry.devices.find_by_identifier((IDENTIFIER_DOMAIN, device.key))

    def area_of(self, device: EsphomeDevice) -> str | None:
        """The device's room in the registry (the user may have moved it)."""
        entry = self.registry_device(device)
        return None if entry is None else entry.area_id

    def is_paused(self, device: EsphomeDevice) -> bool:
        """Muted in the dashboard, or its device disabled."""
        entities = self.entities.get(device.key)
        if entities is not None and entities.mute.is_on:
            return True
        entry = self.registry_device(device)
        return entry is not None and bool(entry.disabled)

    def heard(self, device: EsphomeDevice, what: str) -> None:
        entities = self.entities.get(device.key)
        if entities is not None:
            entities.last_heard.async_heard(what)

    def fire(self, kind: str, data: dict[str, Any]) -> None:
        self.hub.bus.async_fire(f"esphome_{kind}", data)

    async def async_device_connected(self, device: EsphomeDevice) -> None:
        if device.not_voice and device.config.discovered:
            # A plug or a sensor that happens to speak the API: not ours to keep.
            _LOGGER.info("ESPHome device %s has no voice assistant; leaving it", device.name)
            self._spawn(self._async_forget(device))
            return
        entities = self.entities.get(device.key)
        if entities is None:
            info = device.info
            suggested = device.config.area
            if not suggested and info is not None:
                suggested = info.area.name or info.suggested_area or None
            registry_info = DeviceInfo(
                identifiers=((IDENTIFIER_DOMAIN, device.key),),
                name=device.name,
                manufacturer=(info.manufacturer if info else None) or "ESPHome",
                model=(info.model if info else None) or "ESPHome voice device",
                sw_version=info.esphome_version if info else None,
                suggested_area=suggested,
            )
            key, name = device.key, device.name
            entities = _Entities(
                SatelliteOnline(key, name, registry_info),
                SatelliteLastHeard(key, name, registry_info),
                SatelliteMute(key, name, registry_info, self._async_mute_changed),
            )
            self.entities[key] = entities
            await self.hub.entities.async_add(
                DOMAIN, [entities.online, entities.last_heard, entities.mute]
            )
        if device.connected:
            entities.online.async_set_online(True)
        self.fire("connected", {"device": device.key, "name": device.name})

    def device_disconnected(self, device: EsphomeDevice) -> None:
        entities = self.entities.get(device.key)
        if entities is not None:
            entities.online.async_set_online(False, device.last_error)
        self.fire("disconnected", {"device": device.key, "name": device.name})

    async def _async_forget(self, device: EsphomeDevice) -> None:
        await device.async_stop()
        if self.devices.get(device.config.key) is device:
            del self.devices[device.config.key]

    async def _async_mute_changed(self) -> None:
        """A muted device's next request is refused; nothing to tell it now."""

    # -- announcements ----------------------------------------------------------------------
    def targets(self, name: str | None = None, area: str | None = None) -> list[EsphomeDevice]:
        """Connected voice devices by name/key/device/entity id, by room, or all of them."""
        ready = [d for d in self.devices.values() if d.voice_ready and not self.is_paused(d)]
        if name is not None:
            wanted = name.strip().lower()
            return [d for d in ready if wanted in self._names(d)]
        if area is not None:
            found = self.hub.registry.areas.find(area)
            area_id = found.id if found is not None else area
            return [d for d in ready if self.area_of(d) == area_id]
        return ready

    def has_targets(self, name: str | None, area: str | None) -> bool:
        """Speaker: whether a connected voice device answers to `name` or is in `area`."""
        return bool(self.targets(name, area))

    async def async_play_on(
        self, name: str | None, area: str | None, audio: Audio, text: str | None
    ) -> dict[str, str | None]:
        """Speaker: play on the matching devices; per device name None, or why not."""
        return await self.async_announce(self.targets(name, area), audio, text)

    async def async_announce(
        self, devices: list[EsphomeDevice], audio: Audio, text: str | None = None
    ) -> dict[str, str | None]:
        """Play on every target at once; per device name None, or why it failed."""

        async def one(device: EsphomeDevice) -> str | None:
            try:
                await device.async_announce(audio, text)
            except (ConnectionError, OSError) as err:
                return str(err) or type(err).__name__
            return None

        results = await asyncio.gather(*(one(d) for d in devices))
        return {d.name: err for d, err in zip(devices, results, strict=True)}

    def _names(self, device: EsphomeDevice) -> set[str]:
        names = {device.key.lower(), device.name.lower(), device.config.key.lower()}
        if device.info is not None and device.info.name:
            names.add(device.info.name.lower())
        entry = self.registry_device(device)
        if entry is not None:
            names |= {entry.id, entry.display_name.lower()}
        entities = self.entities.get(device.key)
        if entities is not None:
            names |= {
                str(e.entity_id) for e in (entities.online, entities.last_heard, entities.mute)
            }
        return names

    # -- timers -----------------------------------------------------------------------------
    def _on_timer(self, change: TimerChange, timer: Timer) -> None:
        for device in self.devices.values():
            if device.mac is not None and device.conversation_id == timer.conversation_id:
                device.timer(change, timer)

    def _spawn(self, coro: Any) -> None:
        task = self.hub.async_create_task(coro, "esphome")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
