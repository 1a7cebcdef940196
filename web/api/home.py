"""The home: states, services, areas, devices, entities, history and notifications."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hub.const import __version__
from hub.schema import Field, Schema

from ..calls import async_call_service, visible_states
from ..errors import BadRequest, Forbidden, NotFound, Unavailable
from ..routing import ApiRequest, ApiRoute

_SERVICE_CALL_DOC = {
    "type": "object",
    "properties": {
        "data": {"type": "object"},
        "target": {
            "type": "object",
            "properties": {
                "entity_id": {"type": "array", "items": {"type": "string"}},
                "area_id": {"type": "array", "items": {"type": "string"}},
                "device_id": {"type": "array", "items": {"type": "string"}},
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}
_SERVICE_CALL = Schema({"data": Field("dict", default={}), "target": Field("dict", default={})})
_AREA = Schema(
    {
        "name": Field("str", required=True, max_length=100),
        "aliases": Field("str_list", default=[]),
        "icon": Field("str", max_length=64),
    }
)
_AREA_UPDATE = Schema(
    {
        "name": Field("str", max_length=100),
        "aliases": Field("str_list"),
        "icon": Field("str", max_length=64),
    }
)
_DEVICE_UPDATE = Schema(
    {
        "name": Field("str", max_length=100, description="the name you gave it; empty to reset"),
        "area_id": Field("str", max_length=100, description="area id; empty to clear"),
    }
)
_ENTITY_UPDATE = Schema(
    {
        "name": Field("str", max_length=100),
        "area_id": Field("str", max_length=100),
        "aliases": Field("str_list"),
        "disabled": Field("bool"),
    }
)
_HISTORY_QUERY = {
    "hours": Field("float", min=0.01, max=24 * 31, default=24.0, description="how far back"),
}


async def get_config(req: ApiRequest) -> Any:
    """What the dashboard needs to know about this hub."""
    hub = req.hub
    return {
        "name": hub.config.name,
        "version": __version__,
        "language": hub.config.language,
        "integrations": sorted(hub.integrations),
        "failed_integrations": dict(hub.failed_integrations),
        "pairing_protocols": sorted(hub.pairing.protocols()),
        "voice": hub.services.has_service("voice", "process_text"),
        "voice_stream": req.server.voice_stream_available(),
        "rules": hub.data.get("rules") is not None,
        "dashboard_url": req.server.dashboard_url,
    }


async def list_states(req: ApiRequest) -> Any:
    """Every state you may see."""
    return visible_states(req.hub, req.require_user())


async def get_state(req: ApiRequest) -> Any:
    """One entity's state."""
    entity_id = req.param("entity_id")
    state = req.hub.states.get(entity_id)
    if state is None or not req.require_user().can_see(req.hub, entity_id):
        raise NotFound(f"unknown entity {entity_id!r}")
    return state


async def list_services(req: ApiRequest) -> Any:
    """Every service you may call, with the data it accepts and who may call it."""
    user = req.require_user()
    return [s.describe() for s in req.hub.services.all() if user.has_role(s.access)]


async def call_service(req: ApiRequest) -> Any:
    """Call a service; answers its response."""
    response = await async_call_service(
        req.hub,
        req.require_user(),
        req.param("domain"),
        req.param("service"),
        req.body["data"],
        req.body["target"],
        "api",
    )
    return {"response": response}


async def list_areas(req: ApiRequest) -> Any:
    """Rooms (guests see only theirs)."""
    user = req.require_user()
    areas = req.hub.registry.areas.all()
    return [a.as_dict() for a in areas if user.role != "guest" or a.id in user.areas]


async def create_area(req: ApiRequest) -> Any:
    """Add a room."""
    body = req.body
    area = await req.hub.registry.areas.async_create(
        body["name"], tuple(body["aliases"]), body.get("icon")
    )
    return area.as_dict()


async def update_area(req: ApiRequest) -> Any:
    """Rename a room or change its aliases."""
    body = req.body
    area = await req.hub.registry.areas.async_update(
        req.param("area_id"),
        name=body.get("name"),
        aliases=tuple(body["aliases"]) if "aliases" in body else None,
        icon=body.get("icon"),
    )
    return area.as_dict()


async def delete_area(req: ApiRequest) -> Any:
    """Remove a room."""
    await req.hub.registry.areas.async_delete(req.param("area_id"))
    return {"ok": True}


async def list_devices(req: ApiRequest) -> Any:
    """Devices with their entity ids."""
    user = req.require_user()
    registry = req.hub.registry
    out = []
    for device in registry.devices.all():
        entity_ids = [e.entity_id for e in registry.entities.for_device(device.id)]
        if user.role == "guest" and device.area_id not in user.areas:
            continue
        out.append({**device.as_dict(), "entity_ids": entity_ids})
    return out


