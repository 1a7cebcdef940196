"""ESPHome fixtures: emulated voice devices on real ports, espeak-ng speech, a demo-home hub."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from hub.core import Hub
from integrations.esphome.device import EsphomeDevice
from integrations.esphome.manager import EsphomeManager
from tests.voice.conftest import synthesize
from voice.audio import read_wav, silence

from .device import EsphomeVoiceDevice

DEMO = {"delay": 0, "tick": 3600}
DeviceFactory = Callable[..., Awaitable[EsphomeVoiceDevice]]


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.fail("espeak-ng and sox are required (see .ci/apt-packages.txt)")
    return tmp_path_factory.mktemp("esphome-speech")


@pytest.fixture
def spoken(speech_dir: Path) -> Callable[[str], Awaitable[bytes]]:
    """16 kHz PCM of espeak-ng speech with silence either side, as a microphone hears it
    (synthesised off the event loop: espeak-ng and sox are subprocesses)."""

    def make(text: str) -> bytes:
        return silence(0.4) + read_wav(synthesize(speech_dir, text)).pcm + silence(1.2)

    return lambda text: asyncio.to_thread(make, text)


@pytest.fixture
async def esphome_device() -> AsyncIterator[DeviceFactory]:
    """Start emulated devices: `await esphome_device("kitchen-voice", area="Kitchen")`."""
    started: list[EsphomeVoiceDevice] = []

    async def make(name: str, **kwargs: Any) -> EsphomeVoiceDevice:
        mac = kwargs.pop("mac", f"AA:BB:CC:00:00:{len(started) + 1:02X}")
        device = EsphomeVoiceDevice(name, mac=mac, **kwargs)
        await device.start()
        started.append(device)
        return device

    yield make
    for device in started:
        await device.stop()


def hub_device(hub: Hub, emulated: EsphomeVoiceDevice) -> EsphomeDevice | None:
    """The hub's side of an emulated device, once voice is subscribed (found by port)."""
    manager: EsphomeManager = hub.data["esphome"]
    for device in manager.devices.values():
        if device.config.port == emulated.port and device.voice_ready:
            return device
    return None


def config(*devices: EsphomeVoiceDevice, **extra: Any) -> dict[str, Any]:
    return {"devices": [d.endpoint for d in devices], **extra}


def on(hub: Hub, entity_id: str) -> bool:
    state = hub.states.get(entity_id)
    return state is not None and state.state == "on"
