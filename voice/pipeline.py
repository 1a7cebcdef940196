"""The voice pipeline: audio → wake word → end of speech → STT → intent → actions → reply → TTS.

Each stage fires a bus event with its timing. Blocking work (wake word, VAD, decoding) runs in
the executor; the loop only moves bytes and calls services.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol

from hub.const import (
    EVENT_INTEGRATION_LOADED,
    EVENT_REGISTRY_UPDATED,
    EVENT_RULES_UPDATED,
    EVENT_STATE_CHANGED,
)
from hub.context import Context
from hub.errors import HearthError
from hub.services import Target

from . import events
from .actions import Plan, Planner, ServiceAction, TimerRequest, onoff_actions
from .audio import BYTES_PER_SECOND, Audio, async_iter_chunks
from .dialogue import Conversation, follow_up_area
from .home import HomeView
from .library import canonical_language, load_speech_templates
from .recognizer import (
    LANGUAGES,
    IntentMatch,
    IntentRecognizer,
    candidate_languages,
    detect_language,
)
from .remote import RemoteServices, ServiceUnavailable
from .remote.wake import WakeStream
from .replies import reply
from .settings import VoiceSettings
from .speakers import Speakers
from .stt.base import SttEngine, Transcript, VocabularySource
from .timers import Timer, Timers, async_apply_request
from .tts import TtsSettings, async_synthesize
from .vad import EndOfSpeech, SpeechSegment
from .vocabulary import HomeVocabulary
from .wake import WakeDetection, WakeWordDetector

if TYPE_CHECKING:
    from hub.bus import Event
    from hub.core import Hub

_LOGGER = logging.getLogger(__name__)
WakeMode = Literal["auto", "required", "off"]
_PAD_BEFORE = 0.15
_PAD_AFTER = 0.35
_REBUILD_DELAY = 0.2


@dataclass(frozen=True)
class PipelineResult:
    """Everything one request produced."""

    conversation_id: str
    language: str
    transcript: str | None = None
    intent: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    actions: tuple[ServiceAction, ...] = ()
    reply: str = ""
    reply_audio: Audio | None = None
    wake: WakeDetection | None = None
    rejected: bool = False
    confidence: float | None = None
    error: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The CLI's --json object (without `file`) and the voice.process_text response."""
        return {
            "transcript": self.transcript,
            "intent": self.intent,
            "slots": dict(self.slots),
            "actions": [a.as_dict() for a in self.actions],
            "reply": self.reply,
        }


