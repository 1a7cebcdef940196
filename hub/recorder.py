"""Recorder: every state change into SQLite, in batches off the loop; history and restore."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from .bus import Event, EventBus
from .clock import Clock
from .const import ATTR_RESTORED, EVENT_STATE_CHANGED
from .context import Context
from .json import json_bytes, json_loads
from .states import State
from .storage import Database

__all__ = ["Recorder"]

_LOGGER = logging.getLogger(__name__)
_Row = tuple[str, str | None, bytes | None, float, float, str | None, str | None, str | None]
_INSERT = (
    "INSERT INTO states (entity_id, state, attributes, last_changed, last_updated,"
    " context_id, context_user_id, context_origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
# Retention purge: first soon after start (not during it), then once a day, on the hub clock.
PURGE_FIRST_DELAY = 60.0
PURGE_INTERVAL = 86400.0


def _v1_states(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE states (id INTEGER PRIMARY KEY AUTOINCREMENT, entity_id TEXT NOT NULL,"
        " state TEXT, attributes BLOB, last_changed REAL NOT NULL, last_updated REAL NOT NULL,"
        " context_id TEXT, context_user_id TEXT, context_origin TEXT)"
    )
    db.execute("CREATE INDEX ix_states_entity_updated ON states (entity_id, last_updated)")
    db.execute("CREATE INDEX ix_states_updated ON states (last_updated)")


MIGRATIONS = (_v1_states,)


class Recorder:
    """Queues state changes and commits them in batches on the database thread."""

    def __init__(
        self,
        bus: EventBus,
        path: Path,
        *,
        commit_interval: float = 0.5,
        max_batch: int = 2000,
        keep_days: float = 10.0,
        exclude: tuple[str, ...] = (),
        clock: Clock | None = None,
    ) -> None:
        self._bus = bus
        self._clock = clock or Clock()
        self.database = Database(path, MIGRATIONS, full_check=False)
        self.commit_interval = commit_interval
        self.max_batch = max_batch
        self.keep_days = keep_days
        self.exclude = set(exclude)
        self._pending: list[_Row] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unsub: Any = None
        self._stopping = False
        self.rows_written = 0
        self.batches_written = 0
        # The scheduled purge that is running or last ran (its result is the rows removed).
        self.purge_task: asyncio.Task[int] | None = None
        self._cancel_purge: Callable[[], None] | None = None

    async def async_start(self) -> None:
        """Open the database and begin recording."""
        await self.database.async_open()
        self._unsub = self._bus.async_listen(EVENT_STATE_CHANGED, self._on_state_changed)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="recorder")
        self._cancel_purge = self._clock.async_call_later(PURGE_FIRST_DELAY, self._purge_due)

    async def async_stop_quietly(self) -> None:
        """Undo a failed start: stop listening and close whatever was opened."""
        if self._unsub is not None:
            self._unsub()
            self._unsub = None
        if self._cancel_purge is not None:
            self._cancel_purge()
            self._cancel_purge = None
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        try:
            await self.database.async_close()
        except Exception:
            _LOGGER.debug("Closing %s after a failed start", self.database.path, exc_info=True)

    async def async_stop(self) -> None:
        """Write what is pending, then close."""
        if self._unsub is not None:
            self._unsub()
            self._unsub = None
        self._stopping = True
        self._wake.set()
        if self._cancel_purge is not None:
            self._cancel_purge()
            self._cancel_purge = None
        if self.purge_task is not None:
            await asyncio.gather(self.purge_task, return_exceptions=True)
        if self._task is not None:
            await self._task
            self._task = None
        await self.async_flush()
        await self.database.async_close()

    async def async_flush(self) -> None:
        """Commit everything queued so far."""
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        try:
            await self.database.async_run(_write_batch, batch)
        except Exception:
            _LOGGER.exception("Recorder could not write %d state rows", len(batch))
            return
        self.rows_written += len(batch)
        self.batches_written += 1

    async def async_restore_states(self) -> list[State]:
        """Return the last committed state of every entity (removed entities excluded)."""
        rows = await self.database.async_run(_last_rows)
        states = []
        for row in rows:
            if row["state"] is None:
                continue
            attrs = dict(json_loads(row["attributes"])) if row["attributes"] else {}
            attrs[ATTR_RESTORED] = True
            states.append(_state_from_row(row, attrs))
        return states

    async def async_history(
        self, entity_id: str, start: datetime, end: datetime | None = None
    ) -> list[State]:
        """States of an entity from start to end, oldest first (pending rows included)."""
        await self.async_flush()
        end = end or self._clock.now()
        rows = await self.database.async_run(
            _history_rows, entity_id, start.timestamp(), end.timestamp()
        )
        return [
            _state_from_row(row, json_loads(row["attributes"]) if row["attributes"] else {})
            for row in rows
            if row["state"] is not None
        ]

    async def async_purge(self, keep_days: float | None = None) -> int:
        """Delete rows older than keep_days, keeping each entity's last row. Returns count."""
        keep = self.keep_days if keep_days is None else keep_days
        cutoff = (self._clock.now() - timedelta(days=keep)).timestamp()
        await self.async_flush()
        deleted: int = await self.database.async_run(_purge_rows, cutoff)
        _LOGGER.info("Recorder purged %d rows older than %s days", deleted, keep)
        return deleted

    # -- internals ----------------------------------------------------------------------
    def _on_state_changed(self, event: Event) -> None:
        data: Mapping[str, Any] = event.data
        entity_id = data["entity_id"]
        if entity_id in self.exclude:
            return
        new: State | None = data["new_state"]
        ctx: Context = event.context
        if new is None:
            now = self._clock.time()
            row: _Row = (entity_id, None, None, now, now, ctx.id, ctx.user_id, ctx.origin)
        else:
            try:
                attrs = json_bytes(new.attributes)
            except TypeError:
                _LOGGER.warning("Attributes of %s are not serialisable; recorded empty", entity_id)
                attrs = b"{}"
            row = (
                entity_id,
                new.state,
                attrs,
                new.last_changed.timestamp(),
                new.last_updated.timestamp(),
                ctx.id,
                ctx.user_id,
                ctx.origin,
            )
        self._pending.append(row)
        if len(self._pending) >= self.max_batch:
            self._wake.set()

    def _purge_due(self) -> None:
        # Fixed daily cadence: the next one is booked now, whatever this one takes.
        self._cancel_purge = self._clock.async_call_later(PURGE_INTERVAL, self._purge_due)
        if self._stopping or (self.purge_task is not None and not self.purge_task.done()):
            return
        self.purge_task = asyncio.get_running_loop().create_task(
            self._scheduled_purge(), name="recorder-purge"
        )

    async def _scheduled_purge(self) -> int:
        try:
            return await self.async_purge()
        except Exception:
            _LOGGER.exception("Recorder purge failed; trying again in a day")
            return 0

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await asyncio.wait_for(self._wake.wait(), self.commit_interval)
            except TimeoutError:
                pass
            self._wake.clear()
            await self.async_flush()


