"""Text-to-speech by an external Wyoming service (wyoming-piper and the like).

`synthesize` (text, voice) → the service answers `audio-start`, `audio-chunk`s, `audio-stop`.
Its audio (piper speaks at 22.05 kHz) is converted to the pipeline's 16 kHz 16-bit mono.
"""

from __future__ import annotations

from wyoming.audio import AudioChunk, AudioChunkConverter, AudioStop
from wyoming.tts import Synthesize, SynthesizeVoice

from ..audio import RATE, WIDTH, Audio
from .client import ServiceUnavailable, async_connection
from .config import ServiceSpec

_MAX_SECONDS = 120.0  # a reply longer than this is a broken service, not speech


class WyomingTts:
    """Speaks replies on an external service; one connection per reply."""

    def __init__(self, spec: ServiceSpec) -> None:
        self.spec = spec
        self.name = f"wyoming:{spec.where}"

    def voice(self, language: str) -> SynthesizeVoice | None:
        spec = self.spec
        if spec.model:
            return SynthesizeVoice(name=spec.model, speaker=spec.speaker)
        if spec.language:
            return SynthesizeVoice(language=spec.language)
        return None  # the service's default voice

    async def async_synthesize(self, text: str, language: str) -> Audio:
        """The service's speech for `text` as pipeline audio (raises ServiceUnavailable)."""
        spec = self.spec
        converter = AudioChunkConverter(rate=RATE, width=WIDTH, channels=1)
        pcm = bytearray()
        async with async_connection(spec) as conn:
            await conn.async_write(Synthesize(text=text, voice=self.voice(language)).event())
            while True:
                event = await conn.async_read()
                if AudioChunk.is_type(event.type):
                    chunk = converter.convert(AudioChunk.from_event(event))
                    pcm += chunk.audio
                    if len(pcm) > _MAX_SECONDS * RATE * WIDTH:
                        raise ServiceUnavailable(
                            f"{spec.role} service at {spec.where} sent over {_MAX_SECONDS:g} s"
                        )
                elif AudioStop.is_type(event.type):
                    break
        if not pcm:
            raise ServiceUnavailable(f"{spec.role} service at {spec.where} sent no audio")
        return Audio(bytes(pcm))