class VoicePipeline:
    """One pipeline per hub; shares engines between requests (decodes are serialised)."""

    def __init__(
        self,
        hub: Hub,
        settings: VoiceSettings | None = None,
        engines: list[SttEngine] | None = None,
    ) -> None:
        self.hub = hub
        self.settings = settings or VoiceSettings()
        self.home = HomeView(hub)
        self.engines: list[SttEngine] = list(engines or [])
        self.recognizers = {lang: IntentRecognizer(lang) for lang in LANGUAGES}
        # Speech transcripts come from a grammar of Hearth's own templates: match them there.
        self.speech_recognizers = {
            lang: IntentRecognizer(lang, intents)
            for lang in ("en", "zh-CN")
            if (intents := load_speech_templates(lang)) is not None
        }
        self.vocabulary = HomeVocabulary()
        self.conversations: dict[str, Conversation] = {}
        self.timers = Timers(self._timer_finished)
        # Where announcements play: plugins register their satellites and devices here.
        self.speakers = Speakers(self.async_say)
        self.tts = TtsSettings(speed=self.settings.tts_speed)
        # External Wyoming services (stt/wake/tts sections); None parts use local engines.
        self.remote = RemoteServices.create(
            self.settings.stt,
            self.settings.wake,
            self.settings.tts,
            wake_word=self.settings.wake_word,
            language=self.settings.language,
        )
        self.probe: asyncio.Task[dict[str, str | None]] | None = None
        self._rebuild_lock = asyncio.Lock()
        self._rebuild_handle: asyncio.TimerHandle | None = None
        self._revision = 0
        self._unsubs: list[Callable[[], None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- lifecycle -------------------------------------------------------------------------
    async def async_start(self) -> None:
        """Create the engines, compile the grammar, and follow registry changes."""
        if not self.engines and self.remote.stt is None:
            self.engines = await self.hub.async_add_executor_job(_default_engines, self.settings)
        if self.remote.any:  # log what the services offer; an offline one only warns
            self.probe = self.hub.async_create_task(self.remote.async_probe(), "voice-probe")
            self._tasks.add(self.probe)
            self.probe.add_done_callback(self._tasks.discard)
        await self.async_rebuild()
        self._unsubs.append(self.hub.bus.async_listen(EVENT_REGISTRY_UPDATED, self._on_change))
        # Rules' spoken phrases join the grammar: when rules load, change or reload.
        for event_type in (EVENT_INTEGRATION_LOADED, EVENT_RULES_UPDATED):
            self._unsubs.append(self.hub.bus.async_listen(event_type, self._on_change))
        self._unsubs.append(self.hub.bus.async_listen(EVENT_STATE_CHANGED, self._on_state))

    async def async_stop(self) -> None:
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        if self._rebuild_handle is not None:
            self._rebuild_handle.cancel()
        self.timers.cancel_all()
        for conversation in self.conversations.values():
            conversation.clear_pending()
        for task in list(self._tasks):
            task.cancel()

    async def async_rebuild(self) -> None:
        """Recompile every grammar from the templates and the live registry."""
        async with self._rebuild_lock:
            started = time.perf_counter()
            self._revision += 1
            vocabulary = self.home.vocabulary(self._revision)
            if (
                vocabulary == replace(self.vocabulary, revision=vocabulary.revision)
                and self._revision > 1
            ):
                return
            self.vocabulary = vocabulary
            sources = []
            for lang, recognizer in self.recognizers.items():
                recognizer.set_slot_lists(vocabulary.slot_lists(lang))
            for lang, recognizer in self.speech_recognizers.items():
                lists = vocabulary.slot_lists(lang)
                recognizer.set_slot_lists(lists)
                sources.append(VocabularySource(lang, recognizer.intents, lists, self._revision))
            # Engines know Chinese as "zh": give them the Simplified (zh-CN) templates too.
            sources += [replace(s, language="zh") for s in sources if s.language == "zh-CN"]
            for engine in self.engines:
                for source in sources:
                    if engine.supports(source.language):
                        await self.hub.async_add_executor_job(engine.set_vocabulary, source)
            self.hub.bus.async_fire(
                events.EVENT_VOICE_GRAMMAR,
                {
                    "revision": self._revision,
                    "entities": len(vocabulary.entities),
                    "areas": len(vocabulary.areas),
                    "seconds": round(time.perf_counter() - started, 4),
                },
            )

    # -- public API ------------------------------------------------------------------------
    async def async_process_text(
        self,
        text: str,
        language: str | None = None,
        conversation_id: str = "default",
        *,
        speak: bool = False,
        area_id: str | None = None,
        context: Context | None = None,
    ) -> PipelineResult:
        """The text path (push-to-talk typed, the dashboard, `hearth voice say`).

        `area_id` is where the asker is (a satellite's or console's room), for "in here".
        Actions run with `context`'s rights (the speaker); without one, the satellite's role.
        """
        lang = canonical_language(language) if language else detect_language(text)
        await self._async_flush_rebuild()
        return await self._async_handle(
            text,
            lang,
            conversation_id,
            speak=speak,
            timings={},
            area_id=area_id,
            guess_language=language is None,
            context=context,
        )

    def recognizer(self, language: str) -> IntentRecognizer:
        """The recogniser for a language HA ships, loaded on first use with the home's names."""
        lang = canonical_language(language)
        recognizer = self.recognizers.get(lang)
        if recognizer is None:
            recognizer = self.recognizers[lang] = IntentRecognizer(lang)
            recognizer.set_slot_lists(self.vocabulary.slot_lists(lang))
        return recognizer

    def recognize(
        self, text: str, language: str | None = None, place: tuple[str, str] | None = None
    ) -> IntentMatch | None:
        """Intent of `text`; without a language, each likely one is tried (zh-CN, zh-TW, ...)."""
        langs = (canonical_language(language),) if language else candidate_languages(text)
        for lang in langs:
            match = self.recognizer(lang).recognize(text, place)
            if match is not None:
                return match
        return None

    async def async_process_audio(
        self,
        pcm: bytes,
        *,
        wake: WakeMode = "auto",
        conversation_id: str = "default",
        speak: bool = True,
        context: Context | None = None,
    ) -> PipelineResult:
        """Run a whole recording (16 kHz 16-bit mono PCM) through the pipeline."""
        return await self.async_process_stream(
            async_iter_chunks(pcm),
            wake=wake,
            conversation_id=conversation_id,
            speak=speak,
            context=context,
        )

    async def async_process_stream(
        self,
        chunks: AsyncIterable[bytes],
        *,
        wake: WakeMode = "auto",
        conversation_id: str = "default",
        speak: bool = True,
        on_wake: Callable[[WakeDetection], Any] | None = None,
        context: Context | None = None,
        area_id: str | None = None,
    ) -> PipelineResult:
        """Listen to a live stream of 16 kHz 16-bit mono PCM chunks until one command is heard.

        wake="required" ignores speech until the wake word; "auto" takes a clip without one as
        push-to-talk; "off" skips wake-word detection.
        """
        language = self.settings.language
        timings: dict[str, float] = {}
        await self._async_flush_rebuild()
        started = time.perf_counter()
        # An external wake-word service hears the stream instead of the local detector.
        remote = self.remote.wake.stream() if wake != "off" and self.remote.wake else None
        try:
            if remote is not None:
                await remote.async_start()
            listener = await self.hub.async_add_executor_job(self._new_listener, wake, remote)
        except Exception as err:
            if remote is not None:
                await remote.async_close()
            return self._error(conversation_id, language, "wake", err)
        segment: SpeechSegment | None = None

        def noticed() -> None:
            if listener.wake is not None and "wake" not in timings:
                timings["wake"] = round(time.perf_counter() - started, 4)
                self._fire(
                    events.EVENT_VOICE_WAKE,
                    conversation_id,
                    model=listener.wake.model,
                    probability=round(listener.wake.probability, 3),
                    stream_seconds=round(listener.wake.end_seconds, 3),
                )
                if on_wake is not None:
                    on_wake(listener.wake)

        try:
            async for chunk in chunks:
                if not chunk:
                    continue
                if remote is not None and listener.wake is None:
                    await remote.async_feed(chunk)
                found = await self.hub.async_add_executor_job(listener.feed, chunk)
                noticed()
                if found is not None:
                    segment = found
                    break
            if segment is None and remote is not None and listener.wake is None:
                # The service's last word on a stream that ended (e.g. a recording).
                await remote.async_finish()
                segment = await self.hub.async_add_executor_job(listener.feed, b"")
                noticed()
        finally:
            if remote is not None:
                await remote.async_close()
        if segment is None:
            segment = await self.hub.async_add_executor_job(listener.flush)
        end_of_speech = time.perf_counter()
        stream = listener.take_stream() if segment is not None else None
        await self.hub.async_add_executor_job(listener.close)
        timings["stream"] = round(len(listener.buffer) / BYTES_PER_SECOND, 3)
        timings["wake_cpu"] = round(listener.wake_cpu, 4)
        timings["vad_cpu"] = round(listener.vad_cpu, 4)
        if segment is None:
            if remote is not None and remote.error and listener.wake is None:
                # The wake-word service was down: say so rather than "nothing heard".
                self._fire(
                    events.EVENT_VOICE_ERROR, conversation_id, stage="wake", message=remote.error
                )
                return PipelineResult(
                    conversation_id,
                    language,
                    error=f"wake: {remote.error}",
                    reply=reply("service_down", language),
                    timings=timings,
                )
            reason = "no wake word" if wake == "required" and listener.wake is None else "no speech"
            if reason != "no wake word":
                # A listener that heard no wake word was not spoken to: an always-listening
                # satellite ends such a run every 30 s, and that is no error to show anyone.
                self._fire(events.EVENT_VOICE_ERROR, conversation_id, stage="vad", message=reason)
            return PipelineResult(
                conversation_id, language, wake=listener.wake, error=reason, timings=timings
            )
        self._fire(
            events.EVENT_VOICE_END_OF_SPEECH,
            conversation_id,
            start=round(segment.start, 3),
            end=round(segment.end, 3),
        )
        pcm = listener.command_audio(segment)
        transcript = await self._async_transcribe(pcm, language, conversation_id, stream, speak)
        if isinstance(transcript, PipelineResult):
            return transcript
        timings["stt"] = round(transcript.decode_seconds, 4)
        # What the person waits for: decoding left over once they stopped speaking.
        timings["stt_finish"] = round(time.perf_counter() - end_of_speech, 4)
        timings["audio"] = round(transcript.audio_seconds, 3)
        if transcript.rejected:
            text = reply("no_match", language)
            result = PipelineResult(
                conversation_id,
                language,
                transcript="",
                reply=text,
                wake=listener.wake,
                rejected=True,
                confidence=transcript.confidence,
                timings=timings,
            )
            return await self._async_finish(result, speak)
        result = await self._async_handle(
            transcript.text,
            language,
            conversation_id,
            speak=speak,
            timings=timings,
            end_of_speech=end_of_speech,
            context=context,
            spoken=True,
            area_id=area_id,
        )
        return replace(result, wake=listener.wake, confidence=transcript.confidence)

    async def async_say(self, text: str, language: str | None = None) -> Audio:
        """Speak any text (the voice.say service)."""
        lang = language or detect_language(text)
        return await self._async_tts(text, lang)

    # -- stages ----------------------------------------------------------------------------
    def _new_listener(self, wake: WakeMode, remote: WakeStream | None = None) -> _Listener:
        detector: _Detector | None = remote
        if wake != "off" and remote is None:
            settings = self.settings
            detector = WakeWordDetector(
                settings.wake_word,
                settings.wake_threshold,
                settings.wake_engine,
                settings.wake_accept_licence,
            )
        language = self.settings.language
        engine = next((e for e in self.engines if e.supports(language)), None)
        opener = getattr(engine, "open_stream", None) if self.settings.stream_decode else None
        open_stream = None if opener is None else (lambda: opener(language))
        return _Listener(detector, wake, EndOfSpeech(self.settings.vad), open_stream)

    async def _async_transcribe(
        self, pcm: bytes, language: str, cid: str, stream: Any = None, speak: bool = False
    ) -> Transcript | PipelineResult:
        remote = self.remote.stt
        engine = next((e for e in self.engines if e.supports(language)), None)
        if engine is None and remote is None:
            return self._error(
                cid, language, "stt", HearthError(f"no speech engine for {language!r}")
            )
        try:
            if remote is not None:
                # Free text from a model the hub does not run: it is matched and checked
                # exactly like a local transcript below (no match is a refusal).
                transcript = await remote.async_transcribe(pcm, language)
            elif stream is not None:
                transcript = await self.hub.async_add_executor_job(stream.finish)
            else:
                assert engine is not None
                transcript = await self.hub.async_add_executor_job(engine.transcribe, pcm, language)
        except ServiceUnavailable as err:
            result = self._error(cid, language, "stt", err, reply_key="service_down")
            return await self._async_finish(result, speak)
        except Exception as err:
            return self._error(cid, language, "stt", err)
        self._fire(
            events.EVENT_VOICE_TRANSCRIPT,
            cid,
            text=transcript.text,
            language=language,
            engine=transcript.engine,
            confidence=round(transcript.confidence, 3),
            rejected=transcript.rejected,
            seconds=round(transcript.decode_seconds, 4),
            audio_seconds=round(transcript.audio_seconds, 3),
            rtf=round(transcript.decode_seconds / max(transcript.audio_seconds, 1e-6), 4),
        )
        return transcript

    async def _async_handle(
        self,
        text: str,
        language: str,
        cid: str,
        *,
        speak: bool,
        timings: dict[str, float],
        end_of_speech: float | None = None,
        context: Context | None = None,
        area_id: str | None = None,
        guess_language: bool = False,
        spoken: bool = False,
    ) -> PipelineResult:
        conversation = self.conversations.setdefault(cid, Conversation())
        place = None
        if area_id is not None:
            place = (area_id, self.home.area_name(area_id) or area_id)
        speech = self.speech_recognizers.get(canonical_language(language)) if spoken else None
        if speech is not None:
            match = speech.recognize(text, place)
        else:
            match = self.recognize(text, None if guess_language else language, place)
        if match is not None:
            language = match.language
        if match is None:
            self._fire(events.EVENT_VOICE_ERROR, cid, stage="intent", message="no match", text=text)
            result = PipelineResult(
                cid,
                language,
                transcript=text,
                reply=reply("no_match", language),
                rejected=True,
                timings=timings,
            )
            return await self._async_finish(result, speak)
        timings["intent"] = round(match.seconds, 5)
        self._fire(
            events.EVENT_VOICE_INTENT,
            cid,
            intent=match.intent,
            slots=match.slots,
            language=language,
            text=match.text,
            seconds=round(match.seconds, 5),
        )
        plan, effective = self._resolve(match, conversation, cid)
        actions: tuple[ServiceAction, ...] = ()
        if plan.confirm_key is not None:
            conversation.await_confirmation(
                plan,
                language,
                self.settings.confirm_timeout,
                lambda: self._confirmation_expired(cid, language),
            )
            reply_text = reply(plan.confirm_key, language, **plan.reply_values)
        else:
            context = context or self.satellite_context()
            actions, error = await self._async_execute(plan, cid, end_of_speech, timings, context)
            reply_text = (
                reply("failed", language, error=error)
                if error
                else self._reply(plan, cid, language, context)
            )
            if effective is not None:
                conversation.last_match = effective
            ids = tuple(e for a in actions for e in a.entity_ids) or _named(effective)
            if ids:
                conversation.last_entity_ids = ids
        result = PipelineResult(
            cid,
            language,
            transcript=text,
            intent=match.intent,
            slots=dict(match.slots),
            actions=actions,
            reply=reply_text,
            timings=timings,
        )
        return await self._async_finish(result, speak)

    def _resolve(
        self, match: IntentMatch, conversation: Conversation, cid: str
    ) -> tuple[Plan, IntentMatch | None]:
        """The plan for a match, using the conversation for confirmations and follow-ups."""
        planner = Planner(self.home, self.vocabulary)
        if match.intent == "HearthConfirm":
            pending = conversation.take_pending()
            if pending is None:
                return Plan(reply_key="nothing_to_confirm"), None
            return replace(pending, confirm_key=None), None
        if match.intent in ("HearthDeny", "HassNevermind"):
            had = conversation.pending is not None
            conversation.clear_pending()
            if not had and match.intent == "HearthDeny":  # "cancel" with no question: the timer
                return replace(Plan(reply_key="cancelled"), timer=TimerRequest("cancel")), None
            return Plan(reply_key="cancelled" if had else "nevermind"), None
        conversation.clear_pending()  # a new command drops an unanswered question
        if match.intent == "HearthFollowUpOnOff":
            ids = conversation.last_entity_ids
            if not ids:
                return Plan(reply_key="no_context"), None
            on = match.slots.get("state") == "on"
            target = planner.names(ids, match.language)
            plan = Plan(
                onoff_actions(ids, on), "turned_on" if on else "turned_off", {"target": target}
            )
            # Remember it as the plain command, so "and the bedroom too" repeats the on/off.
            said = IntentMatch(
                "HassTurnOn" if on else "HassTurnOff", {"name": ids[0]}, match.language
            )
            return plan, said
        if match.intent == "HearthFollowUpArea":
            last = conversation.last_match
            if last is None:
                return Plan(reply_key="no_context"), None
            again = follow_up_area(last, str(match.slots["area"]))
            if again is None:
                return Plan(reply_key="no_context"), None
            return planner.plan(replace(again, language=match.language)), again
        return planner.plan(match), match

    def satellite_context(self) -> Context:
        """The rights of an unknown speaker at a microphone: the satellite's configured role."""
        return Context(
            origin="voice",
            role=self.settings.satellite_role,
            areas=tuple(self.settings.satellite_areas),
        )

    async def _async_execute(
        self,
        plan: Plan,
        cid: str,
        end_of_speech: float | None,
        timings: dict[str, float],
        context: Context,
    ) -> tuple[tuple[ServiceAction, ...], str | None]:
        done: list[ServiceAction] = []
        context = context.child("voice")
        for action in plan.actions:
            domain, service = action.service.split(".", 1)
            called = time.perf_counter()
            if end_of_speech is not None and "end_of_speech_to_action" not in timings:
                timings["end_of_speech_to_action"] = round(called - end_of_speech, 4)
            try:
                await self.hub.services.async_call(
                    domain,
                    service,
                    dict(action.data),
                    target=Target(entity_ids=action.entity_ids),
                    context=context,
                )
            except HearthError as err:
                self._fire(
                    events.EVENT_VOICE_ERROR,
                    cid,
                    stage="action",
                    message=str(err),
                    service=action.service,
                )
                return tuple(done), str(err)
            done.append(action)
            self._fire(
                events.EVENT_VOICE_ACTION,
                cid,
                **action.as_dict(),
                seconds=round(time.perf_counter() - called, 4),
                since_end_of_speech=None
                if end_of_speech is None
                else round(called - end_of_speech, 4),
            )
        return tuple(done), None

    def _reply(self, plan: Plan, cid: str, language: str, context: Context) -> str:
        if plan.timer is not None:
            return async_apply_request(
                self.timers,
                cid,
                plan.timer,
                language,
                context=context,
                answer=plan.answer,  # HA's reply template context (issue #14)
            )
        return plan.reply(language)

    async def _async_finish(self, result: PipelineResult, speak: bool) -> PipelineResult:
        started = time.perf_counter()
        audio = None
        if speak and result.reply:
            try:
                audio = await self._async_tts(result.reply, result.language, result.conversation_id)
            except Exception as err:  # a mute reply is better than a lost command
                self._fire(
                    events.EVENT_VOICE_ERROR, result.conversation_id, stage="tts", message=str(err)
                )
        timings = {**result.timings}
        if audio is not None:
            timings["tts"] = round(time.perf_counter() - started, 4)
        self._fire(
            events.EVENT_VOICE_REPLY,
            result.conversation_id,
            text=result.reply,
            language=result.language,
            intent=result.intent,
            timings=timings,
            audio_seconds=None if audio is None else round(audio.seconds, 3),
        )
        return replace(result, reply_audio=audio, timings=timings)

    async def _async_tts(self, text: str, language: str, cid: str = "default") -> Audio:
        """Speech for a reply: the external service when one is set, else espeak-ng (also
        when the service fails, unless its `fallback` is off)."""
        remote = self.remote.tts
        if remote is not None:
            try:
                return await remote.async_synthesize(text, language)
            except ServiceUnavailable as err:
                if not remote.spec.fallback:
                    raise
                _LOGGER.warning("voice tts: %s; speaking with espeak-ng instead", err)
                self._fire(
                    events.EVENT_VOICE_ERROR,
                    cid,
                    stage="tts",
                    message=str(err),
                    fallback="espeak-ng",
                )
        return await async_synthesize(text, language, self.tts)

    # -- helpers ---------------------------------------------------------------------------
    def _fire(self, event_type: str, cid: str, **data: Any) -> None:
        self.hub.bus.async_fire(event_type, {"conversation_id": cid, **data})

    def _error(
        self, cid: str, language: str, stage: str, err: Exception, reply_key: str = "no_match"
    ) -> PipelineResult:
        _LOGGER.warning("voice %s stage failed: %s", stage, err)
        self._fire(events.EVENT_VOICE_ERROR, cid, stage=stage, message=str(err))
        return PipelineResult(
            cid, language, error=f"{stage}: {err}", reply=reply(reply_key, language)
        )

    def _confirmation_expired(self, cid: str, language: str) -> None:
        self._fire(
            events.EVENT_VOICE_REPLY,
            cid,
            text=reply("cancelled", language),
            language=language,
            intent=None,
            timings={},
            reason="confirmation timed out",
        )

    def _timer_finished(self, timer: Timer) -> None:
        cid = timer.conversation_id
        self._fire(events.EVENT_VOICE_TIMER_FINISHED, cid, seconds=timer.seconds, name=timer.name)
        if timer.command:  # "turn off the lights in five minutes": now is the time
            task = self.hub.async_create_task(
                self.async_process_text(
                    timer.command, None, cid, area_id=timer.area_id, context=timer.context
                ),
                "voice-delayed-command",
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _on_change(self, event: Event) -> None:
        self._schedule_rebuild()

    def _on_state(self, event: Event) -> None:
        old, new = event.data.get("old_state"), event.data.get("new_state")
        if old is None or new is None or old.name != new.name:
            self._schedule_rebuild()

    def _schedule_rebuild(self) -> None:
        if self._rebuild_handle is not None:
            self._rebuild_handle.cancel()
        self._rebuild_handle = self.hub.loop.call_later(_REBUILD_DELAY, self._start_rebuild)

    async def _async_flush_rebuild(self) -> None:
        """A request right after a rename or rule change must already hear the new words."""
        if self._rebuild_handle is not None:
            self._rebuild_handle.cancel()
            self._rebuild_handle = None
            await self.async_rebuild()

    def _start_rebuild(self) -> None:
        self._rebuild_handle = None
        task = self.hub.async_create_task(self.async_rebuild(), "voice-grammar-rebuild")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _offset(seconds: float) -> int:
    """Byte offset of a stream time in 16-bit PCM."""
    return int(seconds * BYTES_PER_SECOND) & ~1


def _named(match: IntentMatch | None) -> tuple[str, ...]:
    if match is None:
        return ()
    return tuple(str(v) for k, v in match.slots.items() if k == "name" or k.endswith("_name"))


def _default_engines(settings: VoiceSettings) -> list[SttEngine]:
    """pocketsphinx for English; vosk when a model path is configured (or required)."""
    from .stt.pocketsphinx_engine import PocketsphinxEngine
    from .stt.vosk_engine import VoskEngine

    engines: list[SttEngine] = []
    if settings.stt_engine == "vosk" or settings.vosk_model_path:
        # A configured but broken model is an error the user must see (VoskModelError).
        engines.append(VoskEngine(settings.vosk_model_path, settings.vosk_language))
    if settings.stt_engine == "pocketsphinx":
        grammar = PocketsphinxEngine(settings.reject_below)
        if settings.stt_verify == "off":
            engines.append(grammar)
        else:  # Whisper must agree before the grammar's sentence is acted on
            from .stt.verified import default_verifier

            engines.append(default_verifier(grammar, settings.stt_verify))  # type: ignore[arg-type]
    return engines


class _Detector(Protocol):
    """A local WakeWordDetector, or a remote WakeStream (whose detections come `late`)."""

    def process(self, pcm: bytes) -> WakeDetection | None: ...
    def close(self) -> None: ...


class _Listener:
    """Blocking per-stream state: wake-word detector, end-of-speech detector, audio buffer."""

    def __init__(
        self,
        detector: _Detector | None,
        mode: WakeMode,
        vad: EndOfSpeech,
        open_stream: Callable[[], Any] | None = None,
    ) -> None:
        self.detector = detector
        self.open_stream = open_stream
        self.stream: Any = None  # an engine stream decoding the utterance as it is spoken
        self.mode = mode
        self.vad = vad
        self.buffer = bytearray()
        self.wake: WakeDetection | None = None
        self._vad_offset = 0.0  # stream seconds where the VAD (re)started
        self.wake_cpu = 0.0  # processing time spent per stage, for real-time factors
        self.vad_cpu = 0.0

    def feed(self, chunk: bytes) -> SpeechSegment | None:
        self.buffer += chunk
        if self.detector is not None and self.wake is None:
            started = time.perf_counter()
            found = self.detector.process(chunk)
            self.wake_cpu += time.perf_counter() - started
            if found is not None:
                # The command starts after the wake word: restart end-of-speech from here.
                self._abort_stream()
                self.wake = found
                self.vad.reset()
                self._vad_offset = len(self.buffer) / BYTES_PER_SECOND
                if getattr(self.detector, "late", False):
                    return self._hear_since(found.end_seconds)
                return None
            if self.mode == "required":
                return None
        started = time.perf_counter()
        segment = self.vad.process(chunk)
        self.vad_cpu += time.perf_counter() - started
        if segment is None:
            self._follow_speech(chunk)
        return None if segment is None else self._shift(segment)

    def _hear_since(self, seconds: float) -> SpeechSegment | None:
        """A service's detection arrives after audio that followed the word: the command may
        already be in the buffer, so end-of-speech hears it from where the word ended."""
        self._vad_offset = _offset(max(0.0, min(seconds, self._vad_offset))) / BYTES_PER_SECOND
        late = bytes(self.buffer[_offset(self._vad_offset) :])
        segment = self.vad.process(late) if late else None
        if segment is None:
            self._follow_speech(b"")
            return None
        return self._shift(segment)

    def _follow_speech(self, chunk: bytes) -> None:
        """Feed the recogniser while the person speaks, so little is left at end of speech."""
        if self.open_stream is None:
            return
        start = self.vad.speech_start
        if start is None:
            self._abort_stream()  # a click or breath, not an utterance
            return
        if self.stream is None:
            begin = max(self._floor(), self._vad_offset + start - _PAD_BEFORE)
            self.stream = self.open_stream()
            if self.stream is None:
                self.open_stream = None  # engine busy: decode in one go at the end
                return
            self.stream.feed(bytes(self.buffer[_offset(begin) :]))
        else:
            self.stream.feed(chunk)

    def _abort_stream(self) -> None:
        if self.stream is not None:
            self.stream.abort()
            self.stream = None

    def _floor(self) -> float:
        return self._vad_offset if self.wake is not None else 0.0

    def flush(self) -> SpeechSegment | None:
        if self.mode == "required" and self.wake is None:
            return None
        segment = self.vad.flush()
        return None if segment is None else self._shift(segment)

    def command_audio(self, segment: SpeechSegment) -> bytes:
        start = max(self._floor(), segment.start - _PAD_BEFORE)
        end = segment.end + _PAD_AFTER
        return bytes(self.buffer[_offset(start) : _offset(end)])

    def take_stream(self) -> Any:
        """The engine stream that followed this utterance (the caller finishes it), or None."""
        stream, self.stream = self.stream, None
        return stream

    def close(self) -> None:
        self._abort_stream()
        if self.detector is not None:
            self.detector.close()

    def _shift(self, segment: SpeechSegment) -> SpeechSegment:
        return SpeechSegment(segment.start + self._vad_offset, segment.end + self._vad_offset)


async def async_chunks_from_queue(queue: asyncio.Queue[bytes | None]) -> AsyncIterator[bytes]:
    """Adapt a queue fed by a socket (None ends the stream) to the stream API."""
    while (chunk := await queue.get()) is not None:
        yield chunk


def new_conversation_id() -> str:
    return uuid.uuid4().hex[:12]
