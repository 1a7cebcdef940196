"""The hub announces itself as _hearth._tcp; browsing finds Wi-Fi devices for pairing."""

from __future__ import annotations

import asyncio
import socket
import uuid

from zeroconf import ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from hub.const import __version__
from hub.core import Hub
from integrations.zeroconf.advertise import HUB_SERVICE
from integrations.zeroconf.browser import (
    ESPHOME,
    HEARTH_DEVICE,
    SHELLY,
    LanService,
    async_browse,
    decode_properties,
)
from integrations.zeroconf.integration import HUB_ID_FILE
from tests.conftest import HubFactory

BROWSE_SECONDS = 20.0


async def test_hub_is_announced_with_version_and_api_port(
    hub_factory: HubFactory, lan: AsyncZeroconf
) -> None:
    hub: Hub = await hub_factory(
        zeroconf={"api_port": 8765, "addresses": ["127.0.0.1"], "name": "Test home"}
    )
    hub_id = (hub.config_dir / HUB_ID_FILE).read_text().strip()
    found: LanService | None = None
    async for service in async_browse(lan, [HUB_SERVICE], BROWSE_SECONDS):
        if service.properties.get("id") == hub_id:
            found = service
            break
    assert found is not None, "the hub's _hearth._tcp record was not found"
    assert found.port == 8765
    assert found.properties["version"] == __version__
    assert found.properties["api_port"] == "8765"
    assert found.instance.startswith("Test home")
    # Stopping the hub withdraws the record (a goodbye packet the other host hears).
    added, removed = asyncio.Event(), asyncio.Event()

    def on_change(
        zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if name == found.name:
            (removed if state_change is ServiceStateChange.Removed else added).set()

    browser = AsyncServiceBrowser(lan.zeroconf, [HUB_SERVICE], handlers=[on_change])
    try:
        await asyncio.wait_for(added.wait(), BROWSE_SECONDS)
        await hub.async_stop()
        await asyncio.wait_for(removed.wait(), BROWSE_SECONDS)
    finally:
        await browser.async_cancel()


async def test_browse_finds_each_device_kind(lan: AsyncZeroconf) -> None:
    tag = uuid.uuid4().hex[:8]
    records = [
        AsyncServiceInfo(
            kind,
            f"{label}-{tag}.{kind}",
            port=port,
            addresses=[socket.inet_aton("127.0.0.1")],
            properties=props,
            server=f"{label}-{tag}.local.",
        )
        for kind, label, port, props in (
            (ESPHOME, "kitchen-plug", 6053, {"version": "2024.2.0", "mac": "a4cf12b3c4d5"}),
            (SHELLY, "shellyplus1-abc", 80, {"gen": "2", "app": "Plus1"}),
            (HEARTH_DEVICE, "fridge-xyz", 8081, {"id": "xyz", "state": "unprovisioned"}),
        )
    ]
    for record in records:
        await lan.async_register_service(record)
    browser = AsyncZeroconf()
    try:
        seen: dict[str, LanService] = {}
        async for service in async_browse(browser, [ESPHOME, SHELLY, HEARTH_DEVICE], 30):
            if tag in service.name:
                seen[service.type] = service
            if len(seen) == 3:
                break
    finally:
        await browser.async_close()
        for record in records:
            await lan.async_unregister_service(record)
    assert set(seen) == {ESPHOME, SHELLY, HEARTH_DEVICE}
    assert seen[ESPHOME].port == 6053 and seen[ESPHOME].properties["mac"] == "a4cf12b3c4d5"
    assert seen[SHELLY].properties["app"] == "Plus1"
    assert seen[HEARTH_DEVICE].properties["state"] == "unprovisioned"
    assert seen[HEARTH_DEVICE].host == "127.0.0.1"


def test_txt_properties_from_the_lan_are_sanitised() -> None:
    raw = {b"ok": b"yes", b"empty": None, b"\xff": b"x", b"bad": b"\xfe\xfd", b"long": b"a" * 300}
    assert decode_properties(raw) == {"ok": "yes", "empty": ""}
