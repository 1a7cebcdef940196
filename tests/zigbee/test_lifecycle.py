"""Remove a device, pair it again, and a device re-joining: ids and user names survive."""

from __future__ import annotations

from typing import Any

import zigpy.types as t
import zigpy.zdo.types as zdo_t
from zigpy.zcl.clusters.general import OnOff

from hub.const import EVENT_DEVICE_LEFT
from integrations.zigbee.sim import VirtualDevice
from integrations.zigbee.sim.profiles import make_device

from .conftest import Home, wait_for


async def _rename(home: Home, vdev: VirtualDevice, device_name: str, light_name: str) -> str:
    device_id = home.device_id(vdev)
    await home.hub.registry.devices.async_update(device_id, name_by_user=device_name)
    light = home.entity(vdev, "light")
    await home.hub.registry.entities.async_update(light, name_by_user=light_name)
    return device_id


def _names(home: Home, vdev: VirtualDevice) -> tuple[str | None, dict[str, str | None]]:
    device = home.hub.registry.devices.get(home.device_id(vdev))
    assert device is not None
    entities = {}
    for entity_id in home.entity_ids(vdev):
        entry = home.hub.registry.entities.get(entity_id)
        assert entry is not None
        entities[entity_id] = entry.name_by_user
    return device.name_by_user, entities


async def test_remove_then_pair_again_keeps_ids_and_names(home: Home) -> None:
    bulb, other = make_device("colour_bulb"), make_device("metering_plug")
    await home.pair(bulb, other)
    device_id = await _rename(home, bulb, "Reading lamp", "Lamp")
    names = _names(home, bulb)
    light = home.entity(bulb, "light")

    await home.zigbee.async_remove_device(device_id)
    # The device was told to leave with a real ZDO frame, and left the network.
    nwk = bulb.nwk
    await wait_for(lambda: not bulb.is_joined)
    leaves = [p for p in home.stick.sent if p.cluster_id == zdo_t.ZDOCmd.Mgmt_Leave_req]
    assert leaves and leaves[-1].dst is not None and leaves[-1].dst.address == nwk
    app = home.zigbee.gateway.app
    assert app is not None and bulb.ieee not in app.devices
    assert bulb.ieee not in home.zigbee.gateway.entities
    assert home.hub.states.get(light) is None
    assert home.hub.entities.get(light) is None
    # The other device is untouched.
    switch = home.entity(other, "switch")
    await home.call("switch", "turn_on", switch)
    await home.until_state(switch, "on")

    # Paired again (after a factory reset): same device id, entity ids and names.
    steps = await home.pair(bulb)
    ready = [s for s in steps if s.stage == "ready"]
    assert ready[0].device_id == device_id and light in ready[0].entity_ids
    assert _names(home, bulb) == names
    assert home.hub.registry.entities.get(light) is not None
    await home.call("light", "turn_on", light)
    await home.until_state(light, "on")
    assert bulb.get(OnOff.cluster_id, "on_off")
    state = home.state(light)
    assert state.attributes["friendly_name"] == "Lamp"


async def test_rejoin_keeps_entities_and_names(home: Home) -> None:
    bulb = make_device("colour_bulb")
    await home.pair(bulb)
    await _rename(home, bulb, "Hall light", "Hall")
    names = _names(home, bulb)
    entities_before = list(home.zigbee.gateway.entities[bulb.ieee])
    light = home.entity(bulb, "light")
    progress: list[Any] = []
    home.zigbee.gateway.progress_listeners.append(progress.append)

    # A power cut: the device comes back at its old address and announces itself.
    home.air.remove(bulb)
    home.air.add(bulb)
    home.air.rejoin(bulb, home.stick)
    await home.call("light", "turn_on", light)
    await home.until_state(light, "on")

    # A rejoin through another parent at a new address, with no permit-join open: zigpy
    # interviews it again; Hearth reconfigures it and keeps the same entities and names.
    bulb.nwk = t.NWK(0x7777)
    home.air.rejoin(bulb, home.stick)
    await wait_for(lambda: any(p.stage == "ready" for p in progress))
    assert [p.stage for p in progress] == ["joined", "interviewing", "configured", "ready"]
    ready = progress[-1]
    assert ready.device_id == home.device_id(bulb) and light in ready.entity_ids
    assert home.zigbee.gateway.entities[bulb.ieee] == entities_before  # the same objects
    assert _names(home, bulb) == names
    await home.call("light", "turn_off", light)
    await home.until_state(light, "off")
    assert home.frames_to(bulb, OnOff.cluster_id)[-1][0].command_id == 0x00


async def test_device_leaving_on_its_own_is_reported_and_can_come_back(home: Home) -> None:
    plug = make_device("metering_plug")
    await home.pair(plug)
    switch = home.entity(plug, "switch")
    left: list[Any] = []
    home.hub.bus.async_listen(EVENT_DEVICE_LEFT, left.append)
    home.air.leave(plug)  # someone held the reset button
    await wait_for(lambda: bool(left))
    assert left[0].data == {"integration": "zigbee", "ieee": str(plug.ieee)}
    await home.until_state(switch, "unavailable")
    steps = await home.pair(plug)
    assert [s.stage for s in steps].count("ready") == 1
    assert home.entity(plug, "switch") == switch
    await home.call("switch", "turn_on", switch)
    await home.until_state(switch, "on")


async def test_reinterview_rebinds_entities_to_zigpys_new_device_object(home: Home) -> None:
    bulb = make_device("dimmable_bulb")
    await home.pair(bulb)
    light = home.entity(bulb, "light")
    app = home.zigbee.gateway.app
    assert app is not None
    old = app.devices[bulb.ieee]
    await app.reinterview_device(bulb.ieee)
    await wait_for(lambda: app.devices[bulb.ieee] is not old)
    await wait_for(
        lambda: (
            all(
                getattr(e, "zdevice", None) is app.devices[bulb.ieee]
                for e in home.zigbee.gateway.entities.get(bulb.ieee, [])
            )
            and home.hub.entities.get(light) is not None
        )
    )
    assert home.entity(bulb, "light") == light
    # Reports arrive on the new object's clusters; the entity follows them.
    bulb.set_attribute(OnOff.cluster_id, "on_off", True, force_report=True)
    await home.until_state(light, "on")
    await home.call("light", "turn_off", light)
    await home.until_state(light, "off")
