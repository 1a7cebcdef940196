"""Find Wyoming satellites on the LAN: zeroconf `_wyoming._tcp`, browsed for as long as the hub runs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from integrations.zeroconf.browser import LanService
from integrations.zeroconf.watcher import ServiceWatcher

from .link import Endpoint

if TYPE_CHECKING:
    from hub.core import Hub

_LOGGER = logging.getLogger(__name__)

WYOMING_SERVICE = "_wyoming._tcp.local."


class WyomingBrowser:
    """Reports every `_wyoming._tcp` service (satellite or not: `describe` tells) as an Endpoint."""

    def __init__(self, hub: Hub, found: Callable[[Endpoint], None]) -> None:
        self.found = found
        self._watcher = ServiceWatcher(hub, WYOMING_SERVICE, self._async_found)

    async def async_start(self) -> None:
        await self._watcher.async_start()

    async def async_stop(self) -> None:
        await self._watcher.async_stop()

    async def _async_found(self, service: LanService) -> None:
        _LOGGER.debug("found %s at %s:%s", service.instance, service.host, service.port)
        self.found(Endpoint(service.instance, service.host, service.port))
