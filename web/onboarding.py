"""Onboarding guard: a one-time setup code from the log, and no second owner for a hub that lost its users.

Whoever first reaches a fresh hub becomes its owner, so reaching it is not enough: the request
must carry the code the hub printed in its log (and wrote, 0600, into the config folder). The
code is needed from every address, loopback included: `make run` prints it next to the address.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.core import Hub

    from .authstore import AuthStore

__all__ = ["CODE_FILE", "MARKER_FILE", "Onboarding", "create_private", "write_secret"]

_LOGGER = logging.getLogger(__name__)
CODE_FILE = "onboarding_code"
# Written when the owner is created: an empty auth store next to it means data was lost.
MARKER_FILE = ".onboarded"
_SQLITE_HEADER = b"SQLite format 3\x00"


class Onboarding:
    """Knows whether onboarding may happen, and checks the setup code."""

    def __init__(self, hub: Hub, auth_db: Path) -> None:
        self.hub = hub
        self.auth_db = auth_db
        self.code_file = hub.config_dir / CODE_FILE
        self.marker = hub.config_dir / MARKER_FILE
        self.code: str | None = None
        self.blocked: str | None = None
        self._damaged = False

    def inspect(self) -> None:
        """Before the store opens: an existing auth file that is empty or not SQLite is damage."""
        try:
            with self.auth_db.open("rb") as file:
                header = file.read(len(_SQLITE_HEADER))
        except FileNotFoundError:
            return
        self._damaged = header != _SQLITE_HEADER

    async def async_prepare(self, store: AuthStore) -> None:
        """After the store opened: refuse onboarding after data loss, else make a setup code."""
        if store.onboarded:
            await self.hub.async_add_executor_job(_ensure_marker, self.marker, self.code_file)
            return
        lost = self._damaged or await self.hub.async_add_executor_job(self.marker.exists)
        if lost:
            self.blocked = (
                f"{self.auth_db} existed but holds no owner (it is empty or damaged), so this hub"
                " will not create a new owner: restore the file from a backup, or delete it and"
                f" {self.marker} to start over"
            )
            _LOGGER.error("Onboarding refused: %s", self.blocked)
            return
        self.code = f"{secrets.randbelow(10**4):04d}-{secrets.randbelow(10**4):04d}"
        await self.hub.async_add_executor_job(write_secret, self.code_file, self.code + "\n")
        _LOGGER.warning(
            "No owner yet. Setup code for the first visit: %s (also in %s)",
            self.code,
            self.code_file,
        )

    def matches(self, code: str) -> bool:
        """Whether a typed code is the setup code (dashes and spaces ignored)."""
        if self.code is None:
            return False
        typed = "".join(c for c in code if c.isalnum())
        return hmac.compare_digest(typed.encode(), self.code.replace("-", "").encode())

    async def async_done(self) -> None:
        """The owner exists: the code is spent, the marker remembers."""
        self.code = None
        await self.hub.async_add_executor_job(_ensure_marker, self.marker, self.code_file)


def create_private(path: Path) -> None:
    """Create an empty SQLite database readable only by its owner (0600), or tighten an
    existing file. (A 0-byte file would read as a truncated, damaged database.)"""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)
        return
    os.close(fd)
    conn = sqlite3.connect(path)
    try:
        # Any schema change writes SQLite's header into the file, in place (mode kept).
        conn.execute("CREATE TABLE hearth_new_file (x)")
        conn.execute("DROP TABLE hearth_new_file")
        conn.commit()
    finally:
        conn.close()


def write_secret(path: Path, text: str) -> None:
    """Write a secret into a 0600 file."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(text)


def _ensure_marker(marker: Path, code_file: Path) -> None:
    if not marker.exists():
        write_secret(marker, "the owner account exists; see auth.db\n")
    code_file.unlink(missing_ok=True)
