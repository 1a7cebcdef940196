"""pocketsphinx in grammar mode, with a phone-loop pass to reject out-of-grammar speech.

A grammar search always returns its closest sentence, so "play some jazz" comes out as a
command. The second pass decodes the same audio with a free phone loop (the model's phonetic
LM). In-grammar speech scores about as well under the grammar as under the free loop;
anything else scores much worse under the grammar. The per-frame log-likelihood ratio is the
confidence, and a threshold on it is the rejection step.
"""

from __future__ import annotations

import logging
import math
import threading
import time

import pocketsphinx as ps

from ..audio import BYTES_PER_SECOND
from ..grammar import Grammar, compile_jsgf
from .base import Transcript, VocabularySource

_LOGGER = logging.getLogger(__name__)
_GRAMMAR = "grammar"
_PHONES = "phones"
# Confidence is (log P_grammar - log P_phone_loop) per 1000 frames. On a 3-intent grammar it
# separated espeak-ng commands (1.9..2.9) from other speech (-0.5..0.6); on the full demo-home
# grammar in-grammar commands score 0.05..3.3 and some other speech scores up to 2.3, so this
# threshold only removes the clearly foreign. See bench/voice.py for the measured rates.
DEFAULT_REJECT_BELOW = 0.0


class PocketsphinxEngine:
    """English recogniser from the model pocketsphinx ships; loads in about 0.1 s."""

    name = "pocketsphinx"

    def __init__(self, reject_below: float = DEFAULT_REJECT_BELOW) -> None:
        self.reject_below = reject_below
        self._lock = threading.Lock()
        # fsgusefiller=False: with fillers the grammar search sometimes returned nothing.
        self._decoder = ps.Decoder(ps.Config(fsgusefiller=False, loglevel="FATAL"))
        self._decoder.add_allphone_file(_PHONES, ps.get_model_path("en-us/en-us-phone.lm.bin"))
        self._logmath = self._decoder.get_logmath()
        self.grammar: Grammar | None = None

    def supports(self, language: str) -> bool:
        return language == "en"

    def is_known_word(self, word: str) -> bool:
        return self._decoder.lookup_word(word) is not None

    def set_vocabulary(self, source: VocabularySource) -> None:
        if not self.supports(source.language):
            return
        grammar = compile_jsgf(
            source.intents, source.slot_lists, source.language, self.is_known_word
        )
        with self._lock:
            self._decoder.add_jsgf_string(_GRAMMAR, grammar.jsgf)
            self._decoder.activate_search(_GRAMMAR)
            self.grammar = grammar

    def transcribe(self, pcm: bytes, language: str) -> Transcript:
        started = time.perf_counter()
        seconds = len(pcm) / BYTES_PER_SECOND
        if self.grammar is None or not self.supports(language):
            raise RuntimeError(f"pocketsphinx has no grammar loaded for {language!r}")
        with self._lock:
            text, grammar_score, frames = self._decode(_GRAMMAR, pcm)
            confidence = -math.inf
            if text and frames:
                _phones, phone_score, _ = self._decode(_PHONES, pcm)
                confidence = _ratio(grammar_score, phone_score, frames)
            self._decoder.activate_search(_GRAMMAR)
        rejected = not text or confidence < self.reject_below
        _LOGGER.debug("heard %r confidence %.2f rejected %s", text, confidence, rejected)
        return Transcript(
            text=text,
            language=language,
            engine=self.name,
            confidence=confidence,
            rejected=rejected,
            audio_seconds=seconds,
            decode_seconds=time.perf_counter() - started,
        )

    def _decode(self, search: str, pcm: bytes) -> tuple[str, float, int]:
        decoder = self._decoder
        decoder.activate_search(search)
        decoder.start_utt()
        decoder.process_raw(pcm, no_search=False, full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
        if hyp is None:
            return "", 0.0, decoder.n_frames()
        # The binding hands back exp(score); the raw log score is recovered with logmath.
        return hyp.hypstr.strip(), hyp.score, decoder.n_frames()


def _ratio(grammar_score: float, phone_score: float, frames: int) -> float:
    if grammar_score <= 0.0 or phone_score <= 0.0:
        return -math.inf
    return (math.log(grammar_score) - math.log(phone_score)) / frames * 1000.0
