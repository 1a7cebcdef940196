"""Frame codec helpers: ZDO and ZCL frames built and parsed with zigpy's own types."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import zigpy.types as t
import zigpy.zdo.types as zdo_t
from zigpy.zcl import Cluster, foundation

__all__ = [
    "ZclFrame",
    "attribute_type_id",
    "build_zcl",
    "build_zdo",
    "parse_zcl",
    "parse_zdo",
    "type_value",
]


@dataclass(frozen=True, slots=True)
class ZclFrame:
    """A decoded ZCL frame: its header, its command schema (or raw bytes if unknown)."""

    header: foundation.ZCLHeader
    command: Any
    known: bool


def build_zdo(tsn: int, command: zdo_t.ZDOCmd, *args: Any) -> bytes:
    """Serialise a ZDO frame (TSN + arguments) for `command`."""
    _, schema = zdo_t.CLUSTERS[command]
    return t.uint8_t(tsn).serialize() + t.serialize(args, schema)


def parse_zdo(cluster_id: int, data: bytes) -> tuple[zdo_t.ZDOHeader, list[Any]]:
    """Parse a ZDO frame; raises ValueError on an unknown or malformed frame."""
    if cluster_id not in zdo_t.CLUSTERS:
        raise ValueError(f"unknown ZDO cluster 0x{cluster_id:04X}")
    _, schema = zdo_t.CLUSTERS[zdo_t.ZDOCmd(cluster_id)]
    hdr, rest = zdo_t.ZDOHeader.deserialize(t.uint16_t(cluster_id), data)
    args, _ = t.deserialize(rest, schema)
    return hdr, list(args)


def parse_zcl(cluster_cls: type[Cluster], data: bytes) -> ZclFrame:
    """Parse a ZCL frame for `cluster_cls`; raises ValueError/KeyError on malformed input."""
    hdr, rest = foundation.ZCLHeader.deserialize(data)
    if hdr.frame_control.is_cluster:
        commands = (
            cluster_cls.client_commands
            if hdr.direction == foundation.Direction.Server_to_Client
            else cluster_cls.server_commands
        )
        definition = commands.get(hdr.command_id)
    else:
        definition = foundation.GENERAL_COMMANDS.get(hdr.command_id)  # type: ignore[call-overload]
    if definition is None:
        return ZclFrame(hdr, bytes(rest), known=False)
    command, _ = definition.schema.deserialize(rest)
    return ZclFrame(hdr, command, known=True)


def build_zcl(
    tsn: int,
    command_id: int,
    payload: Any,
    *,
    general: bool,
    direction: foundation.Direction,
    disable_default_response: bool = True,
) -> bytes:
    """Serialise a ZCL header plus an already-built schema instance (or raw bytes)."""
    factory = foundation.ZCLHeader.general if general else foundation.ZCLHeader.cluster
    hdr = factory(tsn=tsn, command_id=command_id, direction=direction)
    control: Any = hdr.frame_control
    hdr.frame_control = control.replace(disable_default_response=disable_default_response)
    body = payload if isinstance(payload, bytes) else payload.serialize()
    return hdr.serialize() + body


def attribute_type_id(cluster_cls: type[Cluster], attrid: int) -> int:
    """Return the ZCL data type id of an attribute of `cluster_cls`."""
    definition = cluster_cls.attributes[attrid]
    if definition.zcl_type is not None:
        return int(definition.zcl_type)
    return int(foundation.DataType.from_python_type(definition.type).type_id)


def type_value(cluster_cls: type[Cluster], attrid: int, value: Any) -> foundation.TypeValue:
    """Wrap `value` as a typed ZCL value using the attribute's own zigpy type."""
    definition = cluster_cls.attributes[attrid]
    return foundation.TypeValue(
        type=t.uint8_t(attribute_type_id(cluster_cls, attrid)),
        value=definition.type(value),
    )
