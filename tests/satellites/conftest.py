"""Satellite fixtures: the real wyoming-satellite package, espeak-ng speech, a demo-home hub."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from hub.core import Hub
from tests.voice.conftest import synthesize
from voice.satellite.manager import SatelliteManager
from voice.satellite.session import SatelliteSession

from .rig import SatelliteProcess, ensure_satellite

DEMO = {"delay": 0, "tick": 3600}
FAST_LINK = {"reconnect_max": 1.0, "ping_interval": 0.5}
SatelliteFactory = Callable[..., Awaitable[SatelliteProcess]]


@pytest.fixture(scope="session")
def satellite_exe() -> Path:
    """wyoming-satellite 1.0.0 in its own virtualenv (built once, cached in test-artifacts/)."""
    return ensure_satellite()


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """A 16 kHz WAV of espeak-ng speech, cached per sentence."""
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.fail("espeak-ng and sox are required (see .ci/apt-packages.txt)")
    cache = tmp_path_factory.mktemp("satellite-speech")
    return lambda text: synthesize(cache, text)


@pytest.fixture
async def satellite(satellite_exe: Path, tmp_path: Path) -> AsyncIterator[SatelliteFactory]:
    """Start real satellites: `await satellite("kitchen", "Kitchen")`; all stop after the test."""
    started: list[SatelliteProcess] = []

    async def make(name: str, area: str | None = None, **kwargs: Any) -> SatelliteProcess:
        sat = SatelliteProcess(satellite_exe, tmp_path / f"sat-{name}", name, area, **kwargs)
        await sat.async_start()
        started.append(sat)
        return sat

    yield make
    for sat in started:
        await sat.async_stop()


def session_of(hub: Hub, sat: SatelliteProcess) -> SatelliteSession | None:
    """The hub's session for a satellite process, once attached (found by port)."""
    manager: SatelliteManager = hub.data["satellites"]
    for key, link in manager.links.items():
        if link.endpoint.port == sat.port and link.attached:
            return manager.sessions[key]
    return None
