"""Fixtures for the zeroconf tests: a private zeroconf instance playing other LAN hosts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from zeroconf.asyncio import AsyncZeroconf


@pytest.fixture
async def lan() -> AsyncIterator[AsyncZeroconf]:
    """Another host on the LAN (a real zeroconf stack, real multicast)."""
    aiozc = AsyncZeroconf()
    yield aiozc
    await aiozc.async_close()
