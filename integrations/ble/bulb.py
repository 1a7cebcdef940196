"""A SwitchBot Color Bulb as a Hearth light, over a kept-up GATT link."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bleak.backends.device import BLEDevice
from habluetooth import BluetoothServiceInfoBleak

from hub.domains.light import (
    COLOR_MODE_COLOR_TEMP,
    COLOR_MODE_RGB,
    LightEntity,
    normalize_turn_on,
)
from hub.entity import DeviceInfo
from hub.errors import DeviceUnavailable

from . import switchbot_bulb as proto
from .gatt import GattLink, GattUnavailable
from .store import PairedDevice

__all__ = ["SwitchBotBulbLight"]

_LOGGER = logging.getLogger(__name__)


class SwitchBotBulbLight(LightEntity):
    """On/off, brightness, colour temperature and RGB through the bulb's open BLE API."""

    supported_color_modes = (COLOR_MODE_COLOR_TEMP, COLOR_MODE_RGB)
    min_color_temp_kelvin = proto.MIN_KELVIN
    max_color_temp_kelvin = proto.MAX_KELVIN

    def __init__(
        self,
        paired: PairedDevice,
        get_device: Callable[[], BLEDevice | None],
        backoff: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0),
    ) -> None:
        super().__init__(
            f"{paired.address.replace(':', '').lower()}_light",
            paired.name,
            device_info=DeviceInfo(
                identifiers=(("ble", paired.address),),
                name=paired.name,
                manufacturer="SwitchBot",
                model="Color Bulb",
            ),
        )
        self.address = paired.address
        self.available = False  # until the link is up and the bulb has told us its state
        self._level = 100
        self._last_sequence: int | None = None
        self.link = GattLink(
            paired.address,
            paired.name,
            get_device,
            proto.TX_CHAR,
            on_notify=self._on_notify,
            on_link_change=self._on_link_change,
            backoff=backoff,
        )

    async def async_added_to_hub(self) -> None:
        await self.link.async_start()

    async def async_will_remove(self) -> None:
        await self.link.async_stop()

    async def async_turn_on(self, **data: Any) -> None:
        data = normalize_turn_on(data)
        level = self._level
        if data.get("brightness") is not None:
            level = max(1, round(int(data["brightness"]) * 100 / 255))
        if data.get("rgb_color") is not None:
            request = proto.req_rgb(level, tuple(data["rgb_color"]))
        elif data.get("color_temp_kelvin") is not None:
            request = proto.req_color_temp(level, int(data["color_temp_kelvin"]))
        elif data.get("brightness") is not None:
            request = proto.req_brightness(level)
        else:
            request = proto.req_turn_on()
        await self._send(request)

    async def async_turn_off(self, **data: Any) -> None:
        await self._send(proto.req_turn_off())

    def on_advert(self, info: BluetoothServiceInfoBleak) -> None:
        """The bulb broadcasts power and level: follow changes made by its app or a wall switch."""
        advert = proto.parse_advert(info)
        if advert is None or advert.sequence == self._last_sequence:
            return
        self._last_sequence = advert.sequence
        if self.available and (advert.on != self.is_on or advert.level != self._level):
            self.is_on, self._level = advert.on, advert.level
            self.brightness = round(advert.level * 255 / 100)
            self.async_write_state()

    async def _send(self, request: bytes) -> None:
        try:
            reply = await self.link.async_request(proto.RX_CHAR, request)
        except GattUnavailable as exc:
            raise DeviceUnavailable(f"{self.name} is unreachable: {exc}") from exc
        if proto.parse_response(reply) is None:
            raise DeviceUnavailable(f"{self.name} refused the command (reply {reply.hex()})")

    def _on_notify(self, payload: bytes) -> None:
        state = proto.parse_response(payload)
        if state is None:
            _LOGGER.warning("%s: unexpected notification %s", self.name, payload.hex())
            return
        self.is_on = state.on
        self._level = state.level or self._level
        self.brightness = round(state.level * 255 / 100)
        if state.mode == "color":
            self.color_mode, self.rgb_color = COLOR_MODE_RGB, state.rgb
        else:
            self.color_mode = COLOR_MODE_COLOR_TEMP
            self.color_temp_kelvin = state.kelvin or self.color_temp_kelvin
        self.available = True
        self.async_write_state()

    def _on_link_change(self, up: bool) -> None:
        if up:
            # Ask for the state; the answer arrives as a notification and makes us available.
            if self.hub is not None:
                self.hub.async_create_task(self._async_refresh(), f"ble-bulb-{self.address}")
        else:
            self.async_set_available(False)

    async def _async_refresh(self) -> None:
        try:
            await self.link.async_request(proto.RX_CHAR, proto.STATUS_REQUEST)
        except GattUnavailable as exc:
            _LOGGER.warning("%s: status query failed: %s", self.name, exc)
