"""Whisper verifies the grammar: commands in voices never tuned on act, other speech does not."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from voice.audio import silence
from voice.pipeline import VoicePipeline
from voice.stt.base import Transcript, VocabularySource
from voice.stt.pocketsphinx_engine import PocketsphinxEngine
from voice.stt.snap import Snapper, spell
from voice.stt.verified import VerifiedEngine, VerifyPolicy
from voice.stt.whisper_engine import Hearing, WhisperEar

from .corpus import COMMANDS, OUT_OF_GRAMMAR, Command, voice_for
from .spoken import (
    OTHER_SPEECH_TEST,
    REAL_DEV,
    REAL_TEST,
    Voice,
    music,
    read_pcm,
    real_recording,
    synthesize,
)
from .test_rejection import MISSED, _snapshot

OTHER_VOICES = (Voice("flite", "slt"), Voice("festival", "kal_diphone"), Voice("flite", "rms"))
# Commands whose effect on the demo home is a plain state change.
ACTING = [c for c in COMMANDS if c.entity and c.state and c.attribute is None][:6]


def _spoken(text: str, voice: Voice, condition: str = "clean") -> bytes:
    return silence(0.5) + read_pcm(synthesize(text, voice, 1.0, condition)) + silence(0.8)


# Measured refusals, as strict xfails. None at present: "toggle the bedroom light" (festival
# kal), which Whisper hears as "park all the bedroom light" (as close to "turn on" and "turn off"
# as to "toggle"), was refused until Whisper's forced decoder voted among the nearest sentences.
REFUSED: set[tuple[str, str]] = set()


def _case(index: int, command: Command) -> Any:
    voice = OTHER_VOICES[index % len(OTHER_VOICES)]
    marks = []
    if (command.text, voice.label) in REFUSED:
        marks.append(pytest.mark.xfail(reason="whisper mishears: refused", strict=True))
    return pytest.param(command, voice, id=f"{command.text}-{voice.label}", marks=marks)


@pytest.mark.parametrize(("command", "voice"), [_case(i, c) for i, c in enumerate(ACTING)])
async def test_command_in_a_voice_never_tuned_on(
    verified_hub: VoicePipeline, command: Command, voice: Voice
) -> None:
    await verified_hub.hub.services.async_call("demo", "reset")
    before = _snapshot(verified_hub)
    result = await verified_hub.async_process_audio(_spoken(command.text, voice), speak=False)
    if result.intent is None:  # refused: nothing may have changed
        assert _snapshot(verified_hub) == before
    assert result.intent == command.intent, result
    assert command.entity is not None
    state = verified_hub.hub.states.get(command.entity)
    assert state is not None and state.state == command.state


async def test_whisper_agreement_is_on_the_transcript(
    verified: VerifiedEngine, speech: Any, verified_hub: VoicePipeline
) -> None:
    pcm = speech("turn on the kitchen light")
    heard = await verified_hub.hub.async_add_executor_job(verified.transcribe, pcm, "en")
    assert not heard.rejected and heard.text == "turn on the kitchen light"
    assert spell(heard.heard) == "turn on the kitchen light"
    assert heard.engine == "pocketsphinx+whisper" and heard.detail in ("same command", "agree")


async def test_sentence_the_grammar_forces_is_refused(
    verified_hub: VoicePipeline, sphinx: Any, speech: Any
) -> None:
    """The grammar alone turns this into 'please dim bedroom to eight' (test_rejection.py)."""
    before = _snapshot(verified_hub)
    result = await verified_hub.async_process_audio(speech("play some jazz music"), speak=False)
    assert result.rejected and result.actions == ()
    assert result.reply == "Sorry, I didn't catch that."
    assert _snapshot(verified_hub) == before


@pytest.mark.parametrize("index", range(0, len(OTHER_SPEECH_TEST), 3))
async def test_speech_that_is_no_command_does_nothing(
    verified_hub: VoicePipeline, index: int
) -> None:
    text = OTHER_SPEECH_TEST[index]
    voice = OTHER_VOICES[index % len(OTHER_VOICES)]
    before = _snapshot(verified_hub)
    result = await verified_hub.async_process_audio(_spoken(text, voice, "noise"), speak=False)
    assert result.actions == () and result.intent is None, result.transcript
    assert _snapshot(verified_hub) == before


@pytest.mark.parametrize("text", sorted(MISSED))
async def test_what_the_grammar_alone_misses_is_refused(
    verified_hub: VoicePipeline, speech: Any, text: str
) -> None:
    voice, speed = voice_for(OUT_OF_GRAMMAR.index(text))
    before = _snapshot(verified_hub)
    result = await verified_hub.async_process_audio(speech(text, voice, speed), speak=False)
    assert result.actions == () and _snapshot(verified_hub) == before, result


@pytest.mark.parametrize("name", (*REAL_DEV[:5], *REAL_TEST[:8]))
async def test_real_human_speech_does_nothing(verified_hub: VoicePipeline, name: str) -> None:
    before = _snapshot(verified_hub)
    pcm = real_recording(name)[: 6 * 32000]
    result = await verified_hub.async_process_audio(pcm + silence(0.8), speak=False)
    assert result.actions == () and result.intent is None, result.transcript
    assert _snapshot(verified_hub) == before


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_music_does_nothing(verified_hub: VoicePipeline, seed: int) -> None:
    before = _snapshot(verified_hub)
    result = await verified_hub.async_process_audio(music(seed) + silence(0.8), speak=False)
    assert result.actions == () and result.intent is None
    assert _snapshot(verified_hub) == before


def _heard(text: str, confidence: float = 0.0) -> Transcript:
    return Transcript(text, "en", "pocketsphinx", confidence, False, 2.0, 0.1)


async def test_decisions(verified: VerifiedEngine, verified_hub: VoicePipeline) -> None:
    """The rules on values: numbers must match, another command refuses, far text refuses."""
    verified.policy = VerifyPolicy()
    grammar = _heard("set a timer for ten minutes")
    agree = verified.decide(grammar, Hearing("Set a timer for 10 minutes.", -0.3, 0.01, 0.1))
    assert agree.accept and agree.text == "set a timer for ten minutes"
    other_number = verified.decide(grammar, Hearing("Set a timer for 2 minutes.", -0.3, 0.01, 0))
    assert not other_number.accept and "numbers" in other_number.reason
    other = verified.decide(
        _heard("lock the front door"), Hearing("Unlock the front door.", -0.2, 0, 0)
    )
    assert not other.accept and "another command" in other.reason
    far = verified.decide(
        _heard("turn on the kitchen light"), Hearing("Tell me a joke.", -0.2, 0, 0)
    )
    assert not far.accept
    misheard = verified.decide(
        _heard("set the bedroom thermostat to twenty two degrees"),
        Hearing("Set the bedroom thermostat at 22 degrees.", -0.5, 0.05, 0),
    )
    assert misheard.accept
    unsure = verified.decide(grammar, Hearing("Set a timer for 10 minutes.", -2.5, 0.01, 0.1))
    assert not unsure.accept and "unsure" in unsure.reason


def test_spell_numbers_like_the_grammar() -> None:
    assert spell("Set the bedroom to 22°.") == "set the bedroom to twenty two degrees"
    assert spell("Dim it to 50%!") == "dim it to fifty percent"
    assert spell("Set the freezer to -20 degrees") == "set the freezer to minus twenty degrees"
    assert spell("What's in the fridge?") == "what's in the fridge"


async def test_snap_follows_the_grammar(
    verified: VerifiedEngine, verified_hub: VoicePipeline
) -> None:
    """The snap index is sampled from the grammar API, so the home's names are in it."""
    nearest = verified.snap("Turn off the coffee maker, please.")
    assert nearest is not None and nearest.distance <= 1
    assert "coffee maker" in nearest.sentence and "off" in nearest.sentence.split()
    nearest = verified.snap("Set the heating to 19 degrees")
    # A sample of the grammar, not all of it: the nearest sampled sentence, same meaning.
    assert nearest is not None and nearest.sentence.endswith("heating to nineteen degrees")


