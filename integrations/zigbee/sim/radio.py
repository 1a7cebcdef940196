"""Simulated radio: a zigpy ControllerApplication over an in-memory 802.15.4 'air'."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import deque
from typing import Any

import zigpy.application
import zigpy.config as zconf
import zigpy.device
import zigpy.endpoint
import zigpy.exceptions
import zigpy.profiles.zha
import zigpy.state
import zigpy.types as t
import zigpy.zdo.types as zdo_t

from .device import VirtualDevice

__all__ = ["SimAir", "SimControllerApplication", "SimStick", "forget_stick", "get_stick"]

_LOGGER = logging.getLogger(__name__)
SENT_LOG_SIZE = 20_000


class SimStick:
    """The hardware of one simulated coordinator stick: its flash and its plug."""

    def __init__(self, path: str, air: SimAir) -> None:
        self.path = path
        self.air = air
        digest = hashlib.sha256(path.encode()).digest()
        self.hardware_ieee = t.EUI64(digest[:8])
        self.node_info: zigpy.state.NodeInfo | None = None
        self.network_info: zigpy.state.NetworkInfo | None = None
        self.plugged = True
        self.sent: deque[t.ZigbeePacket] = deque(maxlen=SENT_LOG_SIZE)
        self.app: SimControllerApplication | None = None
        # Devices in pairing mode near the stick: they join when permit-join opens.
        self.waiting: deque[VirtualDevice] = deque()
        self.join_all = False
        self.join_delay = 0.5

    @property
    def network(self) -> t.ExtendedPanId | None:
        """The extended PAN id of the network stored on the stick, if formed."""
        return None if self.network_info is None else self.network_info.extended_pan_id

    def unplug(self) -> None:
        """Pull the stick out: transmissions fail and the host sees the port vanish."""
        self.plugged = False
        app = self.app
        if app is not None:
            app.connection_lost(ConnectionResetError(f"{self.path}: radio unplugged"))

    def plug(self) -> None:
        """Put the stick back in."""
        self.plugged = True

    def join_waiting(self) -> list[VirtualDevice]:
        """Join the next waiting device (or all of them) if the network permits joins."""
        joined: list[VirtualDevice] = []
        while self.waiting:
            device = self.waiting[0]
            if not self.air.join(device, self):
                break  # joining closed again (or no radio): they keep waiting
            self.waiting.popleft()
            joined.append(device)
            if not self.join_all:
                break
        return joined


class SimAir:
    """The radio environment: which virtual devices are in range and on which network."""

    def __init__(self) -> None:
        self.devices: dict[t.EUI64, VirtualDevice] = {}
        self.sticks: dict[str, SimStick] = {}
        self._next_nwk = 0x1000

    # -- device lifecycle (test and demo hooks) -------------------------------------

    def add(self, device: VirtualDevice) -> VirtualDevice:
        """Power a device on within range (it has not joined anything yet)."""
        self.devices[device.ieee] = device
        return device

    def join(self, device: VirtualDevice, stick: SimStick, *, force: bool = False) -> bool:
        """Let `device` join the stick's network if it permits joins; True if it joined."""
        app = stick.app
        if app is None or not stick.plugged or stick.network is None:
            return False
        if not force and not app.permitting:
            _LOGGER.debug("%s: join refused, permit-join closed", device.model)
            return False
        self.add(device)
        if device.nwk is None:
            device.nwk = self._allocate_nwk()
        device.attach(device.nwk, stick.network, self._transmitter(stick), self._left)
        device.start()
        device.announce()
        return True

    def rejoin(self, device: VirtualDevice, stick: SimStick) -> None:
        """A known device rejoins (e.g. after a power cycle) and announces itself again."""
        assert device.is_joined and device.nwk is not None
        device.relink(self._transmitter(stick))
        device.start()
        device.announce()

    def remove(self, device: VirtualDevice) -> None:
        """Power a device off: it vanishes from the air (no leave is sent)."""
        device.stop()
        device.relink(None)
        self.devices.pop(device.ieee, None)

    def leave(self, device: VirtualDevice) -> None:
        """The device leaves its network on its own (factory reset button)."""
        self._left(device)

    # -- routing --------------------------------------------------------------------

    def deliver(self, stick: SimStick, packet: t.ZigbeePacket) -> None:
        """Route a frame from a coordinator to the matching device(s)."""
        loop = asyncio.get_running_loop()
        dst = packet.dst
        assert dst is not None
        for device in list(self.devices.values()):
            if device.network is None or device.network != stick.network:
                continue
            if dst.addr_mode == t.AddrMode.Broadcast or (
                (dst.addr_mode == t.AddrMode.NWK and dst.address == device.nwk)
                or (dst.addr_mode == t.AddrMode.IEEE and dst.address == device.ieee)
            ):
                device.relink(self._transmitter(stick))
                loop.call_soon(device.handle_packet, packet)

    def attach_stick(self, stick: SimStick) -> None:
        """Make devices already on the stick's network talk to it (restore, replug)."""
        for device in self.devices.values():
            if device.network is not None and device.network == stick.network:
                device.relink(self._transmitter(stick))

    def _allocate_nwk(self) -> t.NWK:
        self._next_nwk += 1
        return t.NWK(self._next_nwk)

    def _transmitter(self, stick: SimStick) -> Any:
        loop = asyncio.get_running_loop()

        def transmit(packet: t.ZigbeePacket) -> None:
            app = stick.app
            if app is None or not stick.plugged:
                return  # nobody listening: the frame is lost in the air
            loop.call_soon(app.sim_receive, packet)

        return transmit

    def _left(self, device: VirtualDevice) -> None:
        nwk, network = device.nwk, device.network
        device.detach()
        # Zigbee PRO hands out a fresh (stochastic) address on the next association.
        device.nwk = None
        for stick in self.sticks.values():
            if stick.app is not None and stick.network == network and nwk is not None:
                stick.app.handle_leave(nwk, device.ieee)


