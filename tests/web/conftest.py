"""Fixtures for web tests: a hub serving the dashboard on loopback, and signed-in clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

from hub.core import Hub
from web.server import WebServer
from web.users import Role

if TYPE_CHECKING:
    from playwright.async_api import Browser

WEB = {"host": "127.0.0.1", "port": 0, "mdns": False}
OWNER = ("owner", "correct horse battery")


@dataclass
class Site:
    """A running hub with its web server, the owner's token and helpers to make more users."""

    hub: Hub
    server: WebServer
    base: str
    owner_token: str

    def url(self, path: str) -> str:
        return self.base + path

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def onboarding_code(self) -> str:
        """The setup code, read as the owner would: from the 0600 file next to the config."""
        return (self.hub.config_dir / "onboarding_code").read_text().strip()

    async def user_token(
        self, role: Role, areas: tuple[str, ...] = (), name: str | None = None
    ) -> str:
        """Create a user with a role and return a token of theirs."""
        store = self.server.store
        user = await store.async_create_user(
            name or f"{role}{len(store.users())}",
            "password123",
            role=role,
            areas=areas,
        )
        text, _ = await store.async_create_token(user, "test")
        return text


SiteFactory = Callable[..., Awaitable[Site]]


async def open_websocket(
    http: aiohttp.ClientSession, site: Site, token: str
) -> aiohttp.ClientWebSocketResponse:
    """A websocket signed in with a token (by the auth message)."""
    ws = await http.ws_connect(site.url("/api/websocket"))
    assert (await ws.receive_json())["type"] == "auth_required"
    await ws.send_json({"type": "auth", "access_token": token})
    assert (await ws.receive_json())["type"] == "auth_ok"
    return ws


@pytest.fixture
async def site_factory(hub_factory: Any) -> SiteFactory:
    """Start a hub with the web component (plus other integrations) and an owner account."""

    async def make(
        *, web: dict[str, Any] | None = None, onboard: bool = True, **integrations: Any
    ) -> Site:
        integrations.setdefault("demo", {"delay": 0, "tick": 3600})
        hub = await hub_factory(web={**WEB, **(web or {})}, **integrations)
        server: WebServer = hub.data["web"]
        token = ""
        if onboard:
            owner = await server.store.async_create_user(
                OWNER[0], OWNER[1], name="Owner", role="admin", is_owner=True
            )
            token, _ = await server.store.async_create_token(owner, "tests")
        return Site(hub, server, f"http://127.0.0.1:{server.port}", token)

    return make


@pytest.fixture
async def site(site_factory: SiteFactory) -> Site:
    """The demo home with the dashboard, onboarded."""
    return await site_factory()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A client that keeps cookies for IP-address hosts too."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Debian Chromium driven by Playwright (the test is skipped without it)."""
    from .browser import ARGS, CHROMIUM, async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        await browser.close()
