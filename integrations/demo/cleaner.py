"""A simulated robot cleaner that moves through rooms, drains and recharges its battery."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from hub.clock import Clock
from hub.domains.vacuum import (
    STATE_CLEANING,
    STATE_DOCKED,
    STATE_IDLE,
    STATE_PAUSED,
    STATE_RETURNING,
    VacuumEntity,
)
from hub.errors import InvalidServiceData

from .devices import demo_device

_LOGGER = logging.getLogger(__name__)
LOW_BATTERY = 15


class DemoCleaner(VacuumEntity):
    """Cleans room by room; each room takes `room_seconds`; returns to the dock when done."""

    def __init__(
        self,
        key: str,
        name: str,
        dock_area: str,
        rooms: tuple[str, ...],
        clock: Clock,
        *,
        room_seconds: float = 30.0,
        tick: float = 1.0,
    ) -> None:
        super().__init__(
            key, name, device_info=demo_device(key, name, dock_area, "Demo robot cleaner")
        )
        self.clock = clock
        self.areas = rooms
        self.room_seconds = room_seconds
        self.tick = tick
        self.activity = STATE_DOCKED
        self.battery_level = 100
        self.status = "charged"
        self.fan_speeds = ("quiet", "standard", "turbo")
        self.fan_speed = "standard"
        self._plan: list[str] = []
        self._room_left = 0.0
        self._task: asyncio.Task[None] | None = None

    async def async_added_to_hub(self) -> None:
        assert self.hub is not None
        self._task = self.hub.async_create_task(self._run(), "demo-cleaner")

    async def async_will_remove(self) -> None:
        if self._task is not None:
            self._task.cancel()

    # -- commands -----------------------------------------------------------------------
    async def async_start(self) -> None:
        if self.activity == STATE_PAUSED and self._plan:
            self._set(STATE_CLEANING, f"cleaning {self.current_area}")
            return
        self._begin(list(self.areas))

    async def async_clean_area(self, area: str) -> None:
        room = self._match_room(area)
        self._begin([room])

    async def async_pause(self) -> None:
        if self.activity == STATE_CLEANING:
            self._set(STATE_PAUSED, "paused")

    async def async_stop(self) -> None:
        self._plan = []
        if self.activity != STATE_DOCKED:
            self._set(STATE_IDLE, "stopped")

    async def async_return_to_base(self) -> None:
        self._plan = []
        if self.activity != STATE_DOCKED:
            self._set(STATE_RETURNING, "returning to dock")
            self._room_left = self.room_seconds / 3

    async def async_locate(self) -> None:
        self.async_fire_event("vacuum_located", {"message": "beep beep"})

    async def async_set_fan_speed(self, fan_speed: str) -> None:
        if fan_speed not in self.fan_speeds:
            raise InvalidServiceData("unknown fan speed", {"fan_speed": ", ".join(self.fan_speeds)})
        self.fan_speed = fan_speed
        self.async_write_state()

    # -- simulation ---------------------------------------------------------------------
    def _begin(self, rooms: list[str]) -> None:
        if (self.battery_level or 0) <= LOW_BATTERY:
            self._set(self.activity or STATE_DOCKED, "battery too low to clean")
            return
        self._plan = rooms
        self.current_area = rooms[0]
        self._room_left = self.room_seconds
        self._set(STATE_CLEANING, f"cleaning {self.current_area}")

    def _set(self, activity: str, status: str) -> None:
        self.activity = activity
        self.status = status
        self.async_write_state()

    def _match_room(self, area: str) -> str:
        wanted = area.strip().lower().replace("_", " ")
        for room in self.areas:
            if room.lower() == wanted or room.lower().replace(" ", "_") == area.lower():
                return room
        raise InvalidServiceData(
            "unknown room", {"area": f"the cleaner knows {', '.join(self.areas)}"}
        )

    async def _run(self) -> None:
        while True:
            await self.clock.async_sleep(self.tick)
            try:
                self._step()
            except Exception:
                _LOGGER.exception("Demo cleaner simulation step failed")

    def _step(self) -> None:
        battery = self.battery_level or 0
        if self.activity == STATE_CLEANING:
            self.battery_level = max(0, battery - 1)
            self._room_left -= self.tick
            if self.battery_level <= LOW_BATTERY:
                self._plan = []
                self._set(STATE_RETURNING, "battery low, returning to dock")
                self._room_left = self.room_seconds / 3
                return
            if self._room_left <= 0:
                self._plan.pop(0)
                if self._plan:
                    self.current_area = self._plan[0]
                    self._room_left = self.room_seconds
                    self._set(STATE_CLEANING, f"cleaning {self.current_area}")
                else:
                    self._set(STATE_RETURNING, "finished, returning to dock")
                    self._room_left = self.room_seconds / 3
                    self.async_fire_event("vacuum_cleaning_finished")
                return
            self.async_write_state()
        elif self.activity == STATE_RETURNING:
            self._room_left -= self.tick
            if self._room_left <= 0:
                self.current_area = None
                self._set(STATE_DOCKED, "charging" if battery < 100 else "charged")
        elif self.activity == STATE_DOCKED and battery < 100:
            self.battery_level = min(100, battery + 2)
            self._set(STATE_DOCKED, "charging" if self.battery_level < 100 else "charged")

    def snapshot(self) -> dict[str, Any]:
        """For tests and the dashboard: the simulation's internal plan."""
        return {"plan": list(self._plan), "room_left": self._room_left}
