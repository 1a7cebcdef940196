"""A Wyoming client streams a WAV to the hub's satellite server and gets text and speech back."""

from __future__ import annotations

import asyncio
import subprocess
import wave
from pathlib import Path
from typing import Any

import pytest
from wyoming.asr import Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop, wav_to_chunks
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.wake import Detection

from voice.pipeline import VoicePipeline
from voice.wyoming_server import WyomingServer


async def _exchange(port: int, wav: Path) -> list[Event]:
    """Send one utterance the way a satellite does; collect events until the reply ends."""
    received: list[Event] = []
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(AudioStart(rate=16000, width=2, channels=1).event())
        with wave.open(str(wav), "rb") as wav_file:
            for chunk in wav_to_chunks(wav_file, samples_per_chunk=1024):
                await client.write_event(chunk.event())
        await client.write_event(AudioStop().event())
        while True:
            event = await asyncio.wait_for(client.read_event(), timeout=60)
            assert event is not None, "server closed the connection early"
            received.append(event)
            if AudioStop.is_type(event.type):
                return received


@pytest.fixture
def satellite_wav(speech_file: Any, tmp_path: Path) -> Path:
    """A satellite recording at 22.05 kHz: the server must convert it to 16 kHz itself."""
    src = speech_file("okay nabu, turn on the kitchen light")
    wav = tmp_path / "satellite.wav"
    subprocess.run(["sox", str(src), "-r", "22050", str(wav), "pad", "0.3", "0.8"], check=True)
    return wav


async def test_satellite_round_trip(voice_hub: VoicePipeline, satellite_wav: Path) -> None:
    server = WyomingServer(voice_hub, "127.0.0.1", 0)
    await server.async_start()
    try:
        received = await _exchange(server.port, satellite_wav)
    finally:
        await server.async_stop()

    types = [e.type for e in received]
    assert Detection.is_type(types[0])
    transcript = next(Transcript.from_event(e) for e in received if Transcript.is_type(e.type))
    assert transcript.text == "turn on the kitchen light"
    audio = b"".join(AudioChunk.from_event(e).audio for e in received if AudioChunk.is_type(e.type))
    assert len(audio) > 16000  # over half a second of spoken reply
    state = voice_hub.hub.states.get("light.kitchen_light")
    assert state is not None and state.state == "on"
