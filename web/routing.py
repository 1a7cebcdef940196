"""API routes with their access level and request schema; also the source of the OpenAPI doc."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import web

from hub.json import json_bytes, json_loads
from hub.schema import Field, Schema, ValidationErrors

from .errors import BadRequest, Forbidden, Unauthorized
from .keys import USER
from .users import User

if TYPE_CHECKING:
    from .server import WebServer

__all__ = ["Access", "ApiRequest", "ApiRoute", "json_response"]

Access = Literal["public", "guest", "member", "admin"]
Handler = Callable[["ApiRequest"], Awaitable[Any]]
MAX_BODY = 256 * 1024


@dataclass(frozen=True, slots=True)
class ApiRoute:
    """One endpoint: method, path, handler, who may call it, and what it accepts."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    access: Access = "member"
    body: Schema | None = None
    body_doc: Mapping[str, Any] | None = None  # JSON Schema when `body` cannot express it
    query: Mapping[str, Field] = field(default_factory=dict)
    response: Mapping[str, Any] = field(default_factory=lambda: {"type": ["object", "array"]})
    status: int = 200
    content_type: str = "application/json"


@dataclass(slots=True)
class ApiRequest:
    """What a handler gets: the server, the aiohttp request, the user, the parsed body."""

    server: WebServer
    request: web.Request
    user: User | None
    body: dict[str, Any]
    query: dict[str, Any]

    @property
    def hub(self) -> Any:
        """The hub."""
        return self.server.hub

    def param(self, name: str) -> str:
        """A path parameter."""
        return self.request.match_info[name]

    def require_user(self) -> User:
        """The signed-in user (every non-public route has one)."""
        if self.user is None:
            raise Unauthorized("sign in or send a bearer token")
        return self.user


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON response serialised with the hub's encoder."""
    return web.Response(
        body=json_bytes(data),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def make_handler(
    server: WebServer, route: ApiRoute
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Wrap a route's handler with access checks, body and query parsing."""

    async def handle(request: web.Request) -> web.StreamResponse:
        user: User | None = request.get(USER)
        if route.access != "public":
            if user is None:
                raise Unauthorized("sign in or send a bearer token")
            if not user.has_role(route.access):
                raise Forbidden(f"this needs the {route.access} role")
        body: dict[str, Any] = {}
        if route.body is not None:
            body = _check(route.body, await _read_json(request), "body")
        query: dict[str, Any] = {}
        if route.query:
            raw = {k: v for k, v in request.query.items() if k in route.query}
            query = _check(Schema(route.query), raw, "query")
        result = await route.handler(ApiRequest(server, request, user, body, query))
        if isinstance(result, web.StreamResponse):
            return result
        return json_response(result, route.status)

    return handle


async def _read_json(request: web.Request) -> Any:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise BadRequest("request body too large")
    raw = await request.read()
    if len(raw) > MAX_BODY:
        raise BadRequest("request body too large")
    if not raw.strip():
        return {}
    try:
        data = json_loads(raw)
    except ValueError:
        raise BadRequest("request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object")
    return data


def _check(schema: Schema, data: Any, where: str) -> dict[str, Any]:
    try:
        return schema.check(data)
    except ValidationErrors as err:
        raise _Invalid(where, err.errors) from None


class _Invalid(BadRequest):
    code = "invalid_data"

    def __init__(self, where: str, errors: Mapping[str, str]) -> None:
        detail = "; ".join(f"{k}: {v}" for k, v in errors.items())
        super().__init__(f"invalid {where}: {detail}")
        self.errors = dict(errors)

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "errors": self.errors}
