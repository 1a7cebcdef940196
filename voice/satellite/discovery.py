"""Find Wyoming satellites on the LAN: zeroconf `_wyoming._tcp`, browsed for as long as the hub runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from zeroconf import ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser

from integrations.zeroconf.browser import async_resolve
from integrations.zeroconf.shared import async_zeroconf

from .link import Endpoint

if TYPE_CHECKING:
    from hub.core import Hub

_LOGGER = logging.getLogger(__name__)

WYOMING_SERVICE = "_wyoming._tcp.local."


class WyomingBrowser:
    """Reports every `_wyoming._tcp` service (satellite or not: `describe` tells) as an Endpoint."""

    def __init__(self, hub: Hub, found: Callable[[Endpoint], None]) -> None:
        self.hub = hub
        self.found = found
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

        self._browser = AsyncServiceBrowser(aiozc.zeroconf, [WYOMING_SERVICE], handlers=[on_change])

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
        if service is None:
            return
        _LOGGER.debug("found %s at %s:%s", service.instance, service.host, service.port)
        self.found(Endpoint(service.instance, service.host, service.port))
