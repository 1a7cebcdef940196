"""Announce the hub on the LAN as ``_hearth._tcp`` so the app and satellites find it."""

from __future__ import annotations

import logging
import socket

from zeroconf import NonUniqueNameException
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from hub.const import __version__

_LOGGER = logging.getLogger(__name__)

HUB_SERVICE = "_hearth._tcp.local."


def hub_service_info(
    name: str, api_port: int, addresses: list[str], hub_id: str, host_name: str | None = None
) -> AsyncServiceInfo:
    """The service record: instance name, API port, version and id in TXT."""
    label = "".join(c if c.isalnum() or c in " -_" else "-" for c in name)[:40] or "Hearth"
    host = host_name or f"hearth-{hub_id[:8]}.local."
    return AsyncServiceInfo(
        HUB_SERVICE,
        f"{label} ({hub_id[:6]}).{HUB_SERVICE}",
        port=api_port,
        addresses=[socket.inet_aton(a) for a in addresses],
        properties={"version": __version__, "api_port": str(api_port), "id": hub_id},
        server=host,
    )


class HubAdvertisement:
    """Registers the hub's service record and withdraws it on stop."""

    def __init__(self, aiozc: AsyncZeroconf, info: AsyncServiceInfo) -> None:
        self.aiozc = aiozc
        self.info = info
        self.registered = False

    async def async_start(self) -> None:
        try:
            await self.aiozc.async_register_service(self.info, allow_name_change=True)
        except NonUniqueNameException:
            _LOGGER.warning("Another host already announces %s", self.info.name)
            return
        self.registered = True
        _LOGGER.info("Announcing %s on port %s", self.info.name, self.info.port)

    async def async_stop(self) -> None:
        if self.registered:
            self.registered = False
            # The first await queues the goodbye; the second waits until it is on the wire,
            # or closing zeroconf right after would swallow it.
            sent = await self.aiozc.async_unregister_service(self.info)
            await sent


def lan_addresses() -> list[str]:
    """IPv4 addresses of this host that a LAN peer could reach (never empty)."""
    addresses: set[str] = set()
    try:
        # No packet is sent: connecting a UDP socket only selects the outgoing interface.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect(("192.0.2.1", 9))
            addresses.add(sock.getsockname()[0])
    except OSError:
        pass
    return sorted(addresses) or ["127.0.0.1"]
