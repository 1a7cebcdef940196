"""Simulated devices. Commands take effect after a short, realistic delay."""

from __future__ import annotations

import random
from typing import Any

from hub.clock import Clock
from hub.domains.appliance import FRIDGE_PROFILE, ApplianceEntity
from hub.domains.binary_sensor import BinarySensorEntity
from hub.domains.climate import ClimateEntity
from hub.domains.light import (
    COLOR_MODE_BRIGHTNESS,
    COLOR_MODE_COLOR_TEMP,
    COLOR_MODE_RGB,
    LightEntity,
)
from hub.domains.lock import (
    STATE_LOCKED,
    STATE_LOCKING,
    STATE_UNLOCKED,
    STATE_UNLOCKING,
    LockEntity,
)
from hub.domains.sensor import SensorEntity
from hub.domains.switch import SwitchEntity
from hub.domains.todo import TodoEntity
from hub.entity import DeviceInfo


def demo_device(key: str, name: str, area: str | None, model: str) -> DeviceInfo:
    """DeviceInfo for a simulated device."""
    return DeviceInfo(
        identifiers=(("demo", key),),
        name=name,
        manufacturer="Hearth Demo",
        model=model,
        sw_version="1.0",
        suggested_area=area,
    )


class DemoMixin:
    """Shared delay handling; `clock` and `delay` are set by the integration."""

    clock: Clock
    delay: float = 0.2

    async def _settle(self, factor: float = 1.0) -> None:
        if self.delay > 0:
            await self.clock.async_sleep(self.delay * factor)


class DemoLight(DemoMixin, LightEntity):
    """A light; colour ones support colour temperature and RGB."""

    restore_state = True  # a real bulb keeps its state across a hub restart

    def __init__(
        self, key: str, name: str, area: str, *, color: bool = False, dimmable: bool = True
    ):
        super().__init__(key, name, device_info=demo_device(key, name, area, "Demo bulb"))
        if color:
            self.supported_color_modes = (COLOR_MODE_COLOR_TEMP, COLOR_MODE_RGB)
        elif dimmable:
            self.supported_color_modes = (COLOR_MODE_BRIGHTNESS,)
        self._color = color
        self.is_on = False
        self.brightness = 180 if dimmable or color else None
        self.color_mode = COLOR_MODE_COLOR_TEMP if color else self.supported_color_modes[0]
        self.color_temp_kelvin = 2700 if color else None

    async def async_turn_on(self, **data: Any) -> None:
        await self._settle()
        self.is_on = True
        if "brightness" in data and self.brightness is not None:
            self.brightness = int(data["brightness"])
            if self.brightness == 0:
                self.is_on = False
        if self._color and "color_temp_kelvin" in data:
            self.color_temp_kelvin = max(
                self.min_color_temp_kelvin,
                min(self.max_color_temp_kelvin, data["color_temp_kelvin"]),
            )
            self.color_mode = COLOR_MODE_COLOR_TEMP
        if self._color and "rgb_color" in data:
            self.rgb_color = tuple(data["rgb_color"])  # type: ignore[assignment]
            self.color_mode = COLOR_MODE_RGB
        self.async_write_state()

    async def async_turn_off(self, **data: Any) -> None:
        await self._settle()
        self.is_on = False
        self.async_write_state()


class DemoPlug(DemoMixin, SwitchEntity):
    """A smart plug that meters power."""

    restore_state = True

    def __init__(self, key: str, name: str, area: str, load_w: float):
        super().__init__(key, name, device_info=demo_device(key, name, area, "Demo plug"))
        self.device_class = "outlet"
        self.load_w = load_w
        self.is_on = False
        self.current_power_w = 0.0

    async def async_turn_on(self, **data: Any) -> None:
        await self._settle()
        self.is_on = True
        self.current_power_w = self.load_w
        self.async_write_state()

    async def async_turn_off(self, **data: Any) -> None:
        await self._settle()
        self.is_on = False
        self.current_power_w = 0.0
        self.async_write_state()


class DemoSensor(SensorEntity):
    """A measured value (temperature, humidity) that drifts a little."""

    def __init__(self, key: str, name: str, area: str, device_class: str, unit: str, value: float):
        super().__init__(
            key,
            name,
            device_info=demo_device(key, name, area, "Demo sensor"),
            device_class=device_class,
        )
        self.unit_of_measurement = unit
        self.state_class = "measurement"
        self.precision = 1
        self.native_value = value
        self.base = value

    def drift(self, rng: random.Random) -> None:
        """Wander around the base value."""
        assert isinstance(self.native_value, float)
        self.native_value = round(
            self.native_value + rng.uniform(-0.2, 0.2) + (self.base - self.native_value) * 0.1, 1
        )
        self.async_write_state()


class DemoBinarySensor(BinarySensorEntity):
    """A contact or presence sensor the simulation (or demo.simulate) flips."""

    def __init__(self, key: str, name: str, area: str, device_class: str, value: bool = False):
        super().__init__(
            key,
            name,
            device_info=demo_device(key, name, area, "Demo contact"),
            device_class=device_class,
        )
        self.is_on = value


