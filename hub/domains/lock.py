"""Locks. Unlocking and opening are risky: voice and dashboard ask for confirmation."""

from __future__ import annotations

from typing import ClassVar

from ..entity import Command, Entity
from ..errors import NotSupported
from ..schema import Field, Schema

STATE_LOCKED = "locked"
STATE_UNLOCKED = "unlocked"
STATE_LOCKING = "locking"
STATE_UNLOCKING = "unlocking"
STATE_JAMMED = "jammed"

_CODE = Schema({"code": Field("str", max_length=32)})


class LockEntity(Entity):
    """A door lock."""

    domain = "lock"
    commands: ClassVar = (
        Command("lock", "async_lock", _CODE, "Lock"),
        Command("unlock", "async_unlock", _CODE, "Unlock", risky=True),
        Command("open", "async_open", _CODE, "Open the latch", risky=True),
    )
    events: ClassVar = ("lock_jammed",)

    lock_state: str | None = None

    @property
    def state(self) -> str | None:
        return self.lock_state

    async def async_lock(self, code: str | None = None) -> None:
        """Lock."""
        raise NotSupported(f"{self.entity_id} cannot lock")

    async def async_unlock(self, code: str | None = None) -> None:
        """Unlock."""
        raise NotSupported(f"{self.entity_id} cannot unlock")

    async def async_open(self, code: str | None = None) -> None:
        """Open the latch."""
        raise NotSupported(f"{self.entity_id} cannot open")
