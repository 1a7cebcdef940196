"""One zeroconf instance per hub, shared by the advertisement and every browse."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from zeroconf.asyncio import AsyncZeroconf

if TYPE_CHECKING:
    from hub.core import Hub

DATA_ZEROCONF = "zeroconf"


@asynccontextmanager
async def async_zeroconf(hub: Hub) -> AsyncIterator[AsyncZeroconf]:
    """The hub's zeroconf if the zeroconf integration runs, else a private one for the block."""
    shared = hub.data.get(DATA_ZEROCONF)
    if isinstance(shared, AsyncZeroconf):
        yield shared
        return
    aiozc = AsyncZeroconf()
    try:
        yield aiozc
    finally:
        await aiozc.async_close()
