"""All satellites of the hub: found by zeroconf or configured, attached, shown as devices."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wyoming.info import Info

from hub.const import EVENT_REGISTRY_UPDATED

from ..audio import Audio
from ..timers import Timer, TimerChange
from .arbitration import DEFAULT_WINDOW, WakeArbiter
from .discovery import WyomingBrowser
from .entities import (
    IDENTIFIER_DOMAIN,
    SatelliteLastHeard,
    SatelliteMute,
    SatelliteOnline,
    satellite_device,
)
from .link import Endpoint, LinkTiming, SatelliteLink
from .session import SatelliteSession, SessionHooks

if TYPE_CHECKING:
    from hub.bus import Event
    from hub.core import Hub

    from ..pipeline import VoicePipeline

_LOGGER = logging.getLogger(__name__)

DOMAIN = "satellites"


@dataclass(frozen=True)
class SatelliteSettings:
    """The `satellites:` config section."""

    discovery: bool = True
    hosts: tuple[str, ...] = ()
    wake_window: float = DEFAULT_WINDOW
    timing: LinkTiming = field(default_factory=LinkTiming)


@dataclass
class _Entities:
    online: SatelliteOnline
    last_heard: SatelliteLastHeard
    mute: SatelliteMute


def parse_endpoint(text: str) -> Endpoint:
    """'host:port' (port defaults to 10700, Wyoming's satellite port)."""
    host, _, port = text.strip().rpartition(":")
    if not host:
        host, port = port, "10700"
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"not host:port: {text!r}")
    return Endpoint(f"{host}:{port}", host, int(port))


