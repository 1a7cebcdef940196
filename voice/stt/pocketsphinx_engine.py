"""pocketsphinx in grammar mode, with a rejection step for out-of-grammar speech.

A grammar search always returns its closest sentence, so "play some jazz" comes out as a
command. Two checks follow the grammar pass:
- speaking rate: the hypothesis must account for the speech heard. Forced onto other speech,
  the grammar picks a short sentence ("don't", "buy water") and lets silence absorb the rest,
  which shows as far fewer phones per second of speech than anyone speaks (espeak-ng and people
  say 10-15; forced hypotheses measured 2-5).
- phone-loop ratio: the same audio decoded with a free phone loop; the per-frame
  log-likelihood ratio against the grammar pass is reported as `confidence` and must reach a
  floor measured per decoding mode (streamed while the person speaks, or whole afterwards).

The grammar decoder runs without bestpath: its lattice pass cost 0.5-0.7 s after the end of
speech on the home's bushy grammar, and changed no transcript in `bench/voice.py --quick`.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pocketsphinx as ps

from ..audio import BYTES_PER_SECOND, active_seconds
from ..grammar import Grammar, compile_jsgf
from .base import Transcript, VocabularySource

_LOGGER = logging.getLogger(__name__)
_GRAMMAR = "grammar"
_ONE_SENTENCE = "one_sentence"
# A word made of the silence phone: with fsgusefiller=False the grammar has no other way to
# absorb the pause before and after a command, and leading/trailing silence made it fail.
_SILENCE_WORD = "sil_"
_PHONES = "phones"
_PHONE_DICT = Path(__file__).parent.parent / "data" / "phone_loop.dict"
# Confidence is (log P_grammar - log P_phone_loop) per 1000 frames. Its spread depends on how
# the audio was decoded. Measured on the demo home, 44 commands and 8 out-of-grammar sentences,
# 4 espeak-ng voices x 3 speeds (528 and 96 clips), counting clips the speaking-rate check
# passes:
# - whole-utterance decoding (batch feature normalisation): at -3.0 no command is rejected and
#   46/96 other sentences get through; raising it costs commands fast (-1.0: 10/528 lost).
# - streamed decoding (live normalisation, what the pipeline does while a person speaks)
#   separates better: at -0.8, 4/528 commands are lost and 28/96 other sentences get through.
WHOLE_REJECT_BELOW = -3.0
STREAM_REJECT_BELOW = -0.8
MIN_PHONES_PER_SECOND = 6.5
# A home grammar is bushy (every sentence template is its own branch, lists are copied per
# use), so the default beams prune the right path: 37/44 corpus commands at 0.16 s mean.
# These beams gave 41/44 at 0.38 s mean (1.9 s worst) on this 2-core machine.
GRAMMAR_BEAMS = {"beam": 1e-55, "wbeam": 1e-40, "pbeam": 1e-55, "bestpath": False}


class PocketsphinxEngine:
    """English recogniser from the model pocketsphinx ships; loads in about 0.1 s."""

    name = "pocketsphinx"

    def __init__(
        self,
        reject_below: float | None = None,
        *,
        use_filler: bool = False,
        silence_word: bool = True,
        options: dict[str, object] | None = None,
    ) -> None:
        self.reject_below = reject_below  # None: the measured default of each decoding mode
        self.silence_word = silence_word
        self._lock = threading.Lock()
        self._fit_lock = threading.Lock()
        self._fitter: _Fitter | None = None  # made on the first vote (+11 MB)
        # fsgusefiller=False: with fillers the grammar search sometimes returned nothing.
        # lm=None: only the grammar search is used, and the default 3-gram model costs 64 MB.
        config = {**GRAMMAR_BEAMS, "lm": None, **(options or {})}
        self._decoder = ps.Decoder(ps.Config(fsgusefiller=use_filler, loglevel="FATAL", **config))
        self._decoder.add_word(_SILENCE_WORD, "SIL", True)
        # The phone loop keeps the default beams: it is a reference score, not a transcript.
        # It needs no words, so it gets a one-line dictionary (the full one is 20 MB in memory).
        self._phones = ps.Decoder(ps.Config(loglevel="FATAL", lm=None, dict=str(_PHONE_DICT)))
        self._phones.add_allphone_file(_PHONES, ps.get_model_path("en-us/en-us-phone.lm.bin"))
        self._phones.activate_search(_PHONES)
        # The model's initial feature means, so whole-utterance decoding never depends on
        # what was decoded before.
        self._cmn_start = (self._decoder.get_cmn(), self._phones.get_cmn())
        self._logmath = self._decoder.get_logmath()
        self.grammar: Grammar | None = None

    def supports(self, language: str) -> bool:
        return language == "en"

    def is_known_word(self, word: str) -> bool:
        return self._decoder.lookup_word(word) is not None

    def _phone_count(self, text: str) -> int:
        return sum(len((self._decoder.lookup_word(w) or "").split()) for w in text.split())

    def set_vocabulary(self, source: VocabularySource) -> None:
        if not self.supports(source.language):
            return
        grammar = compile_jsgf(
            source.intents, source.slot_lists, source.language, self.is_known_word
        )
        body = grammar.jsgf.replace("public <command> =", "<command> =")
        sil = f"[{_SILENCE_WORD}]" if self.silence_word else ""
        jsgf = f"{body}public <utterance> = {sil} <command> {sil};\n"
        with self._lock:
            self._decoder.add_jsgf_string(_GRAMMAR, jsgf)
            self._decoder.activate_search(_GRAMMAR)
            self.grammar = grammar

    def transcribe(self, pcm: bytes, language: str) -> Transcript:
        self._lock.acquire()
        stream = self._begin(language)
        stream.feed(pcm, whole=True)
        return stream.finish()

    def score_sentences(self, pcm: bytes, language: str, sentences: list[str]) -> dict[str, float]:
        """How well each sentence alone fits the audio: the grammar pass's confidence measure
        (per-frame log-likelihood ratio against the phone loop), decoded whole.

        The home grammar's beams can prune the right sentence; forced onto one sentence the
        decoder cannot, so this is the acoustic model's vote between candidates another ear
        proposed. A sentence with a word the dictionary lacks scores -inf. Blocking.
        """
        if not self.supports(language) or not sentences:
            return {}
        with self._fit_lock:
            fitter = self._fitter or _Fitter(self._decoder.lookup_word, self.silence_word)
            self._fitter = fitter
            return fitter.score(pcm, sentences)

    def open_stream(self, language: str) -> PocketsphinxStream | None:
        """Decode while the person is still speaking; None if the decoder is busy."""
        if not self._lock.acquire(blocking=False):
            return None  # another satellite is mid-utterance: the caller decodes in one go
        return self._begin(language)

    def _begin(self, language: str) -> PocketsphinxStream:
        if self.grammar is None or not self.supports(language):
            self._lock.release()
            raise RuntimeError(f"pocketsphinx has no grammar loaded for {language!r}")
        return PocketsphinxStream(self, language)

    def _judge(
        self,
        text: str,
        grammar_score: float,
        phone_score: float,
        frames: int,
        pcm: bytes,
        streamed: bool = False,
    ) -> tuple[float, bool]:
        """Confidence and the rejection decision (see the module docstring)."""
        confidence = _ratio(grammar_score, phone_score, frames) if text and frames else -math.inf
        rate = self._phone_count(text) / max(active_seconds(pcm), 0.1)
        threshold = self.reject_below
        if threshold is None:
            threshold = STREAM_REJECT_BELOW if streamed else WHOLE_REJECT_BELOW
        rejected = not text or confidence < threshold or rate < MIN_PHONES_PER_SECOND
        _LOGGER.debug(
            "heard %r confidence %.2f, %.1f phones/s, rejected %s", text, confidence, rate, rejected
        )
        return confidence, rejected


class _Fitter:
    """Decoders of their own for forced fits, with batch feature normalisation: the live
    decoders' normalisation carries state from utterance to utterance (the same audio scored
    1.12 and 2.27 depending on what came before), and a vote must not depend on history."""

    def __init__(self, pronounce: Callable[[str], str | None], silence_word: bool) -> None:
        self._pronounce = pronounce
        self._silence = f"[{_SILENCE_WORD}]" if silence_word else ""
        small = {"loglevel": "FATAL", "lm": None, "cmn": "batch", "dict": str(_PHONE_DICT)}
        self._decoder = ps.Decoder(ps.Config(**small, **GRAMMAR_BEAMS))
        self._phones = ps.Decoder(ps.Config(**small))
        self._phones.add_allphone_file(_PHONES, ps.get_model_path("en-us/en-us-phone.lm.bin"))
        self._phones.activate_search(_PHONES)

    def score(self, pcm: bytes, sentences: list[str]) -> dict[str, float]:
        self._phones.start_utt()
        self._phones.process_raw(pcm, no_search=False, full_utt=True)
        _text, phone_score, _frames = _end(self._phones)
        return {s: self._forced(pcm, s, phone_score) for s in sentences}

    def _forced(self, pcm: bytes, sentence: str, phone_score: float) -> float:
        words = sentence.split()
        if not words or not all(self._known(w) for w in words):
            return -math.inf
        jsgf = (
            f"#JSGF V1.0;\ngrammar one;\npublic <u> = {self._silence} {sentence} {self._silence};\n"
        )
        try:
            self._decoder.add_jsgf_string(_ONE_SENTENCE, jsgf)
        except RuntimeError:  # a dictionary word JSGF cannot spell: no vote
            return -math.inf
        self._decoder.activate_search(_ONE_SENTENCE)
        self._decoder.start_utt()
        self._decoder.process_raw(pcm, no_search=False, full_utt=True)
        text, score, frames = _end(self._decoder)
        return _ratio(score, phone_score, frames) if text and frames else -math.inf

    def _known(self, word: str) -> bool:
        """Copy the word's pronunciation from the full dictionary on first use."""
        if self._decoder.lookup_word(word) is not None:
            return True
        phones = self._pronounce(word)
        if phones is None:
            return False
        self._decoder.add_word(word, phones, False)
        return True


