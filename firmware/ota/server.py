"""Serves stored OTA images over HTTP to devices, each under an unguessable, expiring URL."""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass

from aiohttp import web

from .store import ImageStore

__all__ = ["ImageServer"]

_LOGGER = logging.getLogger(__name__)

OFFER_TTL_S = 900.0


@dataclass(frozen=True)
class _Offer:
    image_id: str
    expires: float


class ImageServer:
    """A small aiohttp server; `offer()` returns the URL a device downloads one image from."""

    def __init__(
        self, store: ImageStore, *, host: str = "0.0.0.0", port: int = 0, advertise: str
    ) -> None:
        self._store = store
        self._host = host
        self._port = port
        self._advertise = advertise
        self._offers: dict[str, _Offer] = {}
        self._runner: web.AppRunner | None = None
        self.downloads = 0

    @property
    def port(self) -> int:
        return self._port

    async def async_start(self) -> None:
        app = web.Application()
        app.router.add_get("/ota/{token}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        if self._port == 0:
            self._port = int(self._runner.addresses[0][1])

    async def async_stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def offer(self, image_id: str, ttl: float = OFFER_TTL_S) -> str:
        """Make an image downloadable for ttl seconds; return its URL."""
        now = time.monotonic()
        self._offers = {t: o for t, o in self._offers.items() if o.expires > now}
        token = secrets.token_urlsafe(24)
        self._offers[token] = _Offer(image_id, now + ttl)
        return f"http://{self._advertise}:{self._port}/ota/{token}"

    def revoke(self, url: str) -> None:
        self._offers.pop(url.rsplit("/", 1)[-1], None)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        offer = self._offers.get(request.match_info["token"])
        if offer is None or offer.expires < time.monotonic():
            raise web.HTTPNotFound()
        image = await self._store.async_get(offer.image_id)
        if image is None:
            _LOGGER.warning("Offered OTA image %s vanished from the store", offer.image_id)
            raise web.HTTPNotFound()
        self.downloads += 1
        return web.FileResponse(image.path, headers={"Content-Type": "application/octet-stream"})
