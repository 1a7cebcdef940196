"""Hearth entities backed by zigpy clusters: state from reports, commands as ZCL frames."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import zigpy.device
import zigpy.exceptions
from zigpy.zcl import Cluster, foundation
from zigpy.zcl.clusters.closures import DoorLock
from zigpy.zcl.clusters.general import LevelControl, OnOff
from zigpy.zcl.clusters.homeautomation import ElectricalMeasurement
from zigpy.zcl.clusters.hvac import Thermostat
from zigpy.zcl.clusters.lighting import Color
from zigpy.zcl.clusters.security import IasZone

from hub.domains.binary_sensor import BinarySensorEntity
from hub.domains.climate import ClimateEntity
from hub.domains.light import (
    COLOR_MODE_BRIGHTNESS,
    COLOR_MODE_COLOR_TEMP,
    COLOR_MODE_ONOFF,
    COLOR_MODE_RGB,
    LightEntity,
)
from hub.domains.lock import LockEntity
from hub.domains.sensor import SensorEntity
from hub.domains.switch import SwitchEntity
from hub.entity import DeviceInfo, Entity
from hub.errors import DeviceUnavailable, InvalidServiceData

from .color import rgb_to_xy, xy_to_rgb
from .mapping import EntitySpec

__all__ = ["EVENT_ZIGBEE_BUTTON", "build_entity"]

_LOGGER = logging.getLogger(__name__)
EVENT_ZIGBEE_BUTTON = "zigbee_button"
_HVAC_FROM_ZCL = {0x00: "off", 0x01: "auto", 0x03: "cool", 0x04: "heat"}
_HVAC_TO_ZCL = {v: k for k, v in _HVAC_FROM_ZCL.items()}
# zigpy 2.x emits reports and reads as their own events; either means a new value.
_VALUE_EVENTS = frozenset({"attribute_report", "attribute_updated", "attribute_read"})
_LOCK_STATES = {0: "jammed", 1: "locked", 2: "unlocked"}


class ZigbeeEntity(Entity):
    """Common plumbing: subscribe to the spec's clusters, refresh state from zigpy's cache."""

    def __init__(
        self, device: zigpy.device.ZigbeeDevice, spec: EntitySpec, info: DeviceInfo
    ) -> None:
        name = info.name if not spec.name else f"{info.name} {spec.name}"
        super().__init__(
            f"zigbee-{device.ieee}-{spec.key}",
            name,
            device_info=info,
            device_class=spec.device_class,
        )
        self.zdevice = device
        self.spec = spec
        self._unsubs: list[Callable[[], None]] = []

    def cluster(self, cluster_id: int) -> Cluster | None:
        """A server cluster on this entity's endpoint."""
        ep = self.zdevice.endpoints.get(self.spec.endpoint_id)
        return None if ep is None else ep.in_clusters.get(cluster_id)  # type: ignore[union-attr]

    def watched_clusters(self) -> list[Cluster]:
        """Clusters whose attribute updates change this entity."""
        cluster = self.cluster(self.spec.cluster_id)
        return [cluster] if cluster is not None else []

    async def async_added_to_hub(self) -> None:
        for cluster in self.watched_clusters():
            self._unsubs.append(cluster.on_all_events(self._on_attribute))
        self.refresh()

    async def async_will_remove(self) -> None:
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()

    def _on_attribute(self, event: Any) -> None:
        if getattr(event, "event_type", None) not in _VALUE_EVENTS:
            return
        try:
            self.refresh()
        except Exception:  # odd values from a device must not break the listener chain
            _LOGGER.warning("%s: cannot use %r", self.entity_id, event, exc_info=True)
            return
        self.async_write_state()

    def refresh(self) -> None:
        """Recompute state from zigpy's attribute cache."""

    async def _send(self, coro: Any) -> Any:
        try:
            result = await coro
        except (TimeoutError, zigpy.exceptions.ZigbeeException) as err:
            raise DeviceUnavailable(f"{self.entity_id}: {err}") from err
        status = getattr(result, "status", None)
        if status is not None and status != foundation.Status.SUCCESS:
            raise DeviceUnavailable(f"{self.entity_id}: device answered {status!r}")
        return result


