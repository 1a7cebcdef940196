"""The sensor and binary_sensor entities that parsed advert values become."""

from __future__ import annotations

from typing import Any

from hub.domains.binary_sensor import BinarySensorEntity
from hub.domains.sensor import SensorEntity
from hub.entity import DeviceInfo

from .parsers import Reading

__all__ = ["AdvertBinarySensor", "AdvertSensor", "make_entity"]


class AdvertSensor(SensorEntity):
    """A measured value from a BLE sensor's adverts (temperature, humidity, battery, ...)."""

    def __init__(
        self, unique_id: str, name: str, device_info: DeviceInfo, reading: Reading
    ) -> None:
        super().__init__(
            unique_id, name, device_info=device_info, device_class=reading.device_class
        )
        self.unit_of_measurement = reading.unit
        self.state_class = "measurement" if isinstance(reading.value, int | float) else None
        self.rssi: int | None = None
        self.apply(reading)

    def apply(self, reading: Reading) -> None:
        self.native_value = reading.value

    @property
    def extra_attributes(self) -> dict[str, Any]:
        return {"rssi": self.rssi} if self.rssi is not None else {}


class AdvertBinarySensor(BinarySensorEntity):
    """A two-state value from a BLE sensor's adverts (motion, door, moisture, ...)."""

    def __init__(
        self, unique_id: str, name: str, device_info: DeviceInfo, reading: Reading
    ) -> None:
        super().__init__(
            unique_id, name, device_info=device_info, device_class=reading.device_class
        )
        self.rssi: int | None = None
        self.apply(reading)

    def apply(self, reading: Reading) -> None:
        self.is_on = None if reading.value is None else bool(reading.value)

    @property
    def extra_attributes(self) -> dict[str, Any]:
        return {"rssi": self.rssi} if self.rssi is not None else {}


def make_entity(
    address: str, device_name: str, device_info: DeviceInfo, reading: Reading
) -> AdvertSensor | AdvertBinarySensor:
    """The entity for one reading of one device; the unique id is address + reading key."""
    unique_id = f"{address.replace(':', '').lower()}_{reading.key}"
    name = f"{device_name} {reading.name}"
    cls = AdvertBinarySensor if reading.binary else AdvertSensor
    return cls(unique_id, name, device_info, reading)
