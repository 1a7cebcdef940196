"""Cluster-to-entity mapping: which Hearth entities a zigpy device's clusters become."""

from __future__ import annotations

from dataclasses import dataclass

import zigpy.device
import zigpy.profiles.zha as zha
from zigpy.zcl.clusters.closures import DoorLock
from zigpy.zcl.clusters.general import LevelControl, OnOff, PowerConfiguration, Scenes
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

__all__ = ["LIGHT_DEVICE_TYPES", "EntitySpec", "discover_entities", "ias_device_class"]

LIGHT_DEVICE_TYPES = frozenset(
    {
        zha.DeviceType.ON_OFF_LIGHT,
        zha.DeviceType.DIMMABLE_LIGHT,
        zha.DeviceType.COLOR_DIMMABLE_LIGHT,
        zha.DeviceType.EXTENDED_COLOR_LIGHT,
        zha.DeviceType.COLOR_TEMPERATURE_LIGHT,
    }
)

# IAS zone type -> binary_sensor device class
_IAS_CLASSES = {
    IasZone.ZoneType.Contact_Switch: "door",
    IasZone.ZoneType.Motion_Sensor: "motion",
    IasZone.ZoneType.Fire_Sensor: "smoke",
    IasZone.ZoneType.Water_Sensor: "moisture",
    IasZone.ZoneType.Carbon_Monoxide_Sensor: "carbon_monoxide",
    IasZone.ZoneType.Vibration_Movement_Sensor: "vibration",
}


@dataclass(frozen=True, slots=True)
class EntitySpec:
    """One entity to create: its kind, where its data lives and how it is labelled."""

    kind: str  # light, switch, sensor, binary_sensor, climate, lock, remote
    key: str  # unique per device, e.g. "1-0x0402-temperature"
    endpoint_id: int
    cluster_id: int
    name: str
    device_class: str | None = None
    unit: str | None = None
    attribute: str | None = None
    scale: float = 1.0


def ias_device_class(zone_type: int | None) -> str:
    """The binary_sensor device class for an IAS zone type."""
    if zone_type is None:
        return "opening"
    return _IAS_CLASSES.get(zone_type, "safety")  # type: ignore[call-overload]


def discover_entities(device: zigpy.device.ZigbeeDevice) -> list[EntitySpec]:
    """Map every endpoint's clusters of an interviewed device to entity specs."""
    specs: list[EntitySpec] = []
    for ep in device.non_zdo_endpoints:
        eid = ep.endpoint_id
        ins = ep.in_clusters
        outs = ep.out_clusters

        def key(cluster_id: int, suffix: str, eid: int = eid) -> str:
            return f"{eid}-0x{cluster_id:04x}-{suffix}"

        def sensor(
            cluster_id: int, name: str, dc: str, unit: str, attr: str, scale: float, eid: int = eid
        ) -> None:
            specs.append(
                EntitySpec(
                    "sensor", key(cluster_id, dc), eid, cluster_id, name, dc, unit, attr, scale
                )
            )

        if OnOff.cluster_id in ins:
            is_light = (
                ep.device_type in LIGHT_DEVICE_TYPES
                or Color.cluster_id in ins
                or (LevelControl.cluster_id in ins and ep.device_type != zha.DeviceType.SMART_PLUG)
            )
            kind = "light" if is_light else "switch"
            specs.append(EntitySpec(kind, key(OnOff.cluster_id, kind), eid, OnOff.cluster_id, ""))
        if TemperatureMeasurement.cluster_id in ins:
            sensor(
                TemperatureMeasurement.cluster_id,
                "Temperature",
                "temperature",
                "°C",
                "measured_value",
                0.01,
            )
        if RelativeHumidity.cluster_id in ins:
            sensor(RelativeHumidity.cluster_id, "Humidity", "humidity", "%", "measured_value", 0.01)
        if ElectricalMeasurement.cluster_id in ins:
            sensor(ElectricalMeasurement.cluster_id, "Power", "power", "W", "active_power", 1.0)
        if Metering.cluster_id in ins:
            sensor(Metering.cluster_id, "Energy", "energy", "kWh", "current_summ_delivered", 0.001)
        if PowerConfiguration.cluster_id in ins:
            sensor(
                PowerConfiguration.cluster_id,
                "Battery",
                "battery",
                "%",
                "battery_percentage_remaining",
                0.5,
            )
        if IasZone.cluster_id in ins:
            zone_type = ins[IasZone.cluster_id].get("zone_type")
            dc = ias_device_class(zone_type)
            specs.append(
                EntitySpec(
                    "binary_sensor",
                    key(IasZone.cluster_id, "zone"),
                    eid,
                    IasZone.cluster_id,
                    dc.replace("_", " ").capitalize(),
                    dc,
                )
            )
        if OccupancySensing.cluster_id in ins:
            specs.append(
                EntitySpec(
                    "binary_sensor",
                    key(OccupancySensing.cluster_id, "occupancy"),
                    eid,
                    OccupancySensing.cluster_id,
                    "Occupancy",
                    "occupancy",
                    attribute="occupancy",
                )
            )
        if Thermostat.cluster_id in ins:
            specs.append(
                EntitySpec(
                    "climate", key(Thermostat.cluster_id, "climate"), eid, Thermostat.cluster_id, ""
                )
            )
        if DoorLock.cluster_id in ins:
            specs.append(
                EntitySpec("lock", key(DoorLock.cluster_id, "lock"), eid, DoorLock.cluster_id, "")
            )
        if any(
            c in outs for c in (OnOff.cluster_id, LevelControl.cluster_id, Scenes.cluster_id)
        ) and (OnOff.cluster_id not in ins):
            specs.append(
                EntitySpec(
                    "remote", key(OnOff.cluster_id, "remote"), eid, OnOff.cluster_id, "Button"
                )
            )
    return specs