class ZigbeeLight(ZigbeeEntity, LightEntity):
    """OnOff (+ LevelControl, + Color) light."""

    def __init__(
        self, device: zigpy.device.ZigbeeDevice, spec: EntitySpec, info: DeviceInfo
    ) -> None:
        super().__init__(device, spec, info)
        modes = [COLOR_MODE_ONOFF]
        if self.cluster(LevelControl.cluster_id) is not None:
            modes = [COLOR_MODE_BRIGHTNESS]
        if self.cluster(Color.cluster_id) is not None:
            modes = [COLOR_MODE_COLOR_TEMP, COLOR_MODE_RGB]
        self.supported_color_modes = tuple(modes)
        self.color_mode = modes[0]

    def watched_clusters(self) -> list[Cluster]:
        ids = (OnOff.cluster_id, LevelControl.cluster_id, Color.cluster_id)
        return [c for c in (self.cluster(i) for i in ids) if c is not None]

    def refresh(self) -> None:
        on_off = self.cluster(OnOff.cluster_id)
        level = self.cluster(LevelControl.cluster_id)
        color = self.cluster(Color.cluster_id)
        value = on_off.get("on_off") if on_off else None
        self.is_on = None if value is None else bool(value)
        if level is not None and level.get("current_level") is not None:
            self.brightness = min(255, round(int(level.get("current_level")) * 255 / 254))
        if color is not None:
            mode = color.get("color_mode")
            mireds = color.get("color_temperature")
            if mireds:
                self.color_temp_kelvin = round(1_000_000 / int(mireds))
            x, y = color.get("current_x"), color.get("current_y")
            if x is not None and y is not None:
                self.rgb_color = xy_to_rgb(int(x) / 65535, int(y) / 65535, self.brightness or 255)
            self.color_mode = COLOR_MODE_COLOR_TEMP if mode in (None, 2) else COLOR_MODE_RGB

    async def async_turn_on(self, **data: Any) -> None:
        transition = round(float(data.get("transition", 0)) * 10)
        brightness = data.get("brightness")
        level = self.cluster(LevelControl.cluster_id)
        color = self.cluster(Color.cluster_id)
        if brightness is not None and level is not None:
            zcl_level = max(1, min(254, round(int(brightness) * 254 / 255)))
            await self._send(
                level.move_to_level_with_on_off(level=zcl_level, transition_time=transition)
            )
        else:
            on_off = self.cluster(OnOff.cluster_id)
            assert on_off is not None
            await self._send(on_off.on())
        kelvin = data.get("color_temp_kelvin")
        rgb = data.get("rgb_color")
        if (kelvin is not None or rgb is not None) and color is None:
            raise InvalidServiceData(f"{self.entity_id} has no colour")
        if kelvin is not None and color is not None:
            mireds = round(1_000_000 / int(kelvin))
            await self._send(
                color.move_to_color_temp(color_temp_mireds=mireds, transition_time=transition)
            )
        if rgb is not None and color is not None:
            x, y = rgb_to_xy(*rgb)
            await self._send(
                color.move_to_color(
                    color_x=round(x * 65535), color_y=round(y * 65535), transition_time=transition
                )
            )

    async def async_turn_off(self, **data: Any) -> None:
        on_off = self.cluster(OnOff.cluster_id)
        assert on_off is not None
        await self._send(on_off.off())


class ZigbeeSwitch(ZigbeeEntity, SwitchEntity):
    """A plug or relay: OnOff, with power from ElectricalMeasurement when present."""

    def watched_clusters(self) -> list[Cluster]:
        ids = (OnOff.cluster_id, ElectricalMeasurement.cluster_id)
        return [c for c in (self.cluster(i) for i in ids) if c is not None]

    def refresh(self) -> None:
        on_off = self.cluster(OnOff.cluster_id)
        value = on_off.get("on_off") if on_off else None
        self.is_on = None if value is None else bool(value)
        power = self.cluster(ElectricalMeasurement.cluster_id)
        if power is not None and power.get("active_power") is not None:
            self.current_power_w = float(power.get("active_power"))

    async def async_turn_on(self, **data: Any) -> None:
        on_off = self.cluster(OnOff.cluster_id)
        assert on_off is not None
        await self._send(on_off.on())

    async def async_turn_off(self, **data: Any) -> None:
        on_off = self.cluster(OnOff.cluster_id)
        assert on_off is not None
        await self._send(on_off.off())


