"""The SwitchBot Color Bulb end to end: hub service -> bleak GATT client -> mock bulb firmware."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from hub.const import STATE_UNAVAILABLE
from hub.core import Hub
from hub.errors import DeviceUnavailable
from hub.services import Target
from hub.states import State
from integrations.ble import switchbot_bulb as proto

from .bluez_mock import BlueZMock
from .helpers import state_of, wait_for, wait_state

MakeHub = Callable[..., Awaitable[Hub]]
BULB = "C4:7C:8D:00:00:10"


def _bulb(name: str = "Desk Lamp") -> dict[str, object]:
    return {"devices": [{"address": BULB, "kind": "switchbot_bulb", "name": name}]}


async def _light_on(hub: Hub, **data: object) -> None:
    entity_id = _entity_id(hub)
    await hub.services.async_call("light", "turn_on", data, target=Target(entity_ids=(entity_id,)))


def _entity_id(hub: Hub) -> str:
    state = state_of(hub, BULB, "light")
    assert state is not None
    return state.entity_id


def _light(hub: Hub) -> State:
    state = state_of(hub, BULB, "light")
    assert state is not None
    return state


async def test_bulb_is_controlled_through_bleak(bluez: BlueZMock, make_hub: MakeHub) -> None:
    await bluez.add_bulb(BULB)
    hub = await make_hub(_bulb())
    await wait_state(hub, BULB, "light", "off")  # connected, and the bulb reported its state
    assert await bluez.bulb_writes(BULB) == [proto.STATUS_REQUEST]

    await _light_on(hub, rgb_color=[255, 0, 0], brightness=128)
    assert await bluez.bulb_state(BULB) == {
        "on": True,
        "level": 50,
        "rgb": [255, 0, 0],
        "kelvin": 2700,
        "mode": 2,
    }
    light = _light(hub)
    assert light.state == "on"
    assert light.attributes["rgb_color"] == [255, 0, 0]
    assert light.attributes["color_mode"] == "rgb"
    assert light.attributes["brightness"] == 128  # 50 % as the bulb reported it

    await _light_on(hub, color_temp_kelvin=4000, brightness_pct=20)
    assert (await bluez.bulb_state(BULB))["kelvin"] == 4000
    assert _light(hub).attributes["color_temp_kelvin"] == 4000
    assert _light(hub).attributes["brightness"] == 51

    await hub.services.async_call("light", "turn_off", target=Target(entity_ids=(_entity_id(hub),)))
    assert (await bluez.bulb_state(BULB))["on"] is False
    assert _light(hub).state == "off"
    await hub.services.async_call("light", "toggle", target=Target(entity_ids=(_entity_id(hub),)))
    assert (await bluez.bulb_state(BULB))["on"] is True

    # The exact bytes the open API specifies went over GATT.
    assert await bluez.bulb_writes(BULB) == [
        proto.STATUS_REQUEST,
        bytes.fromhex("570f4701 12 32 ff0000"),  # level 50 %, red
        bytes.fromhex("570f4701 13 14 0fa0"),  # level 20 %, 4000 K
        bytes.fromhex("570f4701 02"),  # off
        bytes.fromhex("570f4701 01"),  # on
    ]


async def test_link_drop_goes_unavailable_and_reconnects(
    bluez: BlueZMock, make_hub: MakeHub
) -> None:
    await bluez.add_bulb(BULB)
    hub = await make_hub(_bulb())
    await wait_state(hub, BULB, "light", "off")
    assert await bluez.connect_count(BULB) == 1

    await bluez.refuse_connect(BULB, True)  # out of range: reconnect attempts fail for a while
    await bluez.drop_link(BULB)
    await wait_state(hub, BULB, "light", STATE_UNAVAILABLE)
    with pytest.raises(DeviceUnavailable):
        await _light_on(hub)

    await bluez.refuse_connect(BULB, False)  # back in range
    await wait_state(hub, BULB, "light", "off")
    assert await bluez.connect_count(BULB) == 2
    await _light_on(hub, brightness=255)
    assert await bluez.bulb_state(BULB) == {
        "on": True,
        "level": 100,
        "rgb": [255, 255, 255],
        "kelvin": 2700,
        "mode": 1,
    }
    assert _light(hub).state == "on"


async def test_adverts_follow_changes_made_elsewhere(bluez: BlueZMock, make_hub: MakeHub) -> None:
    await bluez.add_bulb(BULB)
    hub = await make_hub(_bulb())
    await wait_state(hub, BULB, "light", "off")
    mac = bytes.fromhex(BULB.replace(":", ""))
    # The bulb's app switched it on at 30 %: the broadcast says so (sequence 9, power bit, level).
    await bluez.advertise(
        BULB, manufacturer={proto.COMPANY_ID: mac + bytes([9, 0x80 | 30, 2, 0, 0])}
    )
    light = await wait_state(hub, BULB, "light", "on")
    assert light.attributes["brightness"] == round(30 * 255 / 100)


async def test_bulb_never_seen_stays_unavailable(bluez: BlueZMock, make_hub: MakeHub) -> None:
    hub = await make_hub(_bulb())
    light = _light(hub)
    assert light.state == STATE_UNAVAILABLE
    with pytest.raises(DeviceUnavailable):
        await _light_on(hub)
    # It appears later: the link comes up on its own.
    await bluez.add_bulb(BULB)
    await wait_for(lambda: _light(hub).state == "off", "the bulb to connect once it advertised")
