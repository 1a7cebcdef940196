"""Find ESPHome devices on the LAN: zeroconf `_esphomelib._tcp`, browsed while the hub runs.

Every ESPHome node announces itself this way, plugs and sensors too: a device found here is
connected once, and kept only if it has a voice assistant (manager.async_device_connected).
An encrypted one (TXT `api_encryption`) needs its key in `esphome: devices:`; it is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from zeroconf import ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser

from integrations.zeroconf.browser import LanService, async_resolve
from integrations.zeroconf.shared import async_zeroconf

from .device import DeviceConfig, _normal_mac

if TYPE_CHECKING:
    from hub.core import Hub

    from .manager import EsphomeManager

_LOGGER = logging.getLogger(__name__)

ESPHOME_SERVICE = "_esphomelib._tcp.local."


class EsphomeBrowser:
    """Adds each unencrypted `_esphomelib._tcp` device; pokes a known one to reconnect now."""

    def __init__(self, hub: Hub, manager: EsphomeManager) -> None:
        self.hub = hub
        self.manager = manager
        self.skipped: set[str] = set()
        self._stack = contextlib.AsyncExitStack()
        self._browser: AsyncServiceBrowser | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    async def async_start(self) -> None:
        aiozc = await self._stack.enter_async_context(async_zeroconf(self.hub))

        def on_change(
            zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
        ) -> None:
            if state_change in (ServiceStateChange.Added, ServiceStateChange.Updated):
                task = asyncio.ensure_future(self._async_resolve(aiozc, service_type, name))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

        self._browser = AsyncServiceBrowser(aiozc.zeroconf, [ESPHOME_SERVICE], handlers=[on_change])

    async def async_stop(self) -> None:
        if self._browser is not None:
            await self._browser.async_cancel()
            self._browser = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._stack.aclose()

    async def _async_resolve(self, aiozc: Any, service_type: str, name: str) -> None:
        service = await async_resolve(aiozc, service_type, name)
        if service is not None:
            await self.async_found(service)

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
