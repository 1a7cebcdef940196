"""pocketsphinx in grammar mode, with a rejection step for out-of-grammar speech.

A grammar search always returns its closest sentence, so "play some jazz" comes out as a
command. Two checks follow the grammar pass:
- speaking rate: the hypothesis must account for the speech heard. Forced onto other speech,
  the grammar picks a short sentence ("don't", "buy water") and lets silence absorb the rest,
  which shows as far fewer phones per second of speech than anyone speaks (espeak-ng and people
  say 10-15; forced hypotheses measured 2-5).
- phone-loop ratio: the same audio decoded with a free phone loop; the per-frame
  log-likelihood ratio against the grammar pass is reported as `confidence`. Measured on the
  demo-home grammar it does not separate commands from other speech well (commands -0.3..2.2,
  other speech -0.9..2.3), so by default it only rejects when far below zero.
"""

from __future__ import annotations

import logging
import math
import threading
import time

import pocketsphinx as ps

from ..audio import BYTES_PER_SECOND, active_seconds
from ..grammar import Grammar, compile_jsgf
from .base import Transcript, VocabularySource

_LOGGER = logging.getLogger(__name__)
_GRAMMAR = "grammar"
# A word made of the silence phone: with fsgusefiller=False the grammar has no other way to
# absorb the pause before and after a command, and leading/trailing silence made it fail.
_SILENCE_WORD = "sil_"
_PHONES = "phones"
# Confidence is (log P_grammar - log P_phone_loop) per 1000 frames. On a 3-intent grammar it
# separated espeak-ng commands (1.9..2.9) from other speech (-0.5..0.6); on the full demo-home
# grammar in-grammar commands score 0.05..3.3 and some other speech scores up to 2.3, so this
# threshold only removes the clearly foreign. See bench/voice.py for the measured rates.
DEFAULT_REJECT_BELOW = -3.0
MIN_PHONES_PER_SECOND = 6.5
# A home grammar is bushy (every sentence template is its own branch, lists are copied per
# use), so the default beams prune the right path: 37/44 corpus commands at 0.16 s mean.
# These beams gave 41/44 at 0.38 s mean (1.9 s worst) on this 2-core machine.
GRAMMAR_BEAMS = {"beam": 1e-55, "wbeam": 1e-40, "pbeam": 1e-55}


class PocketsphinxEngine:
    """English recogniser from the model pocketsphinx ships; loads in about 0.1 s."""

    name = "pocketsphinx"

    def __init__(
        self,
        reject_below: float = DEFAULT_REJECT_BELOW,
        *,
        use_filler: bool = False,
        silence_word: bool = True,
        options: dict[str, object] | None = None,
    ) -> None:
        self.reject_below = reject_below
        self.silence_word = silence_word
        self._lock = threading.Lock()
        # fsgusefiller=False: with fillers the grammar search sometimes returned nothing.
        config = {**GRAMMAR_BEAMS, **(options or {})}
        self._decoder = ps.Decoder(ps.Config(fsgusefiller=use_filler, loglevel="FATAL", **config))
        self._decoder.add_word(_SILENCE_WORD, "SIL", True)
        # The phone loop keeps the default beams: it is a reference score, not a transcript.
        self._phones = ps.Decoder(ps.Config(loglevel="FATAL"))
        self._phones.add_allphone_file(_PHONES, ps.get_model_path("en-us/en-us-phone.lm.bin"))
        self._phones.activate_search(_PHONES)
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
        started = time.perf_counter()
        seconds = len(pcm) / BYTES_PER_SECOND
        if self.grammar is None or not self.supports(language):
            raise RuntimeError(f"pocketsphinx has no grammar loaded for {language!r}")
        with self._lock:
            text, grammar_score, frames = _decode(self._decoder, pcm)
            confidence = -math.inf
            if text and frames:
                _phones, phone_score, _ = _decode(self._phones, pcm)
                confidence = _ratio(grammar_score, phone_score, frames)
        rate = self._phone_count(text) / max(active_seconds(pcm), 0.1)
        rejected = not text or confidence < self.reject_below or rate < MIN_PHONES_PER_SECOND
        _LOGGER.debug(
            "heard %r confidence %.2f, %.1f phones/s, rejected %s", text, confidence, rate, rejected
        )
        return Transcript(
            text=text,
            language=language,
            engine=self.name,
            confidence=confidence,
            rejected=rejected,
            audio_seconds=seconds,
            decode_seconds=time.perf_counter() - started,
        )


def _decode(decoder: ps.Decoder, pcm: bytes) -> tuple[str, float, int]:
    """Decode a whole utterance with the decoder's active search: (text, score, frames)."""
    decoder.start_utt()
    decoder.process_raw(pcm, no_search=False, full_utt=True)
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
