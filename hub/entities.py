"""Entity manager: adds integration entities to the registry and state machine, routes commands."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .const import ATTR_RESTORED
from .domains import DOMAINS
from .entity import Command, Entity
from .errors import DeviceUnavailable, EntityNotFound, HearthError, InvalidServiceData, NotSupported
from .services import ENTITY_MATCH_ALL, ServiceCall, Target

if TYPE_CHECKING:
    from .core import Hub

__all__ = ["EntityManager"]

_LOGGER = logging.getLogger(__name__)
# Services that act on entities of any domain (e.g. "turn off everything in the bedroom").
GENERIC_DOMAIN = "hub"
GENERIC_COMMANDS = ("turn_on", "turn_off", "toggle")


class EntityManager:
    """Live entity objects by id, and the services that reach them."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._entities: dict[str, Entity] = {}

    def get(self, entity_id: str) -> Entity | None:
        """Return a live entity."""
        return self._entities.get(entity_id)

    def all(self) -> list[Entity]:
        """Every live entity."""
        return list(self._entities.values())

    def for_integration(self, integration: str) -> list[Entity]:
        """Entities owned by an integration."""
        return [e for e in self._entities.values() if e.integration == integration]

    def for_domain(self, domain: str) -> list[Entity]:
        """Entities of a domain."""
        return [e for e in self._entities.values() if e.domain == domain]

    async def async_add(self, integration: str, entities: Iterable[Entity]) -> list[str]:
        """Register entities (stable ids from the registry) and write their first state."""
        added: list[str] = []
        registry = self._hub.registry
        for entity in entities:
            if not entity.domain or entity.domain not in DOMAINS:
                _LOGGER.error(
                    "%s: entity %s has unknown domain %r", integration, entity, entity.domain
                )
                continue
            device_id = None
            if entity.device_info is not None:
                device = await registry.devices.async_get_or_create(integration, entity.device_info)
                device_id = device.id
            area_id = None
            if device_id is None and entity.suggested_area:
                area_id = (await registry.areas.async_create(entity.suggested_area)).id
            entry = await registry.entities.async_get_or_create(
                integration,
                entity.domain,
                entity.unique_id,
                name=entity.name,
                device_id=device_id,
                area_id=area_id,
            )
            if entry.disabled:
                continue
            if entry.entity_id in self._entities:
                _LOGGER.error(
                    "%s: %s (unique id %s) is already live; not adding it twice",
                    integration,
                    entry.entity_id,
                    entity.unique_id,
                )
                continue
            entity.hub = self._hub
            entity.entity_id = entry.entity_id
            entity.integration = integration
            entity.device_id = device_id
            self._entities[entry.entity_id] = entity
            last = self._hub.states.get(entry.entity_id)
            if entity.restore_state and last is not None and last.attributes.get(ATTR_RESTORED):
                try:
                    entity.restore(last)
                except Exception:
                    _LOGGER.exception("%s: %s could not restore %s", integration, entity, last)
            try:
                await entity.async_added_to_hub()
            except Exception:
                _LOGGER.exception("%s: %s failed to start", integration, entry.entity_id)
            entity.async_write_state()
            added.append(entry.entity_id)
        return added

    async def async_remove(self, entity_id: str, *, forget: bool = False) -> None:
        """Take an entity out of the hub (and out of the registry when forget)."""
        entity = self._entities.pop(entity_id, None)
        if entity is not None:
            try:
                await entity.async_will_remove()
            except Exception:
                _LOGGER.exception("Error removing %s", entity_id)
            entity.hub = None
        self._hub.states.async_remove(entity_id)
        if forget and self._hub.registry.entities.get(entity_id) is not None:
            await self._hub.registry.entities.async_remove(entity_id)

    def register_services(self) -> None:
        """Register every domain's commands as services, plus hub.turn_on/off/toggle."""
        services = self._hub.services
        for domain, cls in DOMAINS.items():
            for command in cls.commands:
                services.async_register(
                    domain,
                    command.name,
                    self._make_handler(command),
                    command.schema,
                    target=True,
                    description=command.description,
                    risky=command.risky,
                    access=command.access,
                )
        for name in GENERIC_COMMANDS:
            services.async_register(
                GENERIC_DOMAIN,
                name,
                self._make_generic_handler(name),
                target=True,
                description=f"{name.replace('_', ' ')} any entity that can",
                access="guest",
            )

    def is_risky(self, entity_id: str, service: str) -> bool:
        """Whether a service on this entity is risky (a locked door, a garage door)."""
        entity = self._entities.get(entity_id)
        return entity is not None and entity.is_risky(service)

    def resolve_target(self, target: Target, domain: str) -> tuple[str, ...]:
        """Turn entity, device and area targets into entity ids of a domain."""
        any_domain = domain == GENERIC_DOMAIN
        registry = self._hub.registry
        result: dict[str, None] = {}
        for eid in target.entity_ids:
            if eid == ENTITY_MATCH_ALL:
                result.update(
                    dict.fromkeys(
                        str(e.entity_id) for e in self.all() if any_domain or e.domain == domain
                    )
                )
                continue
            if eid not in self._entities:
                raise EntityNotFound(f"unknown entity {eid!r}")
            if not any_domain and eid.split(".", 1)[0] != domain:
                raise InvalidServiceData("wrong target", {eid: f"is not a {domain} entity"})
            result[eid] = None
        for device_id in target.device_ids:
            if registry.devices.get(device_id) is None:
                raise EntityNotFound(f"unknown device {device_id!r}")
            for entry in registry.entities.for_device(device_id):
                if entry.entity_id in self._entities and (any_domain or entry.domain == domain):
                    result[entry.entity_id] = None
        for area_ref in target.area_ids:
            area = registry.areas.get(area_ref) or registry.areas.find(area_ref)
            if area is None:
                raise EntityNotFound(f"unknown area {area_ref!r}")
            for eid in registry.entities_in_area(area.id):
                if eid in self._entities and (any_domain or eid.split(".", 1)[0] == domain):
                    result[eid] = None
        return tuple(result)

    # -- internals ----------------------------------------------------------------------
    def _make_handler(self, command: Command) -> Any:
        async def handle(call: ServiceCall) -> dict[str, Any] | None:
            return await self._run_command(call, [(eid, command) for eid in call.entity_ids])

        return handle

    def _make_generic_handler(self, name: str) -> Any:
        async def handle(call: ServiceCall) -> dict[str, Any] | None:
            jobs = []
            for eid in call.entity_ids:
                entity = self._entities[eid]
                command = entity.command(name)
                if command is not None and name in entity.supported_commands:
                    jobs.append((eid, command))
            return await self._run_command(call, jobs)

        return handle

    async def _run_command(
        self, call: ServiceCall, jobs: list[tuple[str, Command]]
    ) -> dict[str, Any] | None:
        """Run the command on each entity; returns what entities report (e.g. delivery)."""
        coros = []
        for eid, command in jobs:
            entity = self._entities.get(eid)
            if entity is None:
                raise EntityNotFound(f"unknown entity {eid!r}")
            if not entity.available:
                raise DeviceUnavailable(f"{entity.display_name} ({eid}) is unavailable")
            if command.name not in entity.supported_commands:
                raise NotSupported(f"{eid} does not support {command.name}")
            data = entity.prepare_command_data(command.name, dict(call.data))
            entity.async_set_context(call.context)
            coros.append(getattr(entity, command.method)(**data))
        results = await asyncio.gather(*coros, return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        for err in errors:
            if not isinstance(err, HearthError):
                _LOGGER.error("%s.%s failed", call.domain, call.service, exc_info=err)
        if errors:
            first = errors[0]
            if isinstance(first, HearthError):
                raise first
            raise DeviceUnavailable(f"{call.domain}.{call.service} failed: {first}") from first
        reports = await asyncio.gather(
            *(
                self._entities[eid].async_command_result()
                for eid, _ in jobs
                if eid in self._entities
            )
        )
        entity_ids = [eid for eid, _ in jobs if eid in self._entities]
        told = {eid: r for eid, r in zip(entity_ids, reports, strict=True) if r is not None}
        return {"entities": told} if told else None
