"""Wake-word detection by an external Wyoming service (wyoming-openwakeword and the like).

`detect` (names) → `audio-start` → streaming `audio-chunk`s; the service answers `detection`
when it hears the word, or `not-detected` after `audio-stop`.

Facts about the service side that shape this client (wyoming-openwakeword 1.8.2):
- Its features need about 2 s of audio after `audio-start` before the model decides at all,
  so each connection is primed with `PRIME_SECONDS` of silence.
- It answers `not-detected` as soon as `audio-stop` arrives, for whatever it has not processed
  yet, and buffers at most 10 s: audio is sent at the pace it was spoken (a live stream already
  is; a recording is slowed to real time), and a short silent tail precedes `audio-stop`.
- Its model names carry a version ("hey_jarvis_v0.1"); a name without it makes that server
  load another copy of the model for every request. Names are matched against `info` once.
- The detection arrives after the audio it was in; the listener then hears the stream again
  from where the service says it was (`WakeStream.late`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time

from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStart, AudioStop
from wyoming.wake import Detect, Detection, NotDetected

from ..audio import BYTES_PER_SECOND, RATE, WIDTH, chunked, silence
from ..wake import WakeDetection
from .client import Connection, ServiceUnavailable, async_open, model_names
from .config import ServiceSpec

_LOGGER = logging.getLogger(__name__)

PRIME_SECONDS = 2.0
TAIL_SECONDS = 0.5
LEAD_SECONDS = 0.1  # how far audio may run ahead of the clock
_FOREVER = 24 * 3600.0
_VERSION = re.compile(r"_v[0-9.]+$")


def model_key(name: str) -> str:
    """'hey_jarvis_v0.1' and 'Hey Jarvis' → 'heyjarvis'; 'okay_nabu' → 'oknabu'."""
    key = re.sub(r"[^a-z0-9]", "", _VERSION.sub("", name.lower().strip()))
    return key.replace("okay", "ok")


def resolve_model(wanted: str, offered: list[str]) -> str | None:
    """The service's own name for a wake word, or None when it lists no such model."""
    if wanted in offered:
        return wanted
    key = model_key(wanted)
    return next((name for name in offered if model_key(name) == key), None)


class WyomingWake:
    """An external wake-word service; `stream()` starts listening for one pipeline run."""

    def __init__(self, spec: ServiceSpec, model: str) -> None:
        self.spec = spec
        self.model = spec.model or model
        self.name = f"wyoming:{spec.where}"
        self._resolved: str | None = None
        self.down_until = 0.0  # after a failure, streams wait this long before reconnecting
        self.last_error: str | None = None

    def stream(self) -> WakeStream:
        return WakeStream(self)

    async def async_name(self, conn: Connection) -> str:
        """The model name to send in `detect` (asks `describe` once per service)."""
        if self._resolved is None:
            offered = model_names(self.spec, await conn.async_describe())
            found = resolve_model(self.model, offered)
            if found is None:
                raise ServiceUnavailable(
                    f"{self.spec.role} service at {self.spec.where} has no model "
                    f"{self.model!r} (it offers {', '.join(offered) or 'none'})"
                )
            self._resolved = found
        return self._resolved

    def failed(self, err: Exception) -> None:
        self.last_error = str(err)
        self.down_until = time.monotonic() + self.spec.retry
        self._resolved = None  # a restarted service may offer other models

    def recovered(self) -> None:
        if self.last_error is not None:
            _LOGGER.info("%s service at %s is back", self.spec.role, self.spec.where)
        self.last_error = None
        self.down_until = 0.0


