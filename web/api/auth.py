"""Onboarding, sign-in, sign-out and who am I."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from hub.schema import Field, Schema

from ..authstore import SESSION_LIFETIME
from ..errors import Conflict, Forbidden, Unauthorized, Unavailable
from ..keys import AUTH, SESSION
from ..routing import ApiRequest, ApiRoute, json_response
from ..security import COOKIE_NAME, set_session_cookie

_NEW_OWNER = Schema(
    {
        "code": Field("str", required=True, max_length=40, description="setup code from the log"),
        "username": Field("str", required=True, max_length=64),
        "password": Field("str", required=True, max_length=1024),
        "name": Field("str", max_length=100, default=""),
    }
)
_LOGIN = Schema(
    {
        "username": Field("str", required=True, max_length=64),
        "password": Field("str", required=True, max_length=1024),
    }
)


async def onboarding_status(req: ApiRequest) -> Any:
    """Whether the owner account exists yet."""
    server = req.server
    return {
        "onboarded": server.store.onboarded,
        "name": req.hub.config.name,
        "code_required": not server.store.onboarded,
        "blocked": server.onboarding.blocked,
    }


async def onboard(req: ApiRequest) -> web.StreamResponse:
    """Create the owner (first visit only) and sign them in."""
    server = req.server
    async with server.onboarding_lock:
        if server.store.onboarded:
            raise Conflict("this hub already has an owner; sign in instead")
        if server.onboarding.blocked:
            raise Unavailable(server.onboarding.blocked)
        server.limiter.check(f"onboarding:{req.request.remote}")
        server.limiter.check("onboarding", 50)
        if not server.onboarding.matches(req.body["code"]):
            raise Forbidden("wrong setup code (the hub prints it in its log)")
        user = await server.store.async_create_user(
            req.body["username"],
            req.body["password"],
            name=req.body["name"],
            role="admin",
            is_owner=True,
        )
        await server.onboarding.async_done()
    return await _signed_in(req, user)


async def login(req: ApiRequest) -> web.StreamResponse:
    """Check a user name and password; sets the session cookie."""
    server = req.server
    username = req.body["username"].strip().lower()
    source = str(req.request.remote)
    # Counted before the (slow) check, so parallel guesses cannot slip past the limit.
    delay = server.limiter.begin(source, username)
    if delay:
        await asyncio.sleep(delay)
    user = await server.store.async_check_password(username, req.body["password"])
    if user is None:
        raise Unauthorized("wrong user name or password")
    server.limiter.succeeded(source, username)
    return await _signed_in(req, user)


async def logout(req: ApiRequest) -> web.StreamResponse:
    """End this browser's session."""
    session = req.request.get(SESSION)
    if session is not None:
        await req.server.store.async_remove_session(session.id)
    response = json_response({"ok": True})
    response.del_cookie(COOKIE_NAME, path="/")
    return response


async def me(req: ApiRequest) -> Any:
    """The signed-in user, and the CSRF token a browser session must send back."""
    session = req.request.get(SESSION)
    return {
        "user": req.require_user().as_dict(),
        "csrf_token": session.csrf if session is not None else None,
        "auth": req.request.get(AUTH),
    }


async def _signed_in(req: ApiRequest, user: Any) -> web.StreamResponse:
    client = req.request.headers.get("User-Agent", "")
    secret, session = await req.server.store.async_create_session(user, client)
    response = json_response({"user": user.as_dict(), "csrf_token": session.csrf})
    set_session_cookie(req.server, req.request, response, secret, int(SESSION_LIFETIME))
    return response


ROUTES = [
    ApiRoute(
        "GET", "/api/onboarding", onboarding_status, "Whether the owner exists", "auth", "public"
    ),
    ApiRoute(
        "POST",
        "/api/onboarding",
        onboard,
        "Create the owner account (first visit)",
        "auth",
        "public",
        body=_NEW_OWNER,
    ),
    ApiRoute(
        "POST",
        "/api/auth/login",
        login,
        "Sign in with user name and password",
        "auth",
        "public",
        body=_LOGIN,
    ),
    ApiRoute("POST", "/api/auth/logout", logout, "Sign out this browser", "auth", "guest"),
    ApiRoute("GET", "/api/auth/me", me, "The signed-in user", "auth", "guest"),
]
