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
from tests import loop_watch

loop_watch.install()

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
def pytest_runtest_setup(item: pytest.Item) -> Any:
    loop_watch.recorded.clear()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """With CI=true a skip is a failure: CI installs every tool, so a skip hides a missing one.

    A callback that blocked the event loop longer than 50 ms (see tests/loop_watch.py) fails
    the test, unless it is marked ``allow_slow_callbacks`` with the reason.
    """
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true (everything must run in CI): {reason}"
    if call.when in ("call", "teardown") and loop_watch.recorded and report.passed:
        slow, loop_watch.recorded[:] = list(loop_watch.recorded), []
        found = "\n".join(f"  {s}" for s in sorted(slow, key=lambda s: -s.blocked)[:10])
        allowed = item.get_closest_marker("allow_slow_callbacks")
        if allowed is None and _strict(item):
            report.outcome = "failed"
            report.longrepr = f"{len(slow)} callback(s) blocked the event loop:\n{found}"
        else:
            report.sections.append(("slow callbacks (allowed)", found))
            _REPORTED.append(f"{item.nodeid}: {slow[0].blocked * 1000:.0f} ms {slow[0].what}")


# Areas whose loop-blocking causes are fixed fail on a slow callback; the others report it at
# the end of the run until theirs are (HEARTH_LOOP_WATCH=strict fails everywhere).
STRICT_AREAS = ("tests/core/", "tests/mqtt/")
_REPORTED: list[str] = []


def _strict(item: pytest.Item) -> bool:
    if os.environ.get("HEARTH_LOOP_WATCH") == "strict":
        return True
    return any(item.nodeid.startswith(area) for area in STRICT_AREAS)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _REPORTED:
        terminalreporter.section("callbacks that blocked the event loop over 50 ms")
        for line in _REPORTED:
            terminalreporter.line(line)
