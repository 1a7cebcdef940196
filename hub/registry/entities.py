"""Entity entries: stable entity ids for (integration, unique id), names, areas, aliases."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

from ..bus import EventBus
from ..entity import slugify
from ..errors import EntityNotFound, InvalidServiceData
from ..states import valid_entity_id
from ..storage import Database
from .areas import AreaRegistry
from .base import RegistryBase, dumps_list, loads_list, placement_changes
from .devices import DeviceRegistry


@dataclass(frozen=True, slots=True)
class EntityEntry:
    """A registered entity. The entity id survives restarts and renames of the name."""

    entity_id: str
    unique_id: str
    integration: str
    domain: str
    device_id: str | None = None
    original_name: str | None = None
    name_by_user: str | None = None
    area_id: str | None = None
    aliases: tuple[str, ...] = ()
    disabled: bool = False
    created_at: float = 0.0

    @property
    def name(self) -> str:
        """The name to show and to speak."""
        return self.name_by_user or self.original_name or self.entity_id.split(".", 1)[1]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out = dataclasses.asdict(self)
        out["aliases"] = list(self.aliases)
        out["name"] = self.name
        return out


class EntityRegistry(RegistryBase):
    """Entity entries by entity id, indexed by (integration, unique id)."""

    kind = "entity"

    def __init__(
        self, bus: EventBus, database: Database, areas: AreaRegistry, devices: DeviceRegistry
    ) -> None:
        super().__init__(bus, database)
        self._areas = areas
        self._devices = devices
        self._entries: dict[str, EntityEntry] = {}
        self._by_unique: dict[tuple[str, str], str] = {}

    async def async_load(self) -> None:
        """Load from SQLite."""
        for row in await self._rows("entities"):
            entry = EntityEntry(
                entity_id=row["entity_id"],
                unique_id=row["unique_id"],
                integration=row["integration"],
                domain=row["domain"],
                device_id=row["device_id"],
                original_name=row["original_name"],
                name_by_user=row["name_by_user"],
                area_id=row["area_id"],
                aliases=loads_list(row["aliases"]),
                disabled=bool(row["disabled"]),
                created_at=row["created_at"],
            )
            self._index(entry)

    def get(self, entity_id: str) -> EntityEntry | None:
        """Return an entry by entity id."""
        return self._entries.get(entity_id)

    def all(self) -> list[EntityEntry]:
        """Every entry."""
        return list(self._entries.values())

    def find_by_unique_id(self, integration: str, unique_id: str) -> EntityEntry | None:
        """Return the entry an integration registered under a unique id."""
        entity_id = self._by_unique.get((integration, unique_id))
        return None if entity_id is None else self._entries.get(entity_id)

    def for_device(self, device_id: str) -> list[EntityEntry]:
        """Entries that belong to a device."""
        return [e for e in self._entries.values() if e.device_id == device_id]

    async def async_get_or_create(
        self,
        integration: str,
        domain: str,
        unique_id: str,
        *,
        name: str,
        device_id: str | None = None,
        area_id: str | None = None,
        suggested_object_id: str | None = None,
    ) -> EntityEntry:
        """Return the entry for (integration, unique id), creating a new entity id if new."""
        existing = self.find_by_unique_id(integration, unique_id)
        if existing is not None:
            if existing.original_name != name or (device_id and existing.device_id != device_id):
                existing = dataclasses.replace(
                    existing, original_name=name, device_id=device_id or existing.device_id
                )
                self._index(existing)
                await self._save(existing)
            return existing
        entity_id = self._free_entity_id(domain, suggested_object_id or name)
        entry = EntityEntry(
            entity_id=entity_id,
            unique_id=unique_id,
            integration=integration,
            domain=domain,
            device_id=device_id,
            original_name=name,
            area_id=area_id,
            created_at=time.time(),
        )
        self._index(entry)
        await self._save(entry)
        self._notify("create", entity_id)
        return entry

    async def async_update(
        self,
        entity_id: str,
        *,
        name_by_user: str | None = None,
        area_id: str | None = None,
        clear_area: bool = False,
        aliases: tuple[str, ...] | None = None,
        disabled: bool | None = None,
    ) -> EntityEntry:
        """Rename, move to an area, set spoken aliases, enable or disable."""
        entry = self._require(entity_id)
        changes = placement_changes(
            self._areas,
            name_by_user=name_by_user,
            area_id=area_id,
            clear_area=clear_area,
            disabled=disabled,
        )
        if aliases is not None:
            changes["aliases"] = tuple(a.strip() for a in aliases if a.strip())
        entry = dataclasses.replace(entry, **changes)
        self._index(entry)
        await self._save(entry)
        self._notify("update", entity_id)
        return entry

    async def async_remove(self, entity_id: str) -> None:
        """Forget an entity."""
        entry = self._require(entity_id)
        del self._entries[entity_id]
        self._by_unique.pop((entry.integration, entry.unique_id), None)
        await self._delete("entities", entity_id)
        self._notify("remove", entity_id)

    def _free_entity_id(self, domain: str, name: str) -> str:
        base = f"{domain}.{slugify(name)}"
        if not valid_entity_id(base):
            raise InvalidServiceData("invalid entity name", {"name": name})
        candidate, n = base, 2
        while candidate in self._entries:
            candidate, n = f"{base}_{n}", n + 1
        return candidate

    def _require(self, entity_id: str) -> EntityEntry:
        entry = self._entries.get(entity_id)
        if entry is None:
            raise EntityNotFound(f"unknown entity {entity_id!r}")
        return entry

    def _index(self, entry: EntityEntry) -> None:
        self._entries[entry.entity_id] = entry
        self._by_unique[(entry.integration, entry.unique_id)] = entry.entity_id

    async def _save(self, entry: EntityEntry) -> None:
        row = dataclasses.asdict(entry)
        row["aliases"] = dumps_list(entry.aliases)
        row["disabled"] = int(entry.disabled)
        await self._upsert("entities", row, "entity_id")
