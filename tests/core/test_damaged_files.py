"""Damaged files are never silently replaced: kept aside, restored from backup, the user told."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import sqlite_utils

from hub.config import load_config
from hub.errors import ConfigError
from hub.safefile import backups_of, protect_json_file, write_atomic
from hub.storage import Database
from tests.conftest import HubFactory


def _damaged(folder: Path, name: str) -> list[Path]:
    return sorted(folder.glob(f"{name}.damaged-*"))


def _notes(hub: object) -> list[str]:
    return [n.message for n in hub.notifications.all()]  # type: ignore[attr-defined]


async def test_empty_registry_is_restored_from_backup(hub_factory: HubFactory, tmp_path: Path):
    home = tmp_path / "home"
    hub = await hub_factory(config_dir=home)
    await hub.registry.areas.async_create("Kitchen")
    await hub.async_stop()
    # The second start finds a registry with data and no backup yet: it makes the daily one.
    hub = await hub_factory(config_dir=home)
    await hub.async_stop()
    assert backups_of(home / "registry.db")
    (home / "registry.db").write_bytes(b"")  # a 0-byte file, as after a bad power cut

    hub = await hub_factory(config_dir=home)
    assert hub.registry.areas.find("Kitchen") is not None
    kept = _damaged(home, "registry.db")
    assert len(kept) == 1 and kept[0].stat().st_size == 0
    assert any("registry.db was damaged" in m and "restored from" in m for m in _notes(hub))


async def test_garbage_registry_without_backup_starts_empty_and_says_so(
    hub_factory: HubFactory, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    garbage = b"this is not a database " * 100
    (home / "registry.db").write_bytes(garbage)
    hub = await hub_factory(config_dir=home)
    kept = _damaged(home, "registry.db")
    assert [p.read_bytes() for p in kept] == [garbage]  # the damaged copy is kept as it was
    assert any("started empty" in m for m in _notes(hub))
    assert hub.registry.areas.all() == []


async def test_broken_history_costs_history_not_the_start(
    hub_factory: HubFactory, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "history.db").write_bytes(b"\x00garbage" * 1000)
    hub = await hub_factory(config_dir=home)
    assert hub.state == "running"
    assert _damaged(home, "history.db")
    assert hub.recorder is not None  # a fresh history was started
    hub.states.async_set("sensor.t", "1")
    await hub.recorder.async_flush()
    assert hub.recorder.rows_written >= 1


async def test_unopenable_history_runs_without_recorder(hub_factory: HubFactory, tmp_path: Path):
    home = tmp_path / "home"
    (home / "history.db").mkdir(parents=True)  # cannot be opened as a file at all
    hub = await hub_factory(config_dir=home)
    assert hub.state == "running"
    assert hub.recorder is None
    assert any("History is not being recorded" in m for m in _notes(hub))


async def test_migration_backs_up_first(tmp_path: Path) -> None:
    def v1(db: sqlite_utils.Database) -> None:
        db.execute("CREATE TABLE t (x INTEGER)")

    def v2(db: sqlite_utils.Database) -> None:
        db.execute("ALTER TABLE t ADD COLUMN y INTEGER")

    path = tmp_path / "store.db"
    old = Database(path, [v1], backups=True)
    await old.async_open()
    await old.async_run(lambda db: db.execute("INSERT INTO t VALUES (7)"))
    await old.async_close()
    new = Database(path, [v1, v2], backups=True)
    await new.async_open()
    await new.async_close()
    names = [p.name for p in backups_of(path)]
    assert any(n.endswith("-before-v2") for n in names), names
    before = next(p for p in backups_of(path) if p.name.endswith("-before-v2"))
    conn = sqlite_utils.Database(before)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert [r["x"] for r in conn["t"].rows] == [7]


def test_damaged_credentials_restored_from_backup(tmp_path: Path) -> None:
    path = tmp_path / "mqtt_broker.json"
    good = json.dumps({"username": "hearth", "password": "p" * 24}).encode()
    write_atomic(path, good, 0o600)
    assert protect_json_file(path) is None  # healthy: backed up (first time)
    assert len(backups_of(path)) == 1
    path.write_bytes(b'{"username": "hearth", "passw')  # torn write
    recovery = protect_json_file(path)
    assert recovery is not None and recovery.restored_from is not None
    assert path.read_bytes() == good
    assert recovery.damaged_copy.read_bytes() == b'{"username": "hearth", "passw'
    assert path.stat().st_mode & 0o777 == 0o600


def test_nul_byte_in_yaml_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "configuration.yaml").write_bytes(b"name: Home\ndemo:\n  delay: 0\x00\n")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert err.value.file == str(tmp_path / "configuration.yaml")
    assert err.value.line == 3
    assert "NUL" in err.value.message


def test_bad_utf8_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "configuration.yaml").write_bytes(b"name: Home\n\nweb:\n  x: \xff\n")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert err.value.line == 4


def test_empty_configuration_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "configuration.yaml").write_text("# nothing yet\n")
    with caplog.at_level(logging.WARNING, logger="hub.config"):
        config = load_config(tmp_path)
    assert config.integrations == {}
    assert any("is empty" in r.getMessage() for r in caplog.records)
