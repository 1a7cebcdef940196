"""Registry of areas (rooms), devices, entities and their spoken aliases, kept in SQLite."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from ..bus import EventBus
from ..storage import Database
from .areas import Area, AreaRegistry
from .devices import DeviceEntry, DeviceRegistry
from .entities import EntityEntry, EntityRegistry
from .floors import Floor, FloorRegistry

__all__ = [
    "Area",
    "AreaRegistry",
    "DeviceEntry",
    "DeviceRegistry",
    "EntityEntry",
    "EntityRegistry",
    "Floor",
    "FloorRegistry",
    "Registry",
]


def _v1_initial(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE areas (id TEXT PRIMARY KEY, name TEXT NOT NULL, aliases TEXT NOT NULL,"
        " icon TEXT, created_at REAL NOT NULL)"
    )
    db.execute(
        "CREATE TABLE devices (id TEXT PRIMARY KEY, identifiers TEXT NOT NULL,"
        " integration TEXT NOT NULL, name TEXT NOT NULL, name_by_user TEXT, manufacturer TEXT,"
        " model TEXT, sw_version TEXT, area_id TEXT, via_device_id TEXT,"
        " created_at REAL NOT NULL)"
    )
    db.execute(
        "CREATE TABLE entities (entity_id TEXT PRIMARY KEY, unique_id TEXT NOT NULL,"
        " integration TEXT NOT NULL, domain TEXT NOT NULL, device_id TEXT, original_name TEXT,"
        " name_by_user TEXT, area_id TEXT, aliases TEXT NOT NULL, disabled INTEGER NOT NULL,"
        " created_at REAL NOT NULL, UNIQUE (integration, unique_id))"
    )


def _v2_device_disabled(db: sqlite_utils.Database) -> None:
    db.execute("ALTER TABLE devices ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0")


def _v3_floors(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE floors (id TEXT PRIMARY KEY, name TEXT NOT NULL, aliases TEXT NOT NULL,"
        " level INTEGER, created_at REAL NOT NULL)"
    )
    db.execute("ALTER TABLE areas ADD COLUMN floor_id TEXT")


MIGRATIONS = (_v1_initial, _v2_device_disabled, _v3_floors)


class Registry:
    """The registries (floors, areas, devices, entities) sharing one versioned database file."""

    def __init__(self, bus: EventBus, path: Path) -> None:
        self.database = Database(path, MIGRATIONS, backups=True)
        self.floors = FloorRegistry(bus, self.database)
        self.areas = AreaRegistry(bus, self.database, self.floors)
        self.devices = DeviceRegistry(bus, self.database, self.areas)
        self.entities = EntityRegistry(bus, self.database, self.areas, self.devices)

    async def async_load(self) -> None:
        """Open the database and load every entry into memory."""
        await self.database.async_open()
        await self.floors.async_load()
        await self.areas.async_load()
        await self.devices.async_load()
        await self.entities.async_load()

    async def async_close(self) -> None:
        """Close the database."""
        await self.database.async_close()

    def entity_area_id(self, entity_id: str) -> str | None:
        """The entity's own area, else its device's."""
        entry = self.entities.get(entity_id)
        if entry is None:
            return None
        if entry.area_id:
            return entry.area_id
        if entry.device_id:
            device = self.devices.get(entry.device_id)
            if device is not None:
                return device.area_id
        return None

    def entity_floor_id(self, entity_id: str) -> str | None:
        """The floor of the entity's area."""
        area_id = self.entity_area_id(entity_id)
        area = None if area_id is None else self.areas.get(area_id)
        return None if area is None else area.floor_id

    def entities_in_area(self, area_id: str) -> list[str]:
        """Ids of entities in an area, directly or through their device."""
        return [
            e.entity_id for e in self.entities.all() if self.entity_area_id(e.entity_id) == area_id
        ]
