"""Device profiles: the nine virtual device types the simulated network can host."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import zigpy.profiles.zha as zha
import zigpy.types as t
import zigpy.zdo.types as zdo_t
from zigpy.zcl import Cluster, foundation
from zigpy.zcl.clusters.closures import DoorLock
from zigpy.zcl.clusters.general import (
    Basic,
    Groups,
    Identify,
    LevelControl,
    OnOff,
    Ota,
    PowerConfiguration,
    Scenes,
)
from zigpy.zcl.clusters.homeautomation import ElectricalMeasurement
from zigpy.zcl.clusters.hvac import Thermostat
from zigpy.zcl.clusters.lighting import Color
from zigpy.zcl.clusters.measurement import (
    OccupancySensing,
    RelativeHumidity,
    TemperatureMeasurement,
)
from zigpy.zcl.clusters.security import IasZone
from zigpy.zcl.clusters.smartenergy import Metering

from .device import CommandHandler, HandlerReply, VirtualCluster, VirtualDevice, VirtualEndpoint
from .ota_client import ota_client_handlers

__all__ = ["KINDS", "make_device", "make_ieee"]

OK = foundation.Status.SUCCESS
Handlers = dict[tuple[int, int], CommandHandler]


def make_ieee(kind: str, index: int) -> t.EUI64:
    """A stable IEEE address for the `index`-th device of a kind."""
    digest = hashlib.sha256(f"{kind}:{index}".encode()).digest()
    return t.EUI64(digest[:8])


def make_device(kind: str, index: int = 0, ieee: t.EUI64 | None = None) -> VirtualDevice:
    """Build a fresh virtual device of `kind` (see `KINDS`)."""
    return KINDS[kind](ieee or make_ieee(kind, index))


# -- building blocks ------------------------------------------------------------------


def _vc(cluster_cls: type[Cluster], **attrs: Any) -> VirtualCluster:
    values = {}
    for name, value in attrs.items():
        definition = cluster_cls.attributes_by_name[name]
        values[int(definition.id)] = definition.type(value)
    return VirtualCluster(cluster_cls, values)


def _basic(model: str, manufacturer: str, power_source: int) -> VirtualCluster:
    return _vc(
        Basic,
        zcl_version=8,
        app_version=1,
        manufacturer=manufacturer,
        model=model,
        power_source=power_source,
        sw_build_id="1.0.0",
    )


def _battery(percent: int = 200) -> VirtualCluster:
    return _vc(PowerConfiguration, battery_voltage=30, battery_percentage_remaining=percent)


def _ota() -> VirtualCluster:
    return _vc(Ota, current_file_version=1)


def _device(
    ieee: t.EUI64,
    kind: str,
    model: str,
    device_type: int,
    servers: list[VirtualCluster],
    clients: list[VirtualCluster],
    handlers: Handlers,
    *,
    end_device: bool = False,
    image_type: int = 0x0100,
) -> VirtualDevice:
    manufacturer = "Hearth Sim"
    power = 0x03 if end_device else 0x01
    endpoint = VirtualEndpoint(
        endpoint_id=1,
        device_type=device_type,
        in_clusters={c.cluster_id: c for c in [_basic(model, manufacturer, power), *servers]},
        out_clusters={c.cluster_id: c for c in clients},
    )
    return VirtualDevice(
        ieee,
        kind=kind,
        model=model,
        manufacturer=manufacturer,
        endpoints=[endpoint],
        logical_type=zdo_t.LogicalType.EndDevice if end_device else zdo_t.LogicalType.Router,
        handlers=handlers,
        client_handlers=ota_client_handlers(image_type)
        if Ota.cluster_id in endpoint.out_clusters
        else {},
    )


def _set(device: VirtualDevice, cluster: VirtualCluster, attr: str, value: Any) -> None:
    device.set_attribute(cluster.cluster_id, attr, value, endpoint_id=device.endpoint_of(cluster))


def _on_off_handlers() -> Handlers:
    cid = int(OnOff.cluster_id)

    def on(device: VirtualDevice, cluster: VirtualCluster, cmd: Any) -> foundation.Status:
        _set(device, cluster, "on_off", True)
        return OK

    def off(device: VirtualDevice, cluster: VirtualCluster, cmd: Any) -> foundation.Status:
        _set(device, cluster, "on_off", False)
        return OK

    def toggle(device: VirtualDevice, cluster: VirtualCluster, cmd: Any) -> foundation.Status:
        _set(device, cluster, "on_off", not cluster.attributes[OnOff.AttributeDefs.on_off.id])
        return OK

    return {(cid, 0x00): off, (cid, 0x01): on, (cid, 0x02): toggle}


def _level_handlers() -> Handlers:
    cid = int(LevelControl.cluster_id)

    def move_to_level(
        device: VirtualDevice, cluster: VirtualCluster, cmd: Any
    ) -> foundation.Status:
        _set(device, cluster, "current_level", int(cmd.level))
        return OK

    def move_to_level_on_off(
        device: VirtualDevice, cluster: VirtualCluster, cmd: Any
    ) -> foundation.Status:
        _set(device, cluster, "current_level", int(cmd.level))
        on_off = device.cluster(OnOff.cluster_id)
        _set(device, on_off, "on_off", int(cmd.level) > 0)
        return OK

    def stop(device: VirtualDevice, cluster: VirtualCluster, cmd: Any) -> foundation.Status:
        return OK

    return {
        (cid, 0x00): move_to_level,
        (cid, 0x04): move_to_level_on_off,
        (cid, 0x03): stop,
        (cid, 0x07): stop,
    }


def _color_handlers() -> Handlers:
    cid = int(Color.cluster_id)

    def to_temp(device: VirtualDevice, cluster: VirtualCluster, cmd: Any) -> foundation.Status:
        _set(device, cluster, "color_temperature", int(cmd.color_temp_mireds))
        _set(device, cluster, "color_mode", Color.ColorMode.Color_temperature)
        return OK

    def to_hs(device: VirtualDevice, cluster: VirtualCluster, cmd: Any) -> foundation.Status:
        _set(device, cluster, "current_hue", int(cmd.hue))
        _set(device, cluster, "current_saturation", int(cmd.saturation))
        _set(device, cluster, "color_mode", Color.ColorMode.Hue_and_saturation)
        return OK

    def to_xy(device: VirtualDevice, cluster: VirtualCluster, cmd: Any) -> foundation.Status:
        _set(device, cluster, "current_x", int(cmd.color_x))
        _set(device, cluster, "current_y", int(cmd.color_y))
        _set(device, cluster, "color_mode", Color.ColorMode.X_and_Y)
        return OK

    return {(cid, 0x0A): to_temp, (cid, 0x06): to_hs, (cid, 0x07): to_xy}


def _lock_handlers() -> Handlers:
    cid = int(DoorLock.cluster_id)

    def lock(device: VirtualDevice, cluster: VirtualCluster, cmd: Any) -> HandlerReply:
        _set(device, cluster, "lock_state", DoorLock.LockState.Locked)
        return HandlerReply("lock_door_response", {"status": OK})

    def unlock(device: VirtualDevice, cluster: VirtualCluster, cmd: Any) -> HandlerReply:
        _set(device, cluster, "lock_state", DoorLock.LockState.Unlocked)
        return HandlerReply("unlock_door_response", {"status": OK})

    return {(cid, 0x00): lock, (cid, 0x01): unlock}


def _ias_handlers() -> Handlers:
    cid = int(IasZone.cluster_id)

    def enroll(device: VirtualDevice, cluster: VirtualCluster, cmd: Any) -> foundation.Status:
        if cmd.enroll_response_code == IasZone.EnrollResponse.Success:
            _set(device, cluster, "zone_id", int(cmd.zone_id))
            _set(device, cluster, "zone_state", IasZone.ZoneState.Enrolled)
        return OK

    return {(cid, 0x00): enroll}


def _thermostat_handlers() -> Handlers:
    cid = int(Thermostat.cluster_id)

    def raise_lower(device: VirtualDevice, cluster: VirtualCluster, cmd: Any) -> foundation.Status:
        attr = Thermostat.AttributeDefs.occupied_heating_setpoint.id
        _set(
            device,
            cluster,
            "occupied_heating_setpoint",
            int(cluster.attributes[attr]) + 10 * int(cmd.amount),
        )
        return OK

    return {(cid, 0x00): raise_lower}


# -- the nine profiles ----------------------------------------------------------------


def colour_bulb(ieee: t.EUI64) -> VirtualDevice:
    """An extended colour light (on/off, level, hue/sat, xy, colour temperature)."""
    color = _vc(
        Color,
        current_hue=0,
        current_saturation=0,
        current_x=0x616B,
        current_y=0x607D,
        color_temperature=370,
        color_mode=Color.ColorMode.Color_temperature,
        color_capabilities=0x001F,
        color_temp_physical_min=153,
        color_temp_physical_max=500,
    )
    return _device(
        ieee,
        "colour_bulb",
        "SIM-RGBW",
        zha.DeviceType.EXTENDED_COLOR_LIGHT,
        [
            _vc(Identify, identify_time=0),
            _vc(Groups, name_support=0),
            _vc(Scenes, count=0),
            _vc(OnOff, on_off=False),
            _vc(LevelControl, current_level=254),
            color,
        ],
        [_ota()],
        {**_on_off_handlers(), **_level_handlers(), **_color_handlers()},
        image_type=0x0101,
    )


def dimmable_bulb(ieee: t.EUI64) -> VirtualDevice:
    """A dimmable white light."""
    return _device(
        ieee,
        "dimmable_bulb",
        "SIM-DIM",
        zha.DeviceType.DIMMABLE_LIGHT,
        [
            _vc(Identify, identify_time=0),
            _vc(Groups, name_support=0),
            _vc(OnOff, on_off=False),
            _vc(LevelControl, current_level=254),
        ],
        [_ota()],
        {**_on_off_handlers(), **_level_handlers()},
        image_type=0x0102,
    )


def metering_plug(ieee: t.EUI64) -> VirtualDevice:
    """A smart plug with power (ElectricalMeasurement) and energy (Metering)."""
    return _device(
        ieee,
        "metering_plug",
        "SIM-PLUG",
        zha.DeviceType.SMART_PLUG,
        [
            _vc(OnOff, on_off=False),
            _vc(
                ElectricalMeasurement,
                measurement_type=0x0008,
                active_power=0,
                rms_voltage=230,
                rms_current=0,
                ac_power_multiplier=1,
                ac_power_divisor=1,
            ),
            _vc(
                Metering,
                current_summ_delivered=0,
                unit_of_measure=0,
                multiplier=1,
                divisor=1000,
                metering_device_type=0,
            ),
        ],
        [_ota()],
        _on_off_handlers(),
        image_type=0x0103,
    )


def temp_humidity_sensor(ieee: t.EUI64) -> VirtualDevice:
    """A battery temperature and humidity sensor (sleepy end device)."""
    return _device(
        ieee,
        "temp_humidity_sensor",
        "SIM-TH",
        zha.DeviceType.TEMPERATURE_SENSOR,
        [
            _battery(),
            _vc(
                TemperatureMeasurement,
                measured_value=2100,
                min_measured_value=-4000,
                max_measured_value=8000,
            ),
            _vc(RelativeHumidity, measured_value=4500),
        ],
        [],
        {},
        end_device=True,
    )


def door_contact(ieee: t.EUI64) -> VirtualDevice:
    """An IAS zone contact switch on a door."""
    return _device(
        ieee,
        "door_contact",
        "SIM-DOOR",
        zha.DeviceType.IAS_ZONE,
        [
            _battery(),
            _vc(
                IasZone,
                zone_state=IasZone.ZoneState.Not_enrolled,
                zone_type=IasZone.ZoneType.Contact_Switch,
                zone_status=0,
                cie_addr=t.EUI64.UNKNOWN,  # type: ignore[attr-defined]
                zone_id=0xFF,
            ),
        ],
        [],
        _ias_handlers(),
        end_device=True,
    )


def motion_sensor(ieee: t.EUI64) -> VirtualDevice:
    """A PIR occupancy sensor."""
    return _device(
        ieee,
        "motion_sensor",
        "SIM-PIR",
        zha.DeviceType.OCCUPANCY_SENSOR,
        [_battery(), _vc(OccupancySensing, occupancy=0, occupancy_sensor_type=0)],
        [],
        {},
        end_device=True,
    )


def thermostat(ieee: t.EUI64) -> VirtualDevice:
    """A heating thermostat (radiator valve style)."""
    return _device(
        ieee,
        "thermostat",
        "SIM-TRV",
        zha.DeviceType.THERMOSTAT,
        [
            _battery(),
            _vc(
                Thermostat,
                local_temperature=1950,
                occupied_heating_setpoint=2000,
                occupied_cooling_setpoint=2600,
                min_heat_setpoint_limit=500,
                max_heat_setpoint_limit=3000,
                ctrl_sequence_of_oper=0x02,
                system_mode=Thermostat.SystemMode.Heat,
                running_state=0,
            ),
        ],
        [_ota()],
        _thermostat_handlers(),
        image_type=0x0104,
    )


def door_lock(ieee: t.EUI64) -> VirtualDevice:
    """A door lock."""
    return _device(
        ieee,
        "door_lock",
        "SIM-LOCK",
        zha.DeviceType.DOOR_LOCK,
        [
            _battery(),
            _vc(DoorLock, lock_state=DoorLock.LockState.Locked, lock_type=0, actuator_enabled=True),
        ],
        [_ota()],
        _lock_handlers(),
        image_type=0x0105,
    )


def wireless_button(ieee: t.EUI64) -> VirtualDevice:
    """A battery remote that sends on/off/level commands instead of holding state."""
    return _device(
        ieee,
        "wireless_button",
        "SIM-BTN",
        zha.DeviceType.NON_COLOR_CONTROLLER,
        [_battery()],
        [_vc(OnOff), _vc(LevelControl), _vc(Scenes)],
        {},
        end_device=True,
    )


KINDS: dict[str, Callable[[t.EUI64], VirtualDevice]] = {
    "colour_bulb": colour_bulb,
    "dimmable_bulb": dimmable_bulb,
    "metering_plug": metering_plug,
    "temp_humidity_sensor": temp_humidity_sensor,
    "door_contact": door_contact,
    "motion_sensor": motion_sensor,
    "thermostat": thermostat,
    "door_lock": door_lock,
    "wireless_button": wireless_button,
}
