"""Numbers: a settable value within a range (a volume, a timer length)."""

from __future__ import annotations

from typing import Any, ClassVar

from ..entity import Command, Entity
from ..errors import InvalidServiceData, NotSupported
from ..schema import Field, Schema


class NumberEntity(Entity):
    """A settable number."""

    domain = "number"
    commands: ClassVar = (
        Command(
            "set_value", "async_handle_set_value", Schema({"value": Field("float", required=True)})
        ),
    )

    native_value: float | None = None
    min_value: float = 0.0
    max_value: float = 100.0
    step: float = 1.0
    unit_of_measurement: str | None = None

    @property
    def state(self) -> str | None:
        return None if self.native_value is None else str(self.native_value)

    @property
    def state_attributes(self) -> dict[str, Any]:
        attrs: dict[str, Any] = {"min": self.min_value, "max": self.max_value, "step": self.step}
        if self.unit_of_measurement:
            attrs["unit_of_measurement"] = self.unit_of_measurement
        return attrs

    async def async_handle_set_value(self, value: float) -> None:
        """Check the range, then set."""
        if not self.min_value <= value <= self.max_value:
            raise InvalidServiceData(
                "value out of range", {"value": f"must be {self.min_value}-{self.max_value}"}
            )
        await self.async_set_value(value)

    async def async_set_value(self, value: float) -> None:
        """Set the value on the device."""
        raise NotSupported(f"{self.entity_id} cannot be set")
