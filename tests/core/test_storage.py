"""Versioned SQLite: forward migrations, one per step, and refusal to downgrade."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

from hub.storage import Database, StorageError


def v1(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")


def v2(db: sqlite_utils.Database) -> None:
    db.execute("ALTER TABLE notes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0")


def v3_broken(db: sqlite_utils.Database) -> None:
    db.execute("ALTER TABLE notes ADD COLUMN colour TEXT")
    raise RuntimeError("bug in migration")


async def test_upgrade_keeps_data_and_records_versions(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    old = Database(path, [v1])
    await old.async_open()
    await old.async_run(lambda db: db["notes"].insert({"id": 1, "text": "keep me"}))
    await old.async_close()

    new = Database(path, [v1, v2])
    await new.async_open()
    rows = await new.async_run(lambda db: list(db["notes"].rows))
    versions = await new.async_run(lambda db: [r["version"] for r in db["schema_migrations"].rows])
    journal = await new.async_run(lambda db: db.execute("PRAGMA journal_mode").fetchone()[0])
    await new.async_close()
    assert rows == [{"id": 1, "text": "keep me", "pinned": 0}]
    assert versions == [1, 2]
    assert journal == "wal"


async def test_failed_migration_rolls_back_to_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    db = Database(path, [v1, v2])
    await db.async_open()
    await db.async_close()
    broken = Database(path, [v1, v2, v3_broken])
    with pytest.raises(RuntimeError):
        await broken.async_open()
    await broken.async_close()
    again = Database(path, [v1, v2])
    await again.async_open()
    cols = await again.async_run(lambda d: [c.name for c in d["notes"].columns])
    await again.async_close()
    assert "colour" not in cols


async def test_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    db = Database(path, [v1, v2])
    await db.async_open()
    await db.async_close()
    old = Database(path, [v1])
    with pytest.raises(StorageError, match="newer"):
        await old.async_open()
    await old.async_close()