class DemoThermostat(DemoMixin, ClimateEntity):
    """A heating thermostat whose room warms towards the target while heating."""

    def __init__(self, key: str, name: str, area: str):
        super().__init__(key, name, device_info=demo_device(key, name, area, "Demo thermostat"))
        self.hvac_modes = ("off", "heat", "auto")
        self.hvac_mode = "heat"
        self.target_temperature = 20.5
        self.current_temperature = 19.0
        self.current_humidity = 45.0
        self.hvac_action = "heating"

    async def async_set_temperature(self, temperature: float, hvac_mode: str | None = None) -> None:
        await self._settle()
        self.target_temperature = max(self.min_temp, min(self.max_temp, round(temperature * 2) / 2))
        if hvac_mode:
            self.hvac_mode = hvac_mode
        self._update_action()
        self.async_write_state()

    async def async_set_hvac_mode(self, hvac_mode: str) -> None:
        if hvac_mode not in self.hvac_modes:
            from hub.errors import InvalidServiceData

            raise InvalidServiceData(
                "unsupported mode", {"hvac_mode": f"expected one of {', '.join(self.hvac_modes)}"}
            )
        await self._settle()
        self.hvac_mode = hvac_mode
        self._update_action()
        self.async_write_state()

    def step(self) -> None:
        """Move the room temperature one tick."""
        assert self.current_temperature is not None and self.target_temperature is not None
        if self.hvac_action == "heating":
            self.current_temperature = round(
                min(self.current_temperature + 0.1, self.target_temperature), 1
            )
        else:
            self.current_temperature = round(max(self.current_temperature - 0.05, 17.0), 1)
        self._update_action()
        self.async_write_state()

    def _update_action(self) -> None:
        assert self.current_temperature is not None and self.target_temperature is not None
        heating = (
            self.hvac_mode != "off" and self.current_temperature < self.target_temperature - 0.2
        )
        self.hvac_action = "heating" if heating else ("off" if self.hvac_mode == "off" else "idle")


class DemoLock(DemoMixin, LockEntity):
    """A door lock with a motor that takes a moment."""

    def __init__(self, key: str, name: str, area: str):
        super().__init__(key, name, device_info=demo_device(key, name, area, "Demo lock"))
        self.lock_state = STATE_LOCKED

    async def async_lock(self, code: str | None = None) -> None:
        self.lock_state = STATE_LOCKING
        self.async_write_state()
        await self._settle(2)
        self.lock_state = STATE_LOCKED
        self.async_write_state()

    async def async_unlock(self, code: str | None = None) -> None:
        self.lock_state = STATE_UNLOCKING
        self.async_write_state()
        await self._settle(2)
        self.lock_state = STATE_UNLOCKED
        self.async_write_state()

    async def async_open(self, code: str | None = None) -> None:
        await self.async_unlock(code)


class DemoFridge(DemoMixin, ApplianceEntity):
    """A fridge-freezer: compartments drift towards their targets; an open door warms it."""

    profile = FRIDGE_PROFILE
    DOOR_ALERT_AFTER = 300.0

    def __init__(self, key: str, name: str, area: str):
        super().__init__(key, name, device_info=demo_device(key, name, area, "Demo fridge-freezer"))
        self.temperatures = {"fridge": 4.2, "freezer": -18.3}
        self.door_open = False
        self.door_opened_at: float | None = None
        self.inventory = ["milk", "eggs", "butter", "cheese", "orange juice"]

    async def async_set_temperature(self, compartment: str, temperature: float) -> None:
        await self._settle()
        self.targets[compartment] = temperature
        self.async_write_state()

    async def async_set_mode(self, mode: str, enabled: bool) -> None:
        await self._settle()
        if enabled:
            self.active_modes.add(mode)
            # Eco and vacation exclude each other on real fridges.
            for other in {"eco": "vacation", "vacation": "eco"}.get(mode, "").split():
                self.active_modes.discard(other)
        else:
            self.active_modes.discard(mode)
        self.async_write_state()

    def set_door(self, is_open: bool, now: float) -> None:
        """Open or close the door (from the simulation)."""
        self.door_open = is_open
        self.door_opened_at = now if is_open else None
        if not is_open:
            self.async_set_alert("door_open", False)
        self.async_write_state()

    def step(self, now: float) -> None:
        """Move compartment temperatures one tick."""
        for name, current in self.temperatures.items():
            if current is None:
                continue
            target = self.targets[name]
            if name == "freezer" and "fast_freeze" in self.active_modes:
                target = -24.0
            if name == "fridge" and "fast_cool" in self.active_modes:
                target = 2.0
            if self.door_open:
                current += 0.3 if name == "fridge" else 0.2
            current += (target - current) * 0.2
            self.temperatures[name] = round(current, 1)
        if self.door_open and self.door_opened_at is not None:
            if now - self.door_opened_at >= self.DOOR_ALERT_AFTER:
                self.async_set_alert("door_open", True)
        high = (self.temperatures["fridge"] or 0) > 8.0
        if high != ("temperature_high" in self.active_alerts):
            self.async_set_alert("temperature_high", high)
        self.async_write_state()


class DemoShoppingList(TodoEntity):
    """The household shopping list."""

    def __init__(self) -> None:
        super().__init__("shopping_list", "Shopping list", icon="mdi:cart")
