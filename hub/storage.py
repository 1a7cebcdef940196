"""Versioned SQLite databases: one worker thread each, numbered forward migrations, WAL.

Each database checks itself when opened: an empty or damaged file is moved aside (never
replaced in place), restored from the hub's rolling backups when it keeps them, or started
afresh; :attr:`Database.recovery` says what happened so the hub can tell the user.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from .errors import HearthError
from .safefile import BACKUP_DIR, KEEP_BACKUPS, Recovery, backup_due, backups_of, quarantine

__all__ = ["Database", "Migration", "Recovery", "StorageError"]

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
        backups: bool = False,
        full_check: bool = True,
    ) -> None:
        self.path = Path(path)
        self.migrations = tuple(migrations)
        self.synchronous = synchronous
        # Rolling backups (daily and before each migration) in <dir>/backups/.
        self.backups = backups
        # quick_check reads every page: right for small stores, too slow for big history.
        self.full_check = full_check
        self.recovery: Recovery | None = None
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

    async def async_backup(self, why: str = "daily") -> Path | None:
        """Copy the database into the rolling backups (on the database thread)."""
        return await self.async_run(lambda _db: self.backup_sync(why))

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
            problem = self._check_file()
            if problem is not None:
                self._recover(problem)
            conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=5000")
            self.db = sqlite_utils.Database(conn)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if self.backups and 0 < version < len(self.migrations):
                self.backup_sync(f"before-v{len(self.migrations)}")
            self._migrate(self.db)
            if self.backups and version > 0 and backup_due(self.path):
                self.backup_sync("daily")
        return self.db

    def backup_sync(self, why: str) -> Path | None:
        """Copy the open database into ``backups/`` through SQLite's backup API; prune."""
        if self.db is None:
            return None
        folder = self.path.parent / BACKUP_DIR
        folder.mkdir(mode=0o700, exist_ok=True)
        target = folder / f"{self.path.name}.{time.strftime('%Y%m%dT%H%M%S')}-{why}"
        tmp = folder / f".{target.name}.tmp"
        dest = sqlite3.connect(str(tmp))
        try:
            self.db.conn.backup(dest)
        finally:
            dest.close()
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
        for old in backups_of(self.path)[KEEP_BACKUPS:]:
            old.unlink(missing_ok=True)
        _LOGGER.info("Backed up %s to %s", self.path.name, target.name)
        return target

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
    def _check_file(self) -> str | None:
        """Why the file on disk is unusable, or None (a missing file is fine: it is created)."""
        if not self.path.is_file():
            return None  # missing (created) or not a file (opening fails, nothing is moved)
        wal = self.path.with_name(self.path.name + "-wal")
        if self.path.stat().st_size == 0 and not (wal.exists() and wal.stat().st_size > 0):
            return "empty file"
        try:
            conn = sqlite3.connect(str(self.path))
        except sqlite3.Error:
            return None  # cannot open (permissions, locks): not damage; opening will say why
        try:
            if self.full_check:
                result = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
                if result != "ok":
                    return f"integrity check: {result}"
            else:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            return None  # busy or unreadable, not damaged content
        except sqlite3.DatabaseError as err:
            return str(err)
        finally:
            conn.close()
        return None

    def _recover(self, problem: str) -> None:
        damaged = quarantine(self.path, problem)
        restored: Path | None = None
        if self.backups:
            for backup in backups_of(self.path):
                shutil.copyfile(backup, self.path)
                if self._check_file() is None:
                    restored = backup
                    break
                self.path.unlink()
                _LOGGER.error("Backup %s is damaged too; trying an older one", backup.name)
        self.recovery = Recovery(self.path, problem, damaged, restored)
        _LOGGER.error("%s", self.recovery.message())

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
