"""One satellite's conversations: its audio through the pipeline, the answer back to it.

A satellite asks for a pipeline with `run-pipeline`: from the wake stage (it streams all the
time, or after its own VAD hears speech, and the hub listens for the wake word) or from the
ASR stage (it heard the wake word itself). The answer is `transcript`, `synthesize`, the reply
as `audio-start/chunk/stop` in the format it asked for, then the hub waits for `played`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wyoming.asr import Transcript
from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Info
from wyoming.pipeline import RunPipeline
from wyoming.snd import Played
from wyoming.timer import TimerCancelled, TimerFinished, TimerStarted, TimerUpdated
from wyoming.tts import Synthesize
from wyoming.wake import Detection

from ..audio import (
    BYTES_PER_SECOND,
    RATE,
    WIDTH,
    Audio,
    AudioFormatError,
    chunked,
    convert_pcm,
    rms,
)
from ..timers import Timer, TimerChange
from .arbitration import WakeArbiter, WakeScore

if TYPE_CHECKING:
    from ..pipeline import PipelineResult, VoicePipeline
    from .link import SatelliteLink

_LOGGER = logging.getLogger(__name__)

_MAX_QUEUE = 500  # ~30 s of 64 ms chunks: a stalled pipeline must not grow memory forever
_RECENT_BYTES = BYTES_PER_SECOND  # the last second of audio, to weigh a wake word's loudness
_CLAIM_BYTES = int(0.3 * BYTES_PER_SECOND)  # audio a local-wake satellite sends before claiming
_IDLE_ROTATE = 30.0  # seconds of wake-less streaming before the listener starts afresh
_PLAYED_GRACE = 1.0  # satellites before 1.4.1 never send `played`: wait the audio's length


class Outvoted(Exception):
    """Another satellite heard the same wake word better; this run stops without answering."""


@dataclass(frozen=True)
class SessionHooks:
    """What a session needs from the satellite manager."""

    pipeline: VoicePipeline
    arbiter: WakeArbiter
    area: Callable[[], str | None]
    paused: Callable[[], bool]
    heard: Callable[[str], None]  # "wake" | "command": the dashboard's last-heard time
    fire: Callable[[str, dict[str, Any]], None]


@dataclass
class _Run:
    start_stage: str
    end_stage: str
    snd_format: tuple[int, int, int] | None
    restart: bool
    queue: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    claim: asyncio.Task[bool] | None = None
    received: int = 0
    detached: bool = False
    wake_name: str | None = None
    task: asyncio.Task[None] | None = None


class SatelliteSession:
    """Pipeline runs for one satellite, one at a time; replies and announcements go back to it."""

    def __init__(self, key: str, hooks: SessionHooks) -> None:
        self.key = key
        self.hooks = hooks
        self.conversation_id = f"satellite-{key}"
        self.link: SatelliteLink | None = None
        self.info: Info | None = None
        self.on_attach: Callable[[Info], None] | None = None
        self.on_detach: Callable[[], None] | None = None
        self._run: _Run | None = None
        self._recent = bytearray()
        self._wake_name: str | None = None  # a local detection without run-pipeline yet
        self._played = asyncio.Event()
        self._speak_lock = asyncio.Lock()  # a reply and an announcement must not interleave
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def name(self) -> str:
        satellite = self.info.satellite if self.info is not None else None
        return satellite.name if satellite is not None and satellite.name else self.key

    @property
    def attached(self) -> bool:
        return self.link is not None and self.link.attached

    # -- link events -----------------------------------------------------------------------
    def on_attached(self, link: SatelliteLink, info: Info) -> None:
        self.link, self.info = link, info
        if self.on_attach is not None:
            self.on_attach(info)

    def on_detached(self) -> None:
        self._end_run(detached=True)
        self._wake_name = None
        self._played.set()  # nobody will say `played` now
        if self.on_detach is not None:
            self.on_detach()

    def on_event(self, event: Event) -> None:
        if AudioChunk.is_type(event.type):
            self._on_audio(event)
        elif RunPipeline.is_type(event.type):
            self._on_run_pipeline(event)
        elif AudioStop.is_type(event.type):
            if self._run is not None:
                self._run.queue.put_nowait(None)
        elif Detection.is_type(event.type):
            self._wake_name = Detection.from_event(event).name or "wake"
        elif Played.is_type(event.type):
            self._played.set()

    def pause_changed(self) -> None:
        """Muted or disabled: drop what is being heard now."""
        if self.hooks.paused():
            self._end_run()

    async def async_stop(self) -> None:
        self._end_run(detached=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- speaking --------------------------------------------------------------------------
    async def async_announce(self, audio: Audio, text: str | None = None) -> None:
        """Play audio (an announcement) and wait until the satellite has played it."""
        if not self.attached:
            raise ConnectionError(f"satellite {self.name} is not connected")
        if text:
            await self._async_send(Synthesize(text=text).event())
        await self._async_play(audio, None)

    async def async_timer(self, change: TimerChange, timer: Timer) -> None:
        """Show a spoken timer on the satellite (Wyoming's timer-started/-updated/-cancelled/
        -finished); several may run at once, each under its own id."""
        timer_id = f"{self.key}-{timer.id}"
        if change == "started":
            total = round(timer.seconds)
            event = TimerStarted(
                id=timer_id,
                total_seconds=total,
                name=timer.name,
                start_hours=total // 3600,
                start_minutes=total % 3600 // 60,
                start_seconds=total % 60,
            ).event()
        elif change == "updated":
            left = timer.remaining(asyncio.get_running_loop().time())
            paused = timer.left_when_paused is not None
            event = TimerUpdated(
                id=timer_id, is_active=not paused, total_seconds=round(left)
            ).event()
        elif change == "cancelled":
            event = TimerCancelled(id=timer_id).event()
        else:
            event = TimerFinished(id=timer_id).event()
        with contextlib.suppress(ConnectionError, OSError):
            await self._async_send(event)

    # -- pipeline runs ---------------------------------------------------------------------
    def _on_run_pipeline(self, event: Event) -> None:
        try:
            request = RunPipeline.from_event(event)
        except (KeyError, ValueError) as err:
            self._spawn(self._async_error(f"bad run-pipeline: {err}", "bad-request"))
            return
        start, end = str(request.start_stage.value), str(request.end_stage.value)
        if start not in ("wake", "asr"):
            self._spawn(self._async_error(f"cannot start a run at {start}", "unsupported"))
            return
        # Old satellites omit restart_on_end; one streaming to the hub's wake word wants it.
        data = event.data or {}
        restart = bool(data["restart_on_end"]) if "restart_on_end" in data else start == "wake"
        fmt = data.get("snd_format") or {}
        snd = None
        if fmt:
            snd = (
                int(fmt.get("rate", RATE)),
                int(fmt.get("width", WIDTH)),
                int(fmt.get("channels", 1)),
            )
        self._start_run(_Run(start, end, snd, restart, wake_name=self._wake_name))
        self._wake_name = None

    def _on_audio(self, event: Event) -> None:
        if self.hooks.paused():
            return
        try:
            chunk = AudioChunk.from_event(event)
            pcm = convert_pcm(chunk.audio, chunk.rate, chunk.width, chunk.channels)
        except (KeyError, ValueError, AudioFormatError) as err:
            _LOGGER.debug("satellite %s: unusable audio: %s", self.key, err)
            return
        self._recent += pcm
        del self._recent[: max(0, len(self._recent) - _RECENT_BYTES)]
        run = self._run
        if run is None and self._wake_name is not None:
            # Some satellites report their own detection and stream without run-pipeline.
            run = _Run("asr", "tts", None, False, wake_name=self._wake_name)
            self._wake_name = None
            self._start_run(run)
        if run is not None and run.queue.qsize() < _MAX_QUEUE:
            run.queue.put_nowait(pcm)

    def _start_run(self, run: _Run) -> None:
        _LOGGER.debug("satellite %s: pipeline run from %s", self.key, run.start_stage)
        self._end_run()
        self._run = run
        run.task = self._spawn(self._async_run(run))

    def _end_run(self, *, detached: bool = False) -> None:
        run, self._run = self._run, None
        if run is not None:
            run.detached = run.detached or detached
            run.restart = False
            run.queue.put_nowait(None)

    async def _async_run(self, run: _Run) -> None:
        hooks = self.hooks
        loop = asyncio.get_running_loop()

        def on_wake(detection: Any) -> None:
            score = WakeScore(rms(bytes(self._recent)), float(detection.probability))
            run.claim = loop.create_task(self._async_claim(run, score, str(detection.model)))

        result: PipelineResult | None = None
        outvoted = False
        try:
            result = await hooks.pipeline.async_process_stream(
                self._async_chunks(run),
                wake="required" if run.start_stage == "wake" else "off",
                conversation_id=self.conversation_id,
                speak=run.end_stage == "tts",
                on_wake=on_wake,
                area_id=hooks.area(),
            )
        except Outvoted:
            outvoted = True
            hooks.fire("outvoted", {"satellite": self.key})
        except Exception:  # a failed run must not take the satellite down with it
            _LOGGER.exception("satellite %s: pipeline failed", self.key)
            await self._async_error("the voice pipeline failed", "pipeline-failed")
        _LOGGER.debug("satellite %s: run ended (%s)", self.key, result and result.error)
        if run.detached:
            return
        if result is not None:
            await self._async_answer(run, result)
        elif outvoted and run.start_stage == "asr":
            # It is streaming until it gets a transcript: release it without speaking.
            with contextlib.suppress(ConnectionError, OSError):
                await self._async_send(Transcript(text="").event())
        if run.restart and self._run is run and self.attached and not hooks.paused():
            self._start_run(_Run(run.start_stage, run.end_stage, run.snd_format, True))
        elif self._run is run:
            self._run = None

    async def _async_chunks(self, run: _Run) -> AsyncIterator[bytes]:
        """The run's audio; stops the run when another satellite won the wake word."""
        while (chunk := await run.queue.get()) is not None:
            if run.claim is not None and not await run.claim:
                raise Outvoted
            run.received += len(chunk)
            if run.start_stage == "asr" and run.claim is None and run.received >= _CLAIM_BYTES:
                # The satellite woke up on its own: weigh how loud it hears the command.
                score = WakeScore(rms(bytes(self._recent)), 1.0)
                name = run.wake_name or "local"
                run.claim = asyncio.get_running_loop().create_task(
                    self._async_claim(run, score, name)
                )
            if (
                run.start_stage == "wake"
                and run.claim is None
                and run.received > _IDLE_ROTATE * BYTES_PER_SECOND
            ):
                return  # nothing said for a while: a fresh listener keeps memory bounded
            yield chunk

    async def _async_claim(self, run: _Run, score: WakeScore, wake_name: str) -> bool:
        won = await self.hooks.arbiter.async_claim(self.key, score)
        if won:
            self.hooks.heard("wake")
            if run.start_stage == "wake":
                with contextlib.suppress(ConnectionError, OSError):
                    await self._async_send(Detection(name=wake_name).event())
        return won

    async def _async_answer(self, run: _Run, result: PipelineResult) -> None:
        """transcript, synthesize, reply audio, played; error when the run failed."""
        try:
            heard_something = run.start_stage == "asr" or result.wake is not None
            if result.error is not None and result.transcript is None:
                if heard_something:
                    await self._async_send(Error(text=result.error, code="no-command").event())
                    if run.start_stage == "asr":
                        await self._async_send(Transcript(text="").event())
                return
            self.hooks.heard("command")
            await self._async_send(Transcript(text=result.transcript or "").event())
            if result.reply:
                await self._async_send(Synthesize(text=result.reply).event())
            if result.reply_audio is not None and run.end_stage == "tts":
                # A satellite streaming to the hub's wake word is listened to again at once (a
                # command may follow the reply); others are answered when they have played it.
                await self._async_play(result.reply_audio, run.snd_format, wait=not run.restart)
        except (ConnectionError, OSError) as err:
            _LOGGER.info("satellite %s left before the reply: %s", self.key, err)

    def _info_snd_format(self) -> tuple[int, int, int] | None:
        """The speaker format a newer satellite lists in its `info` (wyoming 1.5+)."""
        for program in getattr(self.info, "snd", None) or ():
            fmt = getattr(program, "snd_format", None)
            if fmt is not None:
                return (int(fmt.rate), int(fmt.width), int(fmt.channels))
        return None

    async def _async_play(
        self, audio: Audio, fmt: tuple[int, int, int] | None, *, wait: bool = True
    ) -> None:
        rate, width, channels = fmt or self._info_snd_format() or (RATE, WIDTH, 1)
        converter = AudioChunkConverter(rate=rate, width=width, channels=channels)
        async with self._speak_lock:
            self._played.clear()
            started = time.monotonic()
            timestamp = 0
            await self._async_send(
                AudioStart(rate=rate, width=width, channels=channels, timestamp=0).event()
            )
            for piece in chunked(audio.pcm, 1024):
                chunk = converter.convert(
                    AudioChunk(rate=RATE, width=WIDTH, channels=1, audio=piece, timestamp=timestamp)
                )
                await self._async_send(chunk.event())
                timestamp += chunk.milliseconds
            await self._async_send(AudioStop(timestamp=timestamp).event())
            if not wait:
                return
            left = audio.seconds - (time.monotonic() - started) + _PLAYED_GRACE
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._played.wait(), max(left, _PLAYED_GRACE))

    async def _async_error(self, text: str, code: str) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            await self._async_send(Error(text=text, code=code).event())

    async def _async_send(self, event: Event) -> None:
        if self.link is None:
            raise ConnectionError(f"satellite {self.key} is not connected")
        await self.link.async_send(event)

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
