"""Speech-to-text by an external Wyoming service (wyoming-faster-whisper and the like).

`transcribe` → `audio-start` → `audio-chunk`s → `audio-stop`, then the service's `transcript`
(streaming services send `transcript-start`/`-chunk` first; the final `transcript` counts).

The transcript is free text from a model the hub does not control. It is spelled the way the
pipeline's grammar spells things ("21°" → "twenty one degrees") and then goes through the same
intent matching, confirmation and permission checks as a local transcript: text that matches
no command is refused, never snapped to the nearest one.
"""

from __future__ import annotations

import time

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStart, AudioStop

from ..audio import BYTES_PER_SECOND, RATE, WIDTH, chunked
from ..stt.base import Transcript as SttTranscript
from ..stt.snap import spell
from .client import async_connection
from .config import ServiceSpec

_CHUNK_SAMPLES = 1024


class WyomingStt:
    """Transcribes utterances on an external service; one connection per utterance."""

    def __init__(self, spec: ServiceSpec) -> None:
        self.spec = spec
        self.name = f"wyoming:{spec.where}"

    async def async_transcribe(self, pcm: bytes, language: str) -> SttTranscript:
        """16 kHz 16-bit mono PCM → the service's transcript (raises ServiceUnavailable)."""
        spec = self.spec
        lang = spec.language or language.split("-")[0]
        started = time.perf_counter()
        async with async_connection(spec) as conn:
            await conn.async_write(Transcribe(name=spec.model, language=lang).event())
            rate = spec.rate
            converter = AudioChunkConverter(rate=rate, width=WIDTH, channels=1)
            await conn.async_write(AudioStart(rate=rate, width=WIDTH, channels=1).event())
            timestamp = 0
            for piece in chunked(pcm, _CHUNK_SAMPLES):
                chunk = converter.convert(
                    AudioChunk(rate=RATE, width=WIDTH, channels=1, audio=piece, timestamp=timestamp)
                )
                await conn.async_write(chunk.event())
                timestamp += chunk.milliseconds
            await conn.async_write(AudioStop(timestamp=timestamp).event())
            while True:  # streaming services send transcript-start/-chunk first
                event = await conn.async_read()
                if Transcript.is_type(event.type):
                    heard = Transcript.from_event(event).text or ""
                    break
        text = " ".join(heard.split())
        spelled = spell(text, language) if text else ""
        return SttTranscript(
            text=spelled,
            language=language,
            engine=self.name,
            confidence=1.0 if spelled else 0.0,
            rejected=not spelled,
            audio_seconds=len(pcm) / BYTES_PER_SECOND,
            decode_seconds=time.perf_counter() - started,
            heard=text,
            detail="external transcript" if spelled else "the service heard nothing",
        )
