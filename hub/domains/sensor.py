"""Sensors: a measured value with a unit and a device class."""

from __future__ import annotations

from typing import Any, ClassVar

from ..entity import Entity, Property


class SensorEntity(Entity):
    """A sensor. Integrations set native_value and push it."""

    domain = "sensor"
    properties: ClassVar = (Property("unit_of_measurement", "str"), Property("state_class", "str"))

    native_value: Any = None
    unit_of_measurement: str | None = None
    state_class: str | None = None  # "measurement", "total_increasing"
    precision: int | None = None

    @property
    def state(self) -> str | None:
        value = self.native_value
        if value is None:
            return None
        if self.precision is not None and isinstance(value, float):
            return f"{value:.{self.precision}f}"
        return str(value)

    @property
    def state_attributes(self) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        if self.unit_of_measurement:
            attrs["unit_of_measurement"] = self.unit_of_measurement
        if self.state_class:
            attrs["state_class"] = self.state_class
        return attrs