class ZigbeeSensor(ZigbeeEntity, SensorEntity):
    """A numeric attribute scaled to its unit."""

    def __init__(
        self, device: zigpy.device.ZigbeeDevice, spec: EntitySpec, info: DeviceInfo
    ) -> None:
        super().__init__(device, spec, info)
        self.unit_of_measurement = spec.unit
        self.state_class = "total_increasing" if spec.device_class == "energy" else "measurement"

    def refresh(self) -> None:
        cluster = self.cluster(self.spec.cluster_id)
        raw = cluster.get(self.spec.attribute) if cluster and self.spec.attribute else None
        if raw is None or (raw == 0xFF and self.spec.device_class == "battery"):
            return
        value = float(raw) * self.spec.scale
        self.native_value = round(value, 3) if self.spec.scale != 1.0 else value


class ZigbeeIasZone(ZigbeeEntity, BinarySensorEntity):
    """An IAS zone (contact, motion, smoke...): on while alarm 1 is set."""

    async def async_added_to_hub(self) -> None:
        await super().async_added_to_hub()
        cluster = self.cluster(IasZone.cluster_id)
        if cluster is not None:
            cluster.add_listener(self)

    async def async_will_remove(self) -> None:
        await super().async_will_remove()
        cluster = self.cluster(IasZone.cluster_id)
        if cluster is not None:
            cluster.remove_listener(self)

    def cluster_command(self, tsn: int, command_id: int, args: Any) -> None:
        """zigpy listener hook: status change notifications carry the zone status."""
        if command_id == IasZone.ClientCommandDefs.status_change_notification.id:
            self.is_on = bool(int(args.zone_status) & 0x0001)
            self.async_write_state()

    def refresh(self) -> None:
        cluster = self.cluster(IasZone.cluster_id)
        status = cluster.get("zone_status") if cluster else None
        if status is not None:
            self.is_on = bool(int(status) & 0x0001)


class ZigbeeOccupancy(ZigbeeEntity, BinarySensorEntity):
    """OccupancySensing: on while occupied."""

    def refresh(self) -> None:
        cluster = self.cluster(self.spec.cluster_id)
        value = cluster.get("occupancy") if cluster else None
        if value is not None:
            self.is_on = bool(int(value) & 0x01)


class ZigbeeThermostat(ZigbeeEntity, ClimateEntity):
    """Thermostat cluster: heating setpoint, mode, local temperature."""

    hvac_modes = ("off", "heat", "auto")

    def refresh(self) -> None:
        cluster = self.cluster(Thermostat.cluster_id)
        if cluster is None:
            return
        if cluster.get("local_temperature") is not None:
            self.current_temperature = int(cluster.get("local_temperature")) / 100
        if cluster.get("occupied_heating_setpoint") is not None:
            self.target_temperature = int(cluster.get("occupied_heating_setpoint")) / 100
        mode = cluster.get("system_mode")
        if mode is not None:
            self.hvac_mode = _HVAC_FROM_ZCL.get(int(mode), "heat")
        running = cluster.get("running_state")
        if running is not None:
            self.hvac_action = "heating" if int(running) & 0x0001 else "idle"

    async def async_set_temperature(self, temperature: float, hvac_mode: str | None = None) -> None:
        cluster = self.cluster(Thermostat.cluster_id)
        assert cluster is not None
        if hvac_mode is not None:
            await self.async_set_hvac_mode(hvac_mode)
        await self._write(cluster, {"occupied_heating_setpoint": round(float(temperature) * 100)})

    async def async_set_hvac_mode(self, hvac_mode: str) -> None:
        cluster = self.cluster(Thermostat.cluster_id)
        assert cluster is not None
        if hvac_mode not in _HVAC_TO_ZCL:
            raise InvalidServiceData(f"{self.entity_id} does not support mode {hvac_mode!r}")
        await self._write(cluster, {"system_mode": _HVAC_TO_ZCL[hvac_mode]})

    async def _write(self, cluster: Cluster, values: dict[str, Any]) -> None:
        try:
            result = await cluster.write_attributes(dict(values))  # type: ignore[arg-type]
        except (TimeoutError, zigpy.exceptions.ZigbeeException) as err:
            raise DeviceUnavailable(f"{self.entity_id}: {err}") from err
        records = result[0] if result else []
        if any(r.status != foundation.Status.SUCCESS for r in records):
            raise DeviceUnavailable(f"{self.entity_id}: device refused {values}")


