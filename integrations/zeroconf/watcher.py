"""Watch the LAN for one service type while the hub runs, resolving each instance announced."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from zeroconf import ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncZeroconf

from .browser import LanService, async_resolve
from .shared import async_zeroconf

if TYPE_CHECKING:
    from hub.core import Hub


class ServiceWatcher:
    """Calls `found` with each resolved `service_type` instance, again whenever it re-announces."""

    def __init__(
        self, hub: Hub, service_type: str, found: Callable[[LanService], Awaitable[None]]
    ) -> None:
        self.hub = hub
        self.service_type = service_type
        self.found = found
        self._stack = contextlib.AsyncExitStack()
        self._browser: AsyncServiceBrowser | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    async def async_start(self) -> None:
        """Join the hub's shared zeroconf and start browsing."""
        aiozc = await self._stack.enter_async_context(async_zeroconf(self.hub))

        def on_change(
            zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
        ) -> None:
            if state_change in (ServiceStateChange.Added, ServiceStateChange.Updated):
                task = asyncio.ensure_future(self._async_resolve(aiozc, service_type, name))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

        self._browser = AsyncServiceBrowser(
            aiozc.zeroconf, [self.service_type], handlers=[on_change]
        )

    async def async_stop(self) -> None:
        """Stop browsing and cancel resolutions under way."""
        if self._browser is not None:
            await self._browser.async_cancel()
            self._browser = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._stack.aclose()

    async def _async_resolve(self, aiozc: AsyncZeroconf, service_type: str, name: str) -> None:
        service = await async_resolve(aiozc, service_type, name)
        if service is not None:
            await self.found(service)
