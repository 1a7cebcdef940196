"""Wake-word detection with the openWakeWord models bundled by pyopen-wakeword.

openwakeword 0.6.0's own `Model` needs tflite-runtime, whose wheel is built against numpy 1
and fails under numpy 2 (measured here: `_ARRAY_API not found`, then SystemError from
`CreateWrapperFromFile`). pyopen-wakeword runs the same models through its own TFLite C
library, so it is the engine used here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyopen_wakeword import Model, OpenWakeWord, OpenWakeWordFeatures

from .audio import RATE, WIDTH, chunked

BUILTIN_MODELS = tuple(m.value for m in Model)
DEFAULT_MODEL = "hey_jarvis"
DEFAULT_THRESHOLD = 0.5


class WakeWordModelError(ValueError):
    """The configured wake-word model is neither built in nor an existing file."""


@dataclass(frozen=True)
class WakeDetection:
    """A wake word found in a stream; `end_seconds` is stream time at detection."""

    model: str
    probability: float
    end_seconds: float


class WakeWordDetector:
    """Streaming detector: feed PCM, get a detection once. Not thread-safe; not loop-bound."""

    def __init__(self, model: str = DEFAULT_MODEL, threshold: float = DEFAULT_THRESHOLD) -> None:
        if model in BUILTIN_MODELS:
            self._oww = OpenWakeWord.from_builtin(Model(model))
        elif Path(model).is_file():
            self._oww = OpenWakeWord.from_model(model)
        else:
            raise WakeWordModelError(
                f"wake word model {model!r} is not one of {', '.join(BUILTIN_MODELS)} "
                "and is not a .tflite file"
            )
        self.model = model if model in BUILTIN_MODELS else Path(model).stem
        self.threshold = threshold
        self._features = OpenWakeWordFeatures.from_builtin()
        self._samples = 0

    def reset(self) -> None:
        self._oww.reset()
        self._features.reset()
        self._samples = 0

    def process(self, pcm: bytes) -> WakeDetection | None:
        """Feed PCM; return a detection as soon as the probability crosses the threshold."""
        for chunk in chunked(pcm):
            self._samples += len(chunk) // WIDTH
            for features in self._features.process_streaming(chunk):
                for prob in self._oww.process_streaming(features):
                    if prob >= self.threshold:
                        return WakeDetection(self.model, float(prob), self._samples / RATE)
        return None

    def close(self) -> None:
        self._oww.close()
        self._features.close()
