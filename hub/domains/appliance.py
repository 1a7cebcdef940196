"""Appliances described by a profile: properties, commands and events (a fridge, for one)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..entity import Command, Entity, Property
from ..errors import InvalidServiceData, NotSupported
from ..schema import Field, Schema

STATE_OK = "ok"
STATE_ALERT = "alert"


@dataclass(frozen=True, slots=True)
class Compartment:
    """A temperature-controlled compartment and its allowed set-point range."""

    name: str
    min_temp: float
    max_temp: float
    default_target: float


@dataclass(frozen=True, slots=True)
class ApplianceProfile:
    """What a kind of appliance has: compartments, modes, alerts it can raise."""

    kind: str
    compartments: tuple[Compartment, ...] = ()
    modes: tuple[str, ...] = ()
    alerts: tuple[str, ...] = ()
    has_door: bool = False
    has_inventory: bool = False
    extra_properties: tuple[Property, ...] = field(default_factory=tuple)


FRIDGE_PROFILE = ApplianceProfile(
    kind="fridge",
    compartments=(
        Compartment("fridge", 1.0, 8.0, 4.0),
        Compartment("freezer", -24.0, -14.0, -18.0),
    ),
    modes=("eco", "vacation", "fast_freeze", "fast_cool"),
    alerts=("door_open", "temperature_high", "power_failure"),
    has_door=True,
    has_inventory=True,
)


class ApplianceEntity(Entity):
    """An appliance following a profile. State: 'ok', or 'alert' while any alert is active."""

    domain = "appliance"
    commands: ClassVar = (
        Command(
            "set_temperature",
            "async_handle_set_temperature",
            Schema(
                {
                    "compartment": Field("str", required=True),
                    "temperature": Field("float", required=True, min=-40, max=40),
                }
            ),
            "Set a compartment's target temperature",
        ),
        Command(
            "set_mode",
            "async_handle_set_mode",
            Schema({"mode": Field("str", required=True), "enabled": Field("bool", default=True)}),
            "Switch a mode on or off",
        ),
        Command("add_item", "async_add_item", Schema({"item": Field("str", required=True)})),
        Command("remove_item", "async_remove_item", Schema({"item": Field("str", required=True)})),
    )
    properties: ClassVar = (
        Property("compartments", "dict"),
        Property("door_open", "bool"),
        Property("modes", "str_list"),
        Property("alerts", "str_list"),
        Property("inventory", "str_list"),
    )
    events: ClassVar = ("appliance_alert",)

    profile: ApplianceProfile = FRIDGE_PROFILE

    def __init__(self, unique_id: str, name: str, **kwargs: Any) -> None:
        super().__init__(unique_id, name, **kwargs)
        self.temperatures: dict[str, float | None] = {
            c.name: None for c in self.profile.compartments
        }
        self.targets: dict[str, float] = {
            c.name: c.default_target for c in self.profile.compartments
        }
        self.active_modes: set[str] = set()
        self.active_alerts: set[str] = set()
        self.door_open: bool | None = None
        self.inventory: list[str] = []

    @property
    def state(self) -> str | None:
        return STATE_ALERT if self.active_alerts else STATE_OK

    @property
    def state_attributes(self) -> dict[str, Any]:
        attrs: dict[str, Any] = {
            "kind": self.profile.kind,
            "compartments": {
                c.name: {
                    "temperature": self.temperatures.get(c.name),
                    "target": self.targets.get(c.name),
                    "min": c.min_temp,
                    "max": c.max_temp,
                }
                for c in self.profile.compartments
            },
            "modes": sorted(self.active_modes),
            "available_modes": list(self.profile.modes),
            "alerts": sorted(self.active_alerts),
        }
        if self.profile.has_door:
            attrs["door_open"] = self.door_open
        if self.profile.has_inventory:
            attrs["inventory"] = list(self.inventory)
        return attrs

    def compartment(self, name: str) -> Compartment:
        """Return a compartment by name or raise a validation error listing the valid ones."""
        for comp in self.profile.compartments:
            if comp.name == name:
                return comp
        names = ", ".join(c.name for c in self.profile.compartments)
        raise InvalidServiceData("unknown compartment", {"compartment": f"expected one of {names}"})

    async def async_handle_set_temperature(self, compartment: str, temperature: float) -> None:
        """Check the compartment's range, then set."""
        comp = self.compartment(compartment)
        if not comp.min_temp <= temperature <= comp.max_temp:
            raise InvalidServiceData(
                "temperature out of range",
                {"temperature": f"{comp.name} takes {comp.min_temp} to {comp.max_temp}"},
            )
        await self.async_set_temperature(compartment, temperature)

    async def async_handle_set_mode(self, mode: str, enabled: bool = True) -> None:
        """Check the mode, then set."""
        if mode not in self.profile.modes:
            raise InvalidServiceData(
                "unknown mode", {"mode": f"expected one of {', '.join(self.profile.modes)}"}
            )
        await self.async_set_mode(mode, enabled)

    def async_set_alert(self, alert: str, active: bool) -> None:
        """Raise or clear an alert; raising fires appliance_alert."""
        if active and alert not in self.active_alerts:
            self.active_alerts.add(alert)
            self.async_fire_event("appliance_alert", {"alert": alert})
        elif not active:
            self.active_alerts.discard(alert)
        self.async_write_state()

    async def async_set_temperature(self, compartment: str, temperature: float) -> None:
        """Set a target on the device."""
        raise NotSupported(f"{self.entity_id} cannot set temperatures")

    async def async_set_mode(self, mode: str, enabled: bool) -> None:
        """Set a mode on the device."""
        raise NotSupported(f"{self.entity_id} has no modes")

    async def async_add_item(self, item: str) -> None:
        """Add to the inventory."""
        if not self.profile.has_inventory:
            raise NotSupported(f"{self.entity_id} keeps no inventory")
        self.inventory.append(item)
        self.async_write_state()

    async def async_remove_item(self, item: str) -> None:
        """Remove from the inventory (case-insensitive, first match)."""
        for idx, existing in enumerate(self.inventory):
            if existing.lower() == item.lower():
                del self.inventory[idx]
                break
        self.async_write_state()
