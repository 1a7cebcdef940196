"""The OpenAPI 3.1 document, built from the route table so it cannot drift from the code."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from hub.const import __version__

from .routing import ApiRoute

__all__ = ["build_openapi"]

_PARAM_RE = re.compile(r"{(\w+)}")
_ERROR = {"$ref": "#/components/schemas/Error"}
_ERRORS = {
    "400": "Malformed request",
    "401": "Missing or invalid credentials",
    "403": "Not allowed for this user, or a cross-site request",
    "404": "Not found",
    "409": "Conflicts with the current state",
    "429": "Too many failed attempts",
    "503": "A component this needs is not running",
}


def build_openapi(
    routes: Iterable[ApiRoute], extra_paths: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Render the document."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    paths.update(extra_paths or {})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Hearth hub API",
            "version": __version__,
            "description": (
                "REST API of a Hearth hub. Send `Authorization: Bearer <token>` (create a token"
                " in Settings) or use a browser session; state-changing browser requests need"
                " the `X-CSRF-Token` header from `/api/auth/me`. Live updates are on the"
                " websocket at `/api/websocket`."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "hearth_session"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                    "required": ["code", "message"],
                }
            },
        },
    }


def _operation(route: ApiRoute) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": route.summary,
        "operationId": f"{route.method.lower()}_{_slug(route.path)}",
        "tags": [route.tag],
        "x-hearth-access": route.access,
        "responses": {
            str(route.status): {
                "description": "OK",
                "content": {route.content_type: {"schema": dict(route.response)}},
            },
            **{
                code: {"description": text, "content": {"application/json": {"schema": _ERROR}}}
                for code, text in _ERRORS.items()
                if code != "401" or route.access != "public"
            },
        },
    }
    if route.access == "public":
        op["security"] = []
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in _PARAM_RE.findall(route.path)
    ]
    params += [
        {"name": name, "in": "query", "required": field.required, "schema": field.json_schema()}
        for name, field in route.query.items()
    ]
    if params:
        op["parameters"] = params
    schema = route.body_doc or (route.body.json_schema() if route.body is not None else None)
    if schema is not None:
        op["requestBody"] = {
            "required": bool(schema.get("required")),
            "content": {"application/json": {"schema": dict(schema)}},
        }
    return op


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", path.removeprefix("/api/").lower()).strip("_") or "root"
