"""Local microphone source through the optional `sounddevice` package (extra `mic`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from .audio import CHUNK_SAMPLES, RATE


class MicrophoneUnavailable(RuntimeError):
    """No sounddevice package, no PortAudio, or no input device."""


async def async_microphone_chunks() -> AsyncIterator[bytes]:
    """16 kHz 16-bit mono chunks from the default input device."""
    try:
        import sounddevice  # optional: pip install 'hearth[mic]'
    except (ImportError, OSError) as err:
        raise MicrophoneUnavailable(
            f"local microphone needs the optional 'sounddevice' package and PortAudio: {err}"
        ) from err
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=200)

    def callback(indata: bytes, _frames: int, _time: object, _status: object) -> None:
        loop.call_soon_threadsafe(_put, queue, bytes(indata))

    try:
        stream = sounddevice.RawInputStream(
            samplerate=RATE, channels=1, dtype="int16", blocksize=CHUNK_SAMPLES, callback=callback
        )
    except Exception as err:  # PortAudioError when there is no device
        raise MicrophoneUnavailable(f"no usable input device: {err}") from err
    with stream:
        while True:
            yield await queue.get()


def _put(queue: asyncio.Queue[bytes], chunk: bytes) -> None:
    if not queue.full():  # drop audio rather than grow without bound if the pipeline stalls
        queue.put_nowait(chunk)
