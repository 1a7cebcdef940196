"""One ESPHome voice device: the native-API link (the device serves, the hub dials out) and
its voice runs.

A run, in the API-audio mode Home Assistant Voice PE and Linux-Voice-Assistant use: the device
heard its wake word and sends `VoiceAssistantRequest(start)`; the hub answers port 0 (audio
comes over this connection), then `RUN_START`, `STT_START`; the device streams 16 kHz 16-bit
mono PCM as `VoiceAssistantAudio` until the hub says `STT_VAD_END` (or it sends `end`). The
hub answers `STT_END` with the text, `INTENT_START`/`INTENT_END`, `TTS_START` with the reply
and `TTS_END` with a URL the device fetches the spoken reply from, then `RUN_END`; or `ERROR`
(code, message) then `RUN_END` when it heard nothing usable or no command.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aioesphomeapi import (
    APIClient,
    APIConnectionError,
    ReconnectLogic,
    VoiceAssistantAudioSettings,
    VoiceAssistantCommandFlag,
    VoiceAssistantEventType,
    VoiceAssistantFeature,
    VoiceAssistantTimerEventType,
)
from aioesphomeapi import DeviceInfo as EspDeviceInfo

from hub.const import __version__
from voice.audio import BYTES_PER_SECOND, Audio, rms
from voice.events import EVENT_VOICE_END_OF_SPEECH
from voice.satellite.arbitration import WakeScore
from voice.timers import Timer, TimerChange

from .replies import local_address_towards

if TYPE_CHECKING:
    from hub.bus import Event
    from voice.pipeline import PipelineResult

    from .manager import EsphomeManager

_LOGGER = logging.getLogger(__name__)

DEFAULT_PORT = 6053
_MAX_QUEUE = 1000  # ~30 s of 32 ms chunks: a stalled pipeline must not grow memory forever
_RECENT_BYTES = BYTES_PER_SECOND
_CLAIM_BYTES = int(0.3 * BYTES_PER_SECOND)  # audio heard before claiming the wake word
ANNOUNCE_GRACE = 30.0  # seconds beyond the audio's length a device may take to play it

EV = VoiceAssistantEventType
TIMER_EVENTS = {
    "started": VoiceAssistantTimerEventType.VOICE_ASSISTANT_TIMER_STARTED,
    "updated": VoiceAssistantTimerEventType.VOICE_ASSISTANT_TIMER_UPDATED,
    "cancelled": VoiceAssistantTimerEventType.VOICE_ASSISTANT_TIMER_CANCELLED,
    "finished": VoiceAssistantTimerEventType.VOICE_ASSISTANT_TIMER_FINISHED,
}


class Outvoted(Exception):
    """A satellite or device nearer the speaker heard the same wake word; stay quiet."""


class Aborted(Exception):
    """The device stopped the run (its button, or it lost the audio): act on nothing."""


@dataclass(frozen=True)
class DeviceConfig:
    """One entry of `esphome: devices:` (or a device found by zeroconf)."""

    host: str
    port: int = DEFAULT_PORT
    noise_psk: str | None = None
    name: str | None = None  # the device's node name, checked when given
    area: str | None = None  # the room; else the area the firmware suggests
    discovered: bool = False

    @property
    def key(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass
class _Run:
    wake: bool  # the hub listens for the wake word (the device streams all the time)
    wake_name: str | None
    queue: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    claim: asyncio.Task[bool] | None = None
    received: int = 0
    aborted: bool = False
    detached: bool = False
    vad_end_sent: bool = False
    task: asyncio.Task[None] | None = None


class EsphomeDevice:
    """Keeps one device connected (aioesphomeapi's ReconnectLogic, backoff up to a minute) and
    answers its voice requests through Hearth's pipeline, in the device's room."""

    def __init__(self, manager: EsphomeManager, config: DeviceConfig) -> None:
        self.manager = manager
        self.config = config
        self.info: EspDeviceInfo | None = None
        self.mac: str | None = None
        self.flags = 0
        self.connected = False
        self.last_error: str | None = None
        self.not_voice = False
        self.address = "127.0.0.1"  # the hub's address as the device sees it
        self.client = APIClient(
            config.host,
            config.port,
            None,
            client_info=f"Hearth {__version__}",
            noise_psk=config.noise_psk or None,
            expected_name=config.name or None,
            zeroconf_instance=manager.zeroconf,
        )
        self._logic: ReconnectLogic | None = None
        self._unsub_voice: Callable[[], None] | None = None
        self._run: _Run | None = None
        self._recent = bytearray()
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- identity ---------------------------------------------------------------------------
    @property
    def key(self) -> str:
        """Stable identity: the MAC once known (survives a new IP), else host:port."""
        return self.mac or self.config.key

    @property
    def name(self) -> str:
        info = self.info
        if info is not None and (info.friendly_name or info.name):
            return info.friendly_name or info.name
        return self.config.name or self.config.key

    @property
    def conversation_id(self) -> str:
        return f"esphome-{self.key}"

    @property
    def voice_ready(self) -> bool:
        return self.connected and self._unsub_voice is not None

    def supports(self, feature: VoiceAssistantFeature) -> bool:
        return bool(self.flags & feature)

    # -- lifecycle --------------------------------------------------------------------------
    async def async_start(self) -> None:
        """Returns at once: the first connect runs in the background, with backoff."""
        self._logic = ReconnectLogic(
            client=self.client,
            on_connect=self._async_on_connect,
            on_disconnect=self._async_on_disconnect,
            on_connect_error=self._async_on_connect_error,
            zeroconf_instance=self.manager.zeroconf,
            name=self.config.name or None,
            # Hearth's own browser (discovery.py) says when a device shows up again.
            zeroconf_wake=False,
        )
        await self._logic.start()

    async def async_stop(self) -> None:
        if self._logic is not None:
            if not self.connected:
                # A device that accepted TCP but never answers holds the connect (and the
                # logic's lock) for up to 30 s: drop that attempt so stopping is prompt.
                self.client.force_disconnect()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._logic.stop(), 10)
        self._unsubscribe()
        self._end_run(detached=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(APIConnectionError, OSError, TimeoutError):
            await asyncio.wait_for(self.client.disconnect(), 5)
        self.connected = False

    def seen(self) -> None:
        """zeroconf saw it again: try now instead of waiting out the backoff."""
        if self._logic is not None and not self.connected:
            self._logic.notify_device_seen()

    # -- the connection ---------------------------------------------------------------------
    async def _async_on_connect(self) -> None:
        try:
            await self._async_attach()
        except (APIConnectionError, OSError) as err:
            # Lost while asking for its details: drop the connection, so the logic retries.
            self.last_error = str(err) or type(err).__name__
            _LOGGER.info("ESPHome device %s: %s", self.config.key, self.last_error)
            self.client.force_disconnect()

    async def _async_attach(self) -> None:
        info = await self.client.device_info()
        api_version = self.client.api_version
        self.info = info
        self.flags = info.voice_assistant_feature_flags_compat(api_version) if api_version else 0
        self.mac = _normal_mac(info.mac_address) or self.mac
        self.last_error = None
        peer = self.client.connected_address or self.config.host
        self.address = await self.manager.hub.async_add_executor_job(
            local_address_towards, peer, self.config.port
        )
        self.connected = True
        self.not_voice = not self.supports(VoiceAssistantFeature.VOICE_ASSISTANT)
        # Its registry device and entities first: a run may start as soon as it is subscribed.
        await self.manager.async_device_connected(self)
        if self.not_voice or not self.connected:  # not a voice device (or already gone)
            _LOGGER.info("ESPHome device %s connected (no voice assistant)", self.name)
            return
        if not self.supports(VoiceAssistantFeature.API_AUDIO):
            # Older firmware streams over UDP to a port the hub opens; not supported here.
            self.last_error = "firmware streams audio over UDP (update it for API audio)"
            _LOGGER.warning("ESPHome device %s: %s", self.name, self.last_error)
        else:
            self._unsub_voice = self.client.subscribe_voice_assistant(
                handle_start=self._async_handle_start,
                handle_stop=self._async_handle_stop,
                handle_audio=self._async_handle_audio,
            )
        _LOGGER.info("ESPHome device %s connected (voice flags %#x)", self.name, self.flags)

    async def _async_on_disconnect(self, expected: bool) -> None:
        _LOGGER.info("ESPHome device %s disconnected", self.name)
        self.connected = False
        self._unsub_voice = None  # the subscription went with the connection
        self._end_run(detached=True)
        self.manager.device_disconnected(self)

    async def _async_on_connect_error(self, err: Exception) -> None:
        self.last_error = str(err) or type(err).__name__
        _LOGGER.debug("ESPHome device %s: %s", self.config.key, self.last_error)

    def _unsubscribe(self) -> None:
        unsub, self._unsub_voice = self._unsub_voice, None
        if unsub is not None:
            with contextlib.suppress(APIConnectionError, OSError):
                unsub()

    # -- what the device asks ---------------------------------------------------------------
    async def _async_handle_start(
        self,
        conversation_id: str,
        flags: int,
        audio_settings: VoiceAssistantAudioSettings,
        wake_word_phrase: str | None,
    ) -> int | None:
        """A run begins. None refuses it (muted or disabled in Hearth); 0 means API audio."""
        if self.manager.is_paused(self):
            _LOGGER.debug("ESPHome device %s is muted: run refused", self.name)
            return None
        wake = bool(flags & VoiceAssistantCommandFlag.USE_WAKE_WORD)
        self._start_run(_Run(wake=wake, wake_name=wake_word_phrase))
        return 0

    async def _async_handle_audio(self, data: bytes, data2: bytes | None) -> None:
        run = self._run
        if run is None or not data:
            return
        self._recent += data
        del self._recent[: max(0, len(self._recent) - _RECENT_BYTES)]
        if run.queue.qsize() < _MAX_QUEUE:
            run.queue.put_nowait(data)

    async def _async_handle_stop(self, abort: bool) -> None:
        """`abort`: the device ended the run; else its audio ended (`end`)."""
        run = self._run
        if run is None:
            return
        if abort:
            run.aborted = True
            self._run = None
        run.queue.put_nowait(None)

    # -- runs -------------------------------------------------------------------------------
    def _start_run(self, run: _Run) -> None:
        self._end_run(aborted=True)
        self._recent.clear()
        self._run = run
        run.task = self._spawn(self._async_run(run))

    def _end_run(self, *, detached: bool = False, aborted: bool = False) -> None:
        run, self._run = self._run, None
        if run is not None:
            run.detached = run.detached or detached
            run.aborted = run.aborted or aborted or detached
            run.queue.put_nowait(None)

    async def _async_run(self, run: _Run) -> None:
        pipeline = self.manager.pipeline
        cid = self.conversation_id
        self._send(EV.VOICE_ASSISTANT_RUN_START)
        self._send(EV.VOICE_ASSISTANT_WAKE_WORD_START if run.wake else EV.VOICE_ASSISTANT_STT_START)

        def on_end_of_speech(event: Event) -> None:
            if event.data.get("conversation_id") == cid and self._run is run:
                run.vad_end_sent = True
                self._send(EV.VOICE_ASSISTANT_STT_VAD_END)  # the device stops its microphone

        def on_wake(detection: Any) -> None:
            score = WakeScore(rms(bytes(self._recent)), float(detection.probability))
            name = str(getattr(detection, "model", "") or "wake")
            run.claim = asyncio.get_running_loop().create_task(self._async_claim(run, score, name))

        unlisten = self.manager.hub.bus.async_listen(EVENT_VOICE_END_OF_SPEECH, on_end_of_speech)
        result: PipelineResult | None = None
        try:
            result = await pipeline.async_process_stream(
                self._async_chunks(run),
                wake="required" if run.wake else "off",
                conversation_id=cid,
                speak=True,
                on_wake=on_wake if run.wake else None,
                area_id=self.manager.area_of(self),
            )
        except Outvoted:
            self.manager.fire("outvoted", {"device": self.key})
        except Aborted:
            pass
        except Exception:  # a failed run must not take the device down with it
            _LOGGER.exception("ESPHome device %s: pipeline failed", self.name)
            self._send_error("pipeline-failed", "the voice pipeline failed")
        finally:
            unlisten()
            if run.claim is not None and not run.claim.done():
                run.claim.cancel()
        if self._run is run:
            self._run = None
        if run.detached or run.aborted:
            return
        if result is not None:
            await self._async_answer(run, result)
        self._send(EV.VOICE_ASSISTANT_RUN_END)

    async def _async_chunks(self, run: _Run) -> AsyncIterator[bytes]:
        """The run's audio; stops the run when another device or satellite won the wake word."""
        loop = asyncio.get_running_loop()
        while (chunk := await run.queue.get()) is not None:
            if run.aborted:
                raise Aborted
            if run.claim is not None and not await run.claim:
                raise Outvoted
            run.received += len(chunk)
            if not run.wake and run.claim is None and run.received >= _CLAIM_BYTES:
                # The device woke on its own: weigh how loud it hears the command.
                score = WakeScore(rms(bytes(self._recent)), 1.0)
                name = run.wake_name or "local"
                run.claim = loop.create_task(self._async_claim(run, score, name))
            yield chunk
        if run.aborted:
            raise Aborted
        if run.claim is not None and not await run.claim:
            raise Outvoted

    async def _async_claim(self, run: _Run, score: WakeScore, wake_name: str) -> bool:
        won = await self.manager.arbiter.async_claim(f"esphome-{self.key}", score)
        if won:
            self.manager.heard(self, "wake")
            if run.wake and self._run is run:
                self._send(EV.VOICE_ASSISTANT_WAKE_WORD_END, {"wake_word": wake_name})
                self._send(EV.VOICE_ASSISTANT_STT_START)
        return won

    async def _async_answer(self, run: _Run, result: PipelineResult) -> None:
        if result.error is not None and result.transcript is None:
            if run.wake and result.wake is None:
                return  # it streamed and nobody said the wake word: a quiet end
            code = "stt-no-text-recognized" if "no speech" in result.error else "stt-failed"
            self._send_error(code, result.error)
            return
        if not result.transcript:  # the recogniser heard speech but no sentence it trusts
            self._send_error("stt-no-text-recognized", result.reply or "nothing understood")
            return
        if not run.vad_end_sent:
            self._send(EV.VOICE_ASSISTANT_STT_VAD_END)
        self._send(EV.VOICE_ASSISTANT_STT_END, {"text": result.transcript})
        self.manager.heard(self, "command")
        self._send(EV.VOICE_ASSISTANT_INTENT_START)
        if result.intent is None:  # words, but not a command Hearth knows: refuse, do nothing
            self._send_error("intent-not-matched", result.reply or "no command")
            return
        conversation = self.manager.pipeline.conversations.get(result.conversation_id)
        asks = conversation is not None and conversation.pending is not None
        self._send(
            EV.VOICE_ASSISTANT_INTENT_END,
            {"conversation_id": result.conversation_id, "continue_conversation": str(int(asks))},
        )
        if result.reply:
            self._send(EV.VOICE_ASSISTANT_TTS_START, {"text": result.reply})
            if result.reply_audio is not None:
                url = self.manager.replies.publish(result.reply_audio.to_wav(), self.address)
                self._send(EV.VOICE_ASSISTANT_TTS_END, {"url": url})
            else:
                self._send_error("tts-failed", "no spoken reply")

    # -- speaking and timers ----------------------------------------------------------------
    async def async_announce(self, audio: Audio, text: str | None = None) -> None:
        """Play audio on the device (announcement) and wait until it says it has played it."""
        if not self.connected:
            raise ConnectionError(f"ESPHome device {self.name} is not connected")
        if not self.supports(VoiceAssistantFeature.ANNOUNCE):
            raise ConnectionError(f"ESPHome device {self.name}'s firmware cannot announce")
        url = self.manager.replies.publish(audio.to_wav(), self.address)
        try:
            done = await self.client.send_voice_assistant_announcement_await_response(
                url, audio.seconds + ANNOUNCE_GRACE, text=text or ""
            )
        except APIConnectionError as err:
            raise ConnectionError(str(err) or type(err).__name__) from err
        if not done.success:
            raise ConnectionError(f"ESPHome device {self.name} could not play the announcement")

    def timer(self, change: TimerChange, timer: Timer) -> None:
        """Show a spoken timer on the device; several may run, each under its own id."""
        if not self.voice_ready or not self.supports(VoiceAssistantFeature.TIMERS):
            return
        left = 0 if change == "finished" else timer.remaining(asyncio.get_running_loop().time())
        active = change in ("started", "updated") and timer.left_when_paused is None
        with contextlib.suppress(APIConnectionError, OSError):
            self.client.send_voice_assistant_timer_event(
                TIMER_EVENTS[change],
                f"{self.key}-{timer.id}",
                timer.name,
                round(timer.seconds),
                round(left),
                active,
            )

    # -- helpers ----------------------------------------------------------------------------
    def _send(self, event: VoiceAssistantEventType, data: dict[str, str] | None = None) -> None:
        if not self.connected:
            return
        try:
            self.client.send_voice_assistant_event(event, data)
        except (APIConnectionError, OSError) as err:
            _LOGGER.debug("ESPHome device %s left mid-run: %s", self.name, err)

    def _send_error(self, code: str, message: str) -> None:
        self._send(EV.VOICE_ASSISTANT_ERROR, {"code": code, "message": message})

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


def _normal_mac(mac: str) -> str | None:
    text = "".join(c for c in mac.lower() if c in "0123456789abcdef")
    return text or None
