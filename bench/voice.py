"""Voice benchmark: word and intent accuracy, real-time factor per stage, end-of-speech →
service-call latency, out-of-grammar rejection, and Home Assistant's English intents on the
same transcripts. Speech is synthesised with espeak-ng (4 voices) against the demo home.

Run: .venv/bin/python bench/voice.py [--quick] [--stream]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hassil import Intents
from hassil.intents import TextSlotList
from home_assistant_intents import get_intents

from hub.config import HubConfig
from hub.core import Hub
from tests.voice.conftest import synthesize
from tests.voice.corpus import (
    COMMANDS,
    EXTRA_VOICES,
    OUT_OF_GRAMMAR,
    SPEEDS,
    VOICES,
)
from voice.audio import read_wav, silence
from voice.pipeline import VoicePipeline
from voice.recognizer import IntentRecognizer, referenced_lists
from voice.settings import VoiceSettings

# Which Home Assistant intents count as a right answer for each of ours (HA has no intents
# for pausing/locating a vacuum, the fridge, or ordering, so those can only be wrong there).
HA_EQUIVALENT: dict[str, set[str]] = {
    "HassTurnOn": {"HassTurnOn"},
    "HassTurnOff": {"HassTurnOff"},
    "HassToggle": set(),
    "HassLightSet": {"HassLightSet"},
    "HassClimateSetTemperature": {"HassClimateSetTemperature"},
    "HassGetState": {"HassGetState", "HassClimateGetTemperature"},
    "HassLockLock": {"HassTurnOn"},
    "HassLockUnlock": {"HassTurnOff"},
    "HassOpenCover": {"HassTurnOn"},
    "HassCloseCover": {"HassTurnOff"},
    "HassVacuumStart": {"HassVacuumStart"},
    "HassVacuumReturnToBase": {"HassVacuumReturnToBase"},
    "HearthVacuumCleanArea": {"HassVacuumCleanArea"},
    "HearthShoppingListAdd": {"HassShoppingListAddItem", "HassListAddItem"},
    "HassStartTimer": {"HassStartTimer"},
    "HassCancelTimer": {"HassCancelTimer", "HassCancelAllTimers"},
    "HassTimerStatus": {"HassTimerStatus"},
    "HearthFridgeDoor": {"HassGetState"},
}


def word_errors(ref: str, hyp: str) -> int:
    """Levenshtein distance over words."""
    r, h = ref.split(), hyp.split()
    row = list(range(len(h) + 1))
    for i, rw in enumerate(r, 1):
        prev, row[0] = row[0], i
        for j, hw in enumerate(h, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (rw != hw))
    return row[-1]


def pct(n: float, d: float) -> str:
    return f"{100.0 * n / d:5.1f}%" if d else "  n/a"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


class HomeAssistantIntents:
    """HA's English sentences through hassil, with the demo home's names and areas."""

    def __init__(self, hub: Hub) -> None:
        data = get_intents("en")
        if data is None:
            raise SystemExit("home-assistant-intents has no English data")
        self.intents = Intents.from_dict(data)
        names = [(s.name, s.entity_id) for s in hub.states.all()]
        areas = [(a.name, a.id) for a in hub.registry.areas.all()]
        lists: dict[str, Any] = {
            name: TextSlotList(name=name, values=[])
            for name in referenced_lists(self.intents)
            if name not in self.intents.slot_lists
        }
        lists["name"] = TextSlotList.from_tuples(names, allow_template=False)
        lists["area"] = TextSlotList.from_tuples(areas, allow_template=False)
        self.lists = lists

    def intent(self, text: str) -> str | None:
        from hassil import recognize_best

        try:
            result = recognize_best(text, self.intents, slot_lists=self.lists, language="en")
        except Exception:
            return None
        return None if result is None else result.intent.name


def slots_ok(expected: dict[str, Any], actual: dict[str, Any]) -> bool:
    return all(
        actual.get(k) == v or (isinstance(v, int) and actual.get(k) == float(v))
        for k, v in expected.items()
    )


async def main(quick: bool, stream: bool) -> None:
    cache = Path(tempfile.gettempdir()) / "hearth-bench-speech"
    cache.mkdir(exist_ok=True)
    voices = VOICES[:1] if quick else VOICES + EXTRA_VOICES
    hub = Hub(
        HubConfig.minimal(Path(tempfile.mkdtemp()), demo={"delay": 0, "tick": 3600}), record=False
    )
    await hub.async_start()
    started = time.perf_counter()
    pipeline = VoicePipeline(hub, VoiceSettings(stream_decode=stream))
    await pipeline.async_start()
    setup = time.perf_counter() - started
    ha = HomeAssistantIntents(hub)
    ours_text = IntentRecognizer("en")
    ours_text.set_slot_lists(pipeline.vocabulary.slot_lists("en"))

    rows: list[dict[str, Any]] = []
    for v_index, voice in enumerate(voices):
        for c_index, cmd in enumerate(COMMANDS):
            speed = SPEEDS[(c_index + v_index) % len(SPEEDS)]
            clip = read_wav(synthesize(cache, cmd.text, voice, speed)).pcm
            await hub.services.async_call("demo", "reset")
            result = await pipeline.async_process_audio(
                silence(0.5) + clip + silence(0.8), conversation_id=f"bench-{voice}", speak=True
            )
            transcript = result.transcript or ""
            rows.append(
                {
                    "cmd": cmd,
                    "voice": voice,
                    "transcript": transcript,
                    "errors": word_errors(cmd.text.replace("'", ""), transcript.replace("'", "")),
                    "intent_ok": result.intent == cmd.intent,
                    "full_ok": result.intent == cmd.intent and slots_ok(cmd.slots, result.slots),
                    "timings": result.timings,
                    "ha_transcript": ha.intent(transcript) in HA_EQUIVALENT.get(cmd.intent, set()),
                    "ha_text": ha.intent(cmd.text) in HA_EQUIVALENT.get(cmd.intent, set()),
                    "ours_text": (m := ours_text.recognize(cmd.text)) is not None
                    and m.intent == cmd.intent,
                }
            )
    oog: list[tuple[str, str, Any]] = []
    for v_index, voice in enumerate(voices):
        for o_index, text in enumerate(OUT_OF_GRAMMAR):
            speed = SPEEDS[(o_index + v_index) % len(SPEEDS)]
            clip = read_wav(synthesize(cache, text, voice, speed)).pcm
            await hub.services.async_call("demo", "reset")
            result = await pipeline.async_process_audio(
                silence(0.5) + clip + silence(0.8), speak=False
            )
            oog.append((text, voice, result))

    n = len(rows)
    words = sum(len(r["cmd"].text.split()) for r in rows)
    errors = sum(r["errors"] for r in rows)
    mode = "while speaking (stream_decode)" if stream else "after end of speech (default)"
    print(
        f"voice bench: {n} clips ({len(COMMANDS)} commands x {len(voices)} voices: {', '.join(voices)}); "
        f"decoding {mode}"
    )
    grammar = getattr(pipeline.engines[0], "grammar", None)
    print(
        f"pipeline start (engines + grammar): {setup:.2f} s; grammar words: "
        f"{len(grammar.words) if grammar else 'n/a'}"
    )
    print(
        f"word accuracy:            {pct(words - errors, words)}  ({errors} word errors / {words} words)"
    )
    print(f"intent accuracy:          {pct(sum(r['intent_ok'] for r in rows), n)}  (intent name)")
    print(f"intent + slots accuracy:  {pct(sum(r['full_ok'] for r in rows), n)}")
    for voice in voices:
        sub = [r for r in rows if r["voice"] == voice]
        print(f"  {voice:10s} intent+slots {pct(sum(r['full_ok'] for r in sub), len(sub))}")

    def stage(key: str, audio_key: str = "stream") -> str:
        spent = sum(r["timings"].get(key, 0.0) for r in rows)
        audio = sum(r["timings"].get(audio_key, 0.0) for r in rows)
        return f"RTF {spent / audio:.4f}  ({spent / n * 1000:6.1f} ms per clip)"

    print("real-time factor per stage (processing time / audio time):")
    print(f"  wake word   {stage('wake_cpu')}")
    print(f"  VAD         {stage('vad_cpu')}")
    print(f"  STT         {stage('stt', 'audio')}  (2 passes: grammar + phone loop)")
    intent_ms = statistics.mean(r["timings"].get("intent", 0.0) for r in rows) * 1000
    tts_ms = statistics.mean(r["timings"].get("tts", 0.0) for r in rows) * 1000
    print(f"  intent      {intent_ms:.2f} ms per utterance (hassil)")
    print(f"  TTS         {tts_ms:.1f} ms per reply (espeak-ng)")
    latency = [
        r["timings"]["end_of_speech_to_action"]
        for r in rows
        if "end_of_speech_to_action" in r["timings"]
    ]
    if latency:
        print(
            f"end of speech -> service call: median {statistics.median(latency) * 1000:.0f} ms, "
            f"p95 {p95(latency) * 1000:.0f} ms over {len(latency)} clips with actions "
            f"(+ {pipeline.settings.end_silence * 1000:.0f} ms of trailing silence the VAD waits for live)"
        )
        for r in sorted(rows, key=lambda r: -r["timings"].get("end_of_speech_to_action", 0))[:3]:
            t = r["timings"]
            print(
                f"  slow: {t['end_of_speech_to_action'] * 1000:4.0f} ms '{r['cmd'].text}' "
                f"(stt finish {t.get('stt_finish', t.get('stt', 0)) * 1000:.0f} ms, "
                f"audio {t.get('audio', 0):.1f} s)"
            )
    rejected = sum(1 for _t, _v, r in oog if not r.actions)
    print(
        f"out-of-grammar clips with no action: {rejected}/{len(oog)} "
        f"(rejected outright: {sum(1 for _t, _v, r in oog if r.rejected)})"
    )
    for text, voice, result in oog:
        if result.actions:
            print(
                f"  ACTED on '{text}' ({voice}): heard '{result.transcript}' -> "
                f"{[a.service for a in result.actions]}"
            )
    print(
        "intent accuracy, Hearth templates vs Home Assistant's English intents (home-assistant-intents):"
    )
    print(
        f"  on the reference sentences:      Hearth {pct(sum(r['ours_text'] for r in rows), n)}   "
        f"HA {pct(sum(r['ha_text'] for r in rows), n)}"
    )
    print(
        f"  on the pocketsphinx transcripts: Hearth {pct(sum(r['intent_ok'] for r in rows), n)}   "
        f"HA {pct(sum(r['ha_transcript'] for r in rows), n)}"
    )
    misheard = [r for r in rows if not r["full_ok"]]
    if misheard:
        print("misheard:")
        for r in misheard:
            print(f"  {r['voice']:10s} '{r['cmd'].text}' -> '{r['transcript']}'")
    await pipeline.async_stop()
    await hub.async_stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one voice only")
    parser.add_argument(
        "--stream", action="store_true", help="decode while speaking (voice: stream_decode)"
    )
    args = parser.parse_args()
    asyncio.run(main(args.quick, args.stream))
