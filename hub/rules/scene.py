"""Scenes: a set of entity states, applied by calling each entity's services."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hub.context import Context
from hub.states import split_entity_id, valid_entity_id

from .checker import Checker, join_path

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = ["Scene", "SceneTarget", "async_apply_scene", "parse_scene"]


@dataclass(frozen=True, slots=True)
class SceneTarget:
    """One entity's wanted state and attributes."""

    entity_id: str
    state: str | None
    attributes: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Scene:
    """A named set of entity states."""

    name: str
    targets: tuple[SceneTarget, ...]


def parse_scene(chk: Checker, name: str, raw: Any, where: tuple[Any, Any], path: str) -> Scene:
    """Read `{entities: {light.x: on, light.y: {state: on, brightness: 120}}}`."""
    node = chk.mapping(raw, where[0], where[1], path)
    chk.only(node, {"entities", "name"}, path)
    entities = chk.mapping(
        chk.required(node, "entities", path), node, "entities", join_path(path, "entities")
    )
    targets = []
    for eid, wanted in entities.items():
        item_path = join_path(join_path(path, "entities"), eid)
        if not valid_entity_id(eid):
            raise chk.error(entities, eid, item_path, f"{eid!r} is not an entity id")
        if isinstance(wanted, Mapping):
            state = wanted.get("state")
            attributes = tuple((str(k), v) for k, v in wanted.items() if k != "state")
        else:
            state, attributes = wanted, ()
        if isinstance(state, bool):
            state = "on" if state else "off"
        if state is not None and not isinstance(state, str | int | float):
            raise chk.error(entities, eid, item_path, "expected a state or a mapping")
        if state is None and not attributes:
            raise chk.error(entities, eid, item_path, "needs a state or attributes")
        targets.append(SceneTarget(eid, None if state is None else str(state), attributes))
    return Scene(str(node.get("name") or name), tuple(targets))


async def async_apply_scene(hub: Hub, scene: Scene, context: Context) -> dict[str, Any]:
    """Set every entity of the scene at once; returns per-entity results ('ok' or the error)."""
    results = await asyncio.gather(
        *(_async_apply(hub, target, context) for target in scene.targets), return_exceptions=True
    )
    out: dict[str, Any] = {}
    for target, result in zip(scene.targets, results, strict=True):
        out[target.entity_id] = f"error: {result}" if isinstance(result, BaseException) else result
    return out


async def _async_apply(hub: Hub, target: SceneTarget, context: Context) -> str:
    domain, _ = split_entity_id(target.entity_id)
    attrs = dict(target.attributes)
    state = target.state
    service, data = _service_for(domain, state, attrs)
    domain_name, service_name = service.split(".", 1)
    await hub.services.async_call(
        domain_name, service_name, data, target={"entity_id": target.entity_id}, context=context
    )
    return service


def _service_for(
    domain: str, state: str | None, attrs: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    if domain == "lock":
        return ("lock.lock" if state == "locked" else "lock.unlock"), {}
    if domain == "cover":
        if "position" in attrs:
            return "cover.set_cover_position", {"position": attrs["position"]}
        return ("cover.open_cover" if state == "open" else "cover.close_cover"), {}
    if domain == "climate":
        if "temperature" in attrs:
            return "climate.set_temperature", attrs
        return "climate.set_hvac_mode", {"hvac_mode": state}
    if domain == "number":
        return "number.set_value", {"value": attrs.get("value", state)}
    if domain == "select":
        return "select.select_option", {"option": attrs.get("option", state)}
    if state == "off":
        return f"{domain}.turn_off", {}
    return f"{domain}.turn_on", attrs
