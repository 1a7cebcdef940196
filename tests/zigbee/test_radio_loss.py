"""The stick unplugged at run time: detected, reported, retried with backoff, back without pairing."""

from __future__ import annotations

from typing import Any

import pytest
from zigpy.zcl.clusters.general import OnOff

from hub.const import EVENT_DEVICE_UNAVAILABLE
from hub.errors import DeviceUnavailable
from integrations.zigbee.sim.profiles import make_device

from .conftest import HomeFactory, wait_for


async def test_unplug_is_reported_retried_with_backoff_and_network_returns(
    make_home: HomeFactory,
) -> None:
    home = await make_home(reconnect_max=0.4)
    plug, bulb = make_device("metering_plug"), make_device("dimmable_bulb")
    await home.pair(plug, bulb)
    switch, light = home.entity(plug, "switch"), home.entity(bulb, "light")
    ids_before = home.entity_ids(plug) | home.entity_ids(bulb)
    gateway = home.zigbee.gateway
    lost: list[Any] = []
    home.hub.bus.async_listen(EVENT_DEVICE_UNAVAILABLE, lost.append)

    home.stick.unplug()
    await wait_for(lambda: bool(lost))
    assert lost[0].data["reason"] == "radio lost"
    assert not gateway.connected.is_set()
    await home.until_state(switch, "unavailable")
    await home.until_state(light, "unavailable")
    # Commands while the radio is gone fail cleanly instead of hanging or crashing.
    with pytest.raises(DeviceUnavailable):
        await home.call("switch", "turn_on", switch)
    # Several attempts fail while it is out, waiting longer each time up to reconnect_max.
    await wait_for(lambda: len(gateway.reconnect_delays) >= 4)
    delays = list(gateway.reconnect_delays)
    assert delays == sorted(delays) and delays[0] < delays[-1] == 0.4
    assert gateway.reconnects == 0
    assert home.hub.state == "running"

    home.stick.plug()
    await wait_for(lambda: gateway.connected.is_set())
    assert gateway.reconnects == 1
    # Same devices, same entities, no pairing: commands reach the devices again.
    assert home.entity_ids(plug) | home.entity_ids(bulb) == ids_before
    await home.until_state(switch, "off")
    await home.call("switch", "turn_on", switch)
    await home.until_state(switch, "on")
    assert plug.get(OnOff.cluster_id, "on_off")
    bulb.set_attribute(OnOff.cluster_id, "on_off", True)  # reports flow again too
    await home.until_state(light, "on")


async def test_radio_missing_at_start_keeps_retrying_until_it_appears(
    make_home: HomeFactory,
) -> None:
    home = await make_home()
    bulb = make_device("colour_bulb")
    await home.pair(bulb)
    light = home.entity(bulb, "light")
    gateway = home.zigbee.gateway
    # Unplugged twice in a row, including during a reconnect attempt.
    home.stick.unplug()
    await wait_for(lambda: len(gateway.reconnect_delays) >= 2)
    home.stick.unplug()
    assert gateway.reconnects == 0
    home.stick.plug()
    await wait_for(lambda: gateway.reconnects == 1)
    await home.until_state(light, "off")
    await home.call("light", "turn_on", light)
    await home.until_state(light, "on")
