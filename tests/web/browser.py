"""Headless Chromium for the dashboard tests: launch, pages, sign-in and screenshots."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.waiting import wait_until

from .conftest import OWNER, Site

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE: Any = {"width": 390, "height": 844}
DESKTOP: Any = {"width": 1366, "height": 900}
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
TIMEOUT = 30_000

if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is not installed (Debian package chromium)", allow_module_level=True)

from playwright.async_api import Browser, Page, async_playwright, expect  # noqa: E402

expect.set_options(timeout=TIMEOUT)

__all__ = [
    "ARGS",
    "CHROMIUM",
    "DESKTOP",
    "PHONE",
    "SHOTS",
    "Browser",
    "Page",
    "async_playwright",
    "expect",
    "new_page",
    "shot",
    "sign_in",
    "wait_until",
]


async def new_page(browser: Browser, viewport: Any = PHONE) -> Page:
    context = await browser.new_context(viewport=viewport)
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT)
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.errors = errors  # type: ignore[attr-defined]
    return page


async def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.wait_for_timeout(300)  # let transitions settle
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def sign_in(page: Page, site: Site) -> None:
    """Sign in as the owner; return once the live connection has caught up (cards re-drawn)."""
    synced: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_frame(payload: str | bytes) -> None:
        data = json.loads(payload)
        for msg in data if isinstance(data, list) else [data]:
            # get_states is the last thing the app asks for after connecting.
            if msg.get("type") == "result" and isinstance(msg.get("result"), list):
                if not synced.done():
                    synced.set_result(None)

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    await page.goto(site.base)
    await page.fill("input[name=username]", OWNER[0])
    await page.fill("input[name=password]", OWNER[1])
    await page.click("button[type=submit]")
    await expect(page.locator("hearth-card").first).to_be_visible()
    async with asyncio.timeout(TIMEOUT / 1000):
        await synced
    await page.wait_for_timeout(50)  # the app re-draws on the next task after that answer