def test_whisper_short_window_hears_a_command(whisper_ear: WhisperEar, speech: Any) -> None:
    hearing = whisper_ear.hear(speech("what is the temperature in the kitchen"))
    assert spell(hearing.text) == "what is the temperature in the kitchen"
    assert hearing.logprob > -1.0 and hearing.no_speech < 0.5


def test_whisper_forced_scores_rank_what_was_said(whisper_ear: WhisperEar, speech: Any) -> None:
    pcm = speech("turn off the kitchen light", "en-us+f3")
    said, other, far = "turn off the kitchen light", "turn on the kitchen light", "start the vacuum"
    scores = whisper_ear.score(pcm, [said, other, far])
    assert scores[said] > VerifyPolicy().whisper_min_fit, scores  # mean token log-probability
    assert scores[said] > scores[other] + 0.5 > scores[far] + 0.5, scores
    assert whisper_ear.score(pcm, []) == {}
    with pytest.raises(ValueError):
        whisper_ear.score(pcm, [said], "de")


VOTERS = ("grammar", "whisper", "both")


@pytest.mark.parametrize("voter", VOTERS)
async def test_the_acoustic_vote_recovers_what_the_grammar_search_pruned(
    verified: VerifiedEngine, verified_hub: VoicePipeline, voter: Any
) -> None:
    """Measured on the bench: the streamed grammar pass said 'make the blind to one hundred in
    the bedroom' for this clip; Whisper heard it right, and the forced fit settles it."""
    verified.policy = VerifyPolicy(voter=voter)
    text = "make it twenty one degrees in the bedroom"
    pcm = _spoken(text, Voice("flite", "slt"))
    run = verified_hub.hub.async_add_executor_job
    hearing = await run(verified.ear.hear, pcm)
    pruned = _heard("make the blind to one hundred in the bedroom")
    assert not verified.decide(pruned, hearing).accept  # the ears disagree
    verdict = await run(verified.judge, pruned, hearing, pcm)
    assert verdict.accept and verdict.text == text, verdict
    assert verdict.reason.startswith("rescored")
    without = replace(verified.policy, rescore=False)
    verified.policy = without
    assert not (await run(verified.judge, pruned, hearing, pcm)).accept
    verified.policy = VerifyPolicy()


