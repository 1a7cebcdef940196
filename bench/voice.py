"""Voice benchmark on honest corpora: dev (tuned on) and test (reported only), side by side.

Every clip (tests/voice/spoken.py: commands in 4 dev and 7 test synthesiser voices at three
speeds, with noise and reverb in test; paraphrases; speech that is no command, synthesised and
real; music; noise) goes through the pipeline's wake/VAD stage once. What each ear made of it is
recorded: the grammar pass streamed and whole, Whisper tiny.en and base with a short window
(tiny.en also with the full 30 s window). Each design is then decided from the same record:

  accuracy (intent + slots), wrong actions, refusals; speech/music/noise accepted as commands;
  end of speech -> decision latency (median/p95; grammar finish + Whisper); resident memory.

--e2e then runs the shipped design (VerifiedEngine, settings default) through the real pipeline
on the test split: end of speech -> service call as the home sees it.
--wake measures the wake-word engines: hits on spoken wake words and false accepts per hour of
real and synthesised speech and music.

--holdout adds voices nobody measured before (one neural, Piper) after design choices had been
made with the test split in view: the blind figure for those choices.

Run: nice -n 10 .venv/bin/python bench/voice.py [--designs] [--tune] [--e2e] [--wake] [--quick]
     [--holdout] [--rescore]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import math
import pickle
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.config import HubConfig
from hub.core import Hub
from tests.voice.corpus import Command
from tests.voice.spoken import (
    DEV_VOICES,
    HOLDOUT_VOICES,
    REAL_DEV,
    REAL_TEST,
    TEST_VOICES,
    Clip,
    corpus,
    real_recording,
    synthesize,
)
from voice.audio import silence
from voice.pipeline import VoicePipeline
from voice.recognizer import IntentMatch, IntentRecognizer
from voice.settings import VoiceSettings
from voice.stt.base import Transcript, VocabularySource
from voice.stt.pocketsphinx_engine import PocketsphinxEngine
from voice.stt.verified import VerifiedEngine, VerifyPolicy, home_context
from voice.stt.whisper_engine import Hearing, WhisperEar

RECORDS = Path(__file__).resolve().parents[1] / "test-artifacts" / "bench-voice-records.pkl"
NEGATIVE_KINDS = ("other_speech", "real_speech", "music", "noise")
EARS: dict[str, WhisperEar] = {}  # the Whisper ears of this run, by Probe key


def rss_mb() -> float:
    gc.collect()
    return psutil.Process().memory_info().rss / 2**20


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def pct(n: int, d: int) -> str:
    return f"{100.0 * n / d:5.1f}%" if d else "  n/a"


@dataclass
class Record:
    """What each ear made of one clip."""

    clip: Clip
    streamed: Transcript | None = None
    stream_finish: float = 0.0  # seconds from end of speech to the streamed grammar result
    whole: Transcript | None = None
    hearings: dict[str, Hearing] | None = None
    pcm: bytes | None = None  # the utterance as the ears got it (for the rescore vote)


class Probe:
    """An SttEngine that records every ear's view and lets the pipeline act on nothing."""

    name = "probe"

    def __init__(self, grammar: PocketsphinxEngine, ears: dict[str, WhisperEar]) -> None:
        self.grammar = grammar
        self.ears = ears
        self.last: Record | None = None

    def supports(self, language: str) -> bool:
        return self.grammar.supports(language)

    def set_vocabulary(self, source: VocabularySource) -> None:
        self.grammar.set_vocabulary(source)

    def transcribe(self, pcm: bytes, language: str) -> Transcript:
        return self._record(None, 0.0, pcm, language)

    def open_stream(self, language: str) -> Any:
        stream = self.grammar.open_stream(language)
        return None if stream is None else _ProbeStream(self, stream, language)

    def _record(
        self, streamed: Transcript | None, finish: float, pcm: bytes, language: str
    ) -> Transcript:
        whole = self.grammar.transcribe(pcm, language)
        hearings = {name: ear.hear(pcm) for name, ear in self.ears.items()}
        assert self.last is not None
        self.last.streamed, self.last.stream_finish = streamed, finish
        self.last.whole, self.last.hearings = whole, hearings
        self.last.pcm = pcm
        return replace(whole, text="", rejected=True)


