"""PCM audio values and WAV helpers: everything in the pipeline is 16 kHz 16-bit mono."""

from __future__ import annotations

import io
import wave
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 16000
WIDTH = 2
CHANNELS = 1
BYTES_PER_SECOND = RATE * WIDTH * CHANNELS
CHUNK_SAMPLES = 1280  # 80 ms, the wake-word model's native step


class AudioFormatError(ValueError):
    """The audio is not something the pipeline can convert to 16 kHz mono PCM."""


@dataclass(frozen=True)
class Audio:
    """A block of 16 kHz 16-bit mono PCM."""

    pcm: bytes

    @property
    def seconds(self) -> float:
        return len(self.pcm) / BYTES_PER_SECOND

    def to_wav(self) -> bytes:
        """Encode as a WAV file."""
        return pcm_to_wav(self.pcm, RATE, WIDTH, CHANNELS)


def pcm_to_wav(pcm: bytes, rate: int, width: int, channels: int) -> bytes:
    """Wrap raw PCM in a WAV header."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wav:
        wav.setframerate(rate)
        wav.setsampwidth(width)
        wav.setnchannels(channels)
        wav.writeframes(pcm)
    return buf.getvalue()


def convert_pcm(pcm: bytes, rate: int, width: int, channels: int) -> bytes:
    """Convert any integer PCM to 16 kHz 16-bit mono (linear resampling is enough for speech)."""
    if width not in (1, 2, 4) or channels < 1 or rate <= 0:
        raise AudioFormatError(f"unsupported PCM: rate={rate} width={width} channels={channels}")
    usable = len(pcm) - len(pcm) % (width * channels)
    raw = pcm[:usable]
    if width == 1:
        samples = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) * 256.0
    elif width == 2:
        samples = np.frombuffer(raw, dtype="<i2").astype(np.float32)
    else:
        samples = np.frombuffer(raw, dtype="<i4").astype(np.float32) / 65536.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    if rate != RATE and len(samples):
        n_out = round(len(samples) * RATE / rate)
        src = np.arange(len(samples), dtype=np.float64)
        dst = np.linspace(0, len(samples) - 1, n_out)
        samples = np.interp(dst, src, samples).astype(np.float32)
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes()


def read_wav(data: bytes | Path | str) -> Audio:
    """Read a WAV file (path or bytes) and convert it to pipeline audio."""
    try:
        src: io.BytesIO | str = io.BytesIO(data) if isinstance(data, bytes) else str(data)
        with wave.open(src, "rb") as wav:
            pcm = wav.readframes(wav.getnframes())
            return Audio(
                convert_pcm(pcm, wav.getframerate(), wav.getsampwidth(), wav.getnchannels())
            )
    except (wave.Error, EOFError) as err:
        raise AudioFormatError(f"not a readable WAV file: {err}") from err


def chunked(pcm: bytes, samples: int = CHUNK_SAMPLES) -> Iterable[bytes]:
    """Split PCM into chunks of `samples` samples (the last one may be shorter)."""
    step = samples * WIDTH
    for start in range(0, len(pcm), step):
        yield pcm[start : start + step]


async def async_iter_chunks(pcm: bytes, samples: int = CHUNK_SAMPLES) -> AsyncIterator[bytes]:
    """Async stream of chunks from PCM, as a satellite or browser would deliver them."""
    for chunk in chunked(pcm, samples):
        yield chunk


def silence(seconds: float) -> bytes:
    """Digital silence."""
    return bytes(int(seconds * RATE) * WIDTH)


def rms(pcm: bytes) -> float:
    """Root-mean-square level of 16-bit PCM."""
    if len(pcm) < 2:
        return 0.0
    samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2").astype(np.float32)
    return float(np.sqrt(np.mean(samples * samples)))


def active_seconds(pcm: bytes, floor_db: float = 30.0) -> float:
    """Seconds of 10 ms frames within `floor_db` of the loudest frame (speech, not pauses)."""
    frame = RATE // 100
    usable = len(pcm) // WIDTH // frame * frame
    if usable == 0:
        return 0.0
    samples = np.frombuffer(pcm[: usable * WIDTH], dtype="<i2").astype(np.float32)
    energy = (samples.reshape(-1, frame) ** 2).mean(axis=1) + 1e-3
    db = 10.0 * np.log10(energy)
    return float(np.count_nonzero(db >= db.max() - floor_db)) / 100.0
