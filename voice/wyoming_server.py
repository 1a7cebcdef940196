"""A Wyoming server, so existing Wyoming satellites can stream audio to the hub.

A satellite sends audio-start, audio-chunk..., audio-stop (optionally after run-pipeline);
the hub answers with detection (if it heard the wake word), transcript, and the spoken reply
as audio-start / audio-chunk / audio-stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from wyoming.asr import Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event, async_read_event, async_write_event
from wyoming.info import Describe, Info
from wyoming.pipeline import PipelineStage, RunPipeline
from wyoming.wake import Detection

from .audio import RATE, WIDTH, Audio, chunked, convert_pcm

if TYPE_CHECKING:
    from .pipeline import PipelineResult, VoicePipeline, WakeMode

_LOGGER = logging.getLogger(__name__)
_MAX_QUEUE = 500  # ~40 s of 80 ms chunks: a stalled pipeline must not grow memory forever


class WyomingServer:
    """Listens on host:port; one pipeline run per audio-start … audio-stop."""

    def __init__(self, pipeline: VoicePipeline, host: str = "127.0.0.1", port: int = 10700) -> None:
        self.pipeline = pipeline
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._sessions: set[_Session] = set()

    def satellites(self) -> dict[str, str | None]:
        """Connected satellites: name (from their `info`, else host:port) → area."""
        return {s.name: s.area for s in self._sessions}

    async def async_announce(self, name: str, audio: Audio) -> bool:
        """Play audio on the named satellite; False when no such satellite is connected."""
        session = next((s for s in self._sessions if s.name == name), None)
        if session is None:
            return False
        await session.async_send_audio(audio)
        return True

    async def async_start(self) -> None:
        self._server = await asyncio.start_server(self._async_client, self.host, self.port)
        sock = self._server.sockets[0].getsockname()
        self.port = int(sock[1])
        _LOGGER.info("Wyoming satellite server on %s:%d", self.host, self.port)

    async def async_stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    async def _async_client(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)  # type: ignore[arg-type]
        peer = writer.get_extra_info("peername")
        session = _Session(
            self.pipeline, writer, f"wyoming-{peer[0]}:{peer[1]}" if peer else "wyoming"
        )
        self._sessions.add(session)
        try:
            while (event := await async_read_event(reader)) is not None:
                await session.async_handle(event)
        except (ConnectionError, asyncio.IncompleteReadError, ValueError) as err:
            _LOGGER.info("satellite %s: %s", peer, err)
        finally:
            self._sessions.discard(session)
            await session.async_end()
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            if task is not None:
                self._tasks.discard(task)  # type: ignore[arg-type]


class _Session:
    def __init__(self, pipeline: VoicePipeline, writer: asyncio.StreamWriter, cid: str) -> None:
        self.pipeline = pipeline
        self.writer = writer
        self.cid = cid
        self.wake: WakeMode = "auto"
        self.queue: asyncio.Queue[bytes | None] | None = None
        self.run: asyncio.Task[None] | None = None
        self.format = (RATE, WIDTH, 1)
        self.pending: set[asyncio.Future[None]] = set()
        self.name = cid.removeprefix("wyoming-")
        self.area: str | None = None
        self._send_lock = asyncio.Lock()  # a reply and an announcement must not interleave

    async def async_handle(self, event: Event) -> None:
        if Describe.is_type(event.type):
            await async_write_event(Info().event(), self.writer)
        elif Info.is_type(event.type):
            # A satellite introduces itself; rules then speak to it by this name.
            satellite = Info.from_event(event).satellite
            if satellite is not None and satellite.name:
                self.name, self.area = satellite.name, satellite.area
        elif RunPipeline.is_type(event.type):
            stage = RunPipeline.from_event(event).start_stage
            self.wake = "required" if stage == PipelineStage.WAKE else "off"
        elif AudioStart.is_type(event.type):
            start = AudioStart.from_event(event)
            self.format = (start.rate, start.width, start.channels)
            await self._async_begin()
        elif AudioChunk.is_type(event.type):
            if self.queue is None:
                await self._async_begin()
            chunk = AudioChunk.from_event(event)
            pcm = convert_pcm(chunk.audio, chunk.rate, chunk.width, chunk.channels)
            assert self.queue is not None
            if self.queue.qsize() < _MAX_QUEUE:
                self.queue.put_nowait(pcm)
        elif AudioStop.is_type(event.type):
            await self.async_end()

    async def async_end(self) -> None:
        if self.queue is not None:
            self.queue.put_nowait(None)
            self.queue = None
        if self.run is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.run
            self.run = None

    async def _async_begin(self) -> None:
        await self.async_end()
        from .pipeline import async_chunks_from_queue

        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.queue = queue

        def on_wake(detection: object) -> None:
            name = getattr(detection, "model", None)
            sent = asyncio.ensure_future(
                async_write_event(Detection(name=name).event(), self.writer)
            )
            self.pending.add(sent)
            sent.add_done_callback(self.pending.discard)

        async def run() -> None:
            result = await self.pipeline.async_process_stream(
                async_chunks_from_queue(queue),
                wake=self.wake,
                conversation_id=self.cid,
                on_wake=on_wake,
            )
            await self._async_send_result(result)

        self.run = asyncio.create_task(run())

    async def _async_send_result(self, result: PipelineResult) -> None:
        try:
            await async_write_event(Transcript(text=result.transcript or "").event(), self.writer)
            if result.reply_audio is not None:
                await self.async_send_audio(result.reply_audio)
        except ConnectionError:
            _LOGGER.info("satellite %s left before the reply", self.cid)

    async def async_send_audio(self, audio: Audio) -> None:
        """audio-start, audio-chunk..., audio-stop: how a Wyoming satellite is given sound."""
        async with self._send_lock:
            await async_write_event(
                AudioStart(rate=RATE, width=WIDTH, channels=1).event(), self.writer
            )
            for piece in chunked(audio.pcm, 1024):
                chunk = AudioChunk(rate=RATE, width=WIDTH, channels=1, audio=piece)
                await async_write_event(chunk.event(), self.writer)
            await async_write_event(AudioStop().event(), self.writer)
