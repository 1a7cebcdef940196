"""A satellite as a device the dashboard shows: online, last heard, and a mute switch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from wyoming.info import Satellite

from hub.domains.binary_sensor import BinarySensorEntity
from hub.domains.sensor import SensorEntity
from hub.domains.switch import SwitchEntity
from hub.entity import DeviceInfo

IDENTIFIER_DOMAIN = "wyoming"


def satellite_device(key: str, satellite: Satellite) -> DeviceInfo:
    """The registry device of a satellite; its announced area becomes the suggested room."""
    return DeviceInfo(
        identifiers=((IDENTIFIER_DOMAIN, key),),
        name=satellite.name or key,
        manufacturer="Wyoming",
        model=satellite.description or "Wyoming satellite",
        sw_version=getattr(satellite, "version", None),
        suggested_area=satellite.area,
    )


class SatelliteOnline(BinarySensorEntity):
    """On while the hub is attached to the satellite."""

    def __init__(self, key: str, name: str, device: DeviceInfo) -> None:
        super().__init__(
            f"{key}-online", f"{name} online", device_info=device, device_class="connectivity"
        )
        self.is_on = False
        self.error: str | None = None

    @property
    def extra_attributes(self) -> dict[str, Any]:
        return {"last_error": self.error} if self.error else {}

    def async_set_online(self, online: bool, error: str | None = None) -> None:
        self.is_on, self.error = online, error
        self.async_write_state()


class SatelliteLastHeard(SensorEntity):
    """When the satellite last heard its wake word or a command."""

    def __init__(self, key: str, name: str, device: DeviceInfo) -> None:
        super().__init__(
            f"{key}-last_heard", f"{name} last heard", device_info=device, device_class="timestamp"
        )
        self.what: str | None = None

    @property
    def extra_attributes(self) -> dict[str, Any]:
        return {"heard": self.what} if self.what else {}

    def async_heard(self, what: str) -> None:
        self.native_value = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.what = what
        self.async_write_state()


class SatelliteMute(SwitchEntity):
    """Muted: the hub sends pause-satellite and ignores its microphone until unmuted."""

    restore_state = True  # the user's choice survives a hub restart

    def __init__(
        self, key: str, name: str, device: DeviceInfo, changed: Callable[[], Awaitable[None]]
    ) -> None:
        super().__init__(
            f"{key}-mute", f"{name} mute", device_info=device, icon="mdi:microphone-off"
        )
        self.is_on = False
        self._changed = changed

    async def async_turn_on(self, **data: Any) -> None:
        await self._set(True)

    async def async_turn_off(self, **data: Any) -> None:
        await self._set(False)

    async def _set(self, muted: bool) -> None:
        self.is_on = muted
        self.async_write_state()
        await self._changed()
