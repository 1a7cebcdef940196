"""The hub keeps rolling backups of every registered store daily while it runs, not only at start."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from hub.backups import BACKUP_INTERVAL
from hub.clock import FakeClock
from hub.safefile import backups_of, write_atomic
from tests.conftest import HubFactory
from tests.mosquitto import free_port
from tests.waiting import wait_until


async def test_every_registered_store_is_backed_up_daily_and_one_failure_stops_none(
    hub_factory: HubFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    hub = await hub_factory(config_dir=tmp_path / "home", clock=clock)
    await hub.registry.areas.async_create("Kitchen")
    assert backups_of(hub.registry.database.path) == []  # a new registry has nothing to keep yet
    ran: list[str] = []

    async def broken() -> None:
        raise OSError("disk full")

    async def other() -> None:
        ran.append("other")

    hub.backups.register("broken.db", broken)
    stop_other = hub.backups.register("other.db", other)
    assert hub.backups.names == ["registry.db", "broken.db", "other.db"]

    await clock.async_advance(BACKUP_INTERVAL - 1)
    assert ran == [] and backups_of(hub.registry.database.path) == []
    await clock.async_advance(1)
    await wait_until(lambda: ran == ["other"], what="the other job ran")
    assert len(backups_of(hub.registry.database.path)) == 1
    assert "Daily backup of broken.db failed" in caplog.text

    stop_other()
    await clock.async_advance(BACKUP_INTERVAL)
    await wait_until(
        lambda: caplog.text.count("Daily backup of broken.db failed") == 2, what="second day"
    )
    assert ran == ["other"]  # removed jobs stay removed


async def test_auth_db_is_backed_up_daily(hub_factory: HubFactory, tmp_path: Path) -> None:
    clock = FakeClock()
    home = tmp_path / "home"
    hub = await hub_factory(
        config_dir=home, clock=clock, web={"host": "127.0.0.1", "port": 0, "mdns": False}
    )
    assert "auth.db" in hub.backups.names
    assert backups_of(home / "auth.db") == []
    await clock.async_advance(BACKUP_INTERVAL)
    await wait_until(lambda: backups_of(home / "auth.db"), what="auth.db backed up")
    await hub.async_stop()
    assert "auth.db" not in hub.backups.names  # a stopped web server leaves no job behind


async def test_damaged_broker_accounts_are_restored_and_kept_daily(
    hub_factory: HubFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    good = {"version": 1, "accounts": []}
    accounts = home / "mqtt_accounts.json"
    write_atomic(accounts, json.dumps(good).encode(), 0o600)
    clock = FakeClock()
    mqtt = {"embedded_port": free_port(), "reconnect_max": 1.0}
    hub = await hub_factory(config_dir=home, clock=clock, mqtt=mqtt)
    assert {"mqtt_broker.json", "mqtt_accounts.json"} <= set(hub.backups.names)
    assert len(backups_of(accounts)) == 1  # healthy at start and none yet: one kept
    await hub.async_stop()

    accounts.write_bytes(b'{"version": 1, "acc')  # a torn write
    caplog.set_level(logging.ERROR)
    hub = await hub_factory(config_dir=home, clock=clock, mqtt=mqtt)
    assert "mqtt" in hub.integrations, hub.failed_integrations
    assert json.loads(accounts.read_text()) == good
    assert [p.read_bytes() for p in home.glob("mqtt_accounts.json.damaged-*")] == [
        b'{"version": 1, "acc'
    ]
    assert any("mqtt_accounts.json" in n.message for n in hub.notifications.all())