class PocketsphinxStream:
    """One utterance being decoded by both passes as audio arrives; holds the engine's lock."""

    def __init__(self, engine: PocketsphinxEngine, language: str) -> None:
        self.engine = engine
        self.language = language
        self.pcm = bytearray()
        self.decode_seconds = 0.0
        self.streamed = False
        self._open = True
        self._started = False

    def feed(self, pcm: bytes, whole: bool = False) -> None:
        """Add audio; `whole` says it is the entire utterance (batch feature normalisation)."""
        started = time.perf_counter()
        if not self._started:
            self._start(whole)
        self.pcm += pcm
        self.engine._decoder.process_raw(pcm, no_search=False, full_utt=whole)
        self.engine._phones.process_raw(pcm, no_search=False, full_utt=whole)
        self.decode_seconds += time.perf_counter() - started
        self.streamed = not whole

    def _start(self, whole: bool) -> None:
        if whole:
            # Whole utterances normalise on themselves: the same audio, the same result.
            self.engine._decoder.set_cmn(self.engine._cmn_start[0])
            self.engine._phones.set_cmn(self.engine._cmn_start[1])
        # Streamed, live normalisation starts from the running mean of the utterances before
        # (channel adaptation): better on the bench, but results depend on earlier speech.
        self.engine._decoder.start_utt()
        self.engine._phones.start_utt()
        self._started = True

    def finish(self) -> Transcript:
        """End the utterance and judge it; releases the engine."""
        started = time.perf_counter()
        if not self._started:
            self._start(whole=True)
        try:
            text, grammar_score, frames = _end(self.engine._decoder)
            _phones, phone_score, _ = _end(self.engine._phones)
        finally:
            self._release()
        pcm = bytes(self.pcm)
        confidence, rejected = self.engine._judge(
            text, grammar_score, phone_score, frames, pcm, self.streamed
        )
        return Transcript(
            text=text,
            language=self.language,
            engine=self.engine.name,
            confidence=confidence,
            rejected=rejected,
            audio_seconds=len(pcm) / BYTES_PER_SECOND,
            decode_seconds=self.decode_seconds + time.perf_counter() - started,
        )

    def abort(self) -> None:
        if self._open:
            try:
                if self._started:
                    self.engine._decoder.end_utt()
                    self.engine._phones.end_utt()
            finally:
                self._release()

    def _release(self) -> None:
        if self._open:
            self._open = False
            self.engine._lock.release()


def _end(decoder: ps.Decoder) -> tuple[str, float, int]:
    """Finish an utterance: (text without silence words, exp(score), frames)."""
    decoder.end_utt()
    hyp = decoder.hyp()
    if hyp is None:
        return "", 0.0, decoder.n_frames()
    words = [w for w in hyp.hypstr.split() if w != _SILENCE_WORD]
    # The binding returns exp(score); _ratio takes the log back.
    return " ".join(words), hyp.score, decoder.n_frames()


def _ratio(grammar_score: float, phone_score: float, frames: int) -> float:
    if grammar_score <= 0.0 or phone_score <= 0.0:
        return -math.inf
    return (math.log(grammar_score) - math.log(phone_score)) / frames * 1000.0
