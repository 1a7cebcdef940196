"""Versioned SQLite databases: one worker thread each, numbered forward migrations, WAL."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from .errors import HearthError

__all__ = ["Database", "Migration", "StorageError"]

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
Migration = Callable[[sqlite_utils.Database], None]


class StorageError(HearthError):
    """A database could not be opened or migrated."""

    code = "storage_error"


class Database:
    """A SQLite file whose schema version is recorded and migrated forward on open.

    All access runs on one dedicated thread, so the event loop never blocks on disk and
    sqlite's one-connection-one-thread rule holds.
    """

    def __init__(
        self,
        path: Path | str,
        migrations: Sequence[Migration],
        *,
        synchronous: str = "FULL",
    ) -> None:
        self.path = Path(path)
        self.migrations = tuple(migrations)
        self.synchronous = synchronous
        self._executor: ThreadPoolExecutor | None = None
        self.db: sqlite_utils.Database | None = None

    @property
    def schema_version(self) -> int:
        """The version this code migrates the database to."""
        return len(self.migrations)

    async def async_open(self) -> None:
        """Open (creating if needed) and migrate, on the database thread."""
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"db-{self.path.stem}")
        await self.async_run(lambda _db: None, _opening=True)

    async def async_run(self, func: Callable[..., T], *args: Any, _opening: bool = False) -> T:
        """Run func(db, *args) on the database thread and return its result."""
        if self._executor is None:
            raise StorageError(f"database {self.path} is not open")
        loop = asyncio.get_running_loop()
        if _opening:
            return await loop.run_in_executor(self._executor, self._open_and_call, func, args)
        return await loop.run_in_executor(self._executor, self._call, func, args)

    async def async_close(self) -> None:
        """Finish pending work and close."""
        if self._executor is None:
            return
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self.close_sync)
        self._executor.shutdown(wait=True)
        self._executor = None

    def open_sync(self) -> sqlite_utils.Database:
        """Open and migrate in the calling thread (CLI tools and tests)."""
        if self.db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=5000")
            self.db = sqlite_utils.Database(conn)
            self._migrate(self.db)
        return self.db

    def close_sync(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        if self.db is not None:
            try:
                self.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                _LOGGER.warning("WAL checkpoint of %s failed", self.path, exc_info=True)
            self.db.conn.close()
            self.db = None

    def integrity_ok(self) -> bool:
        """Run SQLite's integrity check."""
        db = self.open_sync()
        return db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    # -- internals ----------------------------------------------------------------------
    def _open_and_call(self, func: Callable[..., T], args: tuple[Any, ...]) -> T:
        try:
            db = self.open_sync()
        except sqlite3.DatabaseError as err:
            raise StorageError(f"cannot open database {self.path}: {err}") from err
        return func(db, *args)

    def _call(self, func: Callable[..., T], args: tuple[Any, ...]) -> T:
        if self.db is None:
            raise StorageError(f"database {self.path} is closed")
        return func(self.db, *args)

    def _migrate(self, db: sqlite_utils.Database) -> None:
        current = db.execute("PRAGMA user_version").fetchone()[0]
        target = len(self.migrations)
        if current > target:
            raise StorageError(
                f"{self.path} has schema version {current}, newer than this Hearth "
                f"understands ({target}); refusing to touch it"
            )
        if current == target:
            return
        if "schema_migrations" not in db.table_names():
            db.execute(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL)"
            )
        for version in range(current + 1, target + 1):
            migration = self.migrations[version - 1]
            _LOGGER.info("Migrating %s to schema version %d", self.path.name, version)
            # One transaction per step: a crash mid-migration leaves the previous version.
            db.execute("BEGIN IMMEDIATE")
            try:
                migration(db)
                db.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                    [version, time.time()],
                )
                db.execute(f"PRAGMA user_version={version}")
                db.execute("COMMIT")
            except Exception:
                db.execute("ROLLBACK")
                raise
