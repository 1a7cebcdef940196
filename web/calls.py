"""Service calls on behalf of a signed-in user; the core checks the rights the context carries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hub.context import Context

from .users import User

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = ["async_call_service", "user_context", "visible_states"]


def user_context(user: User, origin: str) -> Context:
    """A context that acts with this user's rights (re-read by the core on every call)."""
    return Context(user_id=user.id, origin=origin, role=user.role, areas=user.areas)


async def async_call_service(
    hub: Hub,
    user: User,
    domain: str,
    service: str,
    data: Mapping[str, Any] | None,
    target: Mapping[str, Any] | None,
    origin: str,
) -> Any:
    """Call a service as a user: the service's declared access decides (hub.permissions)."""
    return await hub.services.async_call(
        domain, service, data, target=target, context=user_context(user, origin)
    )


def visible_states(hub: Hub, user: User) -> list[Any]:
    """States the user may see."""
    states = hub.states.all()
    if user.role != "guest":
        return states
    return [s for s in states if user.can_see(hub, s.entity_id)]
