"""Typed keys for what the auth middleware stores on a request."""

from __future__ import annotations

from aiohttp import web

from .authstore import AccessToken, Session
from .users import User

__all__ = ["AUTH", "SESSION", "TOKEN", "USER"]

USER = web.RequestKey("user", User)
SESSION = web.RequestKey("session", Session)
TOKEN = web.RequestKey("token", AccessToken)
AUTH = web.RequestKey("auth", str)  # "session" or "token"