@pytest.mark.parametrize("voter", VOTERS)
async def test_the_vote_picks_the_sentence_the_audio_fits(
    verified: VerifiedEngine, verified_hub: VoicePipeline, voter: Any
) -> None:
    """Whisper's text is no command and as close to 'on' as to 'off'; the audio says 'off'.
    Shipped ("heard"), the vote has no proposal of Whisper's to weigh and refuses; voting over
    the sentences nearest to Whisper's ("near"), the audio picks 'off'. Neither acts on 'on'."""
    pcm = _spoken("turn off the kitchen light", Voice("flite", "rms"))
    misheard = Hearing("Turn of the kitchen light.", -0.4, 0.01, 0.1)
    run = verified_hub.hub.async_add_executor_job
    verified.policy = VerifyPolicy(voter=voter, vote_candidates="heard")
    shipped = await run(verified.judge, _heard("turn on the kitchen light"), misheard, pcm)
    assert not shipped.accept and "no command" in shipped.reason, shipped
    verified.policy = VerifyPolicy(voter=voter, vote_candidates="near")
    near = await run(verified.judge, _heard("turn on the kitchen light"), misheard, pcm)
    verified.policy = VerifyPolicy()
    assert near.accept and near.text == "turn off the kitchen light", near


@pytest.mark.parametrize("voter", VOTERS)
async def test_the_vote_never_overrules_what_whisper_heard(
    verified: VerifiedEngine, verified_hub: VoicePipeline, voter: Any
) -> None:
    """Whisper heard a command: only that command may win, however well another one fits."""
    verified.policy = VerifyPolicy(voter=voter, vote_candidates="near")
    pcm = _spoken("turn off the kitchen light", Voice("flite", "rms"))
    # Whisper (here told) heard 'on'; the audio says 'off': the vote may not act on 'off'.
    verdict = await verified_hub.hub.async_add_executor_job(
        verified.judge,
        _heard("turn off the kitchen light dim"),
        Hearing("Turn on the kitchen light.", -0.3, 0.01, 0.1),
        pcm,
    )
    assert not verdict.accept or verdict.text == "turn on the kitchen light"
    assert verdict.text != "turn off the kitchen light"
    if voter != "grammar":  # Whisper's own decoder, forced, finds 'off' in the audio
        assert not verdict.accept, verdict


