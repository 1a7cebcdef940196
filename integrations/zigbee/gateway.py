"""The running Zigbee network: radio lifecycle, joins, interviews, entities, radio loss."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import zigpy.application
import zigpy.device
import zigpy.exceptions
import zigpy.types as t

from hub.const import EVENT_DEVICE_JOINED, EVENT_DEVICE_LEFT, EVENT_DEVICE_UNAVAILABLE
from hub.entity import DeviceInfo, Entity

from .availability import AvailabilityPolicy, LastHeard, is_mains_powered
from .backup import BackupStore
from .configure import ConfigureResult, async_configure_device
from .entities import build_entity
from .mapping import discover_entities
from .radio import RadioConfig, controller_class, guard_receive, zigpy_config

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = ["DeviceProgress", "ZigbeeGateway"]

_LOGGER = logging.getLogger(__name__)
DOMAIN = "zigbee"
BACKOFF_MAX = 60.0


def backoff_schedule(longest: float = BACKOFF_MAX) -> tuple[float, ...]:
    """Pauses between reconnect attempts: doubling from a short first try up to `longest`."""
    delay = min(0.5, longest / 8)
    out = []
    while delay < longest:
        out.append(delay)
        delay *= 2
    return (*out, longest)


@dataclass(frozen=True, slots=True)
class DeviceProgress:
    """A device's way through joining: joined, interviewing, configured, ready or failed."""

    ieee: str
    stage: str
    message: str = ""
    device_id: str | None = None
    entity_ids: tuple[str, ...] = ()
    name: str | None = None