_DEFAULT_AIR = SimAir()
# Like /dev: every stick by its path, whichever air it sits in.
_STICKS: dict[str, SimStick] = {}


def get_stick(path: str, air: SimAir | None = None) -> SimStick:
    """Return the simulated stick at `path` (e.g. ``sim://home``), creating it on first use
    in `air` (the process-wide default air unless given)."""
    stick = _STICKS.get(path)
    if stick is None:
        stick = SimStick(path, air or _DEFAULT_AIR)
        stick.air.sticks[path] = stick
        _STICKS[path] = stick
    return stick


def forget_stick(path: str) -> None:
    """Unregister a stick (test teardown)."""
    stick = _STICKS.pop(path, None)
    if stick is not None:
        stick.air.sticks.pop(path, None)


class SimControllerApplication(zigpy.application.ControllerApplication):
    """A zigpy radio backend whose radio is a `SimStick` in a `SimAir`."""

    DISPLAY_NAME = "Hearth simulated radio"
    _watchdog_period = 5

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.stick = get_stick(self.config[zconf.CONF_DEVICE][zconf.CONF_DEVICE_PATH])
        self._permit_until = 0.0
        self._connected = False

    @property
    def permitting(self) -> bool:
        """True while permit-join is open on the coordinator."""
        return asyncio.get_running_loop().time() < self._permit_until

    def sim_receive(self, packet: t.ZigbeePacket) -> None:
        """Hand a frame from the air to zigpy, as a radio library does on RX."""
        if self._connected:
            self.packet_received(packet)

    # -- the 11 radio methods -------------------------------------------------------

    async def connect(self) -> None:
        if not self.stick.plugged:
            raise ConnectionRefusedError(f"{self.stick.path}: no such radio")
        self.stick.app = self
        self._connected = True

    async def disconnect(self) -> None:
        self._connected = False
        if self.stick.app is self:
            self.stick.app = None

    async def start_network(self) -> None:
        await self.load_network_info()
        self.stick.air.attach_stick(self.stick)
        coordinator = zigpy.device.ZigbeeDevice(
            self, self.state.node_info.ieee, self.state.node_info.nwk
        )
        coordinator.node_desc = zdo_t.NodeDescriptor(
            logical_type=zdo_t.LogicalType.Coordinator,
            complex_descriptor_available=0,
            user_descriptor_available=0,
            reserved=0,
            aps_flags=0,
            frequency_band=zdo_t.NodeDescriptor.FrequencyBand.Freq2400MHz,
            mac_capability_flags=zdo_t.NodeDescriptor.MACCapabilityFlags.AllocateAddress,
            manufacturer_code=0x1234,
            maximum_buffer_size=82,
            maximum_incoming_transfer_size=82,
            server_mask=0,
            maximum_outgoing_transfer_size=82,
            descriptor_capability_field=zdo_t.NodeDescriptor.DescriptorCapability.NONE,
        )
        coordinator.model = "Hearth sim coordinator"
        coordinator.manufacturer = "Hearth"
        self.devices[coordinator.ieee] = coordinator
        ep = coordinator.add_endpoint(1)
        ep.status = zigpy.endpoint.Status.ZDO_INIT
        ep.profile_id = 0x0104
        ep.device_type = zigpy.profiles.zha.DeviceType.CONFIGURATION_TOOL

    async def force_remove(self, dev: zigpy.device.ZigbeeDevice) -> None:
        device = self.stick.air.devices.get(dev.ieee)
        if device is not None and device.is_joined:
            device.detach()

    async def add_endpoint(self, descriptor: zdo_t.SimpleDescriptor) -> None:
        return None  # the simulated firmware accepts any endpoint

    async def send_packet(self, packet: t.ZigbeePacket) -> None:
        if not self.stick.plugged or not self._connected:
            raise zigpy.exceptions.DeliveryError("radio unplugged")
        self.stick.sent.append(packet)
        dst = packet.dst
        if (
            dst is not None
            and dst.addr_mode == t.AddrMode.NWK
            and dst.address == self.state.node_info.nwk
        ):
            return  # loopback to ourselves (e.g. energy scan): no reply from the sim
        self.stick.air.deliver(self.stick, packet)

    async def permit_ncp(self, time_s: int = 60) -> None:
        loop = asyncio.get_running_loop()
        self._permit_until = loop.time() + time_s
        if time_s > 0 and self.stick.waiting:
            # A short pause, as a person needs to press the button after opening joins.
            loop.call_later(self.stick.join_delay, self.stick.join_waiting)

    async def permit_with_link_key(
        self, node: t.EUI64, link_key: t.KeyData, time_s: int = 60
    ) -> None:
        await self.permit_ncp(time_s)

    async def write_network_info(
        self, *, network_info: zigpy.state.NetworkInfo, node_info: zigpy.state.NodeInfo
    ) -> None:
        if node_info.ieee == t.EUI64.UNKNOWN:  # type: ignore[attr-defined]
            node_info = node_info.replace(ieee=self.stick.hardware_ieee)
        # zigpy may hand over a plain int; as a real NCP does, store a typed NWK (a plain
        # int serialises as "" in backups, which then cannot be read back).
        node_info = node_info.replace(nwk=t.NWK(node_info.nwk))
        self.stick.node_info = node_info
        self.stick.network_info = network_info

    async def load_network_info(self, *, load_devices: bool = False) -> None:
        if self.stick.network_info is None or self.stick.node_info is None:
            raise zigpy.exceptions.NetworkNotFormed("simulated stick has no network")
        self.state.node_info = self.stick.node_info.replace(
            model="Hearth sim", manufacturer="Hearth", version="1.0"
        )
        self.state.network_info = self.stick.network_info.replace(
            children=[
                d.ieee for d in self.stick.air.devices.values() if d.network == self.stick.network
            ],
            nwk_addresses={
                d.ieee: d.nwk
                for d in self.stick.air.devices.values()
                if d.network == self.stick.network and d.nwk is not None
            },
        )

    async def reset_network_info(self) -> None:
        self.stick.network_info = None
        self.stick.node_info = None

    async def _watchdog_feed(self) -> None:
        if not self.stick.plugged:
            raise ConnectionResetError(f"{self.stick.path}: radio unplugged")
