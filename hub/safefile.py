"""Files that are never silently replaced: atomic writes, damaged copies kept, rolling backups.

A store that finds its file damaged calls :func:`quarantine` (the file is renamed aside with a
timestamp, never deleted) and then :func:`latest_backup` to restore from the hub's own copies,
which :func:`backup_file` keeps in ``<config_dir>/backups/`` (daily and before migrations).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "BACKUP_DIR",
    "KEEP_BACKUPS",
    "Recovery",
    "backup_due",
    "backup_file",
    "backup_json_file",
    "backups_of",
    "latest_backup",
    "protect_json_file",
    "quarantine",
    "read_json",
    "write_atomic",
]

_LOGGER = logging.getLogger(__name__)
BACKUP_DIR = "backups"
KEEP_BACKUPS = 7
DAY = 86400.0


@dataclass(frozen=True)
class Recovery:
    """A store found damaged at start: where the damaged copy went and what replaced it."""

    path: Path
    reason: str
    damaged_copy: Path
    restored_from: Path | None

    def message(self) -> str:
        """What the user is told (log and dashboard)."""
        then = (
            f"restored from the backup {self.restored_from.name}"
            if self.restored_from is not None
            else "started empty (no backup to restore)"
        )
        return (
            f"{self.path.name} was damaged ({self.reason}); the damaged file is kept as "
            f"{self.damaged_copy.name} and the store was {then}."
        )


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write data to path so a crash leaves either the old or the new file, never half."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def quarantine(path: Path, reason: str) -> Path:
    """Move a damaged file aside (with its SQLite sidecars) as ``<name>.damaged-<time>``."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    os.replace(path, target)
    for suffix in ("-wal", "-shm", "-journal"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, target.with_name(target.name + suffix))
    _LOGGER.error("%s is damaged (%s); kept it as %s", path, reason, target.name)
    return target


def read_json(path: Path) -> Any:
    """Parse a JSON file; raises ValueError for an empty or damaged one (OSError if missing)."""
    data = path.read_bytes()
    if not data.strip():
        raise ValueError("file is empty")
    if b"\0" in data:
        raise ValueError("file contains NUL bytes")
    try:
        return json.loads(data)
    except (UnicodeDecodeError, RecursionError) as err:
        raise ValueError(str(err)) from None


def backups_of(path: Path) -> list[Path]:
    """Backups of a file, newest first."""
    folder = path.parent / BACKUP_DIR
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob(f"{path.name}.*") if not p.name.endswith(".tmp")]
    return sorted(found, key=lambda p: p.name, reverse=True)


def latest_backup(path: Path) -> Path | None:
    """The newest backup of a file, or None."""
    backups = backups_of(path)
    return backups[0] if backups else None


def backup_due(path: Path, now: float | None = None) -> bool:
    """True when the newest backup is older than a day (or there is none)."""
    newest = latest_backup(path)
    if newest is None:
        return True
    return (now or time.time()) - newest.stat().st_mtime >= DAY


def backup_file(path: Path, why: str, keep: int = KEEP_BACKUPS) -> Path | None:
    """Copy a healthy (non-SQLite) file into ``backups/``; prune old ones."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    folder = path.parent / BACKUP_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = folder / f"{path.name}.{stamp}-{why}"
    tmp = folder / f"{target.name}.tmp"
    shutil.copyfile(path, tmp)
    os.chmod(tmp, path.stat().st_mode & 0o777)
    os.replace(tmp, target)
    for old in backups_of(path)[keep:]:
        old.unlink(missing_ok=True)
    return target


def backup_json_file(path: Path, why: str = "daily") -> Path | None:
    """Back up a JSON store only while it reads back whole (a damaged one would push out a good
    copy); None when it is missing or unreadable (blocking)."""
    try:
        read_json(path)
    except (OSError, ValueError):
        return None
    return backup_file(path, why)


def protect_json_file(path: Path) -> Recovery | None:
    """Check a JSON store before its owner reads it (blocking).

    Damaged or empty: kept aside and the newest good backup put back (None left in place when
    there is none, so the owner starts afresh). Healthy: backed up if the last copy is a day old.
    """
    try:
        read_json(path)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        damaged = quarantine(path, str(err))
        for backup in backups_of(path):
            try:
                read_json(backup)
            except (OSError, ValueError):
                continue
            shutil.copyfile(backup, path)
            os.chmod(path, backup.stat().st_mode & 0o777)
            recovery = Recovery(path, str(err), damaged, backup)
            break
        else:
            recovery = Recovery(path, str(err), damaged, None)
        _LOGGER.error("%s", recovery.message())
        return recovery
    if backup_due(path):
        backup_file(path, "daily")
    return None
