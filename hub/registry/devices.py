"""Devices: the physical things, found again by their integration identifiers."""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from ..bus import EventBus
from ..entity import DeviceInfo
from ..errors import EntityNotFound
from ..storage import Database
from .areas import AreaRegistry
from .base import RegistryBase, placement_changes


@dataclass(frozen=True, slots=True)
class DeviceEntry:
    """A device known to the hub. The id is random and stable for the device's life."""

    id: str
    identifiers: tuple[tuple[str, str], ...]
    integration: str
    name: str
    name_by_user: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    sw_version: str | None = None
    area_id: str | None = None
    via_device_id: str | None = None
    created_at: float = 0.0
    disabled: bool = False

    @property
    def display_name(self) -> str:
        """The user's name for it, else the integration's."""
        return self.name_by_user or self.name

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out = dataclasses.asdict(self)
        out["identifiers"] = [list(i) for i in self.identifiers]
        out["display_name"] = self.display_name
        return out


class DeviceRegistry(RegistryBase):
    """Devices by id, and an index from identifiers to id."""

    kind = "device"

    def __init__(self, bus: EventBus, database: Database, areas: AreaRegistry) -> None:
        super().__init__(bus, database)
        self._areas = areas
        self._devices: dict[str, DeviceEntry] = {}
        self._by_identifier: dict[tuple[str, str], str] = {}

    async def async_load(self) -> None:
        """Load from SQLite."""
        for row in await self._rows("devices"):
            entry = DeviceEntry(
                id=row["id"],
                identifiers=tuple(tuple(i) for i in json.loads(row["identifiers"])),  # type: ignore[misc]
                integration=row["integration"],
                name=row["name"],
                name_by_user=row["name_by_user"],
                manufacturer=row["manufacturer"],
                model=row["model"],
                sw_version=row["sw_version"],
                area_id=row["area_id"],
                via_device_id=row["via_device_id"],
                created_at=row["created_at"],
                disabled=bool(row.get("disabled", 0)),
            )
            self._index(entry)

    def get(self, device_id: str) -> DeviceEntry | None:
        """Return a device by id."""
        return self._devices.get(device_id)

    def all(self) -> list[DeviceEntry]:
        """Every device."""
        return list(self._devices.values())

    def find_by_identifier(self, identifier: tuple[str, str]) -> DeviceEntry | None:
        """Return the device carrying an (integration, id) identifier."""
        device_id = self._by_identifier.get(identifier)
        return None if device_id is None else self._devices.get(device_id)

    async def async_get_or_create(self, integration: str, info: DeviceInfo) -> DeviceEntry:
        """Find the device by any identifier, updating its details; create it if new."""
        existing = next(
            (self.find_by_identifier(i) for i in info.identifiers if i in self._by_identifier),
            None,
        )
        via_id = None
        if info.via_device is not None:
            via = self.find_by_identifier(info.via_device)
            via_id = via.id if via else None
        if existing is None:
            area_id = None
            if info.suggested_area:
                area_id = (await self._areas.async_create(info.suggested_area)).id
            entry = DeviceEntry(
                id=uuid.uuid4().hex,
                identifiers=tuple(info.identifiers),
                integration=integration,
                name=info.name,
                manufacturer=info.manufacturer,
                model=info.model,
                sw_version=info.sw_version,
                area_id=area_id,
                via_device_id=via_id,
                created_at=time.time(),
            )
            action = "create"
        else:
            identifiers = tuple(dict.fromkeys(existing.identifiers + tuple(info.identifiers)))
            entry = dataclasses.replace(
                existing,
                identifiers=identifiers,
                name=info.name,
                manufacturer=info.manufacturer or existing.manufacturer,
                model=info.model or existing.model,
                sw_version=info.sw_version or existing.sw_version,
                via_device_id=via_id or existing.via_device_id,
            )
            if entry == existing:
                return existing
            action = "update"
        self._index(entry)
        await self._save(entry)
        self._notify(action, entry.id)
        return entry

    async def async_update(
        self,
        device_id: str,
        *,
        name_by_user: str | None = None,
        area_id: str | None = None,
        clear_area: bool = False,
        sw_version: str | None = None,
        disabled: bool | None = None,
    ) -> DeviceEntry:
        """Rename a device, move it to an area, or record new firmware."""
        entry = self._require(device_id)
        changes = placement_changes(
            self._areas,
            name_by_user=name_by_user,
            area_id=area_id,
            clear_area=clear_area,
            disabled=disabled,
        )
        if sw_version is not None:
            changes["sw_version"] = sw_version
        entry = dataclasses.replace(entry, **changes)
        self._index(entry)
        await self._save(entry)
        self._notify("update", device_id)
        return entry

    async def async_remove(self, device_id: str) -> None:
        """Forget a device."""
        entry = self._require(device_id)
        del self._devices[device_id]
        for ident in entry.identifiers:
            self._by_identifier.pop(ident, None)
        await self._delete("devices", device_id)
        self._notify("remove", device_id)

    def _require(self, device_id: str) -> DeviceEntry:
        entry = self._devices.get(device_id)
        if entry is None:
            raise EntityNotFound(f"unknown device {device_id!r}")
        return entry

    def _index(self, entry: DeviceEntry) -> None:
        self._devices[entry.id] = entry
        for ident in entry.identifiers:
            self._by_identifier[ident] = entry.id

    async def _save(self, entry: DeviceEntry) -> None:
        row = dataclasses.asdict(entry)
        row["identifiers"] = json.dumps([list(i) for i in entry.identifiers])
        row["disabled"] = int(entry.disabled)
        await self._upsert("devices", row, "id")
