"""Middlewares: JSON errors, security headers, who is asking, and Origin/CSRF checks."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import hdrs, web

from hub.errors import HearthError

from .errors import Forbidden, MisdirectedHost, RateLimited, Unauthorized, status_of
from .keys import AUTH, SESSION, TOKEN, USER
from .routing import json_response

if TYPE_CHECKING:
    from .server import WebServer

__all__ = [
    "COOKIE_NAME",
    "CSRF_HEADER",
    "check_origin",
    "own_origin",
    "set_security_headers",
    "set_session_cookie",
]

_LOGGER = logging.getLogger(__name__)
COOKIE_NAME = "hearth_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self';"
    " connect-src 'self'; media-src 'self' blob:; worker-src 'self'; object-src 'none';"
    " base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def build_middlewares(server: WebServer) -> list[Callable[..., Awaitable[web.StreamResponse]]]:
    """The middleware chain, outermost first."""

    @web.middleware
    async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except HearthError as err:
            headers = {}
            if isinstance(err, RateLimited):
                headers["Retry-After"] = str(err.retry_after)
            if isinstance(err, Unauthorized):
                headers["WWW-Authenticate"] = 'Bearer realm="hearth"'
            return json_response(err.as_dict(), status_of(err), headers)
        except web.HTTPException as err:
            if not request.path.startswith("/api/") or err.status < 400:
                raise
            code = {404: "not_found", 405: "method_not_allowed"}.get(err.status, "http_error")
            return json_response({"code": code, "message": err.reason}, err.status)
        except Exception:
            _LOGGER.exception("Unexpected error answering %s %s", request.method, request.path)
            return json_response({"code": "internal_error", "message": "internal error"}, 500)

    @web.middleware
    async def hosts(request: web.Request, handler: Handler) -> web.StreamResponse:
        # Checked before anything else: a page on evil.example whose name now resolves to the
        # hub (DNS rebinding) is same-origin to the browser, so Origin checks cannot see it.
        if not server.hosts.allows(request.headers.get(hdrs.HOST)):
            raise MisdirectedHost(
                f"this hub does not answer to {request.host!r}; the owner can add the name to"
                " `web: allowed_hosts` in the configuration"
            )
        return await handler(request)

    @web.middleware
    async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        store = server.store
        header = request.headers.get(hdrs.AUTHORIZATION)
        if header is not None:
            scheme, _, text = header.partition(" ")
            token = store.token_for(text.strip()) if scheme.lower() == "bearer" else None
            user = store.get_user(token.user_id) if token is not None else None
            if token is None or user is None:
                raise Unauthorized("invalid access token")
            request[USER] = user
            request[TOKEN] = token
            request[AUTH] = "token"
            server.hub.async_create_task(store.async_touch_token(token), "web-touch-token")
        else:
            secret = request.cookies.get(COOKIE_NAME)
            session = store.session_for(secret) if secret else None
            user = store.get_user(session.user_id) if session is not None else None
            if session is not None and user is not None:
                request[USER] = user
                request[SESSION] = session
                request[AUTH] = "session"
        is_ws = request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"
        if is_ws and request.get(AUTH) == "session" and hdrs.ORIGIN not in request.headers:
            # Browsers always send Origin on a websocket upgrade; without it the cookie
            # proves nothing, so the client must authenticate with a token message instead.
            for key in (USER, SESSION, AUTH):
                request.pop(key, None)
        if request.method not in _SAFE_METHODS or is_ws:
            check_origin(server, request, websocket=is_ws)
        return await handler(request)

    return [errors, hosts, auth]


async def set_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every response (errors and 404s too): security headers, and no version disclosure."""
    headers = response.headers
    headers["Server"] = "Hearth"
    headers.setdefault("Content-Security-Policy", _CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.path.startswith("/api/"):
        headers.setdefault("Cache-Control", "no-store")


def own_origin(request: web.Request) -> str:
    """The origin this request was addressed to."""
    return f"{request.scheme}://{request.host}".lower()


def check_origin(server: WebServer, request: web.Request, *, websocket: bool = False) -> None:
    """Refuse cross-site requests: a foreign Origin always, a cookie without a CSRF proof."""
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is not None:
        origin = origin.lower().rstrip("/")
        if origin != own_origin(request) and origin not in server.allowed_origins:
            raise Forbidden(f"cross-site request from {origin} refused")
    if request.get(AUTH) != "session":
        return
    if websocket:
        # Browsers cannot set headers on a websocket upgrade; the Origin check above is the
        # CSRF defence (a cookie without Origin was already ignored by the auth middleware).
        return
    session = request[SESSION]
    if request.headers.get(CSRF_HEADER) != session.csrf:
        raise Forbidden("missing or wrong CSRF token")


def set_session_cookie(
    server: WebServer, request: web.Request, response: web.StreamResponse, secret: str, max_age: int
) -> None:
    """Set the session cookie: HttpOnly, SameSite=Strict, Secure whenever HTTPS is in play."""
    response.set_cookie(
        COOKIE_NAME,
        secret,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=request.secure or server.secure_cookies,
    )
