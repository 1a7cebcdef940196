"""The web server: aiohttp app with the API, websockets, static dashboard, mDNS and QR code."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web, web_response

from .api import auth, home, pairing, rules, users, voice
from .authstore import AuthChange, AuthStore
from .errors import Unavailable
from .hosts import HostAllowList
from .mdns import MdnsAnnouncer
from .onboarding import Onboarding, create_private
from .openapi import build_openapi
from .qr import qr_svg
from .ratelimit import LoginRateLimiter
from .routing import ApiRequest, ApiRoute, json_response, make_handler
from .security import build_middlewares, set_security_headers
from .stream import StateStream
from .voice_bridge import VOICE_KEY, async_handle_voice_stream
from .websocket import WebSocketConnection, async_handle_websocket

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = ["STATIC_DIR", "WebServer"]

_LOGGER = logging.getLogger(__name__)
# aiohttp answers malformed requests itself (before any app hook) with `Server: Python/x
# aiohttp/y`; its default is a module global read at each response. No version disclosure.
web_response.SERVER_SOFTWARE = "Hearth"  # type: ignore[attr-defined]
STATIC_DIR = Path(__file__).parent / "static"
AUTH_DB = "auth.db"


class WebServer:
    """Owns the auth store, the state stream and the aiohttp site."""

    def __init__(
        self,
        hub: Hub,
        *,
        host: str = "0.0.0.0",
        port: int = 8123,
        allowed_origins: tuple[str, ...] = (),
        secure_cookies: bool = False,
        public_url: str | None = None,
        mdns: bool = True,
        login_max_failures: int = 5,
        login_window: float = 300.0,
        allowed_hosts: tuple[str, ...] = (),
        header_timeout: float = 10.0,
    ) -> None:
        self.hub = hub
        self.host = host
        self.port = port
        self.allowed_origins = frozenset(o.lower().rstrip("/") for o in allowed_origins)
        self.secure_cookies = secure_cookies
        self.public_url = public_url
        self.mdns_enabled = mdns
        self.store = AuthStore(hub.config_dir / AUTH_DB)
        self.onboarding = Onboarding(hub, hub.config_dir / AUTH_DB)
        self.hosts = HostAllowList(allowed_hosts)
        # Also the time a client gets to send a request's headers (slowloris).
        self.header_timeout = header_timeout
        self.limiter = LoginRateLimiter(login_max_failures, login_window)
        self.stream = StateStream(hub)
        self.connections: set[WebSocketConnection] = set()
        # Commands that hold the loop for long (encoding every state) run one at a time.
        self.heavy_commands = asyncio.Semaphore(1)
        self.onboarding_lock = asyncio.Lock()
        self.routes: list[ApiRoute] = [
            *auth.ROUTES,
            *users.ROUTES,
            *home.ROUTES,
            *pairing.ROUTES,
            *rules.ROUTES,
            *voice.ROUTES,
            ApiRoute(
                "GET",
                "/api/openapi.json",
                self._openapi,
                "This document",
                "meta",
                "public",
                response={"type": "object"},
            ),
            ApiRoute(
                "GET",
                "/api/qr.svg",
                self._qr,
                "QR code that opens the dashboard",
                "meta",
                "guest",
                response={"type": "string"},
                content_type="image/svg+xml",
            ),
        ]
        self.openapi = build_openapi(self.routes)
        self.dashboard_url = ""
        self._runner: web.AppRunner | None = None
        self._mdns: MdnsAnnouncer | None = None
        self._mdns_task: asyncio.Task[None] | None = None
        self._unlisten: Any = None
        self._stop_backups: Callable[[], None] | None = None

    async def async_start(self) -> None:
        """Open the auth store and start serving."""
        path = self.hub.config_dir / AUTH_DB
        await self.hub.async_add_executor_job(self.onboarding.inspect)
        await self.hub.async_add_executor_job(create_private, path)
        await self.store.async_open()
        self._stop_backups = self.hub.backups.register(
            AUTH_DB, lambda: self.store.database.async_backup("daily")
        )
        await self.onboarding.async_prepare(self.store)
        self._unlisten = self.store.add_listener(self._on_auth_change)
        # Every service call made for a user runs with that user's current role.
        self.hub.services.users = self._principal
        self.stream.start()
        self._runner = web.AppRunner(
            self.build_app(),
            access_log=None,
            shutdown_timeout=2.0,
            keepalive_timeout=self.header_timeout,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        server: Any = site._server
        if self.port == 0 and server is not None and server.sockets:
            self.port = server.sockets[0].getsockname()[1]
        address = lan_address() if self.host in ("0.0.0.0", "") else self.host
        self.dashboard_url = self.public_url or f"http://{_url_host(address)}:{self.port}"
        await self.hub.async_add_executor_job(
            self.hosts.learn, self.host, address, self.public_url, self.allowed_origins
        )
        if self.mdns_enabled and "zeroconf" not in self.hub.integrations:
            self._mdns = MdnsAnnouncer(self.hub.config.name, _ipv4(address), self.port)
            # mDNS probing takes about a second; the hub is ready without waiting for it.
            self._mdns_task = self.hub.async_create_task(self._mdns.async_start(), "mdns")

    async def async_stop(self) -> None:
        """Close websockets, stop serving, close the store."""
        if self._mdns_task is not None and not self._mdns_task.done():
            self._mdns_task.cancel()
            await asyncio.gather(self._mdns_task, return_exceptions=True)
        if self._mdns is not None:
            await self._mdns.async_stop()
        if self.hub.services.users == self._principal:
            self.hub.services.users = None
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        for conn in list(self.connections):
            await conn.ws.close(code=1001, message=b"hub stopping")
        self.stream.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._stop_backups is not None:
            self._stop_backups()
            self._stop_backups = None
        await self.store.async_close()

    def build_app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application(middlewares=build_middlewares(self), client_max_size=1 << 20)
        app.on_response_prepare.append(set_security_headers)
        for route in self.routes:
            app.router.add_route(route.method, route.path, make_handler(self, route))
        app.router.add_get("/api/websocket", self._websocket)
        app.router.add_get("/api/voice/stream", self._voice_stream)
        app.router.add_get("/", self._index)
        app.router.add_static("/static/", STATIC_DIR, append_version=False)
        return app

    def voice_stream_available(self) -> bool:
        """Whether the hold-to-talk microphone can be used."""
        pipeline = self.hub.data.get(VOICE_KEY)
        return pipeline is not None and hasattr(pipeline, "async_process_stream")

    def _principal(self, user_id: str) -> Any:
        user = self.store.get_user(user_id)
        return None if user is None else user.principal()

    def _on_auth_change(self, change: AuthChange) -> None:
        # Rights were taken away: sockets opened with them close now, not at their next frame.
        for conn in list(self.connections):
            if conn.affected_by(change):
                conn.revoke(change.kind.replace("_", " "))

    # -- handlers -----------------------------------------------------------------------
    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        return await async_handle_websocket(self, request)

    async def _voice_stream(self, request: web.Request) -> web.StreamResponse:
        return await async_handle_voice_stream(self, request)

    async def _openapi(self, req: ApiRequest) -> Any:
        return json_response(self.openapi)

    async def _qr(self, req: ApiRequest) -> Any:
        if not self.dashboard_url:
            raise Unavailable("the dashboard address is not known yet")
        svg = await self.hub.async_add_executor_job(qr_svg, self.dashboard_url)
        return web.Response(body=svg, content_type="image/svg+xml")


def lan_address() -> str:
    """This machine's address on the LAN (the route to a documentation address; sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))
            return str(sock.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def _url_host(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def _ipv4(address: str) -> str:
    try:
        socket.inet_aton(address)
        return address
    except OSError:
        return lan_address()