class WakeStream:
    """Listens for the wake word in one stream; also the listener's detector.

    The pipeline awaits `async_feed` for each chunk on the loop; the listener calls `process`
    from the executor and gets the detection once it has arrived. A service that is down, or
    goes away mid-stream, is retried every `retry` seconds while the audio goes on.
    """

    late = True  # a detection refers to audio the listener already has: replay from there

    def __init__(self, service: WyomingWake) -> None:
        self.service = service
        self.spec = service.spec
        self.model = service.model
        self.detection: WakeDetection | None = None
        self.error: str | None = None
        self._pending: WakeDetection | None = None
        self._conn: Connection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._answered = asyncio.Event()
        self._converter = AudioChunkConverter(rate=self.spec.rate, width=WIDTH, channels=1)
        self._position = 0  # bytes of stream audio seen
        self._base = 0  # stream position when the current connection started hearing it
        self._sent = 0  # bytes of stream audio sent on the current connection
        self._clock = 0.0
        self._closed = False

    @property
    def connected(self) -> bool:
        return self._conn is not None

    # -- loop side -------------------------------------------------------------------------
    async def async_start(self) -> None:
        """Connect (or note why not: the stream goes on and retries)."""
        if time.monotonic() < self.service.down_until:
            self.error = self.service.last_error
            return
        await self._async_connect()

    async def async_feed(self, chunk: bytes) -> None:
        """Send a chunk of 16 kHz mono PCM, at the pace it was spoken."""
        self._position += len(chunk)
        if self.detection is not None or self._closed:
            return
        conn = self._conn
        if conn is None:
            self._maybe_reconnect()
            return
        ahead = (self._sent + len(chunk)) / BYTES_PER_SECOND - self._elapsed() - LEAD_SECONDS
        if ahead > 0:
            await asyncio.sleep(ahead)
        try:
            await self._async_send(conn, chunk)
        except ServiceUnavailable as err:
            await self._async_lost(err)

    async def async_finish(self) -> None:
        """The stream ended without a detection so far: let the service hear the end, then
        ask for its last answer (`audio-stop` → `detection` or `not-detected`)."""
        conn = self._conn
        if conn is None or self.detection is not None:
            return
        try:
            for piece in chunked(silence(TAIL_SECONDS)):
                if self._answered.is_set():
                    break
                ahead = (self._sent + len(piece)) / BYTES_PER_SECOND - self._elapsed()
                if ahead > 0:
                    await asyncio.sleep(ahead)
                await self._async_send(conn, piece, count=False)
            if not self._answered.is_set():
                await conn.async_write(AudioStop().event())
            await asyncio.wait_for(self._answered.wait(), self.spec.timeout)
        except TimeoutError:
            await self._async_lost(
                ServiceUnavailable(
                    f"{self.spec.role} service at {self.spec.where} did not answer "
                    f"in {self.spec.timeout:g} s"
                )
            )
        except ServiceUnavailable as err:
            await self._async_lost(err)

    async def async_close(self) -> None:
        self._closed = True
        for task in (self._connecting, self._reader):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.async_close()

    # -- executor side (the pipeline's listener) -------------------------------------------
    def process(self, pcm: bytes) -> WakeDetection | None:
        """The detection, once, after it arrived (the audio itself went to the service)."""
        found, self._pending = self._pending, None
        return found

    def close(self) -> None:
        """Nothing to free here; the pipeline closes the connection on the loop."""

    # -- internals -------------------------------------------------------------------------
    def _elapsed(self) -> float:
        return time.monotonic() - self._clock

    async def _async_connect(self) -> None:
        spec = self.spec
        conn: Connection | None = None
        try:
            conn = await async_open(spec)
            name = await self.service.async_name(conn)
            await conn.async_write(Detect(names=[name]).event())
            await conn.async_write(
                AudioStart(rate=spec.rate, width=WIDTH, channels=1, timestamp=0).event()
            )
            self._sent = 0
            for piece in chunked(silence(PRIME_SECONDS)):
                await self._async_send(conn, piece, count=False)
        except ServiceUnavailable as err:
            if conn is not None:
                await conn.async_close()
            self._note_failure(err)
            return
        if self._closed:
            await conn.async_close()
            return
        self._conn = conn
        self._base = self._position
        self._sent = 0
        self._clock = time.monotonic()
        self._answered.clear()
        self.error = None
        self.service.recovered()
        self._reader = asyncio.get_running_loop().create_task(self._async_read(conn))

    def _maybe_reconnect(self) -> None:
        if self._connecting is not None and not self._connecting.done():
            return
        if time.monotonic() < self.service.down_until:
            return
        self._connecting = asyncio.get_running_loop().create_task(self._async_connect())

    async def _async_send(self, conn: Connection, pcm: bytes, *, count: bool = True) -> None:
        prime_ms = int(PRIME_SECONDS * 1000)
        timestamp = prime_ms + int(self._sent * 1000 / BYTES_PER_SECOND)
        chunk = self._converter.convert(
            AudioChunk(rate=RATE, width=WIDTH, channels=1, audio=pcm, timestamp=timestamp)
        )
        await conn.async_write(chunk.event())
        if count:
            self._sent += len(pcm)

    async def _async_read(self, conn: Connection) -> None:
        try:
            while True:
                event = await conn.async_read(_FOREVER)
                if Detection.is_type(event.type):
                    self._found(Detection.from_event(event))
                    break
                if NotDetected.is_type(event.type):
                    break
        except ServiceUnavailable as err:
            if not self._closed and self._conn is conn:
                await self._async_lost(err)
        finally:
            self._answered.set()

    def _found(self, detection: Detection) -> None:
        """Where in the stream the word ended: the service's timestamp when it gives a
        plausible one, else how much audio it had been sent."""
        heard = self._sent / BYTES_PER_SECOND
        stamp = detection.timestamp
        prime_ms = PRIME_SECONDS * 1000
        if isinstance(stamp, int | float) and prime_ms < stamp <= prime_ms + heard * 1000:
            heard = min(heard, (stamp - prime_ms) / 1000)
        end = min(self._base / BYTES_PER_SECOND + heard, self._position / BYTES_PER_SECOND)
        found = WakeDetection(detection.name or self.model, 1.0, end)
        _LOGGER.debug("wake word %s from %s at %.2f s", found.model, self.spec.where, end)
        self.detection = self._pending = found

    async def _async_lost(self, err: Exception) -> None:
        conn, self._conn = self._conn, None
        self._note_failure(err)
        if conn is not None:
            await conn.async_close()

    def _note_failure(self, err: Exception) -> None:
        if self.service.last_error is None:
            _LOGGER.warning("%s (retrying every %g s)", err, self.spec.retry)
        self.error = str(err)
        self.service.failed(err)
