"""vosk with a phrase-list grammar, for users who install a vosk model (any language)."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

from ..audio import BYTES_PER_SECOND, RATE
from ..grammar import sample_phrases
from .base import Transcript, VocabularySource

_LOGGER = logging.getLogger(__name__)
_UNKNOWN = "[unk]"
DEFAULT_MIN_CONFIDENCE = 0.6


class VoskModelError(FileNotFoundError):
    """The configured vosk model directory is missing or incomplete."""


def missing_model_files(path: Path) -> list[str]:
    """Files a vosk model directory needs but lacks (empty when it looks complete)."""
    if not path.is_dir():
        return [str(path)]
    missing = [
        f for f in ("am/final.mdl", "conf/model.conf", "conf/mfcc.conf") if not (path / f).is_file()
    ]
    graph = path / "graph"
    static = (graph / "HCLG.fst").is_file()
    dynamic = all((graph / f).is_file() for f in ("HCLr.fst", "Gr.fst", "disambig_tid.int"))
    if not static and not dynamic:
        missing.append("graph/HCLG.fst (or graph/HCLr.fst + graph/Gr.fst + graph/disambig_tid.int)")
    return missing


class VoskEngine:
    """Recogniser for one language, backed by the vosk model directory at `model_path`."""

    name = "vosk"

    def __init__(
        self, model_path: str | Path, language: str, min_confidence: float = DEFAULT_MIN_CONFIDENCE
    ) -> None:
        path = Path(model_path).expanduser()
        missing = missing_model_files(path)
        if missing:
            raise VoskModelError(
                f"vosk model at {path} is unusable; missing: {', '.join(missing)}. "
                "Download a model from alphacephei.com/vosk/models and set voice.vosk_model_path."
            )
        import vosk  # deferred: loading libvosk costs time and is only needed here

        vosk.SetLogLevel(-1)
        self.language = language
        self.min_confidence = min_confidence
        self._model: Any = vosk.Model(str(path))
        self._vosk = vosk
        self._phrases: list[str] = []
        self._lock = threading.Lock()

    def supports(self, language: str) -> bool:
        return language == self.language

    def set_vocabulary(self, source: VocabularySource) -> None:
        if not self.supports(source.language):
            return
        phrases = sample_phrases(source.intents, source.slot_lists, source.language)
        with self._lock:
            self._phrases = phrases

    def transcribe(self, pcm: bytes, language: str) -> Transcript:
        started = time.perf_counter()
        with self._lock:
            rec = self._vosk.KaldiRecognizer(
                self._model, RATE, json.dumps([*self._phrases, _UNKNOWN])
            )
            rec.SetWords(True)
            rec.AcceptWaveform(pcm)
            result = json.loads(rec.FinalResult())
        words = result.get("result") or []
        text = str(result.get("text", "")).strip()
        confidence = min((float(w.get("conf", 0.0)) for w in words), default=0.0)
        rejected = not text or _UNKNOWN in text or confidence < self.min_confidence
        return Transcript(
            text=text.replace(_UNKNOWN, "").strip(),
            language=language,
            engine=self.name,
            confidence=confidence,
            rejected=rejected,
            audio_seconds=len(pcm) / BYTES_PER_SECOND,
            decode_seconds=time.perf_counter() - started,
        )
