"""The rules database: rules created from the dashboard, enabled flags, and run traces."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import sqlite_utils

from hub.storage import Database

from .traces import trace_json

__all__ = ["RulesDatabase", "StoredRule"]


def _v1(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE rules (id TEXT PRIMARY KEY, yaml TEXT NOT NULL, created REAL, updated REAL)"
    )
    db.execute("CREATE TABLE rule_flags (id TEXT PRIMARY KEY, enabled INTEGER NOT NULL)")
    db.execute(
        "CREATE TABLE traces (seq INTEGER PRIMARY KEY AUTOINCREMENT, rule_id TEXT NOT NULL,"
        " run_id TEXT NOT NULL UNIQUE, started REAL, finished REAL, state TEXT, data TEXT)"
    )
    db.execute("CREATE INDEX traces_rule ON traces (rule_id, seq)")


def _v2_author(db: sqlite_utils.Database) -> None:
    # Whose rights a dashboard rule runs with; NULL for rules written before this was recorded.
    db.execute("ALTER TABLE rules ADD COLUMN author TEXT")


MIGRATIONS = (_v1, _v2_author)


@dataclass(frozen=True, slots=True)
class StoredRule:
    """A dashboard rule's YAML source."""

    id: str
    yaml: str
    created: float
    updated: float
    author: str | None = None


class RulesDatabase:
    """Async access to rules.db; every query runs on the database's own thread."""

    def __init__(self, path: Path, keep_traces: int) -> None:
        self.db = Database(path, MIGRATIONS, synchronous="NORMAL")
        self.keep_traces = keep_traces

    async def async_open(self) -> None:
        """Open and migrate."""
        await self.db.async_open()

    async def async_close(self) -> None:
        """Close."""
        await self.db.async_close()

    # -- rule sources ---------------------------------------------------------------------
    async def async_rules(self) -> list[StoredRule]:
        """Every dashboard rule."""

        def read(db: sqlite_utils.Database) -> list[StoredRule]:
            rows = db.execute(
                "SELECT id, yaml, created, updated, author FROM rules ORDER BY created, id"
            )
            return [StoredRule(*row) for row in rows.fetchall()]

        return await self.db.async_run(read)

    async def async_put_rule(self, rule_id: str, yaml_text: str, author: str | None = None) -> None:
        """Create or replace a dashboard rule (`author`: the user whose rights it runs with)."""

        def write(db: sqlite_utils.Database) -> None:
            now = time.time()
            db.execute(
                "INSERT INTO rules (id, yaml, created, updated, author) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(id) DO UPDATE SET yaml = excluded.yaml, updated = excluded.updated,"
                " author = excluded.author",
                [rule_id, yaml_text, now, now, author],
            )

        await self.db.async_run(write)

    async def async_delete_rule(self, rule_id: str) -> None:
        """Forget a dashboard rule, its flag and its traces."""

        def delete(db: sqlite_utils.Database) -> None:
            db.execute("BEGIN")
            for table in ("rules", "rule_flags"):
                db.execute(f"DELETE FROM {table} WHERE id = ?", [rule_id])
            db.execute("DELETE FROM traces WHERE rule_id = ?", [rule_id])
            db.execute("COMMIT")

        await self.db.async_run(delete)

    # -- enabled flags ------------------------------------------------------------------------
    async def async_flags(self) -> dict[str, bool]:
        """Rules turned on or off by hand (overriding `enabled:` in the source)."""

        def read(db: sqlite_utils.Database) -> dict[str, bool]:
            rows = db.execute("SELECT id, enabled FROM rule_flags").fetchall()
            return {rid: bool(enabled) for rid, enabled in rows}

        return await self.db.async_run(read)

    async def async_set_flag(self, rule_id: str, enabled: bool) -> None:
        """Remember that a rule was turned on or off."""

        def write(db: sqlite_utils.Database) -> None:
            db.execute(
                "INSERT INTO rule_flags (id, enabled) VALUES (?, ?)"
                " ON CONFLICT(id) DO UPDATE SET enabled = excluded.enabled",
                [rule_id, int(enabled)],
            )

        await self.db.async_run(write)

    # -- traces ---------------------------------------------------------------------------------
    async def async_add_trace(self, trace: Mapping[str, Any]) -> None:
        """Store a finished trace and drop that rule's traces beyond the newest `keep_traces`."""
        data = trace_json(trace)
        keep = self.keep_traces

        def write(db: sqlite_utils.Database) -> None:
            db.execute("BEGIN")
            db.execute(
                "INSERT OR REPLACE INTO traces (rule_id, run_id, started, finished, state, data)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    trace["rule_id"],
                    trace["run_id"],
                    trace["started"],
                    trace["finished"],
                    trace["state"],
                    data,
                ],
            )
            db.execute(
                "DELETE FROM traces WHERE rule_id = ? AND seq NOT IN"
                " (SELECT seq FROM traces WHERE rule_id = ? ORDER BY seq DESC LIMIT ?)",
                [trace["rule_id"], trace["rule_id"], keep],
            )
            db.execute("COMMIT")

        await self.db.async_run(write)

    async def async_traces(self, rule_id: str, limit: int) -> list[dict[str, Any]]:
        """A rule's stored traces, newest first."""

        def read(db: sqlite_utils.Database) -> list[dict[str, Any]]:
            rows = db.execute(
                "SELECT data FROM traces WHERE rule_id = ? ORDER BY seq DESC LIMIT ?",
                [rule_id, limit],
            ).fetchall()
            return [orjson.loads(row[0]) for row in rows]

        return await self.db.async_run(read)

    async def async_trace(self, run_id: str) -> dict[str, Any] | None:
        """One stored trace by run id."""

        def read(db: sqlite_utils.Database) -> dict[str, Any] | None:
            row = db.execute("SELECT data FROM traces WHERE run_id = ?", [run_id]).fetchone()
            return None if row is None else orjson.loads(row[0])  # type: ignore[no-any-return]

        return await self.db.async_run(read)
