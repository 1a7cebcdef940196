"""Wake-word detection: microWakeWord models by default, openWakeWord's only on the owner's say.

Licences of the bundled model files decide the default:
- `pymicro-wakeword` (microWakeWord models: okay_nabu, hey_jarvis, hey_mycroft, alexa) is
  Apache-2.0: a product may ship them. This is the default engine ("micro").
- `pyopen-wakeword` (openWakeWord models: alexa, hey_jarvis, hey_mycroft, hey_rhasspy, okay_nabu)
  bundles model files licensed CC BY-NC-SA 4.0 (non-commercial). They are used only with
  `wake_engine: openwakeword` *and* `wake_accept_licence: true`; the licence is logged on load.
openwakeword's own package needs tflite-runtime, which fails under numpy 2, so pyopen-wakeword
(its own TFLite library) runs those models.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from .audio import RATE, WIDTH, chunked

_LOGGER = logging.getLogger(__name__)
WakeEngine = Literal["micro", "openwakeword"]
DEFAULT_ENGINE: WakeEngine = "micro"
DEFAULT_MODEL = "okay_nabu"
MICRO_MODELS = ("okay_nabu", "hey_jarvis", "hey_mycroft", "alexa")
OPENWAKEWORD_MODELS = ("alexa", "hey_jarvis", "hey_mycroft", "hey_rhasspy", "okay_nabu")
LICENCES = {
    "micro": "Apache-2.0 (pymicro-wakeword's microWakeWord models)",
    "openwakeword": "CC BY-NC-SA 4.0, non-commercial use only (pyopen-wakeword's "
    "openWakeWord models)",
}
# Kept for callers of the old API: the threshold of the openWakeWord models.
DEFAULT_THRESHOLD = 0.5


class WakeWordModelError(ValueError):
    """The configured wake-word model is unknown, missing, or its licence was not accepted."""


@dataclass(frozen=True)
class WakeDetection:
    """A wake word found in a stream; `end_seconds` is stream time at detection."""

    model: str
    probability: float
    end_seconds: float


class _Backend(Protocol):
    def probabilities(self, pcm: bytes) -> list[float]: ...
    def close(self) -> None: ...


class WakeWordDetector:
    """Streaming detector: feed PCM, get a detection once. Not thread-safe; not loop-bound.

    `threshold` None uses the model's own cutoff (microWakeWord's JSON, or 0.5 for openWakeWord).
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        threshold: float | None = None,
        engine: WakeEngine = DEFAULT_ENGINE,
        accept_licence: bool = False,
    ) -> None:
        self.engine = engine
        self.licence = LICENCES.get(engine, "")
        backend: _Backend
        if engine == "micro":
            backend, cutoff = _micro(model)
        elif engine == "openwakeword":
            if not accept_licence:
                raise WakeWordModelError(
                    f"openWakeWord models are licensed {LICENCES['openwakeword']}; set "
                    "voice: wake_accept_licence: true to use them, or keep wake_engine: micro"
                )
            _LOGGER.warning("wake word %r: model licence %s", model, LICENCES["openwakeword"])
            backend, cutoff = _openwakeword(model), DEFAULT_THRESHOLD
        else:
            raise WakeWordModelError(f"unknown wake-word engine {engine!r}")
        self._backend = backend
        self.model = Path(model).stem if model.endswith((".tflite", ".json")) else model
        self.threshold = cutoff if threshold is None else threshold
        self._samples = 0

    def process(self, pcm: bytes) -> WakeDetection | None:
        """Feed PCM; return a detection as soon as the probability crosses the threshold."""
        for chunk in chunked(pcm):
            self._samples += len(chunk) // WIDTH
            for prob in self._backend.probabilities(chunk):
                if prob > self.threshold:
                    return WakeDetection(self.model, float(prob), self._samples / RATE)
        return None

    def close(self) -> None:
        self._backend.close()


class _Micro:
    def __init__(self, model: object) -> None:
        from pymicro_wakeword import MicroWakeWordFeatures

        self._model = model
        self._features = MicroWakeWordFeatures()

    def probabilities(self, pcm: bytes) -> list[float]:
        out = []
        for features in self._features.process_streaming(pcm):
            prob = self._model.process_streaming_prob(features)  # type: ignore[attr-defined]
            if prob is not None:
                out.append(prob)
        return out

    def close(self) -> None:
        self._model.close()  # type: ignore[attr-defined]


def _micro(model: str) -> tuple[_Backend, float]:
    from pymicro_wakeword import MicroWakeWord, Model

    if model in MICRO_MODELS:
        mww = MicroWakeWord.from_builtin(Model(model))
    elif model.endswith(".json") and Path(model).is_file():
        mww = MicroWakeWord.from_config(model)
    else:
        raise WakeWordModelError(
            f"wake word model {model!r} is not one of {', '.join(MICRO_MODELS)} "
            "and is not a microWakeWord .json config"
        )
    return _Micro(mww), float(mww.probability_cutoff)


class _OpenWakeWord:
    def __init__(self, model: str) -> None:
        from pyopen_wakeword import Model, OpenWakeWord, OpenWakeWordFeatures

        if model in OPENWAKEWORD_MODELS:
            self._oww = OpenWakeWord.from_builtin(Model(model))
        else:
            self._oww = OpenWakeWord.from_model(model)
        self._features = OpenWakeWordFeatures.from_builtin()

    def probabilities(self, pcm: bytes) -> list[float]:
        out: list[float] = []
        for features in self._features.process_streaming(pcm):
            out.extend(float(p) for p in self._oww.process_streaming(features))
        return out

    def close(self) -> None:
        self._oww.close()
        self._features.close()


def _openwakeword(model: str) -> _Backend:
    if model not in OPENWAKEWORD_MODELS and not (
        model.endswith(".tflite") and Path(model).is_file()
    ):
        raise WakeWordModelError(
            f"wake word model {model!r} is not one of {', '.join(OPENWAKEWORD_MODELS)} "
            "and is not a .tflite file"
        )
    return _OpenWakeWord(model)
