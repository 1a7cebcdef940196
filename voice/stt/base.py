"""The speech-to-text engine interface and its result value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from hassil import Intents
from hassil.intents import SlotList


@dataclass(frozen=True)
class Transcript:
    """What an engine heard. `rejected` means the speech fell outside the grammar."""

    text: str
    language: str
    engine: str
    confidence: float
    rejected: bool
    audio_seconds: float
    decode_seconds: float
    heard: str = ""  # an open-vocabulary second opinion (Whisper), when one was asked
    detail: str = ""  # why it was accepted or refused


@dataclass(frozen=True)
class VocabularySource:
    """Intent templates plus the home's slot lists: everything a closed grammar is built from."""

    language: str
    intents: Intents
    slot_lists: dict[str, SlotList]
    revision: int = 0


class SttEngine(Protocol):
    """A recogniser. Both methods block and are called from an executor, one at a time."""

    name: str

    def supports(self, language: str) -> bool:
        """True when the engine has a model for `language`."""
        ...

    def set_vocabulary(self, source: VocabularySource) -> None:
        """Compile and load the closed grammar for `source.language`."""
        ...

    def transcribe(self, pcm: bytes, language: str) -> Transcript:
        """Decode 16 kHz 16-bit mono PCM against the loaded grammar."""
        ...
