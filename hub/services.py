"""Service registry: domain.service handlers with validated input and targets."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .bus import EventBus
from .const import EVENT_CALL_SERVICE, EVENT_SERVICE_REGISTERED
from .context import Context
from .errors import InvalidServiceData, PermissionDenied, UnknownService
from .permissions import (
    Principal,
    Role,
    UserLookup,
    check_role,
    check_targets,
    lower_role,
    warn_undeclared,
)
from .schema import EMPTY_SCHEMA, Schema

__all__ = ["Service", "ServiceCall", "ServiceHandler", "ServiceRegistry", "Target"]

_LOGGER = logging.getLogger(__name__)
ENTITY_MATCH_ALL = "all"


@dataclass(frozen=True, slots=True)
class Target:
    """What a service acts on: entities, devices and/or areas (rooms)."""

    entity_ids: tuple[str, ...] = ()
    device_ids: tuple[str, ...] = ()
    area_ids: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Target:
        """Build from {'entity_id': str|list, 'device_id': ..., 'area_id': ...}."""
        data = data or {}
        if not isinstance(data, Mapping):
            raise InvalidServiceData("invalid target", {"target": "expected a mapping"})
        unknown = set(data) - {"entity_id", "device_id", "area_id"}
        if unknown:
            raise InvalidServiceData(
                "invalid target", {key: "unknown target field" for key in sorted(unknown)}
            )
        return cls(
            entity_ids=_id_tuple(data.get("entity_id"), "entity_id"),
            device_ids=_id_tuple(data.get("device_id"), "device_id"),
            area_ids=_id_tuple(data.get("area_id"), "area_id"),
        )

    def as_dict(self) -> dict[str, list[str]]:
        """Return the dict form, omitting empty parts."""
        out: dict[str, list[str]] = {}
        if self.entity_ids:
            out["entity_id"] = list(self.entity_ids)
        if self.device_ids:
            out["device_id"] = list(self.device_ids)
        if self.area_ids:
            out["area_id"] = list(self.area_ids)
        return out

    def __bool__(self) -> bool:
        return bool(self.entity_ids or self.device_ids or self.area_ids)


@dataclass(frozen=True, slots=True)
class ServiceCall:
    """One call of a service, with validated data and the resolved entity ids."""

    domain: str
    service: str
    data: Mapping[str, Any]
    context: Context
    target: Target | None = None
    entity_ids: tuple[str, ...] = ()


ServiceHandler = Callable[[ServiceCall], Awaitable[Any] | Any]
TargetResolver = Callable[[Target, str], tuple[str, ...]]
AreaOf = Callable[[str], str | None]
EntityRisk = Callable[[str, str], bool]


@dataclass(frozen=True, slots=True)
class Service:
    """A registered service and what it accepts."""

    domain: str
    service: str
    handler: ServiceHandler
    schema: Schema = EMPTY_SCHEMA
    target: bool = False
    description: str = ""
    risky: bool = False
    fields_doc: Mapping[str, str] = field(default_factory=dict)
    # The least role that may call it (guests further limited to their rooms' entities).
    access: Role = "admin"

    def describe(self) -> dict[str, Any]:
        """Return a JSON-ready description for APIs and the dashboard."""
        return {
            "domain": self.domain,
            "service": self.service,
            "description": self.description,
            "target": self.target,
            "risky": self.risky,
            "access": self.access,
            "schema": self.schema.json_schema(),
        }


class ServiceRegistry:
    """Registers and calls services; errors are typed and reach the caller."""

    def __init__(
        self,
        bus: EventBus,
        resolve_target: TargetResolver | None = None,
        *,
        area_of: AreaOf | None = None,
        entity_risky: EntityRisk | None = None,
    ) -> None:
        self._bus = bus
        self._services: dict[str, dict[str, Service]] = {}
        self._resolve_target = resolve_target
        self._area_of: AreaOf = area_of or (lambda _eid: None)
        self._entity_risky: EntityRisk = entity_risky or (lambda _eid, _service: False)
        # Set by the component that knows users (web): their current role on every call.
        self.users: UserLookup | None = None

    def async_register(
        self,
        domain: str,
        service: str,
        handler: ServiceHandler,
        schema: Schema | None = None,
        *,
        target: bool = False,
        description: str = "",
        risky: bool = False,
        access: Role | None = None,
    ) -> Callable[[], None]:
        """Register (or replace) a service; `access` is the least role that may call it.

        Returns a function that removes it. Without `access` only admins may call it.
        """
        if access is None:
            warn_undeclared(f"{domain}.{service}")
        entry = Service(
            domain,
            service,
            handler,
            schema or EMPTY_SCHEMA,
            target,
            description,
            risky,
            access=access or "admin",
        )
        self._services.setdefault(domain, {})[service] = entry
        self._bus.async_fire(EVENT_SERVICE_REGISTERED, {"domain": domain, "service": service})
        return lambda: self.async_remove(domain, service)

    def async_remove(self, domain: str, service: str) -> None:
        """Remove a service if registered."""
        services = self._services.get(domain)
        if services and services.pop(service, None) is not None and not services:
            del self._services[domain]

    def get(self, domain: str, service: str) -> Service | None:
        """Return a registered service or None."""
        return self._services.get(domain, {}).get(service)

    def has_service(self, domain: str, service: str) -> bool:
        """Return True if domain.service exists."""
        return self.get(domain, service) is not None

    def all(self) -> list[Service]:
        """Return every registered service."""
        return [svc for services in self._services.values() for svc in services.values()]

    async def async_call(
        self,
        domain: str,
        service: str,
        data: Mapping[str, Any] | None = None,
        *,
        target: Target | Mapping[str, Any] | None = None,
        context: Context | None = None,
    ) -> Any:
        """Validate and run a service; returns the handler's response (often None)."""
        entry = self.get(domain, service)
        if entry is None:
            raise UnknownService(domain, service)
        context = context or Context()
        name = f"{domain}.{service}"
        # Rights first: a refused caller learns nothing about data, targets or entities.
        principal = self.principal(context)
        if principal is not None:
            check_role(name, entry.access, entry.risky, principal)
        if data is not None and not isinstance(data, Mapping):
            raise InvalidServiceData("invalid service data", {"data": "expected a mapping"})
        data = dict(data or {})
        # Targets may also arrive inside data, as the wire formats allow.
        inline: dict[str, Any] = {
            k: data.pop(k) for k in ("entity_id", "device_id", "area_id") if k in data
        }
        if isinstance(target, Target):
            resolved_target = target
        else:
            resolved_target = Target.from_dict({**inline, **(target or {})})
        if not entry.target and resolved_target:
            raise InvalidServiceData(
                f"{domain}.{service} takes no target", {"target": "not accepted"}
            )
        valid = entry.schema.validate(data)
        entity_ids: tuple[str, ...] = ()
        if entry.target:
            if not resolved_target:
                raise InvalidServiceData(
                    f"{domain}.{service} needs a target", {"target": "required"}
                )
            if self._resolve_target is None:
                entity_ids = resolved_target.entity_ids
            else:
                entity_ids = self._resolve_target(resolved_target, domain)
        if principal is not None and entry.target:
            check_targets(name, principal, entity_ids, self._area_of, self._entity_risky)
        call = ServiceCall(domain, service, valid, context, resolved_target or None, entity_ids)
        self._bus.async_fire(
            EVENT_CALL_SERVICE,
            {
                "domain": domain,
                "service": service,
                "data": valid,
                "target": resolved_target.as_dict(),
                "entity_ids": list(entity_ids),
            },
            context=context,
        )
        result = entry.handler(call)
        if inspect.isawaitable(result):
            result = await result
        return result

    def principal(self, context: Context) -> Principal | None:
        """Who a call with this context runs as; None for the hub itself (no user, no role)."""
        if context.user_id is not None and self.users is not None:
            found = self.users(context.user_id)
            if found is None:
                raise PermissionDenied("unknown or removed user")
            if context.role is None or context.role not in ("admin", "member", "guest"):
                return found
            # A context may carry less than its user has (a satellite, a rule's recorded role).
            role = lower_role(found.role, context.role)  # type: ignore[arg-type]
            return Principal(found.user_id, role, found.areas)
        if context.role is None:
            return None
        if context.role not in ("admin", "member", "guest"):
            raise PermissionDenied(f"unknown role {context.role!r}")
        return Principal(context.user_id, context.role, context.areas)  # type: ignore[arg-type]


def _id_tuple(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, Iterable) and not isinstance(value, Mapping | bytes):
        items = tuple(value)
        if all(isinstance(v, str) for v in items):
            return items
    raise InvalidServiceData("invalid target", {name: "expected an id or a list of ids"})
