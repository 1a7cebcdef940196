"""Service calls on behalf of a user: permission checks for guests, then the hub's call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hub.context import Context
from hub.services import Target

from .errors import Forbidden
from .users import User

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = ["async_call_service", "visible_states"]


async def async_call_service(
    hub: Hub,
    user: User,
    domain: str,
    service: str,
    data: Mapping[str, Any] | None,
    target: Mapping[str, Any] | None,
    origin: str,
) -> Any:
    """Call a service as a user; guests may only touch entities in their areas."""
    data = dict(data or {})
    if user.role == "guest":
        entry = hub.services.get(domain, service)
        if entry is None or not entry.target:
            raise Forbidden("guests may only control devices in their rooms")
        inline: dict[str, Any] = {
            k: data.pop(k) for k in ("entity_id", "device_id", "area_id") if k in data
        }
        resolved = Target.from_dict({**inline, **dict(target or {})})
        entity_ids = hub.entities.resolve_target(resolved, domain)
        hidden = [e for e in entity_ids if not user.can_see(hub, e)]
        if hidden or not entity_ids:
            raise Forbidden("guests may only control devices in their rooms")
        target = resolved.as_dict()
    context = Context(user_id=user.id, origin=origin)
    return await hub.services.async_call(domain, service, data, target=target, context=context)


def visible_states(hub: Hub, user: User) -> list[Any]:
    """States the user may see."""
    states = hub.states.all()
    if user.role != "guest":
        return states
    return [s for s in states if user.can_see(hub, s.entity_id)]
