"""The `web` component: the dashboard, REST and websocket API served by the hub."""

from __future__ import annotations

from typing import Any, ClassVar

from hub.integration import Integration, Manifest
from hub.schema import Field, Schema

from .server import WebServer

__all__ = ["INTEGRATION", "WebIntegration"]

DATA_KEY = "web"


class WebIntegration(Integration):
    """Starts the web server; adds the dashboard address to the hub's ready line."""

    manifest = Manifest(
        domain="web",
        name="Dashboard and API",
        after=("demo", "voice", "rules", "zeroconf", "zigbee", "ble", "mqtt"),
        description="Phone-first dashboard, pairing app, REST and websocket API",
    )
    config_schema: ClassVar = Schema(
        {
            "host": Field("str", default="0.0.0.0", description="address to listen on"),
            "port": Field("int", min=0, max=65535, default=8123, description="0 picks a free port"),
            "allowed_origins": Field(
                "str_list", default=[], description="extra origins, e.g. behind a reverse proxy"
            ),
            "secure_cookies": Field(
                "bool", default=False, description="always mark cookies Secure (HTTPS proxy)"
            ),
            "public_url": Field("str", description="address for the QR code, if not the LAN one"),
            "mdns": Field("bool", default=True, description="announce _hearth._tcp on the LAN"),
            "login_max_failures": Field("int", min=1, max=1000, default=5),
            "login_window": Field("float", min=1, max=86400, default=300.0),
            "allowed_hosts": Field(
                "str_list",
                default=[],
                description="extra host names the dashboard answers to (besides its addresses,"
                " its mDNS name and localhost)",
            ),
            "header_timeout": Field(
                "float", min=0.5, max=300, default=10.0, description="seconds to send headers"
            ),
        }
    )

    def __init__(self, hub: Any, config: Any) -> None:
        super().__init__(hub, config)
        cfg = self.config
        self.server = WebServer(
            hub,
            host=cfg.get("host", "0.0.0.0"),
            port=cfg.get("port", 8123),
            allowed_origins=tuple(cfg.get("allowed_origins", ())),
            secure_cookies=cfg.get("secure_cookies", False),
            public_url=cfg.get("public_url"),
            mdns=cfg.get("mdns", True),
            login_max_failures=cfg.get("login_max_failures", 5),
            login_window=cfg.get("login_window", 300.0),
            allowed_hosts=tuple(cfg.get("allowed_hosts", ())),
            header_timeout=cfg.get("header_timeout", 10.0),
        )

    async def async_setup(self) -> None:
        await self.server.async_start()
        self.hub.data[DATA_KEY] = self.server
        note = f"dashboard {self.server.dashboard_url}"
        onboarding = self.server.onboarding
        if onboarding.blocked:
            note += " (onboarding refused: the auth database lost its users, see the log)"
        elif onboarding.code is not None:
            note += f" (first visit creates the owner account; setup code {onboarding.code})"
        self.hub.ready_notes.append(note)

    async def async_teardown(self) -> None:
        self.hub.data.pop(DATA_KEY, None)
        await self.server.async_stop()


INTEGRATION = WebIntegration
