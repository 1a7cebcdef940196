"""Areas: the rooms of the home, with spoken aliases."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..entity import slugify
from ..errors import EntityNotFound, InvalidServiceData
from .base import RegistryBase, dumps_list, loads_list

if TYPE_CHECKING:
    from ..bus import EventBus
    from ..storage import Database
    from .floors import FloorRegistry


@dataclass(frozen=True, slots=True)
class Area:
    """A room or zone."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    icon: str | None = None
    created_at: float = 0.0
    floor_id: str | None = None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "name": self.name,
            "aliases": list(self.aliases),
            "icon": self.icon,
            "floor_id": self.floor_id,
        }


class AreaRegistry(RegistryBase):
    """Areas by id; ids are made from the first name and never change on rename."""

    kind = "area"

    def __init__(
        self, bus: EventBus, database: Database, floors: FloorRegistry | None = None
    ) -> None:
        super().__init__(bus, database)
        self._floors = floors
        self._areas: dict[str, Area] = {}

    async def async_load(self) -> None:
        """Load from SQLite."""
        for row in await self._rows("areas"):
            area = Area(
                row["id"],
                row["name"],
                loads_list(row["aliases"]),
                row["icon"],
                row["created_at"],
                row.get("floor_id"),
            )
            self._areas[area.id] = area

    def get(self, area_id: str) -> Area | None:
        """Return an area by id."""
        return self._areas.get(area_id)

    def all(self) -> list[Area]:
        """Every area."""
        return list(self._areas.values())

    def find(self, name: str) -> Area | None:
        """Find by id, name or alias, ignoring case."""
        wanted = name.strip().lower()
        if wanted in self._areas:
            return self._areas[wanted]
        for area in self._areas.values():
            if area.name.lower() == wanted or wanted in (a.lower() for a in area.aliases):
                return area
        return None

    def in_floor(self, floor_id: str) -> list[Area]:
        """Areas on a floor."""
        return [a for a in self._areas.values() if a.floor_id == floor_id]

    async def async_create(
        self,
        name: str,
        aliases: tuple[str, ...] = (),
        icon: str | None = None,
        floor_id: str | None = None,
    ) -> Area:
        """Create an area; an existing area of that name is returned instead."""
        name = name.strip()
        if not name:
            raise InvalidServiceData("invalid area", {"name": "must not be empty"})
        existing = self.find(name)
        if existing is not None:
            return existing
        area_id = base = slugify(name)
        n = 2
        while area_id in self._areas:
            area_id, n = f"{base}_{n}", n + 1
        self._check_floor(floor_id)
        area = Area(area_id, name, tuple(aliases), icon, time.time(), floor_id)
        self._areas[area_id] = area
        await self._save(area)
        self._notify("create", area_id)
        return area

    async def async_update(
        self,
        area_id: str,
        *,
        name: str | None = None,
        aliases: tuple[str, ...] | None = None,
        icon: str | None = None,
        floor_id: str | None = None,
        clear_floor: bool = False,
    ) -> Area:
        """Rename an area, change its aliases, or move it to (or off) a floor."""
        area = self._require(area_id)
        changes: dict[str, object] = {}
        if name is not None:
            if not name.strip():
                raise InvalidServiceData("invalid area", {"name": "must not be empty"})
            changes["name"] = name.strip()
        if aliases is not None:
            changes["aliases"] = tuple(a.strip() for a in aliases if a.strip())
        if icon is not None:
            changes["icon"] = icon
        if floor_id is not None:
            self._check_floor(floor_id)
            changes["floor_id"] = floor_id
        if clear_floor:
            changes["floor_id"] = None
        area = dataclasses.replace(area, **changes)  # type: ignore[arg-type]
        self._areas[area_id] = area
        await self._save(area)
        self._notify("update", area_id)
        return area

    async def async_delete(self, area_id: str) -> None:
        """Delete an area (devices and entities in it become unassigned)."""
        self._require(area_id)
        del self._areas[area_id]
        await self._delete("areas", area_id)
        self._notify("remove", area_id)

    def _check_floor(self, floor_id: str | None) -> None:
        if floor_id is not None and (self._floors is None or self._floors.get(floor_id) is None):
            raise EntityNotFound(f"unknown floor {floor_id!r}")

    def _require(self, area_id: str) -> Area:
        area = self._areas.get(area_id)
        if area is None:
            raise EntityNotFound(f"unknown area {area_id!r}")
        return area

    async def _save(self, area: Area) -> None:
        row = {
            "id": area.id,
            "name": area.name,
            "aliases": dumps_list(area.aliases),
            "icon": area.icon,
            "created_at": area.created_at,
            "floor_id": area.floor_id,
        }
        await self._upsert("areas", row, "id")