class ZigbeeGateway:
    """Owns the zigpy application and maps its devices to Hearth devices and entities."""

    def __init__(
        self,
        hub: Hub,
        radio: RadioConfig,
        *,
        ota_dir: Path | None,
        availability: AvailabilityPolicy,
        poll_interval: float = 300.0,
        backoff: tuple[float, ...] = backoff_schedule(),
    ) -> None:
        self.hub = hub
        self.radio = radio
        self.ota_dir = ota_dir
        self.availability = availability
        self.last_heard = LastHeard()
        # Attributes a device would not report: (endpoint, cluster id, attribute) to read.
        self.polled: dict[t.EUI64, tuple[tuple[int, int, str], ...]] = {}
        self.poll_interval = poll_interval
        # Devices that announced leaving: unavailable until they join again.
        self.departed: set[t.EUI64] = set()
        self.backoff = backoff
        self.app: zigpy.application.ControllerApplication | None = None
        self.backups = BackupStore(hub.config_dir / ".storage" / "zigbee_backups.json")
        self.database = hub.config_dir / ".storage" / "zigbee.db"
        self.connected = asyncio.Event()
        self.entities: dict[t.EUI64, list[Entity]] = {}
        self.progress_listeners: list[Callable[[DeviceProgress], None]] = []
        # Devices between join and interview: their registry id is being settled.
        self._joining: dict[t.EUI64, asyncio.Task[str | None]] = {}
        self._provisional: set[t.EUI64] = set()
        self._backup_lock = asyncio.Lock()
        self._backup_wanted = False
        self.backups_taken = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reconnect: asyncio.Task[None] | None = None
        self._stopping = False
        self.reconnects = 0
        # Pauses taken between reconnect attempts since the radio was last lost.
        self.reconnect_delays: list[float] = []

    # -- lifecycle ----------------------------------------------------------------------

    async def async_start(self) -> None:
        """Connect the radio and start (or form, or restore) the network."""
        self.database.parent.mkdir(parents=True, exist_ok=True)
        self.app = await self._async_open()
        await self._async_after_connect()
        assert self.app is not None
        for device in self._known_devices(self.app):
            if is_mains_powered(device):
                # Devices can lose bindings and reporting (reset, firmware update, a hub
                # that was off): configure awake ones again, which also reads fresh values.
                self._spawn(self._async_reconfigure(device), f"zigbee-refresh-{device.ieee}")
        self._spawn(self._async_availability_loop(), "zigbee-availability")
        self._spawn(self._async_poll_loop(), "zigbee-poll")

    async def async_stop(self) -> None:
        """Shut the network down cleanly."""
        self._stopping = True
        for task in list(self._tasks):
            task.cancel()
        if self._reconnect is not None:
            self._reconnect.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.app is not None:
            with contextlib.suppress(Exception):
                await self.app.shutdown()
            self.app = None

    async def _async_open(self) -> zigpy.application.ControllerApplication:
        cls = controller_class(self.radio.radio)
        config = zigpy_config(self.radio, database=self.database, ota_dir=self.ota_dir)
        app = await cls.new(config, auto_form=False, start_radio=False)
        guard_receive(app)
        try:
            await app.connect()
            try:
                await app.initialize(auto_form=False)
            except zigpy.exceptions.NetworkNotFormed:
                backup = await self.hub.async_add_executor_job(self.backups.latest)
                if backup is not None:
                    # A new (or wiped) stick: put our network back on it, no re-pairing.
                    _LOGGER.warning("zigbee: radio has no network; restoring Hearth's backup")
                    await app.backups.restore_backup(backup)
                    await app.initialize(auto_form=False)
                else:
                    _LOGGER.info("zigbee: forming a new network")
                    await app.initialize(auto_form=True)
        except BaseException:
            with contextlib.suppress(Exception):
                await app.shutdown()
            raise
        return app

    async def _async_after_connect(self) -> None:
        app = self.app
        assert app is not None
        app.add_listener(self)
        self.connected.set()
        await self.async_backup()
        for device in self._known_devices(app):
            await self._async_add_entities(device)

    @staticmethod
    def _known_devices(
        app: zigpy.application.ControllerApplication,
    ) -> list[zigpy.device.ZigbeeDevice]:
        return [
            device
            for device in list(app.devices.values())
            if device.ieee != app.state.node_info.ieee
            and isinstance(device, zigpy.device.ZigbeeDevice)
            and device.is_initialized
        ]

    async def _async_reconfigure(self, device: zigpy.device.ZigbeeDevice) -> None:
        assert self.app is not None
        result = await async_configure_device(device, self.app.state.node_info.ieee)
        self._note_poll(device, result)
        if not result.ok:
            _LOGGER.info("zigbee: %s not reconfigured at start: %s", device.ieee, result.errors)

    async def async_backup(self) -> None:
        """Take a network backup from the radio and keep it in Hearth's config dir.

        Requests made while one runs share a single follow-up run (a burst of joins).
        """
        self._backup_wanted = True
        async with self._backup_lock:
            if not self._backup_wanted:
                return  # a run that started after this request already covered it
            self._backup_wanted = False
            assert self.app is not None
            backup = await self.app.backups.create_backup(load_devices=True)
            await self.hub.async_add_executor_job(self.backups.save, backup)
            self.backups_taken += 1

    # -- zigpy listener callbacks (called synchronously by zigpy) ------------------------

    def device_joined(self, device: zigpy.device.ZigbeeDevice) -> None:
        self.last_heard.heard(device.ieee, self.hub.clock.time())
        self.departed.discard(device.ieee)
        self._joining[device.ieee] = self.hub.async_create_task(
            self._async_joined(device), f"zigbee-joined-{device.ieee}"
        )
        self.hub.bus.async_fire(
            EVENT_DEVICE_JOINED, {"integration": DOMAIN, "ieee": str(device.ieee)}
        )

    def device_initialized(self, device: zigpy.device.ZigbeeDevice) -> None:
        if self.app is None or device.ieee == self.app.state.node_info.ieee:
            return
        self._spawn(self._async_device_ready(device), f"zigbee-configure-{device.ieee}")

    def device_reinterviewed(self, device: zigpy.device.ZigbeeDevice) -> None:
        # zigpy swapped in a new device object: rebuild the entities on it (same ids, names).
        if device.ieee in self.entities:
            self._spawn(self._async_add_entities(device), f"zigbee-reinterviewed-{device.ieee}")

    def device_init_failure(self, device: zigpy.device.ZigbeeDevice) -> None:
        self._spawn(self._async_init_failed(device), f"zigbee-failed-{device.ieee}")

    def device_left(self, device: zigpy.device.ZigbeeDevice) -> None:
        self.departed.add(device.ieee)
        self.hub.bus.async_fire(
            EVENT_DEVICE_LEFT, {"integration": DOMAIN, "ieee": str(device.ieee)}
        )
        for entity in self.entities.get(device.ieee, []):
            entity.async_set_available(False)

    def device_removed(self, device: zigpy.device.ZigbeeDevice) -> None:
        self._spawn(self._async_forget(device.ieee), f"zigbee-remove-{device.ieee}")

    def connection_lost(self, exc: Exception) -> None:
        if self._stopping or (self._reconnect is not None and not self._reconnect.done()):
            return
        _LOGGER.error("zigbee: lost the radio (%s); reconnecting with backoff", exc)
        self.connected.clear()
        for entities in self.entities.values():
            for entity in entities:
                entity.async_set_available(False)
        self.hub.bus.async_fire(
            EVENT_DEVICE_UNAVAILABLE,
            {"integration": DOMAIN, "reason": "radio lost", "error": str(exc)},
        )
        self._reconnect = self.hub.async_create_task(self._async_reconnect(), "zigbee-reconnect")

    # -- device flow ---------------------------------------------------------------------

    async def _async_joined(self, device: zigpy.device.ZigbeeDevice) -> str | None:
        """Give a joining device its registry id at once, so every progress step carries it."""
        ieee = str(device.ieee)
        registry = self.hub.registry.devices
        entry = registry.find_by_identifier((DOMAIN, ieee))
        if entry is None:
            try:
                entry = await registry.async_get_or_create(DOMAIN, self.device_info(device))
            except Exception:  # the registry failing must not stop the join
                _LOGGER.exception("zigbee: cannot register %s", ieee)
            else:
                self._provisional.add(device.ieee)
        device_id = entry.id if entry is not None else None
        name = entry.display_name if entry is not None else None
        self._report(
            DeviceProgress(ieee, "joined", "device joined the network", device_id, (), name)
        )
        self._report(
            DeviceProgress(ieee, "interviewing", "reading descriptors", device_id, (), name)
        )
        return device_id

    async def _async_init_failed(self, device: zigpy.device.ZigbeeDevice) -> None:
        device_id = await self._joined_device_id(device)
        self._report(
            DeviceProgress(str(device.ieee), "failed", "interview failed: no answer", device_id)
        )
        if device.ieee in self._provisional and device_id is not None:
            # Registered at join but never became a device: leave no empty entry behind.
            self._provisional.discard(device.ieee)
            if not self.hub.registry.entities.for_device(device_id):
                await self.hub.registry.devices.async_remove(device_id)

    async def _joined_device_id(self, device: zigpy.device.ZigbeeDevice) -> str | None:
        task = self._joining.pop(device.ieee, None)
        if task is not None:
            with contextlib.suppress(Exception):
                return await task
        entry = self.hub.registry.devices.find_by_identifier((DOMAIN, str(device.ieee)))
        return entry.id if entry is not None else None

    async def _async_device_ready(self, device: zigpy.device.ZigbeeDevice) -> None:
        ieee = str(device.ieee)
        known = device.ieee in self.entities
        app = self.app
        if app is None:
            return
        device_id = await self._joined_device_id(device)
        self._provisional.discard(device.ieee)
        try:
            result: ConfigureResult = await async_configure_device(device, app.state.node_info.ieee)
        except Exception as err:  # never let one device break the network
            _LOGGER.exception("zigbee: configuring %s failed", ieee)
            self._report(
                DeviceProgress(ieee, "failed", f"configuration failed: {err!r}", device_id)
            )
            return
        self._note_poll(device, result)
        if not result.ok:
            _LOGGER.warning("zigbee: %s configured with errors: %s", ieee, result.errors)
        self._report(
            DeviceProgress(
                ieee,
                "configured",
                f"{len(result.bound)} bound, {len(result.poll)} polled",
                device_id,
                (),
                self.device_name(device),
            )
        )
        if known:
            # A re-join of a device we already run: same entities, same names.
            for entity in self.entities[device.ieee]:
                entity.async_set_available(True)
            entity_ids = tuple(e.entity_id or "" for e in self.entities[device.ieee])
            if entity_ids:
                device_id = self.entities[device.ieee][0].device_id or device_id
        else:
            entity_ids, added_id = await self._async_add_entities(device)
            device_id = added_id or device_id
        entry = self.hub.registry.devices.get(device_id) if device_id else None
        # A renamed device keeps the user's name in the wizard too.
        name = entry.display_name if entry is not None else self.device_name(device)
        self._report(
            DeviceProgress(
                ieee,
                "ready",
                f"{name} is ready; choose an area for it",
                device_id,
                entity_ids,
                name,
            )
        )
        with contextlib.suppress(Exception):
            await self.async_backup()  # the key table changed: keep the backup current

    async def _async_add_entities(
        self, device: zigpy.device.ZigbeeDevice
    ) -> tuple[tuple[str, ...], str | None]:
        info = self.device_info(device)
        entities = [build_entity(device, spec, info) for spec in discover_entities(device)]
        if device.ieee in self.entities:
            await self._async_remove_entities(device.ieee)
        self.entities[device.ieee] = entities
        ids = await self.hub.entities.async_add(DOMAIN, entities)
        device_id = entities[0].device_id if entities else None
        return tuple(ids), device_id

    async def _async_forget(self, ieee: t.EUI64) -> None:
        """The device is gone from the network: its entities go, its registry names stay."""
        self.last_heard.forget(ieee)
        self.departed.discard(ieee)
        self.polled.pop(ieee, None)
        await self._async_remove_entities(ieee)

    async def _async_remove_entities(self, ieee: t.EUI64) -> None:
        for entity in self.entities.pop(ieee, []):
            if entity.entity_id is not None:
                # Keep the registry entry: a re-paired device gets its ids and names back.
                await self.hub.entities.async_remove(entity.entity_id, forget=False)

    def device_name(self, device: zigpy.device.ZigbeeDevice) -> str:
        """A readable default name: model plus the end of the IEEE address."""
        model = device.model or "Zigbee device"
        return f"{model} {str(device.ieee).replace(':', '')[-4:]}"

    def device_info(self, device: zigpy.device.ZigbeeDevice) -> DeviceInfo:
        """The registry description of a zigpy device."""
        return DeviceInfo(
            identifiers=((DOMAIN, str(device.ieee)),),
            name=self.device_name(device),
            manufacturer=device.manufacturer,
            model=device.model,
            extra={"nwk": f"0x{device.nwk:04X}", "ieee": str(device.ieee)},
        )

    def ieee_for_device_id(self, device_id: str) -> t.EUI64 | None:
        """The IEEE address behind a Hearth device id."""
        entry = self.hub.registry.devices.get(device_id)
        if entry is None:
            return None
        for domain, ident in entry.identifiers:
            if domain == DOMAIN:
                return t.EUI64.convert(ident)
        return None

    async def async_remove(self, ieee: t.EUI64) -> None:
        """Ask the device to leave and forget it in zigpy; its registry names are kept."""
        assert self.app is not None
        await self.app.remove(ieee)
        await self._async_forget(ieee)

    # -- availability and radio loss -------------------------------------------------------

    async def _async_poll_loop(self) -> None:
        while True:
            await self.hub.clock.async_sleep(self.poll_interval)
            await self.async_poll()

    async def async_poll(self) -> int:
        """Read every attribute that cannot report; returns how many reads were answered."""
        app = self.app
        if app is None or not self.connected.is_set():
            return 0
        answered = 0
        for ieee, targets in list(self.polled.items()):
            device = app.devices.get(ieee)
            if not isinstance(device, zigpy.device.ZigbeeDevice) or ieee in self.departed:
                continue
            for endpoint_id, cluster_id, attr in targets:
                endpoint = device.endpoints.get(endpoint_id)
                cluster = getattr(endpoint, "in_clusters", {}).get(cluster_id)
                if cluster is None:
                    continue
                try:
                    # The answer lands in zigpy's cache as an attribute_read event.
                    await cluster.read_attributes([attr], allow_cache=False)
                    answered += 1
                except (TimeoutError, zigpy.exceptions.ZigbeeException) as err:
                    _LOGGER.debug("zigbee: polling %s %s failed: %r", ieee, attr, err)
        return answered

    def _note_poll(self, device: zigpy.device.ZigbeeDevice, result: ConfigureResult) -> None:
        # Sleepy devices cannot be asked: they only talk when they wake.
        if result.poll and is_mains_powered(device):
            self.polled[device.ieee] = result.poll
        else:
            self.polled.pop(device.ieee, None)

    async def _async_availability_loop(self) -> None:
        while True:
            await self.hub.clock.async_sleep(self.availability.check_interval_s)
            self.check_availability()

    def check_availability(self) -> None:
        """Mark entities of silent devices unavailable (and heard ones available)."""
        if self.app is None or not self.connected.is_set():
            return
        now = self.hub.clock.time()
        for ieee, entities in self.entities.items():
            device = self.app.devices.get(ieee)
            if not isinstance(device, zigpy.device.ZigbeeDevice):
                continue
            heard_at = self.last_heard.observe(device, now)
            available = ieee not in self.departed and self.availability.is_available(
                device, heard_at, now
            )
            was = any(e.available for e in entities)
            for entity in entities:
                entity.async_set_available(available)
            if was and not available:
                self.hub.bus.async_fire(
                    EVENT_DEVICE_UNAVAILABLE,
                    {"integration": DOMAIN, "ieee": str(ieee), "reason": "silent"},
                )

    async def _async_reconnect(self) -> None:
        old = self.app
        self.app = None
        if old is not None:
            old.remove_listener(self)
            with contextlib.suppress(Exception):
                await old.shutdown()
        attempt = 0
        self.reconnect_delays = []
        while not self._stopping:
            delay = self.backoff[min(attempt, len(self.backoff) - 1)]
            self.reconnect_delays.append(delay)
            await self.hub.clock.async_sleep(delay)
            attempt += 1
            try:
                self.app = await self._async_open()
            except Exception as err:  # the stick is still gone: try again later
                _LOGGER.info("zigbee: radio still unavailable (attempt %d): %r", attempt, err)
                _LOGGER.debug("zigbee: reconnect attempt %d failed", attempt, exc_info=True)
                continue
            self.reconnects += 1
            _LOGGER.warning("zigbee: radio back after %d attempt(s)", attempt)
            await self._async_after_connect()
            self.check_availability()
            return

    # -- helpers -------------------------------------------------------------------------

    def _report(self, progress: DeviceProgress) -> None:
        for listener in list(self.progress_listeners):
            listener(progress)

    def _spawn(self, coro: Any, name: str) -> None:
        task = self.hub.async_create_task(coro, name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
