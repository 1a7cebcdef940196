"""Announces the hub as `_hearth._tcp` over mDNS when no zeroconf integration does it."""

from __future__ import annotations

import logging
import socket

from zeroconf import IPVersion
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from hub.const import __version__

__all__ = ["SERVICE_TYPE", "MdnsAnnouncer"]

_LOGGER = logging.getLogger(__name__)
SERVICE_TYPE = "_hearth._tcp.local."


class MdnsAnnouncer:
    """One registration of the dashboard's address and port."""

    def __init__(self, name: str, address: str, port: int) -> None:
        self.name = name
        self.address = address
        self.port = port
        self._zc: AsyncZeroconf | None = None
        self.info: AsyncServiceInfo | None = None

    async def async_start(self) -> None:
        """Register the service (logs and carries on if the network refuses)."""
        label = "".join(c for c in self.name if c.isalnum() or c in " -_")[:50] or "Hearth"
        self.info = AsyncServiceInfo(
            SERVICE_TYPE,
            f"{label}.{SERVICE_TYPE}",
            addresses=[socket.inet_aton(self.address)],
            port=self.port,
            properties={"version": __version__, "path": "/", "api": "/api/"},
            server=f"{socket.gethostname().split('.')[0]}.local.",
        )
        try:
            self._zc = AsyncZeroconf(ip_version=IPVersion.V4Only)
            await self._zc.async_register_service(self.info, allow_name_change=True)
        except Exception as err:  # no multicast on this network: the hub still works
            _LOGGER.warning("mDNS announcement failed: %s", err)
            await self.async_stop()

    async def async_stop(self) -> None:
        """Withdraw the announcement."""
        if self._zc is None:
            return
        zc, self._zc = self._zc, None
        try:
            if self.info is not None:
                await zc.async_unregister_service(self.info)
        finally:
            await zc.async_close()
