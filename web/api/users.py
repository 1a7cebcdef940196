"""Users (admins only) and long-lived access tokens (each user their own; admins all)."""

from __future__ import annotations

from typing import Any

from hub.schema import Field, Schema

from ..errors import Forbidden, NotFound
from ..routing import ApiRequest, ApiRoute
from ..users import ROLES

_ROLE = Field("enum", choices=ROLES)
_NEW_USER = Schema(
    {
        "username": Field("str", required=True, max_length=64),
        "password": Field("str", required=True, max_length=1024),
        "name": Field("str", max_length=100, default=""),
        "role": Field("enum", choices=ROLES, default="member"),
        "areas": Field("str_list", default=[]),
    }
)
_UPDATE_USER = Schema(
    {
        "name": Field("str", max_length=100),
        "role": _ROLE,
        "areas": Field("str_list"),
        "password": Field("str", max_length=1024),
    }
)
_NEW_TOKEN = Schema({"name": Field("str", required=True, max_length=100)})


async def list_users(req: ApiRequest) -> Any:
    """Every user."""
    return [u.as_dict() for u in req.server.store.users()]


async def create_user(req: ApiRequest) -> Any:
    """Add a user with a role (and areas, for guests)."""
    body = req.body
    _check_areas(req, body["areas"])
    user = await req.server.store.async_create_user(
        body["username"],
        body["password"],
        name=body["name"],
        role=body["role"],
        areas=tuple(body["areas"]),
    )
    return user.as_dict()


async def update_user(req: ApiRequest) -> Any:
    """Change a user's name, role, areas or password."""
    body = req.body
    if "areas" in body:
        _check_areas(req, body["areas"])
    user = await req.server.store.async_update_user(
        req.param("user_id"),
        name=body.get("name"),
        role=body.get("role"),
        areas=tuple(body["areas"]) if "areas" in body else None,
        password=body.get("password"),
    )
    return user.as_dict()


async def delete_user(req: ApiRequest) -> Any:
    """Remove a user with their sessions and tokens."""
    user_id = req.param("user_id")
    if user_id == req.require_user().id:
        raise Forbidden("you cannot delete yourself")
    await req.server.store.async_delete_user(user_id)
    return {"ok": True}


async def list_tokens(req: ApiRequest) -> Any:
    """Your tokens (an admin sees everyone's)."""
    user = req.require_user()
    return [t.as_dict() for t in req.server.store.tokens(None if user.is_admin else user.id)]


async def create_token(req: ApiRequest) -> Any:
    """Create a long-lived token for a script or app; its text is shown only now."""
    text, token = await req.server.store.async_create_token(req.require_user(), req.body["name"])
    return {**token.as_dict(), "token": text}


async def delete_token(req: ApiRequest) -> Any:
    """Revoke a token (your own, or anyone's as an admin)."""
    user = req.require_user()
    token = req.server.store.get_token(req.param("token_id"))
    if token is None or (token.user_id != user.id and not user.is_admin):
        raise NotFound("unknown token")
    await req.server.store.async_delete_token(token.id)
    return {"ok": True}


def _check_areas(req: ApiRequest, areas: list[str]) -> None:
    for area_id in areas:
        if req.hub.registry.areas.get(area_id) is None:
            raise NotFound(f"unknown area {area_id!r}")


ROUTES = [
    ApiRoute(
        "GET", "/api/users", list_users, "List users", "users", "admin", response={"type": "array"}
    ),
    ApiRoute(
        "POST",
        "/api/users",
        create_user,
        "Add a user",
        "users",
        "admin",
        body=_NEW_USER,
        status=201,
    ),
    ApiRoute(
        "PATCH",
        "/api/users/{user_id}",
        update_user,
        "Change a user",
        "users",
        "admin",
        body=_UPDATE_USER,
    ),
    ApiRoute("DELETE", "/api/users/{user_id}", delete_user, "Remove a user", "users", "admin"),
    ApiRoute(
        "GET",
        "/api/tokens",
        list_tokens,
        "List access tokens",
        "tokens",
        "guest",
        response={"type": "array"},
    ),
    ApiRoute(
        "POST",
        "/api/tokens",
        create_token,
        "Create a long-lived access token",
        "tokens",
        "guest",
        body=_NEW_TOKEN,
        status=201,
    ),
    ApiRoute(
        "DELETE",
        "/api/tokens/{token_id}",
        delete_token,
        "Revoke an access token",
        "tokens",
        "guest",
    ),
]