def _source(pipeline: VoicePipeline) -> VocabularySource:
    """The demo home's English speech vocabulary."""
    recognizer = pipeline.speech_recognizers["en"]
    return VocabularySource("en", recognizer.intents, pipeline.vocabulary.slot_lists("en"))


class _Fixed:
    """A voter with fixed fits per sentence (what the real models return is tested above)."""

    name = "fixed"

    def __init__(self, fits: dict[str, float]) -> None:
        self.fits = fits

    def supports(self, language: str) -> bool:
        return True

    def set_vocabulary(self, source: VocabularySource) -> None:
        pass

    def transcribe(self, pcm: bytes, language: str) -> Transcript:
        raise AssertionError("not used")

    def score_sentences(self, pcm: bytes, language: str, sentences: list[str]) -> dict[str, float]:
        return {s: self.fits.get(s, -9.0) for s in sentences}

    def score(self, pcm: bytes, sentences: list[str], language: str = "en") -> dict[str, float]:
        return self.score_sentences(pcm, language, sentences)


@pytest.mark.parametrize(
    ("grammar_fits", "whisper_fits", "acts"),
    [
        ((1.0, 2.0), (-1.2, -0.2), "turn off the kitchen light"),  # both pick 'off'
        ((2.0, 1.0), (-1.2, -0.2), None),  # the votes differ
        ((1.0, 2.0), (-0.3, -0.2), None),  # Whisper's vote is not decisive
        ((1.0, 2.0), (-3.0, -2.5), None),  # Whisper's fit is poor
    ],
)
async def test_both_voters_must_pick_the_same_command(
    verified_hub: VoicePipeline,
    grammar_fits: tuple[float, float],
    whisper_fits: tuple[float, float],
    acts: str | None,
) -> None:
    on, off = "turn on the kitchen light", "turn off the kitchen light"
    grammar = _Fixed(dict(zip((on, off), grammar_fits, strict=True)))
    ear = _Fixed(dict(zip((on, off), whisper_fits, strict=True)))
    engine = VerifiedEngine(grammar, ear, VerifyPolicy(voter="both", vote_candidates="near"))  # type: ignore[arg-type]
    source = _source(verified_hub)
    await verified_hub.hub.async_add_executor_job(engine.set_vocabulary, source)
    verdict = engine.judge(_heard(on), Hearing("Turn of the kitchen light.", -0.4, 0.01, 0.1), b"")
    assert verdict.accept == (acts is not None) and verdict.text == (acts or ""), verdict


async def test_forced_fit_prefers_the_sentence_that_was_said(
    speech: Any, verified_hub: VoicePipeline
) -> None:
    # An engine of its own: streamed decodes move the live normalisation that the shared
    # engine carries from test to test.
    source = _source(verified_hub)
    await verified_hub.hub.async_add_executor_job(_forced_fits, source, speech)