class SatelliteManager:
    """Owns one link and one session per satellite, and their registry devices."""

    def __init__(self, hub: Hub, pipeline: VoicePipeline, settings: SatelliteSettings) -> None:
        self.hub = hub
        self.pipeline = pipeline
        self.settings = settings
        self.arbiter = WakeArbiter(settings.wake_window)
        self.sessions: dict[str, SatelliteSession] = {}
        self.links: dict[str, SatelliteLink] = {}
        self.entities: dict[str, _Entities] = {}
        self._browser: WyomingBrowser | None = None
        self._paused: dict[str, bool] = {}
        self._unsubs: list[Callable[[], None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- lifecycle -------------------------------------------------------------------------
    async def async_start(self) -> None:
        """Never waits for a satellite: links connect in the background."""
        for host in self.settings.hosts:
            self.add(parse_endpoint(host))
        self._unsubs.append(self.pipeline.timers.listen(self._on_timer))
        self._unsubs.append(self.hub.bus.async_listen(EVENT_REGISTRY_UPDATED, self._on_registry))
        if self.settings.discovery:
            self._browser = WyomingBrowser(self.hub, self.add)
            await self._browser.async_start()

    async def async_stop(self) -> None:
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        if self._browser is not None:
            await self._browser.async_stop()
        await asyncio.gather(*(link.async_stop() for link in self.links.values()))
        await asyncio.gather(*(s.async_stop() for s in self.sessions.values()))
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def add(self, endpoint: Endpoint) -> None:
        """A satellite was configured or announced itself: attach, or retry now if known."""
        known = self.links.get(endpoint.key) or next(
            (
                link
                for link in self.links.values()
                if (link.endpoint.host, link.endpoint.port) == (endpoint.host, endpoint.port)
            ),
            None,
        )
        if known is not None:
            if not known.attached and not known.not_a_satellite:
                known.poke(Endpoint(known.endpoint.key, endpoint.host, endpoint.port))
            return
        key = endpoint.key
        session = SatelliteSession(
            key,
            SessionHooks(
                pipeline=self.pipeline,
                arbiter=self.arbiter,
                area=lambda: self.area_of(key),
                paused=lambda: self.is_paused(key),
                heard=lambda what: self._heard(key, what),
                fire=self._fire,
            ),
        )
        session.on_attach = lambda info: self._attached(key, info)
        session.on_detach = lambda: self._detached(key)
        link = SatelliteLink(endpoint, session, self.settings.timing, paused=session.hooks.paused)
        self.sessions[key], self.links[key] = session, link
        link.start()

    # -- what sessions ask -----------------------------------------------------------------
    def device_id(self, key: str) -> str | None:
        device = self.hub.registry.devices.find_by_identifier((IDENTIFIER_DOMAIN, key))
        return None if device is None else device.id

    def area_of(self, key: str) -> str | None:
        """The satellite's room in the registry (the user may have moved it)."""
        device = self.hub.registry.devices.find_by_identifier((IDENTIFIER_DOMAIN, key))
        return None if device is None else device.area_id

    def is_paused(self, key: str) -> bool:
        """Muted in the dashboard, or its device disabled."""
        entities = self.entities.get(key)
        if entities is not None and entities.mute.is_on:
            return True
        device = self.hub.registry.devices.find_by_identifier((IDENTIFIER_DOMAIN, key))
        return device is not None and device.disabled

    # -- announcements ---------------------------------------------------------------------
    def targets(self, satellite: str | None = None, area: str | None = None) -> list[str]:
        """Keys of attached satellites by name/key/device/entity id, by room, or all of them."""
        attached = [k for k, s in self.sessions.items() if s.attached and not self.is_paused(k)]
        if satellite is not None:
            wanted = satellite.strip().lower()
            return [k for k in attached if wanted in self._names(k)]
        if area is not None:
            found = self.hub.registry.areas.find(area)
            area_id = found.id if found is not None else area
            return [k for k in attached if self.area_of(k) == area_id]
        return attached

    async def async_announce(
        self, keys: list[str], audio: Audio, text: str | None = None
    ) -> dict[str, str | None]:
        """Play on every target at once; per satellite None, or why it failed."""

        async def one(key: str) -> str | None:
            try:
                await self.sessions[key].async_announce(audio, text)
            except (ConnectionError, OSError) as err:
                return str(err) or type(err).__name__
            return None

        results = await asyncio.gather(*(one(k) for k in keys))
        return dict(zip(keys, results, strict=True))

    def has_targets(self, name: str | None, area: str | None) -> bool:
        """Speaker: whether an attached satellite answers to `name` or is in `area`."""
        return bool(self.targets(name, area))

    async def async_play_on(
        self, name: str | None, area: str | None, audio: Audio, text: str | None
    ) -> dict[str, str | None]:
        """Speaker: play on the matching satellites; per satellite name None, or why not."""
        keys = self.targets(name, area)
        done = await self.async_announce(keys, audio, text)
        return {self.sessions[k].name: err for k, err in done.items()}

    def _names(self, key: str) -> set[str]:
        session = self.sessions[key]
        names = {key.lower(), session.name.lower(), session.conversation_id}
        device = self.hub.registry.devices.find_by_identifier((IDENTIFIER_DOMAIN, key))
        if device is not None:
            names |= {device.id, device.display_name.lower()}
        entities = self.entities.get(key)
        if entities is not None:
            names |= {
                str(e.entity_id) for e in (entities.online, entities.last_heard, entities.mute)
            }
        return names

    # -- callbacks -------------------------------------------------------------------------
    def _attached(self, key: str, info: Info) -> None:
        _LOGGER.info("satellite %s attached", key)
        self._spawn(self._async_attached(key, info))

    async def _async_attached(self, key: str, info: Info) -> None:
        entities = self.entities.get(key)
        if entities is None and info.satellite is not None:
            device = satellite_device(key, info.satellite)
            name = device.name
            entities = _Entities(
                SatelliteOnline(key, name, device),
                SatelliteLastHeard(key, name, device),
                SatelliteMute(key, name, device, lambda: self._async_pause_changed(key)),
            )
            self.entities[key] = entities
            await self.hub.entities.async_add(
                DOMAIN, [entities.online, entities.last_heard, entities.mute]
            )
            if self.is_paused(key):  # muted before the restart: it attached unpaused
                await self._async_pause_changed(key)
        if entities is not None and self.links[key].attached:
            entities.online.async_set_online(True)
        self.hub.bus.async_fire("satellite_attached", {"satellite": key})

    def _detached(self, key: str) -> None:
        _LOGGER.info("satellite %s detached", key)
        entities = self.entities.get(key)
        if entities is not None:
            entities.online.async_set_online(False, self.links[key].last_error)
        self.hub.bus.async_fire("satellite_detached", {"satellite": key})

    def _fire(self, kind: str, data: dict[str, Any]) -> None:
        self.hub.bus.async_fire(f"satellite_{kind}", data)

    def _heard(self, key: str, what: str) -> None:
        entities = self.entities.get(key)
        if entities is not None:
            entities.last_heard.async_heard(what)

    async def _async_pause_changed(self, key: str) -> None:
        paused = self.is_paused(key)
        if self._paused.get(key, False) == paused:
            return  # a rename or a move: nothing to tell the satellite
        self._paused[key] = paused
        self.sessions[key].pause_changed()
        await self.links[key].async_set_paused(paused)

    def _on_registry(self, event: Event) -> None:
        if event.data.get("registry") != "device" or event.data.get("action") != "update":
            return
        for key in self.sessions:
            if self.device_id(key) == event.data.get("id"):
                self._spawn(self._async_pause_changed(key))

    def _on_timer(self, change: TimerChange, timer: Timer) -> None:
        for session in self.sessions.values():
            if session.conversation_id == timer.conversation_id and session.attached:
                self._spawn(session.async_timer(change, timer))

    def _spawn(self, coro: Any) -> None:
        task = self.hub.async_create_task(coro, "satellite")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