class ZigbeeLock(ZigbeeEntity, LockEntity):
    """DoorLock cluster."""

    def refresh(self) -> None:
        cluster = self.cluster(DoorLock.cluster_id)
        value = cluster.get("lock_state") if cluster else None
        if value is not None:
            self.lock_state = _LOCK_STATES.get(int(value), "unlocked")

    async def async_lock(self, code: str | None = None) -> None:
        cluster = self.cluster(DoorLock.cluster_id)
        assert cluster is not None
        await self._send(cluster.lock_door(pin_code=code) if code else cluster.lock_door())

    async def async_unlock(self, code: str | None = None) -> None:
        cluster = self.cluster(DoorLock.cluster_id)
        assert cluster is not None
        await self._send(cluster.unlock_door(pin_code=code) if code else cluster.unlock_door())


class ZigbeeRemote(ZigbeeEntity, SensorEntity):
    """A wireless button: its last action as state, every press as a `zigbee_button` event."""

    events = (EVENT_ZIGBEE_BUTTON,)

    def _out_clusters(self) -> list[Cluster]:
        ep = self.zdevice.endpoints.get(self.spec.endpoint_id)
        return list(ep.out_clusters.values()) if ep is not None else []  # type: ignore[union-attr]

    async def async_added_to_hub(self) -> None:
        self._relays = [_CommandRelay(self, cluster) for cluster in self._out_clusters()]
        for relay in self._relays:
            relay.cluster.add_listener(relay)

    async def async_will_remove(self) -> None:
        for relay in getattr(self, "_relays", []):
            relay.cluster.remove_listener(relay)

    def pressed(self, cluster: Cluster, command_id: int, args: Any) -> None:
        """Record and announce one command sent by the remote."""
        definition = cluster.server_commands.get(command_id)
        name = definition.name if definition is not None else f"0x{command_id:02x}"
        params = {
            k: _jsonable(v) for k, v in (args.as_dict().items() if hasattr(args, "as_dict") else [])
        }
        self.native_value = name
        self.async_write_state()
        self.async_fire_event(
            EVENT_ZIGBEE_BUTTON,
            {
                "ieee": str(self.zdevice.ieee),
                "cluster": cluster.ep_attribute or cluster.cluster_id,
                "command": name,
                "params": params,
            },
        )


class _CommandRelay:
    """zigpy listener on a remote's output cluster, forwarding commands to the entity."""

    def __init__(self, entity: ZigbeeRemote, cluster: Cluster) -> None:
        self.entity = entity
        self.cluster = cluster

    def cluster_command(self, tsn: int, command_id: int, args: Any) -> None:
        self.entity.pressed(self.cluster, command_id, args)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bool | int | float | str) or value is None:
        return int(value) if isinstance(value, int) and not isinstance(value, bool) else value
    return str(value)


_KINDS: dict[str, type[ZigbeeEntity]] = {
    "light": ZigbeeLight,
    "switch": ZigbeeSwitch,
    "sensor": ZigbeeSensor,
    "climate": ZigbeeThermostat,
    "lock": ZigbeeLock,
    "remote": ZigbeeRemote,
}


def build_entity(device: zigpy.device.ZigbeeDevice, spec: EntitySpec, info: DeviceInfo) -> Entity:
    """Instantiate the entity class for a spec."""
    if spec.kind == "binary_sensor":
        cls: type[ZigbeeEntity] = (
            ZigbeeIasZone if spec.cluster_id == IasZone.cluster_id else ZigbeeOccupancy
        )
    else:
        cls = _KINDS[spec.kind]
    return cls(device, spec, info)