async def update_device(req: ApiRequest) -> Any:
    """Name a device or move it to a room."""
    body = req.body
    area_id = body.get("area_id")
    device = await req.hub.registry.devices.async_update(
        req.param("device_id"),
        name_by_user=body.get("name"),
        area_id=area_id or None,
        clear_area=area_id == "",
    )
    return device.as_dict()


async def list_entities(req: ApiRequest) -> Any:
    """Registry entries of entities, with their effective area."""
    user = req.require_user()
    hub = req.hub
    out = []
    for entry in hub.registry.entities.all():
        if user.can_see(hub, entry.entity_id):
            out.append(
                {
                    **entry.as_dict(),
                    "effective_area_id": hub.registry.entity_area_id(entry.entity_id),
                }
            )
    return out


async def update_entity(req: ApiRequest) -> Any:
    """Rename an entity, move it, set spoken aliases, enable or disable it."""
    body = req.body
    area_id = body.get("area_id")
    entry = await req.hub.registry.entities.async_update(
        req.param("entity_id"),
        name_by_user=body.get("name"),
        area_id=area_id or None,
        clear_area=area_id == "",
        aliases=tuple(body["aliases"]) if "aliases" in body else None,
        disabled=body.get("disabled"),
    )
    return entry.as_dict()


async def history(req: ApiRequest) -> Any:
    """An entity's states over the last hours, oldest first."""
    hub = req.hub
    entity_id = req.param("entity_id")
    if not req.require_user().can_see(hub, entity_id):
        raise NotFound(f"unknown entity {entity_id!r}")
    if hub.recorder is None:
        raise Unavailable("this hub keeps no history")
    if "." not in entity_id:
        raise BadRequest("expected an entity id like sensor.kitchen_temperature")
    start = datetime.now(UTC) - timedelta(hours=req.query["hours"])
    states = await hub.recorder.async_history(entity_id, start)
    return [
        {"state": s.state, "last_changed": s.last_changed, "last_updated": s.last_updated}
        for s in states
    ]


async def list_notifications(req: ApiRequest) -> Any:
    """Current notifications you may read, newest last."""
    return req.hub.notifications.visible_to(req.require_user().principal())


async def dismiss_notification(req: ApiRequest) -> Any:
    """Dismiss a notification."""
    user = req.require_user()
    if user.role == "guest":
        raise Forbidden("guests cannot dismiss notifications")
    if not req.hub.notifications.async_dismiss(req.param("notification_id"), user.principal()):
        raise NotFound("unknown notification")
    return {"ok": True}


ROUTES = [
    ApiRoute("GET", "/api/config", get_config, "About this hub", "home", "guest"),
    ApiRoute(
        "GET", "/api/states", list_states, "All states", "home", "guest", response={"type": "array"}
    ),
    ApiRoute("GET", "/api/states/{entity_id}", get_state, "One state", "home", "guest"),
    ApiRoute(
        "GET",
        "/api/services",
        list_services,
        "All services",
        "home",
        "guest",
        response={"type": "array"},
    ),
    ApiRoute(
        "POST",
        "/api/services/{domain}/{service}",
        call_service,
        "Call a service",
        "home",
        "guest",
        body=_SERVICE_CALL,
        body_doc=_SERVICE_CALL_DOC,
    ),
    ApiRoute("GET", "/api/areas", list_areas, "Rooms", "home", "guest", response={"type": "array"}),
    ApiRoute(
        "POST", "/api/areas", create_area, "Add a room", "home", "admin", body=_AREA, status=201
    ),
    ApiRoute(
        "PATCH",
        "/api/areas/{area_id}",
        update_area,
        "Change a room",
        "home",
        "admin",
        body=_AREA_UPDATE,
    ),
    ApiRoute("DELETE", "/api/areas/{area_id}", delete_area, "Remove a room", "home", "admin"),
    ApiRoute(
        "GET", "/api/devices", list_devices, "Devices", "home", "guest", response={"type": "array"}
    ),
    ApiRoute(
        "PATCH",
        "/api/devices/{device_id}",
        update_device,
        "Name a device or move it",
        "home",
        "admin",
        body=_DEVICE_UPDATE,
    ),
    ApiRoute(
        "GET",
        "/api/entities",
        list_entities,
        "Entity registry",
        "home",
        "guest",
        response={"type": "array"},
    ),
    ApiRoute(
        "PATCH",
        "/api/entities/{entity_id}",
        update_entity,
        "Change an entity",
        "home",
        "admin",
        body=_ENTITY_UPDATE,
    ),
    ApiRoute(
        "GET",
        "/api/history/{entity_id}",
        history,
        "State history",
        "home",
        "guest",
        query=_HISTORY_QUERY,
        response={"type": "array"},
    ),
    ApiRoute(
        "GET",
        "/api/notifications",
        list_notifications,
        "Notifications",
        "home",
        "guest",
        response={"type": "array"},
    ),
    ApiRoute(
        "DELETE",
        "/api/notifications/{notification_id}",
        dismiss_notification,
        "Dismiss a notification",
        "home",
        "member",
    ),
]
