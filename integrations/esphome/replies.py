"""Spoken replies for ESPHome devices, served as short-lived, unguessable URLs.

An ESPHome voice device is told where its answer is (`TTS_END` carries a `url`, an
announcement a `media_id`) and fetches it over HTTP itself. Each reply gets a random token
(192 bits); it can be fetched for `ttl` seconds, then it is gone. The server answers nothing
else, carries no session or cookie, and so needs no host check: knowing the URL is the right
to hear that one reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import secrets
import socket
from dataclasses import dataclass

from aiohttp import web

_LOGGER = logging.getLogger(__name__)

PATH = "/esphome/reply/{token}.wav"
DEFAULT_TTL = 300.0  # a device fetches at once; an announcement may wait for a reply to end
MAX_REPLIES = 64  # newest kept: a chatty home must not grow memory


@dataclass
class _Reply:
    wav: bytes
    expires: float


class ReplyServer:
    """A tiny aiohttp site of its own (the dashboard's app is fixed once it has started)."""

    def __init__(self, host: str = "0.0.0.0", port: int = 0, ttl: float = DEFAULT_TTL) -> None:
        self.host = host
        self.port = port
        self.ttl = ttl
        self.fetched = 0
        self._replies: dict[str, _Reply] = {}
        self._runner: web.AppRunner | None = None

    async def async_start(self) -> None:
        app = web.Application()
        app.router.add_get(PATH, self._serve)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        server = getattr(site, "_server", None)
        if self.port == 0 and server is not None and server.sockets:
            self.port = int(server.sockets[0].getsockname()[1])

    async def async_stop(self) -> None:
        self._replies.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def publish(self, wav: bytes, address: str) -> str:
        """Offer a WAV for `ttl` seconds; returns its URL on the hub's `address`."""
        now = asyncio.get_running_loop().time()
        for token in [t for t, r in self._replies.items() if r.expires < now]:
            del self._replies[token]
        while len(self._replies) >= MAX_REPLIES:
            del self._replies[next(iter(self._replies))]
        token = secrets.token_urlsafe(24)
        self._replies[token] = _Reply(wav, now + self.ttl)
        return f"http://{_url_host(address)}:{self.port}{PATH.format(token=token)}"

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        reply = self._replies.get(request.match_info["token"])
        if reply is None or reply.expires < asyncio.get_running_loop().time():
            raise web.HTTPNotFound()
        self.fetched += 1
        return web.Response(
            body=reply.wav, content_type="audio/wav", headers={"Cache-Control": "no-store"}
        )


def local_address_towards(host: str, port: int) -> str:
    """The hub's own address on the route to a device (blocking: may resolve a name).

    A UDP socket's connect sends nothing; it only picks the outgoing interface.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except OSError:
        return "127.0.0.1"
    infos.sort(key=lambda info: info[0] != socket.AF_INET)  # IPv4 first
    for family, kind, proto, _name, addr in infos:
        with contextlib.suppress(OSError), socket.socket(family, kind, proto) as sock:
            sock.connect(addr)
            return str(sock.getsockname()[0])
    return "127.0.0.1"


def _url_host(address: str) -> str:
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(address).version == 6:
            return f"[{address}]"
    return address
