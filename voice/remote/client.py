"""Connecting to an external Wyoming service: timeouts, clear errors, `describe`.

Each request opens its own connection (Wyoming services answer one request per connection
and several of them close it afterwards), so a service that restarted is simply reconnected
to on the next request. Every wait has a timeout: a service that is down or stuck turns into
`ServiceUnavailable` with a sentence naming it, never a hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from wyoming.client import AsyncClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info

from hub.errors import DeviceUnavailable

from .config import ServiceSpec

_LOGGER = logging.getLogger(__name__)


class ServiceUnavailable(DeviceUnavailable):
    """An external Wyoming service could not be reached, failed, or did not answer in time."""


async def async_open(spec: ServiceSpec) -> Connection:
    """Connect within the spec's connect timeout; the caller closes the connection."""
    client = AsyncClient.from_uri(spec.uri, connect_timeout=spec.connect_timeout)
    try:
        await client.connect()
    except (TimeoutError, OSError) as err:
        reason = "no answer" if isinstance(err, TimeoutError) else (err.strerror or str(err))
        raise ServiceUnavailable(
            f"{spec.role} service at {spec.where} is unreachable: {reason}"
        ) from err
    return Connection(spec, client)


@asynccontextmanager
async def async_connection(spec: ServiceSpec) -> AsyncIterator[Connection]:
    """A connection to the service, closed afterwards (even when the request fails)."""
    conn = await async_open(spec)
    try:
        yield conn
    finally:
        await conn.async_close()


class Connection:
    """Reads and writes with the service's timeouts; errors name the service."""

    def __init__(self, spec: ServiceSpec, client: AsyncClient) -> None:
        self.spec = spec
        self.client = client

    async def async_write(self, event: Event) -> None:
        try:
            await asyncio.wait_for(self.client.write_event(event), self.spec.timeout)
        except (TimeoutError, OSError) as err:
            raise self._lost(err) from err

    async def async_read(self, timeout: float | None = None) -> Event:
        """The next event; raises on timeout, on a closed connection and on `error`."""
        wait = self.spec.timeout if timeout is None else timeout
        try:
            event = await asyncio.wait_for(self.client.read_event(), wait)
        except TimeoutError as err:
            raise ServiceUnavailable(
                f"{self.spec.role} service at {self.spec.where} did not answer in {wait:g} s"
            ) from err
        except (OSError, EOFError, ValueError, KeyError) as err:  # reset, or not Wyoming
            raise self._lost(err) from err
        if event is None:
            raise ServiceUnavailable(
                f"{self.spec.role} service at {self.spec.where} closed the connection"
            )
        if Error.is_type(event.type):
            error = Error.from_event(event)
            raise ServiceUnavailable(
                f"{self.spec.role} service at {self.spec.where} failed: {error.text}"
            )
        return event

    async def async_describe(self) -> Info:
        await self.async_write(Describe().event())
        while True:
            event = await self.async_read(self.spec.connect_timeout + 2.0)
            if Info.is_type(event.type):
                return Info.from_event(event)

    async def async_close(self) -> None:
        with contextlib.suppress(Exception):  # a broken socket must not hide the real error
            await asyncio.wait_for(self.client.disconnect(), 1.0)

    def _lost(self, err: Exception) -> ServiceUnavailable:
        return ServiceUnavailable(
            f"{self.spec.role} service at {self.spec.where} lost the connection: {err}"
        )


async def async_describe(spec: ServiceSpec) -> Info:
    """Ask the service what it offers (`describe` → `info`)."""
    async with async_connection(spec) as conn:
        return await conn.async_describe()


def offers(spec: ServiceSpec, info: Info, most: int = 8) -> list[str]:
    """What `info` lists for this kind of service: 'program: model, model, ...' (piper lists
    its whole catalogue: the first `most` names and the count)."""
    programs: list[tuple[str, list[str]]]
    if spec.kind == "stt":
        programs = [(p.name, [m.name for m in p.models]) for p in info.asr]
    elif spec.kind == "wake":
        programs = [(p.name, [m.name for m in p.models]) for p in info.wake]
    else:
        programs = [(p.name, [v.name for v in p.voices]) for p in info.tts]
    out = []
    for name, models in programs:
        shown = ", ".join(models[:most]) or "-"
        if len(models) > most:
            shown += f", ... ({len(models)} in all)"
        out.append(f"{name}: {shown}")
    return out


def model_names(spec: ServiceSpec, info: Info) -> list[str]:
    """Installed model (or voice) names of this kind, in the service's order."""
    if spec.kind == "stt":
        return [m.name for p in info.asr for m in p.models if m.installed]
    if spec.kind == "wake":
        return [m.name for p in info.wake for m in p.models if m.installed]
    return [v.name for p in info.tts for v in p.voices if v.installed]


def languages(spec: ServiceSpec, info: Info) -> set[str]:
    """Languages the service's models list (empty: it does not say)."""
    if spec.kind == "stt":
        return {lang for p in info.asr for m in p.models for lang in m.languages}
    if spec.kind == "wake":
        return {lang for p in info.wake for m in p.models for lang in m.languages}
    return {lang for p in info.tts for v in p.voices for lang in v.languages}
