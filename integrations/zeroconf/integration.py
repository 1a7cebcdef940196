"""The zeroconf integration: advertise the hub, lend its zeroconf to LAN pairing."""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path
from typing import ClassVar

from zeroconf.asyncio import AsyncZeroconf

from hub.integration import Integration, Manifest
from hub.schema import Field, Schema

from .advertise import HubAdvertisement, hub_service_info, lan_addresses
from .shared import DATA_ZEROCONF

_LOGGER = logging.getLogger(__name__)

HUB_ID_FILE = "hub_id"
DEFAULT_API_PORT = 8123


def load_or_create_hub_id(config_dir: Path) -> str:
    """A stable random id for this hub, kept in the config directory (blocking)."""
    path = config_dir / HUB_ID_FILE
    try:
        text = path.read_text().strip()
        if len(text) == 32 and all(c in "0123456789abcdef" for c in text):
            return text
    except OSError:
        pass
    hub_id = uuid.uuid4().hex
    config_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(hub_id + "\n")
    return hub_id


class ZeroconfIntegration(Integration):
    """Announces ``_hearth._tcp`` with the version and API port."""

    manifest = Manifest(
        domain="zeroconf",
        name="Zeroconf",
        description="Announce the hub on the LAN (mDNS) and find Wi-Fi devices",
    )
    config_schema: ClassVar = Schema(
        {
            "advertise": Field("bool", default=True),
            "api_port": Field("int", min=1, max=65535, description="defaults to the web port"),
            "addresses": Field("str_list", description="IPv4 addresses to announce"),
            "name": Field("str", max_length=40),
        }
    )

    async def async_setup(self) -> None:
        self.aiozc = AsyncZeroconf()
        self.hub.data[DATA_ZEROCONF] = self.aiozc
        self.advertisement: HubAdvertisement | None = None
        if not self.config.get("advertise", True):
            return
        hub_id = await self.hub.async_add_executor_job(load_or_create_hub_id, self.hub.config_dir)
        web = self.hub.integration_config("web") or {}
        api_port = self.config.get("api_port") or (
            web.get("port", DEFAULT_API_PORT) if isinstance(web, dict) else DEFAULT_API_PORT
        )
        addresses = self.config.get("addresses") or lan_addresses()
        info = hub_service_info(
            self.config.get("name") or self.hub.config.name, int(api_port), addresses, hub_id
        )
        self.advertisement = HubAdvertisement(self.aiozc, info)
        # Probing for a unique name takes about a second; the hub is ready without waiting.
        self._announce = self.hub.async_create_task(
            self.advertisement.async_start(), "zeroconf-announce"
        )

    async def async_teardown(self) -> None:
        announce = getattr(self, "_announce", None)
        if announce is not None and not announce.done():
            announce.cancel()
            await asyncio.gather(announce, return_exceptions=True)
        if self.advertisement is not None:
            await self.advertisement.async_stop()
        if self.hub.data.get(DATA_ZEROCONF) is self.aiozc:
            del self.hub.data[DATA_ZEROCONF]
        await self.aiozc.async_close()
