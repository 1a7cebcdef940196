"""The hub's TCP link to one Wyoming satellite: describe, run-satellite, ping, reconnect.

In the Wyoming ecosystem the satellite is the server and the hub dials out. The link never
blocks the hub: it runs in a background task and retries with backoff while the satellite is
away; a zeroconf re-announcement (`poke`) makes it retry at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from wyoming.event import Event, async_read_event, async_write_event
from wyoming.info import Describe, Info
from wyoming.ping import Ping, Pong
from wyoming.satellite import PauseSatellite, RunSatellite

_LOGGER = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
INFO_TIMEOUT = 5.0


class NotASatellite(Exception):
    """The service answered `describe` without a satellite section (an STT/TTS/wake service)."""


@dataclass(frozen=True)
class Endpoint:
    """Where a satellite listens; `key` is its stable identity (zeroconf name or host:port)."""

    key: str
    host: str
    port: int


@dataclass(frozen=True)
class LinkTiming:
    """Reconnect backoff and keep-alive settings."""

    backoff_min: float = 1.0
    backoff_max: float = 30.0
    ping_interval: float = 2.0
    ping_timeout: float = 6.0


class LinkHandler(Protocol):
    """What a link reports to (the satellite's session)."""

    def on_attached(self, link: SatelliteLink, info: Info) -> None: ...

    def on_event(self, event: Event) -> None: ...

    def on_detached(self) -> None: ...


class SatelliteLink:
    """Keeps one satellite attached for as long as the hub runs."""

    def __init__(
        self,
        endpoint: Endpoint,
        handler: LinkHandler,
        timing: LinkTiming | None = None,
        *,
        paused: Callable[[], bool] = lambda: False,
    ) -> None:
        self.endpoint = endpoint
        self.handler = handler
        self.timing = timing or LinkTiming()
        self.is_paused = paused
        self.info: Info | None = None
        self.attached = False
        self.pong_supported = False  # satellites before wyoming-satellite 1.1 never answer pings
        self.last_error: str | None = None
        self.not_a_satellite = False
        self._writer: asyncio.StreamWriter | None = None
        self._write_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._poke = asyncio.Event()
        self._last_heard = 0.0

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._async_run(), name=f"satellite {self.endpoint}")

    async def async_stop(self) -> None:
        """Tell the satellite to pause (so it stops streaming), then hang up."""
        if self.attached:
            with contextlib.suppress(ConnectionError, OSError, RuntimeError):
                await self.async_send(PauseSatellite().event())
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self._close()

    def poke(self, endpoint: Endpoint | None = None) -> None:
        """Retry now (the satellite re-announced itself, perhaps at a new address)."""
        if endpoint is not None:
            self.endpoint = endpoint
        self._poke.set()

    # -- sending ---------------------------------------------------------------------------
    async def async_send(self, event: Event) -> None:
        """Write one event; raises ConnectionError when the satellite is not attached."""
        writer = self._writer
        if writer is None:
            raise ConnectionError(f"satellite {self.endpoint.key} is not connected")
        async with self._write_lock:
            await async_write_event(event, writer)

    async def async_set_paused(self, paused: bool) -> None:
        """pause-satellite when muted or disabled; run-satellite when back."""
        if self.attached:
            event = PauseSatellite().event() if paused else RunSatellite().event()
            with contextlib.suppress(ConnectionError, OSError):
                await self.async_send(event)

    # -- the connection loop ---------------------------------------------------------------
    async def _async_run(self) -> None:
        delay = self.timing.backoff_min
        while True:
            try:
                await self._async_session()
                delay = self.timing.backoff_min  # it was attached: come back quickly
            except NotASatellite:
                self.not_a_satellite = True
                _LOGGER.info("%s is a Wyoming service, not a satellite", self.endpoint)
                return
            except (OSError, ConnectionError, TimeoutError, asyncio.IncompleteReadError) as err:
                self.last_error = str(err) or type(err).__name__
                _LOGGER.debug("satellite %s: %s", self.endpoint.key, self.last_error)
            except ValueError as err:  # a malformed event: drop the connection, keep trying
                self.last_error = f"bad event: {err}"
                _LOGGER.warning("satellite %s sent a bad event: %s", self.endpoint.key, err)
            finally:
                self._close()
            self._poke.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poke.wait(), delay)
            delay = min(delay * 2, self.timing.backoff_max)

    async def _async_session(self) -> None:
        ep = self.endpoint
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(ep.host, ep.port), CONNECT_TIMEOUT
        )
        self._writer = writer
        await self.async_send(Describe().event())
        info = await asyncio.wait_for(_async_read_info(reader), INFO_TIMEOUT)
        if info.satellite is None:
            raise NotASatellite(str(ep))
        self.info = info
        self.pong_supported = False
        self.last_error = None
        self._last_heard = time.monotonic()
        if not self.is_paused():
            await self.async_send(RunSatellite().event())
        self.attached = True
        self.handler.on_attached(self, info)
        keepalive = asyncio.create_task(self._async_keepalive(), name=f"ping {ep.key}")
        try:
            while (event := await async_read_event(reader)) is not None:
                self._last_heard = time.monotonic()
                if Ping.is_type(event.type):
                    await self.async_send(Pong(text=Ping.from_event(event).text).event())
                elif Pong.is_type(event.type):
                    self.pong_supported = True
                elif Info.is_type(event.type):
                    self.info = Info.from_event(event)
                else:
                    self.handler.on_event(event)
            raise ConnectionResetError("satellite closed the connection")
        finally:
            keepalive.cancel()
            await asyncio.gather(keepalive, return_exceptions=True)

    async def _async_keepalive(self) -> None:
        """Ping; hang up when a satellite that answers pings goes quiet (TCP alone may not tell)."""
        while True:
            await asyncio.sleep(self.timing.ping_interval)
            quiet = time.monotonic() - self._last_heard
            if self.pong_supported and quiet > self.timing.ping_timeout:
                _LOGGER.info("satellite %s stopped answering pings", self.endpoint.key)
                self._close()
                return
            with contextlib.suppress(ConnectionError, OSError):
                await self.async_send(Ping().event())

    def _close(self) -> None:
        writer, self._writer = self._writer, None
        was_attached, self.attached = self.attached, False
        if writer is not None:
            writer.close()
        if was_attached:
            self.handler.on_detached()


async def _async_read_info(reader: asyncio.StreamReader) -> Info:
    """Skip whatever the satellite sends before its answer to `describe`."""
    while True:
        event = await async_read_event(reader)
        if event is None:
            raise ConnectionResetError("closed before answering describe")
        if Info.is_type(event.type):
            return Info.from_event(event)
