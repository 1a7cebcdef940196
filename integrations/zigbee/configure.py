"""After the interview: bind clusters and configure reporting so state arrives unpolled."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import zigpy.device
import zigpy.exceptions
from zigpy.zcl import Cluster, ReportingConfig, foundation
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

__all__ = ["REPORTING", "ConfigureResult", "async_configure_device"]

_LOGGER = logging.getLogger(__name__)

# cluster id -> {attribute: (min s, max s, reportable change)}
REPORTING: dict[int, dict[str, tuple[int, int, int]]] = {
    OnOff.cluster_id: {"on_off": (0, 900, 1)},
    LevelControl.cluster_id: {"current_level": (1, 900, 1)},
    Color.cluster_id: {
        "color_temperature": (1, 900, 1),
        "current_x": (1, 900, 1),
        "current_y": (1, 900, 1),
        "current_hue": (1, 900, 1),
        "current_saturation": (1, 900, 1),
        "color_mode": (1, 900, 1),
    },
    TemperatureMeasurement.cluster_id: {"measured_value": (30, 900, 10)},
    RelativeHumidity.cluster_id: {"measured_value": (30, 900, 100)},
    OccupancySensing.cluster_id: {"occupancy": (0, 900, 1)},
    Thermostat.cluster_id: {
        "local_temperature": (30, 900, 10),
        "occupied_heating_setpoint": (0, 900, 1),
        "system_mode": (0, 900, 1),
        "running_state": (0, 900, 1),
    },
    DoorLock.cluster_id: {"lock_state": (0, 900, 1)},
    ElectricalMeasurement.cluster_id: {
        "active_power": (5, 900, 1),
        "rms_voltage": (5, 900, 1),
        "rms_current": (5, 900, 1),
    },
    Metering.cluster_id: {"current_summ_delivered": (5, 900, 1)},
    PowerConfiguration.cluster_id: {"battery_percentage_remaining": (3600, 21600, 2)},
}
# Output clusters of remotes: bound so their commands reach the coordinator.
BIND_OUTPUT = (OnOff.cluster_id, LevelControl.cluster_id, Scenes.cluster_id)


@dataclass(frozen=True, slots=True)
class ConfigureResult:
    """What configuration achieved: bound clusters, and attributes that must be polled."""

    bound: tuple[str, ...] = ()
    reporting: tuple[str, ...] = ()
    poll: tuple[tuple[int, int, str], ...] = ()  # (endpoint, cluster id, attribute)
    errors: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when every step succeeded."""
        return not self.errors


async def async_configure_device(
    device: zigpy.device.ZigbeeDevice, coordinator_ieee: object
) -> ConfigureResult:
    """Bind, configure reporting and enrol IAS zones on an interviewed device."""
    bound: list[str] = []
    reporting: list[str] = []
    poll: list[tuple[int, int, str]] = []
    errors: list[str] = []
    for ep in device.non_zdo_endpoints:
        for cluster in ep.in_clusters.values():
            table = REPORTING.get(cluster.cluster_id)
            if cluster.cluster_id == IasZone.cluster_id:
                await _step(
                    errors, f"enrol {cluster.name}", _async_enrol(cluster, coordinator_ieee)
                )
                continue
            if table is None:
                continue
            if await _step(errors, f"bind {cluster.name}", cluster.bind()):
                bound.append(cluster.name)
            request = {
                cluster.find_attribute(attr): ReportingConfig(*cfg) for attr, cfg in table.items()
            }
            rsp = await _step(
                errors, f"report {cluster.name}", cluster.configure_reporting_multiple(request)
            )
            # One initial read so entities start with real values, not "unknown".
            await _step(errors, f"read {cluster.name}", cluster.read_attributes(list(table)))
            statuses = rsp if isinstance(rsp, dict) else {}
            for attr_def in request:
                if statuses.get(attr_def) == foundation.Status.SUCCESS:
                    reporting.append(f"{cluster.name}.{attr_def.name}")
                else:
                    # Refused or unanswered: this attribute will be polled instead.
                    poll.append((ep.endpoint_id, cluster.cluster_id, attr_def.name))
        for cluster in ep.out_clusters.values():
            if cluster.cluster_id in BIND_OUTPUT and await _step(
                errors, f"bind output {cluster.name}", cluster.bind()
            ):
                bound.append(f"out:{cluster.name}")
    return ConfigureResult(tuple(bound), tuple(reporting), tuple(poll), tuple(errors))


async def _step(errors: list[str], what: str, coro: object) -> object | None:
    try:
        result = await coro  # type: ignore[misc]
    except (TimeoutError, zigpy.exceptions.ZigbeeException) as err:
        errors.append(f"{what}: {err!r}")
        _LOGGER.debug("zigbee configure: %s failed: %r", what, err)
        return None
    # ZDO answers [status, ...]; a non-zero status means the device refused.
    if isinstance(result, list | tuple) and result and isinstance(result[0], int) and result[0]:
        errors.append(f"{what}: {result[0]!r}")
        return None
    return result if result is not None else True


async def _async_enrol(cluster: Cluster, coordinator_ieee: object) -> None:
    # Write our address as the CIE, then answer enrolment unsolicited ("auto-enroll").
    await cluster.bind()
    await cluster.read_attributes(["zone_type", "zone_state"], allow_cache=False)
    await cluster.write_attributes({"cie_addr": coordinator_ieee})
    await cluster.enroll_response(enroll_response_code=IasZone.EnrollResponse.Success, zone_id=0)
