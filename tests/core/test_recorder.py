"""Recorder: batched writes off the loop, history, purge, and restore after kill -9."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.clock import FakeClock
from hub.const import ATTR_RESTORED
from hub.core import Hub
from hub.domains.light import COLOR_MODE_BRIGHTNESS, LightEntity
from hub.recorder import PURGE_FIRST_DELAY, PURGE_INTERVAL

from ..conftest import HubFactory

ROOT = Path(__file__).resolve().parents[2]


async def test_state_changes_are_written_in_batches(hub: Hub) -> None:
    assert hub.recorder is not None
    for n in range(500):
        hub.states.async_set("sensor.x", str(n))
    # Nothing has touched the disk yet: writes wait for the batch.
    assert hub.recorder.rows_written == 0
    await hub.recorder.async_flush()
    assert hub.recorder.rows_written == 500
    assert hub.recorder.batches_written == 1


async def test_history_for_entity_and_range(hub: Hub) -> None:
    assert hub.recorder is not None
    start = datetime.now(UTC)
    for n in range(5):
        hub.states.async_set("sensor.t", str(n))
        hub.states.async_set("sensor.other", str(n))
    history = await hub.recorder.async_history("sensor.t", start - timedelta(seconds=1))
    assert [s.state for s in history] == ["0", "1", "2", "3", "4"]
    assert await hub.recorder.async_history("sensor.t", start + timedelta(hours=1)) == []


async def test_purge_keeps_latest_state_per_entity(hub: Hub) -> None:
    assert hub.recorder is not None
    for n in range(10):
        hub.states.async_set("sensor.p", str(n))
    await hub.recorder.async_flush()
    deleted = await hub.recorder.async_purge(keep_days=-1)  # everything is "old"
    assert deleted == 9
    restored = await hub.recorder.async_restore_states()
    assert [(s.entity_id, s.state) for s in restored] == [("sensor.p", "9")]


def _rows(db_path: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(db_path, timeout=10)
    try:
        return conn.execute("SELECT entity_id, state FROM states ORDER BY id").fetchall()
    finally:
        conn.close()


async def _scheduled_purge(hub: Hub, clock: FakeClock, seconds: float) -> int:
    assert hub.recorder is not None
    before = hub.recorder.purge_task
    await clock.async_advance(seconds)
    task = hub.recorder.purge_task
    assert task is not None and task is not before, "no purge was scheduled"
    return await task


async def test_purge_runs_after_start_and_then_daily_on_the_hub_clock(
    hub_factory: HubFactory, fake_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    hub = await hub_factory(clock=fake_clock)
    assert hub.recorder is not None
    hub.recorder.keep_days = 1
    db = hub.config_dir / "history.db"
    for n in range(5):
        hub.states.async_set("sensor.a", str(n))
    hub.states.async_set("sensor.b", "x")
    # Shortly after start: nothing is a day old yet.
    assert await _scheduled_purge(hub, fake_clock, PURGE_FIRST_DELAY) == 0
    assert len(_rows(db)) == 6
    # A day later the old rows go; the latest state of each entity stays.
    caplog.set_level(logging.INFO, "hub.recorder")
    assert await _scheduled_purge(hub, fake_clock, PURGE_INTERVAL) == 4
    assert _rows(db) == [("sensor.a", "4"), ("sensor.b", "x")]
    assert "purged 4 rows" in caplog.text
    # And again the next day: "4" is now both old and superseded; "5" is not a day old yet.
    hub.states.async_set("sensor.a", "5")
    hub.states.async_set("sensor.a", "6")
    assert await _scheduled_purge(hub, fake_clock, PURGE_INTERVAL) == 1
    assert _rows(db) == [("sensor.b", "x"), ("sensor.a", "5"), ("sensor.a", "6")]
    restored = await hub.recorder.async_restore_states()
    assert sorted((s.entity_id, s.state) for s in restored) == [
        ("sensor.a", "6"),
        ("sensor.b", "x"),
    ]


async def test_restore_on_restart_after_clean_stop(hub_factory: HubFactory, tmp_path: Path) -> None:
    home = tmp_path / "home"
    hub = await hub_factory(config_dir=home)
    hub.states.async_set("sensor.kept", "42", {"unit_of_measurement": "W"})
    await hub.async_stop()
    hub2 = await hub_factory(config_dir=home)
    state = hub2.states.get("sensor.kept")
    assert state is not None and state.state == "42"
    assert state.attributes[ATTR_RESTORED] is True


class _Bulb(LightEntity):
    """A light whose state lives only in the hub, like a simulated one."""

    restore_state = True
    supported_color_modes = (COLOR_MODE_BRIGHTNESS,)

    def __init__(self, key: str) -> None:
        super().__init__(key, key.title())
        self.is_on = False
        self.brightness = 180
        self.color_mode = COLOR_MODE_BRIGHTNESS

    async def async_turn_on(self, **data: Any) -> None:
        self.is_on = True
        self.brightness = data.get("brightness", self.brightness)
        self.async_write_state()


class _DeviceBulb(_Bulb):
    """A light a real device reports: it does not take back recorded state."""

    restore_state = False


async def test_entities_that_restore_take_back_their_recorded_state(
    hub_factory: HubFactory, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    hub = await hub_factory(config_dir=home)
    await hub.entities.async_add("test", [_Bulb("sim"), _DeviceBulb("real")])
    await hub.services.async_call(
        "light", "turn_on", {"brightness": 77}, target={"entity_id": ["light.sim", "light.real"]}
    )
    await hub.async_stop()
    hub2 = await hub_factory(config_dir=home)
    sim, real = _Bulb("sim"), _DeviceBulb("real")
    await hub2.entities.async_add("test", [sim, real])
    assert (sim.is_on, sim.brightness) == (True, 77)
    state = hub2.states.get("light.sim")
    assert state is not None and state.state == "on" and state.attributes["brightness"] == 77
    assert ATTR_RESTORED not in state.attributes  # written by the entity, not a leftover
    assert (real.is_on, real.brightness) == (False, 180)


def _committed_counter(db_path: Path) -> int:
    conn = sqlite3.connect(db_path, timeout=10)
    try:
        row = conn.execute(
            "SELECT MAX(CAST(state AS INTEGER)) FROM states WHERE entity_id='sensor.counter'"
        ).fetchone()
        return int(row[0] or 0)
    finally:
        conn.close()


async def test_kill_9_mid_write_loses_nothing_committed(
    hub_factory: HubFactory, tmp_path: Path
) -> None:
    home = tmp_path / "crash"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once; waiting happens in threads
        [sys.executable, str(Path(__file__).with_name("recorder_writer.py")), str(home)],
        stdout=subprocess.PIPE,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 60)
        assert line.strip() == b"started"
        db_path = home / "history.db"
        deadline = time.monotonic() + 60
        seen = 0
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            seen = await asyncio.to_thread(_committed_counter, db_path)
            if seen > 2000:
                break
        assert seen > 2000, "writer never committed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL

    # The database is intact and holds at least what we saw committed before the kill.
    conn = sqlite3.connect(home / "history.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    committed = _committed_counter(home / "history.db")
    assert committed >= seen

    hub = await hub_factory(config_dir=home)
    state = hub.states.get("sensor.counter")
    assert state is not None
    assert int(state.state) == committed
    assert state.attributes["n"] == committed
    assert hub.registry.areas.find("Crash Lab") is not None
    assert len(hub.states.all()) == 51  # counter + 50 others
