"""Floors: the storeys of the home; areas belong to at most one floor."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

from ..entity import slugify
from ..errors import EntityNotFound, InvalidServiceData
from .base import RegistryBase, dumps_list, loads_list


@dataclass(frozen=True, slots=True)
class Floor:
    """A storey ("upstairs", "ground floor"); `level` orders floors bottom to top."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    level: int | None = None
    created_at: float = 0.0

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "name": self.name,
            "aliases": list(self.aliases),
            "level": self.level,
        }


class FloorRegistry(RegistryBase):
    """Floors by id; ids are made from the first name and never change on rename."""

    kind = "floor"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._floors: dict[str, Floor] = {}

    async def async_load(self) -> None:
        """Load from SQLite."""
        for row in await self._rows("floors"):
            floor = Floor(
                row["id"], row["name"], loads_list(row["aliases"]), row["level"], row["created_at"]
            )
            self._floors[floor.id] = floor

    def get(self, floor_id: str) -> Floor | None:
        """Return a floor by id."""
        return self._floors.get(floor_id)

    def all(self) -> list[Floor]:
        """Every floor."""
        return list(self._floors.values())

    def find(self, name: str) -> Floor | None:
        """Find by id, name or alias, ignoring case."""
        wanted = name.strip().lower()
        if wanted in self._floors:
            return self._floors[wanted]
        for floor in self._floors.values():
            if floor.name.lower() == wanted or wanted in (a.lower() for a in floor.aliases):
                return floor
        return None

    async def async_create(
        self, name: str, aliases: tuple[str, ...] = (), level: int | None = None
    ) -> Floor:
        """Create a floor; an existing floor of that name is returned instead."""
        name = name.strip()
        if not name:
            raise InvalidServiceData("invalid floor", {"name": "must not be empty"})
        existing = self.find(name)
        if existing is not None:
            return existing
        floor_id = base = slugify(name)
        n = 2
        while floor_id in self._floors:
            floor_id, n = f"{base}_{n}", n + 1
        floor = Floor(
            floor_id, name, tuple(a.strip() for a in aliases if a.strip()), level, time.time()
        )
        self._floors[floor_id] = floor
        await self._save(floor)
        self._notify("create", floor_id)
        return floor

    async def async_update(
        self,
        floor_id: str,
        *,
        name: str | None = None,
        aliases: tuple[str, ...] | None = None,
        level: int | None = None,
    ) -> Floor:
        """Rename a floor, change its aliases or level."""
        floor = self._require(floor_id)
        changes: dict[str, object] = {}
        if name is not None:
            if not name.strip():
                raise InvalidServiceData("invalid floor", {"name": "must not be empty"})
            changes["name"] = name.strip()
        if aliases is not None:
            changes["aliases"] = tuple(a.strip() for a in aliases if a.strip())
        if level is not None:
            changes["level"] = level
        floor = dataclasses.replace(floor, **changes)  # type: ignore[arg-type]
        self._floors[floor_id] = floor
        await self._save(floor)
        self._notify("update", floor_id)
        return floor

    async def async_delete(self, floor_id: str) -> None:
        """Delete a floor (its areas stay, on no floor)."""
        self._require(floor_id)
        del self._floors[floor_id]
        await self._delete("floors", floor_id)
        self._notify("remove", floor_id)

    def _require(self, floor_id: str) -> Floor:
        floor = self._floors.get(floor_id)
        if floor is None:
            raise EntityNotFound(f"unknown floor {floor_id!r}")
        return floor

    async def _save(self, floor: Floor) -> None:
        row = {
            "id": floor.id,
            "name": floor.name,
            "aliases": dumps_list(floor.aliases),
            "level": floor.level,
            "created_at": floor.created_at,
        }
        await self._upsert("floors", row, "id")
