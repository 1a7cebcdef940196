"""Virtual Zigbee device: answers real ZDO/ZCL frames and reports attributes on its own."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import zigpy.profiles.zha as zha
import zigpy.types as t
import zigpy.zdo.types as zdo_t
from zigpy.zcl import Cluster, foundation

from . import codec

__all__ = [
    "CommandHandler",
    "HandlerReply",
    "ReportConfig",
    "VirtualCluster",
    "VirtualDevice",
    "VirtualEndpoint",
]

_LOGGER = logging.getLogger(__name__)

# zigpy drops a frame byte-identical to one it saw from the same device in this window.
DEBOUNCE_WINDOW_S = 10.0
_REPORT_NEVER = 0xFFFF
_MAX_RADIUS = 30
_C2S = foundation.Direction.Client_to_Server
_S2C = foundation.Direction.Server_to_Client

Transmit = Callable[[t.ZigbeePacket], None]


@dataclass(frozen=True, slots=True)
class HandlerReply:
    """A cluster-specific response command a handler wants sent back (same TSN)."""

    command: str
    kwargs: dict[str, Any]


CommandHandler = Callable[
    ["VirtualDevice", "VirtualCluster", Any], "foundation.Status | HandlerReply | None"
]


@dataclass(frozen=True, slots=True)
class ReportConfig:
    """An attribute reporting configuration written by the coordinator."""

    min_interval: int
    max_interval: int
    reportable_change: Any


@dataclass(slots=True)
class VirtualCluster:
    """A server cluster on a virtual endpoint: attribute values plus reporting state."""

    cluster_cls: type[Cluster]
    attributes: dict[int, Any] = field(default_factory=dict)
    reporting: dict[int, ReportConfig] = field(default_factory=dict)
    last_report: dict[int, float] = field(default_factory=dict)
    bound: bool = False
    # False models firmware that refuses attribute reporting (Hearth must poll it).
    reportable: bool = True

    @property
    def cluster_id(self) -> int:
        """The cluster id."""
        return int(self.cluster_cls.cluster_id)

    def attrid(self, name_or_id: str | int) -> int:
        """Resolve an attribute name to its id."""
        if isinstance(name_or_id, int):
            return name_or_id
        return int(self.cluster_cls.attributes_by_name[name_or_id].id)


@dataclass(slots=True)
class VirtualEndpoint:
    """An application endpoint: simple descriptor plus server clusters."""

    endpoint_id: int
    device_type: int
    in_clusters: dict[int, VirtualCluster]
    out_clusters: dict[int, VirtualCluster]
    profile_id: int = zha.PROFILE_ID

    def descriptor(self) -> zdo_t.SizePrefixedSimpleDescriptor:
        """The ZDO simple descriptor of this endpoint."""
        return zdo_t.SizePrefixedSimpleDescriptor(
            endpoint=self.endpoint_id,
            profile=self.profile_id,
            device_type=self.device_type,
            device_version=1,
            input_clusters=list(self.in_clusters),
            output_clusters=list(self.out_clusters),
        )


class VirtualDevice:
    """A simulated Zigbee node: ZDO + ZCL server side, reporting and commands."""

    def __init__(
        self,
        ieee: t.EUI64,
        *,
        kind: str,
        model: str,
        manufacturer: str,
        endpoints: list[VirtualEndpoint],
        logical_type: zdo_t.LogicalType = zdo_t.LogicalType.Router,
        handlers: dict[tuple[int, int], CommandHandler] | None = None,
        client_handlers: dict[tuple[int, int], CommandHandler] | None = None,
        manufacturer_code: int = 0x1234,
    ) -> None:
        self.ieee = ieee
        self.kind = kind
        self.model = model
        self.manufacturer = manufacturer
        self.endpoints = {ep.endpoint_id: ep for ep in endpoints}
        self.logical_type = logical_type
        self.manufacturer_code = manufacturer_code
        self.handlers = dict(handlers or {})
        self.client_handlers = dict(client_handlers or {})
        self.nwk: t.NWK | None = None
        self.network: t.ExtendedPanId | None = None
        self.firmware_version = 1
        self.received: deque[t.ZigbeePacket] = deque(maxlen=2000)
        self.errors = 0
        self._transmit: Transmit | None = None
        self._on_leave: Callable[[VirtualDevice], None] | None = None
        self._tsn = int.from_bytes(bytes(ieee)[:1], "little")
        self._recent: dict[tuple[Any, ...], float] = {}
        self._recent_order: deque[tuple[float, tuple[Any, ...]]] = deque()
        self._report_task: asyncio.Task[None] | None = None

    # -- network membership, driven by the simulated air ------------------------------

    @property
    def is_joined(self) -> bool:
        """True while the device is a member of a network."""
        return self.network is not None

    def attach(
        self,
        nwk: t.NWK,
        network: t.ExtendedPanId,
        transmit: Transmit,
        on_leave: Callable[[VirtualDevice], None],
    ) -> None:
        """Join a network at `nwk`, sending frames through `transmit`."""
        self.nwk = nwk
        self.network = network
        self._transmit = transmit
        self._on_leave = on_leave

    def detach(self) -> None:
        """Leave the network and forget bindings and reporting."""
        self.network = None
        self._transmit = None
        for ep in self.endpoints.values():
            for cluster in [*ep.in_clusters.values(), *ep.out_clusters.values()]:
                cluster.reporting.clear()
                cluster.bound = False
        self.stop()

    def relink(self, transmit: Transmit | None) -> None:
        """Point the device at a (new) coordinator radio, or at none while it is gone."""
        self._transmit = transmit

    def start(self) -> None:
        """Start the periodic reporting loop (max-interval reports)."""
        if self._report_task is None or self._report_task.done():
            self._report_task = asyncio.get_running_loop().create_task(
                self._async_report_loop(), name=f"sim-report-{self.ieee}"
            )

    def stop(self) -> None:
        """Stop the periodic reporting loop."""
        if self._report_task is not None:
            self._report_task.cancel()
            self._report_task = None

    # -- public API for tests, the demo and the bench ---------------------------------

    def cluster(self, cluster_id: int, endpoint_id: int | None = None) -> VirtualCluster:
        """Return a server cluster by id (first endpoint holding it unless given)."""
        for ep in self.endpoints.values():
            if endpoint_id is not None and ep.endpoint_id != endpoint_id:
                continue
            if cluster_id in ep.in_clusters:
                return ep.in_clusters[cluster_id]
        for ep in self.endpoints.values():
            if cluster_id in ep.out_clusters:
                return ep.out_clusters[cluster_id]
        raise KeyError(f"{self.model}: no server cluster 0x{cluster_id:04X}")

    def endpoint_of(self, cluster: VirtualCluster) -> int:
        """Return the endpoint id holding `cluster`."""
        for ep in self.endpoints.values():
            if cluster in (
                ep.in_clusters.get(cluster.cluster_id),
                ep.out_clusters.get(cluster.cluster_id),
            ):
                return ep.endpoint_id
        raise KeyError(cluster.cluster_id)

    def get(self, cluster_id: int, attr: str | int, endpoint_id: int | None = None) -> Any:
        """Return an attribute value."""
        cluster = self.cluster(cluster_id, endpoint_id)
        return cluster.attributes.get(cluster.attrid(attr))

    def set_attribute(
        self,
        cluster_id: int,
        attr: str | int,
        value: Any,
        *,
        endpoint_id: int | None = None,
        force_report: bool = False,
    ) -> None:
        """Change an attribute as the physical device would, reporting it if configured."""
        cluster = self.cluster(cluster_id, endpoint_id)
        attrid = cluster.attrid(attr)
        old = cluster.attributes.get(attrid)
        cluster.attributes[attrid] = cluster.cluster_cls.attributes[attrid].type(value)
        config = cluster.reporting.get(attrid)
        wants = config is not None and config.max_interval != _REPORT_NEVER
        if force_report or (wants and self._changed_enough(old, value, config)):
            self.report(cluster_id, [attrid], endpoint_id=self.endpoint_of(cluster))

    def report(
        self, cluster_id: int, attrids: list[str | int], *, endpoint_id: int | None = None
    ) -> None:
        """Send a Report_Attributes frame for the given attributes."""
        cluster = self.cluster(cluster_id, endpoint_id)
        records = []
        for attr in attrids:
            attrid = cluster.attrid(attr)
            cluster.last_report[attrid] = time.monotonic()
            records.append(
                foundation.Attribute(
                    attrid=attrid,
                    value=codec.type_value(cluster.cluster_cls, attrid, cluster.attributes[attrid]),
                )
            )
        schema = foundation.GENERAL_COMMANDS[foundation.GeneralCommand.Report_Attributes].schema
        self._send_unsolicited(
            endpoint_id=self.endpoint_of(cluster),
            cluster_id=cluster_id,
            make=lambda tsn: codec.build_zcl(
                tsn,
                foundation.GeneralCommand.Report_Attributes,
                schema(attribute_reports=records),
                general=True,
                direction=_S2C,
            ),
        )

    def send_command(
        self,
        cluster_cls: type[Cluster],
        command: str,
        *,
        endpoint_id: int = 1,
        from_server: bool = False,
        **kwargs: Any,
    ) -> None:
        """Send a cluster command: client-to-server from an output cluster (remotes, OTA),
        or server-to-client from a server cluster (IAS zone notifications)."""
        defs = cluster_cls.ClientCommandDefs if from_server else cluster_cls.ServerCommandDefs  # type: ignore[attr-defined]
        definition = getattr(defs, command)
        payload = definition.schema(**kwargs)
        self._send_unsolicited(
            endpoint_id=endpoint_id,
            cluster_id=int(cluster_cls.cluster_id),
            make=lambda tsn: codec.build_zcl(
                tsn,
                definition.id,
                payload,
                general=False,
                direction=_S2C if from_server else _C2S,
            ),
        )

    def send_raw(self, cluster_id: int, data: bytes, *, endpoint_id: int = 1) -> None:
        """Transmit arbitrary bytes on a cluster (for garbage-frame injection)."""
        self._emit(endpoint_id, cluster_id, bytes(data), profile=zha.PROFILE_ID)

    def announce(self) -> None:
        """Broadcast a ZDO Device_annce (sent after joining or rejoining)."""
        assert self.nwk is not None
        capability = 0x8E if self.logical_type == zdo_t.LogicalType.Router else 0x80
        self._send_unsolicited(
            endpoint_id=0,
            cluster_id=zdo_t.ZDOCmd.Device_annce,
            make=lambda tsn: codec.build_zdo(
                tsn, zdo_t.ZDOCmd.Device_annce, self.nwk, self.ieee, t.uint8_t(capability)
            ),
            profile=0,
        )

    # -- receive path -----------------------------------------------------------------

    def handle_packet(self, packet: t.ZigbeePacket) -> None:
        """Process one frame from the coordinator; bad frames are logged and dropped."""
        self.received.append(packet)
        try:
            if packet.dst_ep == 0 or packet.profile_id == 0:
                self._handle_zdo(packet)
            else:
                self._handle_zcl(packet)
        except Exception:  # bad input must never take the device down
            self.errors += 1
            _LOGGER.debug("%s: cannot handle %r", self.model, packet, exc_info=True)

    def _handle_zdo(self, packet: t.ZigbeePacket) -> None:
        hdr, args = codec.parse_zdo(packet.cluster_id, packet.data.serialize())
        cmd = hdr.command_id
        tsn = hdr.tsn
        ok = zdo_t.Status.SUCCESS
        if cmd == zdo_t.ZDOCmd.Node_Desc_req:
            self._reply_zdo(tsn, zdo_t.ZDOCmd.Node_Desc_rsp, ok, self.nwk, self.node_descriptor())
        elif cmd == zdo_t.ZDOCmd.Active_EP_req:
            eps = t.LVList[t.uint8_t, t.uint8_t](self.endpoints)
            self._reply_zdo(tsn, zdo_t.ZDOCmd.Active_EP_rsp, ok, self.nwk, eps)
        elif cmd == zdo_t.ZDOCmd.Simple_Desc_req:
            ep = self.endpoints.get(int(args[1]))
            if ep is None:
                self._reply_zdo(
                    tsn, zdo_t.ZDOCmd.Simple_Desc_rsp, zdo_t.Status.NOT_ACTIVE, self.nwk, None
                )
            else:
                self._reply_zdo(tsn, zdo_t.ZDOCmd.Simple_Desc_rsp, ok, self.nwk, ep.descriptor())
        elif cmd in (zdo_t.ZDOCmd.Bind_req, zdo_t.ZDOCmd.Unbind_req):
            src_ieee, src_ep, cluster_id = args[0], int(args[1]), int(args[2])
            status = zdo_t.Status.NO_ENTRY
            ep = self.endpoints.get(src_ep)
            if src_ieee == self.ieee and ep is not None:
                status = ok
                if cluster_id in ep.in_clusters:
                    ep.in_clusters[cluster_id].bound = cmd == zdo_t.ZDOCmd.Bind_req
            self._reply_zdo(tsn, zdo_t.ZDOCmd(cmd | 0x8000), status)
        elif cmd == zdo_t.ZDOCmd.Mgmt_Leave_req:
            self._reply_zdo(tsn, zdo_t.ZDOCmd.Mgmt_Leave_rsp, ok)
            if self._on_leave is not None:
                asyncio.get_running_loop().call_soon(self._on_leave, self)
        elif cmd == zdo_t.ZDOCmd.Mgmt_Permit_Joining_req:
            if packet.dst is not None and packet.dst.addr_mode != t.AddrMode.Broadcast:
                self._reply_zdo(tsn, zdo_t.ZDOCmd.Mgmt_Permit_Joining_rsp, ok)
        elif cmd in (zdo_t.ZDOCmd.IEEE_addr_req, zdo_t.ZDOCmd.NWK_addr_req):
            self._reply_zdo(
                tsn,
                zdo_t.ZDOCmd(cmd | 0x8000),
                ok,
                self.ieee,
                self.nwk,
                t.uint8_t(0),
                t.uint8_t(0),
                [],
            )
        else:
            _LOGGER.debug("%s: ignoring ZDO %s", self.model, cmd)

    def _handle_zcl(self, packet: t.ZigbeePacket) -> None:
        data = packet.data.serialize()
        hdr, _ = foundation.ZCLHeader.deserialize(data)
        ep = self.endpoints.get(int(packet.dst_ep or 0))
        # Frames travelling client-to-server address our server clusters, the others
        # address our client (output) clusters such as OTA.
        to_server = hdr.direction == _C2S
        clusters = (ep.in_clusters if to_server else ep.out_clusters) if ep else {}
        cluster = clusters.get(packet.cluster_id)
        if cluster is None:
            self._default_response(packet, hdr, foundation.Status.UNSUPPORTED_CLUSTER)
            return
        frame = codec.parse_zcl(cluster.cluster_cls, data)
        if not frame.known:
            status = (
                foundation.Status.UNSUP_CLUSTER_COMMAND
                if hdr.frame_control.is_cluster
                else foundation.Status.UNSUP_GENERAL_COMMAND
            )
            self._default_response(packet, hdr, status)
            return
        if hdr.frame_control.is_general:
            self._handle_general(packet, cluster, frame)
            return
        handlers = self.handlers if to_server else self.client_handlers
        handler = handlers.get((cluster.cluster_id, int(hdr.command_id)))
        if handler is None:
            self._default_response(packet, hdr, foundation.Status.UNSUP_CLUSTER_COMMAND)
            return
        result = handler(self, cluster, frame.command)
        if isinstance(result, HandlerReply):
            defs = cluster.cluster_cls.ClientCommandDefs  # type: ignore[attr-defined]
            definition = getattr(defs, result.command)
            reply = codec.build_zcl(
                hdr.tsn,
                definition.id,
                definition.schema(**result.kwargs),
                general=False,
                direction=_S2C,
            )
            self._emit(int(packet.dst_ep or 1), packet.cluster_id, reply, profile=packet.profile_id)
        elif result is not None:
            self._default_response(packet, hdr, result)

    def _handle_general(
        self, packet: t.ZigbeePacket, cluster: VirtualCluster, frame: codec.ZclFrame
    ) -> None:
        hdr, cmd = frame.header, frame.command
        gc = foundation.GeneralCommand
        if hdr.command_id == gc.Read_Attributes:
            records = []
            for attrid in cmd.attribute_ids:
                if attrid in cluster.attributes and attrid in cluster.cluster_cls.attributes:
                    value = codec.type_value(
                        cluster.cluster_cls, attrid, cluster.attributes[attrid]
                    )
                    records.append(
                        foundation.ReadAttributeRecord(attrid, foundation.Status.SUCCESS, value)
                    )
                else:
                    records.append(
                        foundation.ReadAttributeRecord(
                            attrid, foundation.Status.UNSUPPORTED_ATTRIBUTE
                        )
                    )
            self._reply_general(packet, hdr, gc.Read_Attributes_rsp, status_records=records)
        elif hdr.command_id in (gc.Write_Attributes, gc.Write_Attributes_No_Response):
            results = []
            for attr in cmd.attributes:
                if attr.attrid not in cluster.cluster_cls.attributes:
                    results.append(
                        foundation.WriteAttributesStatusRecord(
                            foundation.Status.UNSUPPORTED_ATTRIBUTE, attr.attrid
                        )
                    )
                    continue
                self.set_attribute(
                    cluster.cluster_id,
                    attr.attrid,
                    attr.value.value,
                    endpoint_id=self.endpoint_of(cluster),
                )
                results.append(foundation.WriteAttributesStatusRecord(foundation.Status.SUCCESS))
            if hdr.command_id == gc.Write_Attributes:
                self._reply_general(
                    packet,
                    hdr,
                    gc.Write_Attributes_rsp,
                    status_records=foundation.WriteAttributesResponse(results),
                )
        elif hdr.command_id == gc.Configure_Reporting:
            statuses = []
            for rec in cmd.config_records:
                if rec.attrid not in cluster.cluster_cls.attributes or not cluster.reportable:
                    statuses.append(
                        foundation.ConfigureReportingResponseRecord(
                            status=foundation.Status.UNSUPPORTED_ATTRIBUTE
                            if cluster.reportable
                            else foundation.Status.UNREPORTABLE_ATTRIBUTE,
                            direction=rec.direction,
                            attrid=rec.attrid,
                        )
                    )
                    continue
                cluster.reporting[rec.attrid] = ReportConfig(
                    int(rec.min_interval),
                    int(rec.max_interval),
                    getattr(rec, "reportable_change", None),
                )
                statuses.append(
                    foundation.ConfigureReportingResponseRecord(status=foundation.Status.SUCCESS)
                )
            self._reply_general(
                packet,
                hdr,
                gc.Configure_Reporting_rsp,
                status_records=foundation.ConfigureReportingResponse(statuses),
            )
        elif hdr.command_id == gc.Discover_Attributes:
            ids = sorted(a for a in cluster.attributes if a >= cmd.start_attribute_id)
            info = [
                foundation.DiscoverAttributesResponseRecord(
                    attrid=a, datatype=codec.attribute_type_id(cluster.cluster_cls, a)
                )
                for a in ids[: cmd.max_attribute_ids]
            ]
            done = len(ids) <= cmd.max_attribute_ids
            self._reply_general(
                packet,
                hdr,
                gc.Discover_Attributes_rsp,
                discovery_complete=done,
                attribute_info=info,
            )
        elif hdr.command_id == gc.Default_Response:
            return
        else:
            self._default_response(packet, hdr, foundation.Status.UNSUP_GENERAL_COMMAND)

    # -- transmit path ----------------------------------------------------------------

    def node_descriptor(self) -> zdo_t.NodeDescriptor:
        """The ZDO node descriptor of this device."""
        router = self.logical_type == zdo_t.LogicalType.Router
        flags = zdo_t.NodeDescriptor.MACCapabilityFlags
        mac = flags.AllocateAddress
        if router:
            mac |= flags.FullFunctionDevice | flags.MainsPowered | flags.RxOnWhenIdle
        return zdo_t.NodeDescriptor(
            logical_type=self.logical_type,
            complex_descriptor_available=0,
            user_descriptor_available=0,
            reserved=0,
            aps_flags=0,
            frequency_band=zdo_t.NodeDescriptor.FrequencyBand.Freq2400MHz,
            mac_capability_flags=mac,
            manufacturer_code=self.manufacturer_code,
            maximum_buffer_size=82,
            maximum_incoming_transfer_size=82,
            server_mask=0,
            maximum_outgoing_transfer_size=82,
            descriptor_capability_field=zdo_t.NodeDescriptor.DescriptorCapability.NONE,
        )

    def _reply_zdo(self, tsn: int, command: zdo_t.ZDOCmd, *args: Any) -> None:
        self._emit(0, command, codec.build_zdo(tsn, command, *args), profile=0)

    def _reply_general(
        self, packet: t.ZigbeePacket, hdr: foundation.ZCLHeader, command: int, **kwargs: Any
    ) -> None:
        schema = foundation.GENERAL_COMMANDS[foundation.GeneralCommand(command)].schema
        data = codec.build_zcl(
            hdr.tsn, command, schema(**kwargs), general=True, direction=hdr.direction.flip()
        )
        self._emit(int(packet.dst_ep or 1), packet.cluster_id, data, profile=packet.profile_id)

    def _default_response(
        self,
        packet: t.ZigbeePacket,
        hdr: foundation.ZCLHeader,
        status: foundation.Status,
    ) -> None:
        # ZCL: a default response is suppressed only for successes when asked to be.
        if hdr.frame_control.disable_default_response and status == foundation.Status.SUCCESS:
            return
        if (
            hdr.command_id == foundation.GeneralCommand.Default_Response
            and hdr.frame_control.is_general
        ):
            return  # never answer a default response
        self._reply_general(
            packet,
            hdr,
            foundation.GeneralCommand.Default_Response,
            command_id=hdr.command_id,
            status=status,
        )

    def _send_unsolicited(
        self,
        *,
        endpoint_id: int,
        cluster_id: int,
        make: Callable[[int], bytes],
        profile: int = zha.PROFILE_ID,
    ) -> None:
        # zigpy drops a frame identical to one from this device in the last 10 s. Pick
        # the next (TSN, remaining radius) pair that makes this frame unique in that
        # window: 256 x 30 variants, so even floods of identical reports all arrive.
        template = bytearray(make(0))
        offset = 0 if profile == 0 else (3 if template[0] & 0x04 else 1)
        now = time.monotonic()
        self._expire(now)
        for radius in range(_MAX_RADIUS):
            for _ in range(256):
                self._tsn = (self._tsn + 1) & 0xFF
                template[offset] = self._tsn
                data = bytes(template)
                if self._key(endpoint_id, cluster_id, data, radius) not in self._recent:
                    self._emit(endpoint_id, cluster_id, data, profile=profile, radius=radius)
                    return
        self._emit(endpoint_id, cluster_id, bytes(template), profile=profile)

    def _emit(
        self,
        endpoint_id: int,
        cluster_id: int,
        data: bytes,
        *,
        profile: int,
        radius: int | None = None,
    ) -> None:
        if self._transmit is None or self.nwk is None:
            _LOGGER.debug("%s: not on a network, frame dropped", self.model)
            return
        now = time.monotonic()
        self._expire(now)
        if radius is None:
            # A reply must echo the request's TSN, so it repeats byte for byte once
            # zigpy's own 8-bit sequence wraps: vary the remaining NWK radius instead
            # (hops left on arrival, a field the radio reports and zigpy's key includes).
            radius = 0
            while (
                self._key(endpoint_id, cluster_id, data, radius) in self._recent
                and radius < _MAX_RADIUS - 1
            ):
                radius += 1
        key = self._key(endpoint_id, cluster_id, data, radius)
        self._recent[key] = now + DEBOUNCE_WINDOW_S
        self._recent_order.append((now + DEBOUNCE_WINDOW_S, key))
        packet = t.ZigbeePacket(
            src=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=t.NWK(self.nwk)),
            src_ep=t.uint8_t(endpoint_id),
            dst=t.AddrModeAddress(addr_mode=t.AddrMode.NWK, address=t.NWK(0x0000)),
            dst_ep=t.uint8_t(endpoint_id if endpoint_id == 0 else 1),
            tsn=t.uint8_t(data[0] if data else 0),
            profile_id=t.uint16_t(profile),
            cluster_id=t.uint16_t(cluster_id),
            data=t.SerializableBytes(data),
            radius=t.uint8_t(radius),
            lqi=t.uint8_t(200),
            rssi=t.int8s(-50),
        )
        self._transmit(packet)

    @staticmethod
    def _key(endpoint_id: int, cluster_id: int, data: bytes, radius: int) -> tuple[Any, ...]:
        return (endpoint_id, cluster_id, data, radius)

    def _expire(self, now: float) -> None:
        order = self._recent_order
        while order and order[0][0] <= now:
            _, key = order.popleft()
            if self._recent.get(key, now + 1) <= now:
                del self._recent[key]

    @staticmethod
    def _changed_enough(old: Any, new: Any, config: ReportConfig | None) -> bool:
        if old is None or config is None:
            return True
        change = config.reportable_change
        if change and isinstance(new, int | float) and isinstance(old, int | float):
            return abs(new - old) >= change
        return bool(new != old)

    async def _async_report_loop(self) -> None:
        # Devices send a report at least every max_interval even when nothing changed.
        while True:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            for ep in self.endpoints.values():
                for cluster in ep.in_clusters.values():
                    due = [
                        attrid
                        for attrid, cfg in cluster.reporting.items()
                        if 0 < cfg.max_interval != _REPORT_NEVER
                        and attrid in cluster.attributes
                        and now - cluster.last_report.get(attrid, 0.0) >= cfg.max_interval
                    ]
                    if due:
                        self.report(cluster.cluster_id, list(due), endpoint_id=ep.endpoint_id)

    def __repr__(self) -> str:
        return f"<VirtualDevice {self.kind} {self.ieee} nwk={self.nwk}>"