def _forced_fits(source: VocabularySource, speech: Any) -> None:
    sphinx = PocketsphinxEngine()
    sphinx.set_vocabulary(source)
    pcm = speech("turn on the kitchen light")
    fits = sphinx.score_sentences(
        pcm, "en", ["turn on the kitchen light", "start the vacuum", "turn on the qzxv light"]
    )
    assert fits["turn on the kitchen light"] > fits["start the vacuum"] + 0.5
    assert fits["turn on the qzxv light"] == float("-inf")  # not in the dictionary: no vote
    assert sphinx.score_sentences(pcm, "de", ["turn on the kitchen light"]) == {}
    # The vote does not depend on what was decoded before (the live decoders' normalisation
    # does: the same clip scored 1.12 and 2.27 on them).
    for other in ("start the vacuum", "what's in the fridge"):
        stream = sphinx.open_stream("en")
        assert stream is not None
        stream.feed(speech(other))
        stream.finish()
        again = sphinx.score_sentences(pcm, "en", ["turn on the kitchen light"])
        assert abs(again["turn on the kitchen light"] - fits["turn on the kitchen light"]) < 0.05


def test_candidates_put_the_heard_numbers_into_the_nearest_shape() -> None:
    snapper = Snapper(["set the freezer to minus five degrees", "start the vacuum"])
    found = snapper.candidates("set the freezer to minus twenty degrees")
    assert found[0] == "set the freezer to minus five degrees"
    assert "set the freezer to minus twenty degrees" in found
    # A shape whose number runs do not match what was heard is not filled.
    assert snapper.candidates("set the freezer to degrees") == [
        "set the freezer to minus five degrees",
        "start the vacuum",
    ]
    assert Snapper([]).candidates("start the vacuum") == []


@pytest.mark.parametrize("second_opinion", [True, False])
async def test_whisper_does_not_judge_its_own_transcript_alone(
    verified_hub: VoicePipeline, second_opinion: bool
) -> None:
    """Measured on the bench: Whisper heard 'start the vacuum' for 'stop the vacuum' (flite slt,
    festival kal) and, forced, fits its own mishearing best. The grammar's model must agree."""
    stop, start = "stop the vacuum", "start the vacuum"
    grammar = _Fixed({stop: 2.0, start: 1.0})
    ear = _Fixed({stop: -0.9, start: -0.3})
    policy = VerifyPolicy(voter="whisper", vote_candidates="near", second_opinion=second_opinion)
    engine = VerifiedEngine(grammar, ear, policy)  # type: ignore[arg-type]
    source = _source(verified_hub)
    await verified_hub.hub.async_add_executor_job(engine.set_vocabulary, source)
    verdict = engine.judge(_heard(stop), Hearing("Start the vacuum.", -0.3, 0.01, 0.1), b"")
    assert verdict.accept != second_opinion, verdict
    assert verdict.text in ("", start)


async def test_a_misspelt_number_is_settled_by_whisper_forced(
    verified: VerifiedEngine, verified_hub: VoicePipeline
) -> None:
    """Measured on the bench (flite slt): the grammar heard 'set the fridge to three degrees',
    Whisper wrote 'Set the fridge to free degrees.' Forced onto Whisper's decoder, 'three' is
    nearly as likely as what it wrote; without that evidence the numbers differ and it refuses."""
    text = "set the fridge to three degrees"
    pcm = _spoken(text, Voice("flite", "slt"))
    misspelt = Hearing("Set the fridge to free degrees.", -0.28, 0.01, 0.1)
    run = verified_hub.hub.async_add_executor_job
    verified.policy = VerifyPolicy()
    verdict = await run(verified.judge, _heard(text), misspelt, pcm)
    assert verdict.accept and verdict.text == text, verdict
    # The audio does not say 'five': Whisper's decoder finds it unlikely, so nothing acts.
    wrong = await run(verified.judge, _heard("set the fridge to five degrees"), misspelt, pcm)
    assert not wrong.accept, wrong
    verified.policy = VerifyPolicy(likely_margin=None)
    assert not (await run(verified.judge, _heard(text), misspelt, pcm)).accept
    verified.policy = VerifyPolicy()
