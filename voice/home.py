"""A read-only view of the hub for voice: states, rooms, names and which services are risky."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .vocabulary import HomeVocabulary, SpokenArea, SpokenEntity, SpokenFloor, build_vocabulary

if TYPE_CHECKING:
    from hub.core import Hub
    from hub.states import State

# Domains a voice command may act on (sensors only answer questions).
VOICE_DOMAINS = (
    "light",
    "switch",
    "fan",
    "climate",
    "lock",
    "cover",
    "vacuum",
    "sensor",
    "binary_sensor",
    "appliance",
    "todo",
)


@dataclass(frozen=True)
class EntityView:
    """The bits of an entity's state voice needs."""

    entity_id: str
    domain: str
    state: str | None
    attributes: dict[str, Any]
    area_id: str | None
    floor_id: str | None = None

    @property
    def device_class(self) -> str | None:
        value = self.attributes.get("device_class")
        return None if value is None else str(value)


class HomeView:
    """Wraps a running Hub; every method is cheap and loop-bound (reads in-memory data)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def vocabulary(self, revision: int = 0) -> HomeVocabulary:
        """Names of every voice-addressable entity and every area, from the live registry."""
        registry = self.hub.registry
        areas = [SpokenArea(a.id, (a.name, *a.aliases), a.floor_id) for a in registry.areas.all()]
        floors = [SpokenFloor(f.id, (f.name, *f.aliases)) for f in registry.floors.all()]
        entities: list[SpokenEntity] = []
        seen: set[str] = set()
        for entry in registry.entities.all():
            if entry.disabled or entry.domain not in VOICE_DOMAINS:
                continue
            seen.add(entry.entity_id)
            state = self.hub.states.get(entry.entity_id)
            entities.append(
                SpokenEntity(
                    entry.entity_id,
                    entry.domain,
                    (entry.name, *entry.aliases),
                    registry.entity_area_id(entry.entity_id),
                    None if state is None else state.attributes.get("device_class"),
                )
            )
        for state in self.hub.states.all():
            if state.entity_id in seen or state.domain not in VOICE_DOMAINS:
                continue
            entities.append(
                SpokenEntity(
                    state.entity_id,
                    state.domain,
                    (state.name,),
                    None,
                    state.attributes.get("device_class"),
                )
            )
        return build_vocabulary(entities, areas, revision, self._rule_phrases(), floors)

    def _rule_phrases(self) -> list[str]:
        """Phrases the rules engine listens for (it is optional, hence the duck typing)."""
        source = getattr(self.hub.data.get("rules"), "voice_phrases", None)
        return list(source()) if callable(source) else []

    def get(self, entity_id: str) -> EntityView | None:
        state = self.hub.states.get(entity_id)
        return None if state is None else self._view(state)

    def entities(
        self, domain: str | None = None, area_id: str | None = None, floor_id: str | None = None
    ) -> list[EntityView]:
        views = [self._view(s) for s in self.hub.states.all(domain)]
        if area_id is not None:
            views = [v for v in views if v.area_id == area_id]
        if floor_id is not None:
            views = [v for v in views if v.floor_id == floor_id]
        return sorted(views, key=lambda v: v.entity_id)

    def now(self) -> datetime:
        """Local wall-clock time (the hub's clock, so tests can move it)."""
        return self.hub.clock.now().astimezone()

    def area_name(self, area_id: str) -> str | None:
        area = self.hub.registry.areas.get(area_id)
        return None if area is None else area.name

    def is_risky(self, service: str) -> bool:
        domain, name = service.split(".", 1)
        entry = self.hub.services.get(domain, name)
        return bool(entry is not None and entry.risky)

    def _view(self, state: State) -> EntityView:
        return EntityView(
            state.entity_id,
            state.domain,
            state.state,
            dict(state.attributes),
            self.hub.registry.entity_area_id(state.entity_id),
            self.hub.registry.entity_floor_id(state.entity_id),
        )