def _write_batch(db: sqlite_utils.Database, batch: list[_Row]) -> None:
    conn = db.conn
    conn.execute("BEGIN")
    try:
        conn.executemany(_INSERT, batch)
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise


def _last_rows(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    sql = (
        "SELECT s.* FROM states s JOIN (SELECT entity_id, MAX(id) AS id FROM states"
        " GROUP BY entity_id) last ON s.id = last.id"
    )
    return [dict(r) for r in db.query(sql)]


def _history_rows(
    db: sqlite_utils.Database, entity_id: str, start: float, end: float
) -> list[dict[str, Any]]:
    sql = (
        "SELECT * FROM states WHERE entity_id = ? AND last_updated >= ? AND last_updated <= ?"
        " ORDER BY last_updated, id"
    )
    return [dict(r) for r in db.query(sql, [entity_id, start, end])]


def _purge_rows(db: sqlite_utils.Database, cutoff: float) -> int:
    conn = db.conn
    conn.execute("BEGIN")
    try:
        cur = conn.execute(
            "DELETE FROM states WHERE last_updated < ? AND id NOT IN"
            " (SELECT MAX(id) FROM states GROUP BY entity_id)",
            [cutoff],
        )
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    return cur.rowcount


def _state_from_row(row: Mapping[str, Any], attrs: Mapping[str, Any]) -> State:
    return State(
        row["entity_id"],
        row["state"],
        attrs,
        datetime.fromtimestamp(row["last_changed"], UTC),
        datetime.fromtimestamp(row["last_updated"], UTC),
        Context(user_id=row["context_user_id"], origin=row["context_origin"], id=row["context_id"]),
    )
