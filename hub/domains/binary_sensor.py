"""Binary sensors: door contacts, motion, presence, leaks."""

from __future__ import annotations

from ..const import STATE_OFF, STATE_ON
from ..entity import Entity


class BinarySensorEntity(Entity):
    """A two-state sensor; device_class says what on means (door: open, motion: detected)."""

    domain = "binary_sensor"

    is_on: bool | None = None

    @property
    def state(self) -> str | None:
        if self.is_on is None:
            return None
        return STATE_ON if self.is_on else STATE_OFF
