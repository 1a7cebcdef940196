"""Speech-to-text engines behind one interface."""

from .base import SttEngine, Transcript, VocabularySource

__all__ = ["SttEngine", "Transcript", "VocabularySource"]
