"""Find ESPHome devices on the LAN: zeroconf `_esphomelib._tcp`, browsed while the hub runs.

Every ESPHome node announces itself this way, plugs and sensors too: a device found here is
connected once, and kept only if it has a voice assistant (manager.async_device_connected).
An encrypted one (TXT `api_encryption`) needs its key in `esphome: devices:`; it is skipped.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from integrations.zeroconf.browser import ESPHOME, LanService
from integrations.zeroconf.watcher import ServiceWatcher

from .device import DeviceConfig, _normal_mac

if TYPE_CHECKING:
    from hub.core import Hub

    from .manager import EsphomeManager

_LOGGER = logging.getLogger(__name__)

ESPHOME_SERVICE = ESPHOME


class EsphomeBrowser:
    """Adds each unencrypted `_esphomelib._tcp` device; pokes a known one to reconnect now."""

    def __init__(self, hub: Hub, manager: EsphomeManager) -> None:
        self.hub = hub
        self.manager = manager
        self.skipped: set[str] = set()
        self._watcher = ServiceWatcher(hub, ESPHOME_SERVICE, self.async_found)

    async def async_start(self) -> None:
        await self._watcher.async_start()

    async def async_stop(self) -> None:
        await self._watcher.async_stop()

    async def async_found(self, service: LanService) -> None:
        props = service.properties
        mac = _normal_mac(props.get("mac", ""))
        known = self.manager.find(service.host, service.port, mac)
        if known is not None:
            known.seen()
            return
        if props.get("api_encryption"):
            if service.instance not in self.skipped:
                self.skipped.add(service.instance)
                _LOGGER.info(
                    "ESPHome device %s is encrypted: add it with its key under esphome: devices:",
                    service.instance,
                )
            return
        _LOGGER.debug(
            "found ESPHome device %s at %s:%s", service.instance, service.host, service.port
        )
        await self.manager.async_add(
            DeviceConfig(service.host, service.port, name=service.instance, discovered=True)
        )
