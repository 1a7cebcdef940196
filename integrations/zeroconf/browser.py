"""Browse the LAN for devices that announce themselves over mDNS/DNS-SD."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

from zeroconf import ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

_LOGGER = logging.getLogger(__name__)

# The device kinds Hearth can pair over Wi-Fi.
HEARTH_DEVICE = "_hearth-device._tcp.local."
ESPHOME = "_esphomelib._tcp.local."
SHELLY = "_shelly._tcp.local."
MQTT_BROKER = "_mqtt._tcp.local."
PAIRING_SERVICE_TYPES = (HEARTH_DEVICE, ESPHOME, SHELLY, MQTT_BROKER)
RESOLVE_TIMEOUT_MS = 3000
MAX_TXT_VALUE = 255


@dataclass(frozen=True)
class LanService:
    """One resolved service instance: who, where, and its TXT properties."""

    type: str
    name: str
    host: str
    port: int
    server: str | None = None
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def instance(self) -> str:
        """The instance label without the service type ('fridge-abc123')."""
        suffix = "." + self.type
        return self.name[: -len(suffix)] if self.name.endswith(suffix) else self.name


async def async_browse(
    aiozc: AsyncZeroconf, service_types: Iterable[str], duration: float
) -> AsyncIterator[LanService]:
    """Yield each service instance found (and resolved) within ``duration`` seconds."""
    found: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    seen: set[tuple[str, str]] = set()

    def on_change(
        zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change in (ServiceStateChange.Added, ServiceStateChange.Updated):
            found.put_nowait((service_type, name))

    browser = AsyncServiceBrowser(aiozc.zeroconf, list(service_types), handlers=[on_change])
    loop = asyncio.get_running_loop()
    deadline = loop.time() + duration
    try:
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            try:
                service_type, name = await asyncio.wait_for(found.get(), remaining)
            except TimeoutError:
                return
            if (service_type, name) in seen:
                continue
            service = await async_resolve(aiozc, service_type, name)
            if service is not None:
                seen.add((service_type, name))
                yield service
    finally:
        await browser.async_cancel()


async def async_resolve(aiozc: AsyncZeroconf, service_type: str, name: str) -> LanService | None:
    """Resolve one instance to an address, port and TXT properties (None if it never answers)."""
    info = AsyncServiceInfo(service_type, name)
    if not await info.async_request(aiozc.zeroconf, RESOLVE_TIMEOUT_MS):
        _LOGGER.debug("No answer resolving %s", name)
        return None
    addresses = info.parsed_scoped_addresses()
    if not addresses or info.port is None:
        return None
    # Prefer IPv4: appliances' tiny HTTP servers rarely listen on IPv6.
    host = next((a for a in addresses if ":" not in a), addresses[0])
    return LanService(
        type=service_type,
        name=name,
        host=host,
        port=info.port,
        server=info.server,
        properties=decode_properties(info.properties),
    )


def decode_properties(raw: dict[bytes, bytes | None]) -> dict[str, str]:
    """TXT records as text; undecodable or oversized entries are dropped (they come off the LAN)."""
    out: dict[str, str] = {}
    for key, value in raw.items():
        try:
            name = key.decode("utf-8")
            text = "" if value is None else value.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if len(text) <= MAX_TXT_VALUE:
            out[name] = text
    return out
