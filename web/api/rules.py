"""Rules: list, read, write (YAML), enable/disable, delete and traces, via hub.data["rules"]."""

from __future__ import annotations

from typing import Any

from hub.schema import Field, Schema

from ..errors import Unavailable
from ..routing import ApiRequest, ApiRoute

RULES_KEY = "rules"
_SOURCE = Schema({"yaml": Field("str", required=True, max_length=100_000)})
_ENABLED = Schema({"enabled": Field("bool", required=True)})


def _manager(req: ApiRequest) -> Any:
    manager = req.hub.data.get(RULES_KEY)
    if manager is None:
        raise Unavailable("rules are not running on this hub (add `rules:` to the configuration)")
    return manager


async def list_rules(req: ApiRequest) -> Any:
    """Every rule with its state."""
    return await _maybe(_manager(req).list_rules())


async def get_rule(req: ApiRequest) -> Any:
    """One rule with its YAML source."""
    return await _maybe(_manager(req).get_rule(req.param("rule_id")))


async def create_rule(req: ApiRequest) -> Any:
    """Add a rule from YAML."""
    author = req.require_user().id
    return await _maybe(_manager(req).async_create_rule(req.body["yaml"], author))


async def update_rule(req: ApiRequest) -> Any:
    """Replace a rule's YAML."""
    author = req.require_user().id
    return await _maybe(
        _manager(req).async_update_rule(req.param("rule_id"), req.body["yaml"], author)
    )


async def delete_rule(req: ApiRequest) -> Any:
    """Remove a rule."""
    await _maybe(_manager(req).async_delete_rule(req.param("rule_id")))
    return {"ok": True}


async def set_enabled(req: ApiRequest) -> Any:
    """Enable or disable a rule."""
    return await _maybe(_manager(req).async_set_enabled(req.param("rule_id"), req.body["enabled"]))


async def traces(req: ApiRequest) -> Any:
    """Recent runs of a rule, newest first."""
    return await _maybe(_manager(req).async_traces(req.param("rule_id")))


async def _maybe(value: Any) -> Any:
    if hasattr(value, "__await__"):
        return await value
    return value


ROUTES = [
    ApiRoute(
        "GET", "/api/rules", list_rules, "List rules", "rules", "member", response={"type": "array"}
    ),
    ApiRoute(
        "POST",
        "/api/rules",
        create_rule,
        "Add a rule (YAML)",
        "rules",
        "admin",
        body=_SOURCE,
        status=201,
    ),
    ApiRoute("GET", "/api/rules/{rule_id}", get_rule, "A rule with its YAML", "rules", "member"),
    ApiRoute(
        "PUT",
        "/api/rules/{rule_id}",
        update_rule,
        "Replace a rule (YAML)",
        "rules",
        "admin",
        body=_SOURCE,
    ),
    ApiRoute("DELETE", "/api/rules/{rule_id}", delete_rule, "Remove a rule", "rules", "admin"),
    ApiRoute(
        "POST",
        "/api/rules/{rule_id}/enabled",
        set_enabled,
        "Enable or disable a rule",
        "rules",
        "admin",
        body=_ENABLED,
    ),
    ApiRoute(
        "GET",
        "/api/rules/{rule_id}/traces",
        traces,
        "Recent runs of a rule",
        "rules",
        "member",
        response={"type": "array"},
    ),
]
