"""Fridge profile: two compartments with a thermal model, door, modes, alerts, inventory."""

from hearthapp.discovery import command, sensor

MODES = ("normal", "eco", "vacation", "fast_freeze")
AMBIENT = 22.0
FAST_FREEZE_S = 2 * 3600
DOOR_ALERT_S = 120
FRIDGE_RANGE = (1.0, 8.0)
FREEZER_RANGE = (-24.0, -14.0)
MAX_ITEMS = 100


class Fridge:
    PROFILE = "fridge"
    NAME = "Fridge"
    MODEL = "Hearth HF-1 reference fridge"

    def __init__(self, settings, now_ms, read_input):
        self._read_input = read_input
        self.fridge_setpoint = _clamp(settings.get("fridge_setpoint", 4.0), FRIDGE_RANGE)
        self.freezer_setpoint = _clamp(settings.get("freezer_setpoint", -18.0), FREEZER_RANGE)
        mode = settings.get("mode", "normal")
        self.mode = mode if mode in MODES else "normal"
        inventory = settings.get("inventory", {})
        self.inventory = inventory if isinstance(inventory, dict) else {}
        self.fridge_temperature = self.fridge_setpoint
        self.freezer_temperature = self.freezer_setpoint
        self.fridge_cooling = False
        self.freezer_cooling = False
        self.door_open = False
        self._door_since = 0.0
        self._mode_since = now_ms / 1000
        self._last = now_ms / 1000
        self.alerts = []

    def entities(self):
        temp = {"dev_cla": "temperature", "unit_of_meas": "°C", "stat_cla": "measurement"}
        setpoint = {"unit_of_meas": "°C", "step": 0.5, "mode": "box"}
        return [
            ("sensor", "fridge_temperature", "Fridge temperature",
             sensor("fridge_temperature", **temp)),
            ("sensor", "freezer_temperature", "Freezer temperature",
             sensor("freezer_temperature", **temp)),
            ("number", "fridge_setpoint", "Fridge set-point",
             command("fridge_setpoint", min=FRIDGE_RANGE[0], max=FRIDGE_RANGE[1], **setpoint)),
            ("number", "freezer_setpoint", "Freezer set-point",
             command("freezer_setpoint", min=FREEZER_RANGE[0], max=FREEZER_RANGE[1], **setpoint)),
            ("select", "mode", "Mode", command("mode", ops=list(MODES))),
            ("binary_sensor", "door", "Door",
             sensor("door", pl_on="open", pl_off="closed", dev_cla="door")),
            ("binary_sensor", "alert", "Alert",
             sensor("alert", pl_on="ON", pl_off="OFF", dev_cla="problem")),
            ("sensor", "inventory", "Inventory", sensor("inventory_count", unit_of_meas="items")),
        ]  # fmt: skip

    def settings(self):
        return {
            "fridge_setpoint": self.fridge_setpoint,
            "freezer_setpoint": self.freezer_setpoint,
            "mode": self.mode,
            "inventory": self.inventory,
        }

    def state(self):
        return {
            "fridge_temperature": round(self.fridge_temperature, 1),
            "freezer_temperature": round(self.freezer_temperature, 1),
            "fridge_setpoint": self.fridge_setpoint,
            "freezer_setpoint": self.freezer_setpoint,
            "fridge_target": self._targets()[0],
            "freezer_target": self._targets()[1],
            "mode": self.mode,
            "door": "open" if self.door_open else "closed",
            "alert": "ON" if self.alerts else "OFF",
            "alerts": list(self.alerts),
            "inventory_count": sum(self.inventory.values()),
            "inventory": self.inventory,
        }

    def command(self, key, payload):
        """Apply ~/set/<key>; return True when settings changed. ValueError for bad input."""
        if key == "fridge_setpoint":
            self.fridge_setpoint = _setpoint(payload, FRIDGE_RANGE)
        elif key == "freezer_setpoint":
            self.freezer_setpoint = _setpoint(payload, FREEZER_RANGE)
        elif key == "mode":
            if payload not in MODES:
                raise ValueError("unknown mode: " + payload)
            self.mode = payload
            self._mode_since = self._last
        elif key == "inventory":
            self._inventory(payload)
        else:
            raise ValueError("unknown command: " + key)
        return True

    def tick(self, now_ms):
        """Advance the model to now; return True when something worth publishing changed."""
        now = now_ms / 1000
        dt = max(0.0, min(now - self._last, 600.0))
        self._last = now
        before = (self.door_open, list(self.alerts), self.mode)
        door = self._read_input("door")
        if door is not None and bool(door) != self.door_open:
            self.door_open = bool(door)
            self._door_since = now
        if self.mode == "fast_freeze" and now - self._mode_since > FAST_FREEZE_S:
            self.mode = "normal"
        fridge_target, freezer_target = self._targets()
        self.fridge_cooling = _thermostat(
            self.fridge_temperature, fridge_target, self.fridge_cooling
        )
        self.freezer_cooling = _thermostat(
            self.freezer_temperature, freezer_target, self.freezer_cooling
        )
        leak = 0.004 if not self.door_open else 0.03
        self.fridge_temperature += dt * (
            (AMBIENT - self.fridge_temperature) * leak - (0.15 if self.fridge_cooling else 0.0)
        )
        self.freezer_temperature += dt * (
            (AMBIENT - self.freezer_temperature) * 0.001 - (0.1 if self.freezer_cooling else 0.0)
        )
        self.alerts = self._alerts(now, fridge_target, freezer_target)
        return before != (self.door_open, self.alerts, self.mode)

    def _targets(self):
        if self.mode == "eco":
            return self.fridge_setpoint + 1.0, self.freezer_setpoint + 2.0
        if self.mode == "vacation":
            return 15.0, self.freezer_setpoint
        if self.mode == "fast_freeze":
            return self.fridge_setpoint, -30.0
        return self.fridge_setpoint, self.freezer_setpoint

    def _alerts(self, now, fridge_target, freezer_target):
        alerts = []
        if self.door_open and now - self._door_since >= DOOR_ALERT_S:
            alerts.append("door_open")
        if self.fridge_temperature > fridge_target + 4.0:
            alerts.append("fridge_temperature_high")
        if self.freezer_temperature > freezer_target + 6.0:
            alerts.append("freezer_temperature_high")
        return alerts

    def _inventory(self, payload):
        import json

        try:
            change = json.loads(payload)
        except ValueError:
            raise ValueError("inventory change must be JSON") from None
        if not isinstance(change, dict):
            raise ValueError("inventory change must be an object")
        item = change.get("add") or change.get("remove")
        if not isinstance(item, str) or not 0 < len(item) <= 40:
            raise ValueError("inventory item must be a short name")
        count = self.inventory.get(item, 0)
        if "add" in change:
            if count == 0 and len(self.inventory) >= MAX_ITEMS:
                raise ValueError("inventory is full")
            self.inventory[item] = count + 1
        elif count <= 1:
            self.inventory.pop(item, None)
        else:
            self.inventory[item] = count - 1


def _thermostat(temperature, target, cooling):
    # Hysteresis keeps the compressor from chattering around the set-point.
    if temperature > target + 0.5:
        return True
    if temperature < target - 0.5:
        return False
    return cooling


def _setpoint(payload, bounds):
    try:
        value = float(payload)
    except ValueError:
        raise ValueError("set-point must be a number") from None
    if not bounds[0] <= value <= bounds[1]:
        raise ValueError("set-point out of range")
    return round(value * 2) / 2


def _clamp(value, bounds):
    try:
        value = float(value)
    except (TypeError, ValueError):
        value = bounds[0]
    return max(bounds[0], min(bounds[1], value))
