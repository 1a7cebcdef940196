"""Fixtures everyone shares: a started Hub on a temporary config directory."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.clock import Clock, FakeClock
from hub.config import HubConfig
from hub.core import Hub

HubFactory = Callable[..., Awaitable[Hub]]


@pytest.fixture(scope="session", autouse=True)
def broker_data_root() -> Iterator[None]:
    """Run as root, the embedded mosquitto keeps its data outside the config dir (it runs as
    an unprivileged user); tests keep it in one throwaway folder instead of /var/lib."""
    if os.geteuid() != 0 or "HEARTH_BROKER_DATA" in os.environ:
        yield
        return
    root = Path(tempfile.mkdtemp(prefix="hearth-broker-"))
    root.chmod(0o755)  # the unprivileged broker user must traverse it
    os.environ["HEARTH_BROKER_DATA"] = str(root)
    try:
        yield
    finally:
        del os.environ["HEARTH_BROKER_DATA"]
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def hub_factory(tmp_path: Path) -> AsyncIterator[HubFactory]:
    """Start hubs with given integrations: `await hub_factory(demo={"delay": 0})`."""
    hubs: list[Hub] = []

    async def make(
        *, config_dir: Path | None = None, clock: Clock | None = None, **integrations: Any
    ) -> Hub:
        config = HubConfig.minimal(config_dir or tmp_path / f"hub{len(hubs)}", **integrations)
        hub = Hub(config, clock=clock)
        hubs.append(hub)
        await hub.async_start()
        return hub

    yield make
    for hub in reversed(hubs):
        await hub.async_stop()


@pytest.fixture
async def hub(hub_factory: HubFactory) -> Hub:
    """A started hub with no integrations."""
    return await hub_factory()


@pytest.fixture
async def demo_hub(hub_factory: HubFactory) -> Hub:
    """A started hub running the demo home with no command delay."""
    return await hub_factory(demo={"delay": 0, "tick": 3600})


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock that moves only when a test advances it."""
    return FakeClock()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """With CI=true a skip is a failure: CI installs every tool, so a skip hides a missing one."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true (everything must run in CI): {reason}"
