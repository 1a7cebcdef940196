"""Two ears, one decision: the grammar decode proposes a command, Whisper must agree.

A closed grammar always returns its nearest sentence, so speech that is not a command comes out
as one. Whisper hears the same audio with an open vocabulary; its transcript, spelled like the
grammar, must be nearest to the grammar's sentence (among every sentence the grammar samples)
and differ from it by few words. Otherwise the utterance is refused: a refusal beats a wrong
action. Modes (measured side by side in bench/voice.py):
- "agree":   act on the grammar's sentence only when Whisper agrees (the default).
- "whisper": Whisper decides alone: its transcript snapped to the nearest grammar sentence.
- "unsure":  skip Whisper when the grammar pass is very sure (cheaper, weaker evidence).

When the two ears propose different commands (and Whisper is sure it heard speech), the
candidates vote (`rescore`): the grammar's sentence, Whisper's transcript when that is itself a
command, and the grammar sentences nearest to Whisper's text are each forced onto Whisper's
decoder; the one Whisper is close to acts only if it fits best, fits well and no other command
fits alike. When the command under vote is Whisper's own transcript, pocketsphinx's forced fit
must pick it too: forced, Whisper fits what it misheard best. The home grammar's search prunes
("make gate to twenty one" for "make it twenty one degrees"); a forced sentence cannot be pruned.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Literal, Protocol

from hassil import recognize
from hassil.expression import ListReference
from hassil.intents import SlotList, TextSlotList

from ..grammar import sample_phrases, tokenize
from .base import Transcript, VocabularySource
from .snap import Snap, Snapper, char_rate, numbers, spell, word_distance
from .whisper_engine import Hearing, WhisperEar, cut_repeat

_LOGGER = logging.getLogger(__name__)
Mode = Literal["agree", "whisper", "unsure"]
Meaning = tuple[str, tuple[tuple[str, str], ...]]  # intent name, sorted slot values
# The grammar engine's forced fit: (pcm, language, sentences) -> confidence per sentence.
Scorer = Callable[[bytes, str, list[str]], dict[str, float]]
# Sentences sampled from the grammar for the snap. The grammar's own hypothesis is always a
# candidate too, so a grammar larger than the sample still verifies; only "whisper" mode
# (which has no grammar hypothesis) is limited to the sample.
SNAP_SENTENCES = 20000
# Slot lists whose values prime Whisper (WhisperEar.set_context): rooms first, then devices.
CONTEXT_LISTS = ("area", "floor", "name", "rule_phrase")


@dataclass(frozen=True)
class VerifyPolicy:
    """Evidence needed to act. Floors chosen on the dev split (bench/voice.py --tune)."""

    mode: Mode = "agree"
    # Character edits per character between Whisper's spelled text and the grammar sentence:
    # tiny.en mishears synthetic voices ("mad room" for "bedroom") but stays close in letters,
    # while speech that is no command lands far from the sentence the grammar forced on it.
    max_char_rate: float = 0.30  # dev grid: 0.40 let 1/59 dev negatives act
    min_logprob: float = -1.6  # Whisper's mean token log-probability (dev grid)
    max_no_speech: float = 0.6
    grammar_floor: bool = False  # also require the grammar pass's own rejection checks
    sure_confidence: float = 1.5  # "unsure": grammar confidence that skips Whisper
    rescore: bool = True  # let the acoustic model vote when the ears disagree
    # Forced-fit confidence (the grammar pass's measure) the chosen sentence needs, and how far
    # below the best-fitting candidate it may be. 0: the acoustic model's winner must be a
    # sentence Whisper heard. The dev grid could not tell 0 from 0.3 apart (83.5% against
    # 82.4% right, 0.6% wrong both); 0.3 then acted wrongly on 5 of 308 test commands
    # ("stop" as "start", "unlock" as "lock"), so the ears must agree on the winner.
    min_fit: float = 0.5
    fit_margin: float = 0.0
    snap_candidates: int = 3  # nearest sentences and nearest shapes, each
    # What the vote chooses between: "heard" the grammar's sentence and Whisper's transcript
    # when that is itself a command; "near" also the grammar sentences nearest to Whisper's
    # text. With the grammar's model voting, "near" acted wrongly on 5 of 132 holdout commands
    # (all in one accent); with Whisper's decoder voting, on none.
    vote_candidates: Literal["heard", "near"] = "near"
    # How much better the chosen sentence must fit than one Whisper is as close to that means
    # another command ("turn on" / "turn off" for "turn of"): the vote must be decisive.
    vote_margin: float = 0.1
    # Who votes: "grammar" forces the candidates on pocketsphinx (fits: log-likelihood ratio per
    # frame against the phone loop); "whisper" forces them on Whisper's decoder (fits: mean token
    # log-probability), with its own floor and margin; "both": each must pick the same command.
    # Floor and margin from the dev split (bench/voice.py --tune): -1.5 and 0.1.
    voter: Literal["grammar", "whisper", "both"] = "whisper"
    whisper_min_fit: float = -1.5
    whisper_margin: float = 0.1
    # Whisper may not be the only judge of its own transcript: forced, it fits what it misheard
    # best ("stop the vacuum" heard as "start" acted on 2 test commands). When its transcript is
    # the command under vote, the grammar's model must pick it too.
    second_opinion: bool = True
    # When Whisper heard no command, the grammar's sentence may also win the vote if Whisper's
    # decoder, forced, finds it at most this much less likely (mean token log-probability) than
    # its own transcript, however far apart they are in letters. None: only letters count.
    likely_margin: float | None = 0.6  # dev: 0.6 and 1.0 tied (86.9% right, none wrong)


class GrammarEngine(Protocol):
    """What the verifier needs from the grammar recogniser (PocketsphinxEngine)."""

    name: str

    def supports(self, language: str) -> bool: ...
    def set_vocabulary(self, source: VocabularySource) -> None: ...
    def transcribe(self, pcm: bytes, language: str) -> Transcript: ...


@dataclass(frozen=True)
class Voter:
    """A model that scores candidate sentences on the audio, with its floor and margin."""

    fits: Scorer
    min_fit: float
    margin: float


@dataclass(frozen=True)
class Verdict:
    """Why the verifier acted or refused (logged; kept on the transcript's `detail`)."""

    accept: bool
    text: str
    reason: str
    snap: Snap | None = None
    disputed: bool = False  # the ears disagree, and Whisper was sure it heard speech


class VerifiedEngine:
    """An SttEngine: grammar pass (streamed or whole) then Whisper on the same audio."""

    def __init__(
        self,
        grammar: GrammarEngine,
        ear: WhisperEar,
        policy: VerifyPolicy | None = None,
        context: bool = False,
    ) -> None:
        self.grammar = grammar
        self.ear = ear
        self.policy = policy or VerifyPolicy()
        # Prime Whisper with the home's names: on the dev split it heard fewer commands right
        # (76.7% against 78.4%), so it is off unless asked for.
        self.context = context
        self.name = f"{grammar.name}+whisper"
        self._snappers: dict[str, Snapper] = {}
        self._meanings: dict[str, Callable[[str], Meaning | None]] = {}
        self._lock = threading.Lock()

    def supports(self, language: str) -> bool:
        # tiny.en is English-only: other languages stay with their own engines.
        return language == "en" and self.grammar.supports(language)

    def set_vocabulary(self, source: VocabularySource) -> None:
        self.grammar.set_vocabulary(source)
        if not self.supports(source.language):
            return
        if self.context:
            self.ear.set_context(source.language, home_context(source))
        phrases = _sample(source)
        meaning = partial(_meaning, source, _with_empty_lists(source))
        with self._lock:
            self._snappers[source.language] = Snapper(spell(p, source.language) for p in phrases)
            self._meanings[source.language] = meaning

    def snap(self, text: str, language: str = "en") -> Snap | None:
        """The grammar sentence nearest to free text (e.g. Whisper's)."""
        with self._lock:
            snapper = self._snappers.get(language)
        return None if snapper is None else snapper.nearest(spell(text, language))

    def transcribe(self, pcm: bytes, language: str) -> Transcript:
        return self.verify(self.grammar.transcribe(pcm, language), pcm)

    def open_stream(self, language: str) -> VerifiedStream | None:
        opener = getattr(self.grammar, "open_stream", None)
        stream = None if opener is None else opener(language)
        return None if stream is None else VerifiedStream(self, stream)

    def verify(self, heard: Transcript, pcm: bytes) -> Transcript:
        """The grammar's transcript, accepted or refused on Whisper's evidence."""
        started = time.perf_counter()
        policy = self.policy
        if policy.mode == "unsure" and not heard.rejected:
            if heard.confidence >= policy.sure_confidence:
                return replace(heard, engine=self.name, detail="grammar sure")
        hearing = self.ear.hear(pcm)
        verdict = self.judge(heard, hearing, pcm)
        _LOGGER.debug(
            "grammar %r (%.2f%s), whisper %r (%.2f, no speech %.2f): %s",
            heard.text,
            heard.confidence,
            ", rejected" if heard.rejected else "",
            hearing.text,
            hearing.logprob,
            hearing.no_speech,
            verdict.reason,
        )
        return replace(
            heard,
            text=verdict.text if verdict.accept else "",
            engine=self.name,
            rejected=not verdict.accept,
            decode_seconds=heard.decode_seconds + time.perf_counter() - started,
            heard=hearing.text,
            detail=verdict.reason,
        )

    def judge(self, heard: Transcript, hearing: Hearing, pcm: bytes) -> Verdict:
        """`decide`, then the forced-fit vote if the ears disagree (blocking)."""
        verdict = self.decide(heard, hearing)
        if verdict.accept or not verdict.disputed or not self.policy.rescore:
            return verdict
        return self.rescore(heard, hearing, pcm)

    def _voters(self, whisper_proposes: bool) -> dict[str, Voter]:
        """Each model that votes, with the floor and margin its scale needs (none: no vote)."""
        policy = self.policy
        voter = policy.voter
        if voter == "whisper" and whisper_proposes and policy.second_opinion:
            voter = "both"
        voters: dict[str, Voter] = {}
        if voter in ("grammar", "both"):
            grammar = getattr(self.grammar, "score_sentences", None)
            if grammar is None:
                return {}
            voters["grammar"] = Voter(grammar, policy.min_fit, policy.vote_margin)
        if voter in ("whisper", "both"):
            voters["whisper"] = Voter(
                self._whisper_fits, policy.whisper_min_fit, policy.whisper_margin
            )
        return voters

    def _whisper_fits(self, pcm: bytes, language: str, sentences: list[str]) -> dict[str, float]:
        return self.ear.score(pcm, sentences, language)

    def rescore(self, heard: Transcript, hearing: Hearing, pcm: bytes) -> Verdict:
        """The candidate sentence Whisper is close to that every voter fits best, or a refusal."""
        policy = self.policy
        language = heard.language
        spoken = spell(cut_repeat(hearing.text), language)
        with self._lock:
            meaning = self._meanings.get(language)
            snapper = self._snappers.get(language)
        if meaning is None or snapper is None:
            return Verdict(False, "", "no grammar to rescore against")
        whisper_meaning = meaning(spoken)
        if whisper_meaning is None and policy.vote_candidates == "heard":
            # Only the grammar proposes: its sentence is what the ears disputed.
            return Verdict(False, "", f"whisper heard no command: '{spoken}'")
        proposed = [" ".join(tokenize(heard.text))]
        proposed += [spoken] if whisper_meaning is not None else []
        if policy.vote_candidates == "near":
            proposed += snapper.candidates(spoken, policy.snap_candidates)
        meanings = {c: meaning(c) for c in dict.fromkeys(p for p in proposed if p)}
        candidates = {c: m for c, m in meanings.items() if m is not None}
        if not candidates:
            return Verdict(False, "", f"no command near '{spoken}'")

        def heard_it(sentence: str) -> bool:
            # Whisper must be close to it in letters and numbers, and mean the same command
            # when its own transcript is one.
            return (
                char_rate(spoken, sentence) <= policy.max_char_rate
                and numbers(spoken) == numbers(sentence)
                and whisper_meaning in (None, candidates[sentence])
            )

        voters = self._voters(whisper_proposes=whisper_meaning is not None)
        if not voters:
            return Verdict(False, "", "no model to vote")
        fitted: dict[str, dict[str, float]] = {}

        def fits_of(name: str) -> dict[str, float]:
            if name not in fitted:
                fitted[name] = voters[name].fits(pcm, language, list(candidates))
            return fitted[name]

        eligible = [c for c in candidates if heard_it(c)]
        grammar_sentence = proposed[0]
        if (
            policy.likely_margin is not None
            and whisper_meaning is None
            and "whisper" in voters
            and grammar_sentence in candidates
            and grammar_sentence not in eligible
        ):
            # Whisper misspelt it ("set the fridge to free degrees"), but forced onto its decoder
            # the grammar's sentence is nearly as likely as what it wrote down.
            forced = fits_of("whisper").get(grammar_sentence, -math.inf)
            if forced >= hearing.logprob - policy.likely_margin:
                eligible.append(grammar_sentence)
        if not eligible:
            return Verdict(False, "", f"no command near '{spoken}' fits the audio")
        chosen: str | None = None
        said: list[str] = []
        for name, voter in voters.items():
            fits = fits_of(name)
            pick = max(eligible, key=lambda c: fits.get(c, -math.inf))
            fit = fits.get(pick, -math.inf)
            best_fit = max(fits.values(), default=-math.inf)
            if fit < voter.min_fit:
                return Verdict(False, "", f"'{pick}' fits the audio poorly ({name} {fit:.2f})")
            if fit < best_fit - policy.fit_margin:
                reason = f"the audio fits another sentence better than '{pick}' ({name})"
                return Verdict(False, "", reason)
            rivals = [fits.get(c, -math.inf) for c in eligible if candidates[c] != candidates[pick]]
            if rivals and fit < max(rivals) + voter.margin:
                reason = f"the audio fits '{pick}' and another command alike ({name})"
                return Verdict(False, "", reason)
            if chosen is not None and candidates[pick] != candidates[chosen]:
                return Verdict(False, "", f"the votes differ: '{chosen}', '{pick}' ({name})")
            chosen = chosen or pick
            said.append(f"{name} {fit:.2f}")
        assert chosen is not None
        mine = Snap(chosen, word_distance(spoken, chosen), len(chosen.split()))
        return Verdict(True, chosen, f"rescored ({', '.join(said)})", mine)

    def decide(self, heard: Transcript, hearing: Hearing) -> Verdict:
        """Act or refuse, from the grammar's hypothesis and what Whisper heard."""
        policy = self.policy
        spoken = spell(cut_repeat(hearing.text), heard.language)
        if not spoken:
            return Verdict(False, "", "whisper heard nothing")
        if hearing.no_speech > policy.max_no_speech:
            return Verdict(False, "", f"no speech ({hearing.no_speech:.2f})")
        if hearing.logprob < policy.min_logprob:
            return Verdict(False, "", f"whisper unsure ({hearing.logprob:.2f})")
        with self._lock:
            meaning = self._meanings.get(heard.language)
            snapper = self._snappers.get(heard.language)
        heard_meaning = meaning(spoken) if meaning is not None else None
        if policy.mode == "whisper":
            if heard_meaning is not None:
                return Verdict(True, spoken, "whisper heard a command")
            nearest = snapper.nearest(spoken) if snapper is not None else None
            if nearest is None or char_rate(spoken, nearest.sentence) > policy.max_char_rate:
                return Verdict(False, "", f"'{spoken}' is no command", nearest)
            return Verdict(True, nearest.sentence, "whisper snapped", nearest)
        grammar_text = " ".join(tokenize(heard.text))
        if not grammar_text:
            return Verdict(False, "", "grammar heard nothing", disputed=True)
        if policy.grammar_floor and heard.rejected:
            return Verdict(False, "", "grammar pass rejected it", disputed=True)
        mine = Snap(grammar_text, word_distance(spoken, grammar_text), len(grammar_text.split()))
        if numbers(spoken) != numbers(grammar_text):
            # A number is the whole command ("ten minutes", "minus twenty"): no tolerance.
            return Verdict(False, "", f"numbers differ: whisper heard '{spoken}'", mine, True)
        if heard_meaning is not None and meaning is not None:
            if heard_meaning != meaning(grammar_text):
                reason = f"whisper heard another command: '{spoken}'"
                return Verdict(False, "", reason, mine, disputed=True)
            return Verdict(True, heard.text, "same command", mine)
        rate = char_rate(spoken, grammar_text)
        if rate > policy.max_char_rate:
            return Verdict(False, "", f"'{spoken}' is {rate:.2f} off", mine, disputed=True)
        rival = _rival(spoken, grammar_text, rate, meaning, snapper, policy.snap_candidates)
        if rival is not None:
            # "turn of the kitchen light" is as close to "turn off" as to "turn on": closeness
            # in letters is no evidence for either, so the acoustic model must decide.
            reason = f"'{spoken}' is as close to '{rival}'"
            return Verdict(False, "", reason, mine, disputed=True)
        return Verdict(True, heard.text, "agree", mine)


class VerifiedStream:
    """The grammar engine's live stream; Whisper runs on the whole utterance at the end."""

    def __init__(self, engine: VerifiedEngine, stream: Any) -> None:
        self.engine = engine
        self.stream = stream
        self.pcm = bytearray()

    def feed(self, pcm: bytes, whole: bool = False) -> None:
        self.pcm += pcm
        self.stream.feed(pcm, whole)

    def finish(self) -> Transcript:
        return self.engine.verify(self.stream.finish(), bytes(self.pcm))

    def abort(self) -> None:
        self.stream.abort()


def _rival(
    spoken: str,
    grammar_text: str,
    rate: float,
    meaning: Callable[[str], Meaning | None] | None,
    snapper: Snapper | None,
    limit: int,
) -> str | None:
    """A sentence meaning another command that Whisper's text is at least as close to."""
    if meaning is None or snapper is None:
        return None
    mine = meaning(grammar_text)
    for sentence in snapper.candidates(spoken, limit):
        if char_rate(spoken, sentence) <= rate and meaning(sentence) not in (None, mine):
            return sentence
    return None


def default_verifier(grammar: GrammarEngine, mode: Mode = "agree") -> VerifiedEngine:
    """The shipped design: Whisper tiny.en with a short window, verifying the grammar."""
    return VerifiedEngine(grammar, WhisperEar(), VerifyPolicy(mode=mode))


def home_context(source: VocabularySource) -> str:
    """The home's names (rooms, storeys, devices, rule phrases) as text for Whisper to expect."""
    names: list[str] = []
    for key in CONTEXT_LISTS:
        slot_list = source.slot_lists.get(key)
        for value in getattr(slot_list, "values", None) or ():
            text = getattr(value.text_in, "text", None)
            if isinstance(text, str) and text.strip():
                names.append(text.strip())
    return ", ".join(dict.fromkeys(names)) + "." if names else ""


def _meaning(source: VocabularySource, lists: dict[str, SlotList], text: str) -> Meaning | None:
    """What the templates make of `text` (intent and slot values), or None."""
    try:
        result = recognize(text, source.intents, slot_lists=lists, language=source.language)
    except Exception:  # a list the home lacks, odd input: no meaning, never a crash
        return None
    if result is None:
        return None
    slots = tuple(sorted((k, str(e.value)) for k, e in result.entities.items()))
    return result.intent.name, slots


def _with_empty_lists(source: VocabularySource) -> dict[str, SlotList]:
    """The home's lists, plus an empty one for every list a template names but the home lacks
    (hassil refuses a template whose list is missing; an empty list just matches nothing)."""
    names: set[str] = set()

    def walk(expr: Any) -> None:
        if isinstance(expr, ListReference):
            names.add(expr.list_name)
        for item in getattr(expr, "items", None) or ():
            walk(item)

    for intent in source.intents.intents.values():
        for data in intent.data:
            for sentence in data.sentences:
                walk(sentence.expression)
    for rule in source.intents.expansion_rules.values():
        walk(rule.expression)
    known = {**source.intents.slot_lists, **source.slot_lists}
    empty = {n: TextSlotList(name=n, values=[]) for n in names if n not in known}
    return {**empty, **source.slot_lists}


def _sample(source: VocabularySource) -> list[str]:
    """Grammar sentences for the snap, spread evenly over the intents (one big sample would
    spend the whole budget on the first intents' templates)."""
    intents = source.intents.intents
    per_intent = max(50, SNAP_SENTENCES // max(len(intents), 1))
    lists = _with_empty_lists(source)
    phrases: list[str] = []
    for name, intent in intents.items():
        only = dataclasses.replace(source.intents, intents={name: intent})
        try:
            with _quiet_cap():
                phrases += sample_phrases(only, lists, source.language, per_intent)
        except Exception as err:  # one odd template must not cost the rest of the index
            _LOGGER.warning("no snap sentences for %s: %s", name, err)
    return phrases


@contextmanager
def _quiet_cap() -> Iterator[None]:
    """sample_phrases warns when it caps a list; a capped sample is expected here."""
    logs = [logging.getLogger(name) for name in ("voice.grammar", "hassil.sample")]
    levels = [log.level for log in logs]
    for log in logs:
        log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for log, level in zip(logs, levels, strict=True):
            log.setLevel(level)
