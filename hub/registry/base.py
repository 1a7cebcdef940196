"""What the three registries share: the database, change events and JSON columns."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..bus import EventBus
from ..const import EVENT_REGISTRY_UPDATED
from ..errors import EntityNotFound
from ..storage import Database

if TYPE_CHECKING:
    from .areas import AreaRegistry


class RegistryBase:
    """Holds entries in memory; every change is written through to SQLite."""

    kind = ""

    def __init__(self, bus: EventBus, database: Database) -> None:
        self._bus = bus
        self._db = database

    def _notify(self, action: str, item_id: str, **extra: Any) -> None:
        self._bus.async_fire(
            EVENT_REGISTRY_UPDATED,
            {"registry": self.kind, "action": action, "id": item_id, **extra},
        )

    async def _upsert(self, table: str, row: dict[str, Any], pk: str) -> None:
        await self._db.async_run(lambda db: db[table].upsert(row, pk=pk))

    async def _delete(self, table: str, pk_value: str) -> None:
        await self._db.async_run(lambda db: db[table].delete_where(f"{_pk(table)} = ?", [pk_value]))

    async def _rows(self, table: str) -> list[dict[str, Any]]:
        return await self._db.async_run(lambda db: list(db[table].rows))


def placement_changes(
    areas: AreaRegistry,
    *,
    name_by_user: str | None,
    area_id: str | None,
    clear_area: bool,
    disabled: bool | None,
) -> dict[str, Any]:
    """The fields a rename / move / enable asks to change (devices and entities alike)."""
    changes: dict[str, Any] = {}
    if name_by_user is not None:
        changes["name_by_user"] = name_by_user.strip() or None
    if area_id is not None:
        if areas.get(area_id) is None:
            raise EntityNotFound(f"unknown area {area_id!r}")
        changes["area_id"] = area_id
    if clear_area:
        changes["area_id"] = None
    if disabled is not None:
        changes["disabled"] = disabled
    return changes


def dumps_list(values: tuple[str, ...] | list[str]) -> str:
    """Encode a list column."""
    return json.dumps(list(values), ensure_ascii=False)


def loads_list(text: str | None) -> tuple[str, ...]:
    """Decode a list column."""
    return tuple(json.loads(text)) if text else ()


def _pk(table: str) -> str:
    return "entity_id" if table == "entities" else "id"