class _ProbeStream:
    def __init__(self, probe: Probe, stream: Any, language: str) -> None:
        self.probe, self.stream, self.language = probe, stream, language
        self.pcm = bytearray()

    def feed(self, pcm: bytes, whole: bool = False) -> None:
        self.pcm += pcm
        self.stream.feed(pcm, whole)

    def finish(self) -> Transcript:
        started = time.perf_counter()
        streamed = self.stream.finish()
        finish = time.perf_counter() - started
        return self.probe._record(streamed, finish, bytes(self.pcm), self.language)

    def abort(self) -> None:
        self.stream.abort()


class Memo:
    """A scorer's results remembered per (utterance, language, sentences): the tuning grids
    re-decide the same clips many times. Latency counts each result's first cost."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self._memo: dict[tuple[int, str, tuple[str, ...]], tuple[dict[str, float], float]] = {}
        self.charged = 0.0  # first-time seconds of the fits asked for
        self.spent = 0.0  # seconds actually spent in this wrapper

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def remember(
        self, pcm: bytes, language: str, sentences: list[str], fit: Callable[[], dict[str, float]]
    ) -> dict[str, float]:
        started = time.perf_counter()
        key = (hash(pcm), language, tuple(sentences))
        if key not in self._memo:
            self._memo[key] = (fit(), time.perf_counter() - started)
        fits, cost = self._memo[key]
        self.charged += cost
        self.spent += time.perf_counter() - started
        return fits


class MemoFits(Memo):
    """The grammar engine with its forced fits remembered."""

    def score_sentences(self, pcm: bytes, language: str, sentences: list[str]) -> dict[str, float]:
        fit = partial(self.inner.score_sentences, pcm, language, sentences)
        return self.remember(pcm, language, sentences, fit)


class MemoEar(Memo):
    """A Whisper ear with its forced scores remembered."""

    def score(self, pcm: bytes, sentences: list[str], language: str = "en") -> dict[str, float]:
        fit = partial(self.inner.score, pcm, sentences, language)
        return self.remember(pcm, "w" + language, sentences, fit)


@dataclass(frozen=True)
class Design:
    """One way to decide: which grammar pass, which Whisper window, which policy."""

    name: str
    grammar: str  # "stream" | "whole"
    ear: str | None  # key of Probe.ears, or None (grammar alone)
    policy: VerifyPolicy | None = None


def decide(verifier: VerifiedEngine, design: Design, rec: Record) -> tuple[str | None, float]:
    """(text to act on or None, end of speech -> decision seconds) for one clip."""
    assert rec.whole is not None and rec.hearings is not None
    streamed = design.grammar == "stream" and rec.streamed is not None
    heard = rec.streamed if streamed and rec.streamed is not None else rec.whole
    latency = rec.stream_finish if streamed else rec.whole.decode_seconds
    if design.ear is None or design.policy is None:
        return (None if heard.rejected else heard.text), latency
    policy = design.policy
    if (
        policy.mode == "unsure"
        and not heard.rejected
        and heard.confidence >= policy.sure_confidence
    ):
        return heard.text, latency
    hearing = rec.hearings[design.ear]
    verifier.policy = policy
    verifier.ear = EARS.get(design.ear, verifier.ear)  # Whisper's vote uses the design's ear
    pcm = getattr(rec, "pcm", None)  # records saved before the rescore vote have none
    memos = [m for m in (verifier.grammar, verifier.ear) if isinstance(m, Memo)]
    charged = sum(m.charged - m.spent for m in memos)
    started = time.perf_counter()
    if pcm is None:
        verdict = verifier.decide(heard, hearing)
    else:
        verdict = verifier.judge(heard, hearing, pcm)
    # A remembered fit costs what it cost the first time.
    judged = time.perf_counter() - started + sum(m.charged - m.spent for m in memos) - charged
    return (verdict.text if verdict.accept else None), latency + hearing.seconds + judged


def slots_ok(expected: dict[str, Any], actual: dict[str, Any]) -> bool:
    return all(
        actual.get(k) == v or (isinstance(v, int) and actual.get(k) == float(v))
        for k, v in expected.items()
    )


def outcome(match: IntentMatch | None, cmd: Command | None) -> str:
    """right | wrong | refused (commands); acted | quiet (everything else)."""
    if cmd is None:
        return "quiet" if match is None else "acted"
    if match is None:
        return "refused"
    return "right" if match.intent == cmd.intent and slots_ok(cmd.slots, match.slots) else "wrong"


@dataclass
class Score:
    counts: dict[str, dict[str, int]]
    latency: list[float]
    wrong_examples: list[str]

    def n(self, kind: str, result: str | None = None) -> int:
        got = self.counts.get(kind, {})
        return sum(got.values()) if result is None else got.get(result, 0)


def score(
    recs: Iterable[Record],
    choose: Callable[[Record], tuple[str | None, float]],
    recognizer: IntentRecognizer,
) -> Score:
    counts: dict[str, dict[str, int]] = {}
    latency: list[float] = []
    wrong: list[str] = []
    for rec in recs:
        if rec.whole is None:
            result = "refused" if rec.clip.command else "quiet"  # the VAD heard no speech
        else:
            text, seconds = choose(rec)
            match = recognizer.recognize(text) if text else None
            result = outcome(match, rec.clip.command)
            if rec.clip.kind in ("command", "paraphrase"):
                latency.append(seconds)
            if result in ("wrong", "acted"):
                wrong.append(f"{rec.clip.kind} {rec.clip.source} '{rec.clip.text}' -> '{text}'")
        counts.setdefault(rec.clip.kind, {}).setdefault(result, 0)
        counts[rec.clip.kind][result] += 1
    return Score(counts, latency, wrong)


def report_line(name: str, s: Score) -> str:
    c = s.n("command")
    p = s.n("paraphrase")
    neg = {k: (s.n(k, "acted"), s.n(k)) for k in NEGATIVE_KINDS}
    lat = s.latency
    lat_txt = (
        f"{statistics.median(lat) * 1000:5.0f} {p95(lat) * 1000:5.0f}" if lat else "  n/a   n/a"
    )
    para = (
        f"{s.n('paraphrase', 'right'):2d}/{s.n('paraphrase', 'wrong'):2d}/{p:2d}"
        if p
        else "    -   "
    )
    return (
        f"{name:26s} {pct(s.n('command', 'right'), c)} {pct(s.n('command', 'wrong'), c)} "
        f"{pct(s.n('command', 'refused'), c)}  {para}  "
        + " ".join(f"{a:3d}/{t:<3d}" for a, t in neg.values())
        + f"  {lat_txt}"
    )


HEADER = (
    f"{'design':26s} {'right':>6s} {'wrong':>6s} {'refuse':>6s}  para r/w/n  "
    f"{'speech':>7s} {'real':>7s} {'music':>7s} {'noise':>7s}  (acted/clips)  med   p95 ms"
)


async def collect(
    pipeline: VoicePipeline, probe: Probe, clips: list[Clip], hub: Hub
) -> list[Record]:
    records = []
    for index, clip in enumerate(clips):
        rec = Record(clip)
        probe.last = rec
        pcm = silence(0.5) + clip.pcm() + silence(0.8)
        await pipeline.async_process_audio(pcm, wake="off", speak=False, conversation_id="b")
        records.append(rec)
        if index % 100 == 99:
            print(f"  ... {index + 1}/{len(clips)} clips", file=sys.stderr, flush=True)
    return records


SHIPPED = (
    "default policy, streamed"  # the pipeline decodes the whole utterance unless stream_decode
)


def designs(tuned: VerifyPolicy) -> list[Design]:
    agree = tuned
    grammar_vote = replace(agree, voter="grammar", vote_candidates="heard")
    return [
        Design("grammar only, whole", "whole", None),
        Design("grammar only, streamed", "stream", None),
        Design("whisper-short snapped", "whole", "short", replace(agree, mode="whisper")),
        Design("agree, no vote: stream+short", "stream", "short", replace(agree, rescore=False)),
        Design("agree, grammar votes", "stream", "short", grammar_vote),
        Design(
            "agree, grammar votes near",
            "stream",
            "short",
            replace(grammar_vote, vote_candidates="near"),
        ),
        Design("unsure: stream + short", "stream", "short", replace(agree, mode="unsure")),
        Design(
            "whisper votes, no 2nd opin.", "stream", "short", replace(agree, second_opinion=False)
        ),
        Design("both vote", "stream", "short", replace(agree, voter="both")),
        Design(SHIPPED, "stream", "short", agree),
        *(
            Design(
                f"likely {m}: stream + short", "stream", "short", replace(agree, likely_margin=m)
            )
            for m in (0.3, 0.6, 1.0)
        ),
        *(
            design
            for ear in ("ctx", "beam", "ctxbeam")
            for design in (
                Design(f"{ear} snapped", "whole", ear, replace(agree, mode="whisper")),
                Design(f"{ear}: agree, grammar votes", "stream", ear, grammar_vote),
                Design(f"{ear}: shipped policy", "stream", ear, agree),
                Design(f"{ear}: whisper -2.0", "stream", ear, replace(agree, whisper_min_fit=-2.0)),
            )
        ),
        Design("base snapped", "whole", "base", replace(agree, mode="whisper")),
        Design("base: shipped policy", "stream", "base", agree),
    ]


def tune(verifier: VerifiedEngine, dev: list[Record], recognizer: IntentRecognizer) -> None:
    """Grids over the agree policy and the rescore vote, on the dev split only."""
    print("\ntuning grid (dev split only): agree, streamed grammar + short Whisper")
    print(f"{'max_char_rate':>13s} {'min_logprob':>11s}  right  wrong  negatives acted")
    for rate, floor in itertools.product(
        (0.1, 0.15, 0.2, 0.25, 0.3, 0.4), (-0.8, -1.0, -1.2, -1.6, -math.inf)
    ):
        policy = VerifyPolicy(max_char_rate=rate, min_logprob=floor)
        print(f"{rate:13.2f} {floor:11.1f}  " + grid_cell(verifier, policy, dev, recognizer))
    print("\nrescore vote grid (dev split only), agree at the shipped floors")
    print(
        f"{'min_fit':>7s} {'fit_margin':>10s} {'vote_margin':>11s}  right  wrong  negatives acted"
    )
    for min_fit, margin, vote in itertools.product(
        (0.0, 0.5, 1.0), (0.0, 0.15, 0.3, math.inf), (0.0, 0.1, 0.3)
    ):
        policy = VerifyPolicy(
            voter="grammar",
            vote_candidates="heard",
            min_fit=min_fit,
            fit_margin=margin,
            vote_margin=vote,
        )
        cell = grid_cell(verifier, policy, dev, recognizer)
        print(f"{min_fit:7.2f} {margin:10.2f} {vote:11.2f}  {cell}")
    print("\nWhisper's vote grid (dev split only), agree at the shipped floors")
    print(f"{'ear':>7s} {'voter':>7s} {'min_fit':>7s} {'margin':>6s}  right  wrong  acted")
    for ear, voter, min_fit, margin in itertools.product(
        [e for e in ("short", "beam", "ctxbeam") if e in EARS],
        ("whisper", "both"),
        (-1.0, -1.5, -2.0),
        (0.1, 0.3),
    ):
        policy = VerifyPolicy(
            voter=voter, vote_candidates="near", whisper_min_fit=min_fit, whisper_margin=margin
        )
        cell = grid_cell(verifier, policy, dev, recognizer, ear)
        print(f"{ear:>7s} {voter:>7s} {min_fit:7.2f} {margin:6.2f}  {cell}")


def grid_cell(
    verifier: VerifiedEngine,
    policy: VerifyPolicy,
    dev: list[Record],
    recognizer: IntentRecognizer,
    ear: str = "short",
) -> str:
    """Right and wrong commands and negatives acted on, for one policy."""
    d = Design("t", "stream", ear, policy)
    s = score(dev, lambda r: decide(verifier, d, r), recognizer)
    neg = sum(s.n(k, "acted") for k in NEGATIVE_KINDS)
    c = s.n("command")
    total = sum(s.n(k) for k in NEGATIVE_KINDS)
    return f"{pct(s.n('command', 'right'), c)} {pct(s.n('command', 'wrong'), c)}  {neg}/{total}"


async def run_designs(args: argparse.Namespace) -> None:
    hub = Hub(
        HubConfig.minimal(Path(tempfile.mkdtemp()), demo={"delay": 0, "tick": 3600}), record=False
    )
    await hub.async_start()
    base = rss_mb()
    grammar = PocketsphinxEngine()
    after_grammar = rss_mb()
    # short: the shipped ear without the home's names; ctx: with them (WhisperEar.set_context);
    # beam: beam search of 5 instead of greedy decoding.
    ears = {"short": WhisperEar(), "ctx": WhisperEar()}
    if args.beam:
        ears.update(beam=WhisperEar(beam_size=5), ctxbeam=WhisperEar(beam_size=5))
    try:  # optional: measured against tiny.en, not shipped (see the README's voice section)
        ears["base"] = WhisperEar(model="base")
    except LookupError as err:
        print(f"  no 'base' ear: {err}", file=sys.stderr)
    if args.full_window:  # the padded 30 s window: ~1.5 s more per clip, measured on --quick
        ears["full"] = WhisperEar(window=None)
    after_ears = rss_mb()
    EARS.update({key: MemoEar(ear) for key, ear in ears.items()})  # type: ignore[misc]
    probe = Probe(grammar, ears)
    pipeline = VoicePipeline(hub, VoiceSettings(stream_decode=True), engines=[probe])  # type: ignore[list-item]
    await pipeline.async_start()
    verifier = VerifiedEngine(MemoFits(grammar), ears["short"], context=False)  # type: ignore[arg-type]
    source = VocabularySource(
        "en",
        pipeline.speech_recognizers["en"].intents,
        pipeline.vocabulary.slot_lists("en"),
    )
    started = time.perf_counter()
    verifier.set_vocabulary(source)
    snap_build = time.perf_counter() - started
    for key in ("ctx", "ctxbeam"):
        if key in ears:
            ears[key].set_context("en", home_context(source))
    recognizer = pipeline.speech_recognizers["en"]
    saved = load_records(args) if args.rescore else None
    splits: dict[str, list[Record]] = dict(saved or {})
    if saved is not None:
        print(f"  decided again from {RECORDS} (no decoding)", file=sys.stderr)
    decoded = False
    for split in ("dev", "test", "holdout") if args.holdout else ("dev", "test"):
        if split in splits:
            continue
        decoded = True
        clips = corpus(split)
        if args.quick:
            clips = clips[::4]
        started = time.perf_counter()
        splits[split] = await collect(pipeline, probe, clips, hub)
        print(
            f"  {split}: {len(clips)} clips in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
    if decoded:
        save_records(args, splits)
    after_run = rss_mb()
    print_split(splits)
    print(
        f"\nresident memory (MB): hub+demo {base:.0f}; + pocketsphinx (grammar + phone loop) "
        f"{after_grammar - base:+.0f}; + Whisper ears {sorted(ears)} "
        f"{after_ears - after_grammar:+.0f} before decoding (decoding: see --e2e); after the run "
        f"{after_run:.0f}. Snap index: "
        f"{len(verifier._snappers['en'])} grammar sentences; grammar + snap rebuilt in {snap_build:.2f} s"
    )
    if args.tune:
        tune(verifier, splits["dev"], recognizer)
    policy = VerifyPolicy()
    print(f"\ndesigns (policy {policy}):\n")
    extra = [Design("agree: stream + 30s", "stream", "full", policy)] if "full" in ears else []
    for split, recs in splits.items():
        print(f"[{split}] {HEADER}")
        for design in designs(policy) + extra:
            if design.ear is not None and (
                design.ear not in EARS  # its vote needs the ear itself (--beam)
                or any(r.hearings is not None and design.ear not in r.hearings for r in recs)
            ):
                continue
            s = score(recs, lambda r, d=design: decide(verifier, d, r), recognizer)  # type: ignore[misc]
            print(f"[{split}] {report_line(design.name, s)}")
            if args.wrong and design.policy is not None and design.policy.rescore:
                for line in s.wrong_examples:
                    print(f"    acted wrongly: {line}")
        print()
    shipped = Design(SHIPPED, "stream", "short", policy)
    for split, recs in splits.items():
        s = score(recs, lambda r: decide(verifier, shipped, r), recognizer)
        for line in s.wrong_examples:
            print(f"  [{split}] default policy (streamed) acted wrongly: {line}")
        refused = [r for r in recs if r.clip.kind == "command"]
        if split in ("test", "holdout"):
            by_voice: dict[str, list[int]] = {}
            for r in refused:
                text, _ = decide(verifier, shipped, r)
                m = recognizer.recognize(text) if text else None
                by_voice.setdefault(r.clip.source, [0, 0])
                by_voice[r.clip.source][0] += outcome(m, r.clip.command) == "right"
                by_voice[r.clip.source][1] += 1
            print(
                f"  {split} right per voice: "
                + ", ".join(f"{v} {a}/{n}" for v, (a, n) in by_voice.items())
            )
    await pipeline.async_stop()
    await hub.async_stop()


def save_records(args: argparse.Namespace, splits: dict[str, list[Record]]) -> None:
    """Keep what every ear heard, so --rescore can try decisions without decoding again."""
    RECORDS.parent.mkdir(parents=True, exist_ok=True)
    tmp = RECORDS.with_suffix(".tmp")
    with tmp.open("wb") as handle:
        pickle.dump({"quick": args.quick, "splits": splits}, handle)
    tmp.replace(RECORDS)


def load_records(args: argparse.Namespace) -> dict[str, list[Record]] | None:
    """The saved records when they match --quick, else None (then the clips are decoded)."""
    try:
        with RECORDS.open("rb") as handle:
            saved = pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError) as err:
        print(f"  no usable saved records ({err}); decoding", file=sys.stderr)
        return None
    if saved.get("quick") != args.quick:
        print("  saved records were made with another --quick; decoding", file=sys.stderr)
        return None
    return saved["splits"]  # type: ignore[no-any-return]


def print_split(splits: dict[str, list[Record]]) -> None:
    print("corpus split (dev = tuned on, test = reported only):")
    print(f"  dev voices:  {', '.join(v.label for v in DEV_VOICES)} (clean)")
    print(
        f"  test voices: {', '.join(v.label for v in TEST_VOICES)} "
        "(clean / pink noise 10-20 dB SNR / sox reverb / both, rotating; 3 speeds)"
    )
    print(
        f"  holdout voices (--holdout): {', '.join(v.label for v in HOLDOUT_VOICES)}: added "
        "after design choices were made with the test split in view; nothing tuned on them"
    )
    print(f"  real speech dev: {', '.join(REAL_DEV)}")
    print(f"  real speech test: {', '.join(REAL_TEST)}")
    for split, recs in splits.items():
        kinds: dict[str, int] = {}
        for r in recs:
            kinds[r.clip.kind] = kinds.get(r.clip.kind, 0) + 1
        print(f"  {split}: {len(recs)} clips: " + ", ".join(f"{k} {n}" for k, n in kinds.items()))


async def run_e2e(args: argparse.Namespace) -> None:
    """The shipped design through the real pipeline, test split: acts, latency, memory."""
    hub = Hub(
        HubConfig.minimal(Path(tempfile.mkdtemp()), demo={"delay": 0, "tick": 3600}), record=False
    )
    await hub.async_start()
    for stream in (True, False):
        base = rss_mb()
        settings = VoiceSettings(stream_decode=stream)
        pipeline = VoicePipeline(hub, settings)
        await pipeline.async_start()
        loaded = rss_mb()
        clips = [c for c in corpus("test") if c.kind != "paraphrase"]
        if args.quick:
            clips = clips[::4]
        latency: list[float] = []
        counts: dict[str, dict[str, int]] = {}
        for clip in clips:
            await hub.services.async_call("demo", "reset")
            pcm = silence(0.5) + clip.pcm() + silence(0.8)
            result = await pipeline.async_process_audio(pcm, wake="off", speak=False)
            if clip.command is not None:
                cmd = clip.command
                ok = result.intent == cmd.intent and slots_ok(cmd.slots, dict(result.slots))
                res = "right" if ok else ("refused" if result.intent is None else "wrong")
            else:
                res = "acted" if result.actions else "quiet"
            counts.setdefault(clip.kind, {}).setdefault(res, 0)
            counts[clip.kind][res] += 1
            if "end_of_speech_to_action" in result.timings:
                latency.append(result.timings["end_of_speech_to_action"])
        mode = "streamed grammar" if stream else "whole grammar decode"
        print(
            f"e2e test split, stt_verify={settings.stt_verify}, {mode}: voice stack RSS "
            f"{loaded - base:+.0f} MB (process {loaded:.0f} MB)"
        )
        for kind, got in counts.items():
            print(f"  {kind:13s} " + ", ".join(f"{k} {v}" for k, v in sorted(got.items())))
        if latency:
            print(
                f"  end of speech -> service call: median {statistics.median(latency) * 1000:.0f} "
                f"ms, p95 {p95(latency) * 1000:.0f} ms over {len(latency)} clips that acted"
            )
        await pipeline.async_stop()
        del pipeline
    await hub.async_stop()


def run_wake(args: argparse.Namespace) -> None:
    """Hits on spoken wake words, false accepts per hour of speech and music."""
    from voice.audio import CHUNK_SAMPLES
    from voice.wake import WakeWordDetector

    phrases = {
        "okay_nabu": "okay nabu",
        "hey_jarvis": "hey jarvis",
        "alexa": "alexa",
        "hey_mycroft": "hey mycroft",
    }
    commands = ("turn on the kitchen light", "what time is it", "start the vacuum")
    negatives: list[tuple[str, bytes]] = []
    for name in (*REAL_DEV, *REAL_TEST):
        negatives.append((f"real:{name}", real_recording(name)))
    real_seconds = sum(len(p) for _n, p in negatives) / 32000
    for clip in corpus("test") + corpus("dev"):
        if clip.kind in ("other_speech", "music"):
            negatives.append((f"{clip.kind}:{clip.source}", clip.pcm()))
    neg_seconds = sum(len(p) for _n, p in negatives) / 32000
    print(
        f"wake words: negatives {neg_seconds / 60:.1f} min ({real_seconds / 60:.1f} min real "
        "human speech, the rest synthesised speech that is no command, and music)"
    )
    step = CHUNK_SAMPLES * 2
    for engine, models in (
        ("micro", ("okay_nabu", "hey_jarvis", "alexa", "hey_mycroft")),
        ("openwakeword", ("okay_nabu", "hey_jarvis", "alexa")),
    ):
        for model in models:
            hits = {"dev": [0, 0], "test": [0, 0]}
            cpu = 0.0
            audio = 0.0
            for split, voices in (("dev", DEV_VOICES), ("test", TEST_VOICES)):
                for v, voice in enumerate(voices):
                    for c, command in enumerate(commands):
                        cond = "clean" if split == "dev" else ("clean", "noise", "reverb")[c]
                        path = synthesize(f"{phrases[model]}, {command}", voice, 1.0, cond, v)
                        from tests.voice.spoken import read_pcm

                        pcm = silence(0.5) + read_pcm(path) + silence(0.5)
                        det = WakeWordDetector(model, None, engine, accept_licence=True)  # type: ignore[arg-type]
                        started = time.perf_counter()
                        found = any(
                            det.process(pcm[i : i + step]) is not None
                            for i in range(0, len(pcm), step)
                        )
                        cpu += time.perf_counter() - started
                        audio += len(pcm) / 32000
                        det.close()
                        hits[split][0] += found
                        hits[split][1] += 1
            false = 0
            for name, pcm in negatives:
                det = WakeWordDetector(model, None, engine, accept_licence=True)  # type: ignore[arg-type]
                for i in range(0, len(pcm), step):
                    if det.process(pcm[i : i + step]) is not None:
                        false += 1
                        print(f"    false accept: {engine}/{model} on {name}")
                        det.close()
                        det = WakeWordDetector(model, None, engine, accept_licence=True)  # type: ignore[arg-type]
                det.close()
            print(
                f"  {engine:12s} {model:11s} hits dev {hits['dev'][0]}/{hits['dev'][1]}, "
                f"test {hits['test'][0]}/{hits['test'][1]}; false accepts {false} in "
                f"{neg_seconds / 3600:.3f} h = {false / (neg_seconds / 3600):.1f}/h; "
                f"RTF {cpu / audio:.4f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--designs", action="store_true", help="compare designs on dev and test")
    parser.add_argument("--tune", action="store_true", help="print the dev tuning grid")
    parser.add_argument("--e2e", action="store_true", help="shipped design, real pipeline, test")
    parser.add_argument("--wake", action="store_true", help="wake-word hits and false accepts")
    parser.add_argument("--quick", action="store_true", help="every 4th clip")
    parser.add_argument("--wrong", action="store_true", help="each vote's wrong actions")
    parser.add_argument("--beam", action="store_true", help="also Whisper with beam search")
    parser.add_argument("--full-window", action="store_true", help="also Whisper with 30 s")
    parser.add_argument(
        "--rescore", action="store_true", help="decide again from the saved records"
    )
    parser.add_argument(
        "--holdout", action="store_true", help="also the holdout voices (reported only)"
    )
    args = parser.parse_args()
    if not (args.designs or args.e2e or args.wake):
        args.designs = args.e2e = args.wake = True
    if args.designs:
        asyncio.run(run_designs(args))
    if args.e2e:
        asyncio.run(run_e2e(args))
    if args.wake:
        run_wake(args)


if __name__ == "__main__":
    main()
