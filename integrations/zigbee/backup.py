"""Network backups (settings and keys) kept by Hearth in its config dir, restorable to a new stick."""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

import zigpy.backups

__all__ = ["BackupStore"]

_LOGGER = logging.getLogger(__name__)
KEEP = 10


class BackupStore:
    """A JSON file of zigpy network backups, newest last; written atomically, mode 0600."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Saves run in executor threads: one at a time, or they interleave in the file.
        self._lock = threading.Lock()

    def load(self) -> list[zigpy.backups.NetworkBackup]:
        """Read all stored backups; a corrupt file is logged and treated as empty."""
        try:
            raw = json.loads(self.path.read_text())
            return [zigpy.backups.NetworkBackup.from_dict(item) for item in raw["backups"]]
        except FileNotFoundError:
            return []
        except Exception as err:  # zigpy's parsers also assert: any bad file is just unusable
            _LOGGER.error("zigbee backup file %s is unreadable: %r", self.path, err)
            return []

    def latest(self) -> zigpy.backups.NetworkBackup | None:
        """The most recent backup, if any."""
        backups = self.load()
        return backups[-1] if backups else None

    def save(self, backup: zigpy.backups.NetworkBackup) -> None:
        """Append a backup, superseding older ones of the same network."""
        with self._lock:
            self._save(backup)

    def _save(self, backup: zigpy.backups.NetworkBackup) -> None:
        backups = [
            b
            for b in self.load()
            if not (
                b.is_compatible_with(backup)
                and b.network_info.network_key.tx_counter
                <= backup.network_info.network_key.tx_counter
            )
        ]
        backups.append(backup)
        data: dict[str, Any] = {"version": 1, "backups": [b.as_dict() for b in backups[-KEEP:]]}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        # The file holds the network key: owner-only from the moment it exists.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=1)
        os.replace(tmp, self.path)
