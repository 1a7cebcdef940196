"""BTHome and Xiaomi sensors through the hub: real bleak scanner, mock BlueZ, real parsers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import pytest

from hub.const import STATE_UNAVAILABLE
from hub.core import Hub

from .adverts import BTHOME_UUID, MIBEACON_UUID, bthome_objects, bthome_v2, mibeacon_temp_humidity
from .bluez_mock import BlueZMock
from .helpers import ble_entity, state_of, wait_for, wait_state

MakeHub = Callable[..., Awaitable[Hub]]
PLAIN = "A4:C1:38:00:00:01"
SECRET = "A4:C1:38:00:00:02"
XIAOMI = "58:2D:34:00:00:03"
KEY = "231d39c1d7cc1ab1aee224cd096db932"


def _device(address: str, kind: str, name: str, bind_key: str | None = None) -> dict[str, str]:
    out = {"address": address, "kind": kind, "name": name}
    if bind_key:
        out["bind_key"] = bind_key
    return out


async def test_plain_bthome_values_update_and_go_unavailable(
    bluez: BlueZMock, make_hub: MakeHub
) -> None:
    hub = await make_hub(
        {"devices": [_device(PLAIN, "bthome", "Kitchen")], "unavailable_after": 1.0}
    )
    objects = bthome_objects(packet_id=1, battery=87, temperature=21.55, humidity=40.5, motion=True)
    await bluez.add_device(PLAIN, name="Kitchen", service_data={BTHOME_UUID: bthome_v2(objects)})
    temperature = await wait_state(hub, PLAIN, "temperature", "21.55")
    assert temperature.attributes["unit_of_measurement"] == "°C"
    assert temperature.attributes["device_class"] == "temperature"
    assert (await wait_state(hub, PLAIN, "humidity", "40.5")).attributes[
        "unit_of_measurement"
    ] == "%"
    assert (await wait_state(hub, PLAIN, "battery", "87")).domain == "sensor"
    motion = await wait_state(hub, PLAIN, "motion", "on")
    assert motion.domain == "binary_sensor"
    assert ble_entity(hub, PLAIN, "packet_id") is None  # a link counter, not a reading

    # A changed advert updates the states.
    objects = bthome_objects(packet_id=2, battery=86, temperature=-3.2, humidity=41.0, motion=False)
    await bluez.advertise(PLAIN, service_data={BTHOME_UUID: bthome_v2(objects)})
    await wait_state(hub, PLAIN, "temperature", "-3.2")
    await wait_state(hub, PLAIN, "motion", "off")
    assert state_of(hub, PLAIN, "battery").state == "86"  # type: ignore[union-attr]

    # Silence: every entity of the device goes unavailable after the timeout...
    for key in ("temperature", "humidity", "battery", "motion"):
        await wait_state(hub, PLAIN, key, STATE_UNAVAILABLE)
    device = hub.registry.devices.get(ble_entity(hub, PLAIN, "temperature").device_id)  # type: ignore[union-attr, arg-type]
    assert device is not None and device.name == "Kitchen"

    # ...and comes back with the next advert.
    objects = bthome_objects(packet_id=3, temperature=5.0)
    await bluez.advertise(PLAIN, service_data={BTHOME_UUID: bthome_v2(objects)})
    await wait_state(hub, PLAIN, "temperature", "5.0")


async def test_a_beaconing_device_stays_available(bluez: BlueZMock, make_hub: MakeHub) -> None:
    hub = await make_hub({"devices": [_device(PLAIN, "bthome", "Hall")], "unavailable_after": 1.0})
    payload = bthome_v2(bthome_objects(temperature=20.0))
    await bluez.add_device(PLAIN, service_data={BTHOME_UUID: payload})
    await bluez.start_beacon(PLAIN, 0.2)
    await wait_state(hub, PLAIN, "temperature", "20.0")
    seen: list[str] = []
    entity_id = ble_entity(hub, PLAIN, "temperature").entity_id  # type: ignore[union-attr]
    hub.bus.async_listen(
        "state_changed",
        lambda e: seen.append(e.data["new_state"].state),
        lambda e: e.data["entity_id"] == entity_id,
    )
    # Four times the timeout with the beacon running: never unavailable.
    integration = hub.integrations["ble"]
    sensor = integration.sensors[PLAIN]  # type: ignore[attr-defined]
    stamp = sensor.last_seen
    await wait_for(partial(_moved_on, sensor, stamp), "a repeated advert")
    for _ in range(4):
        stamp = sensor.last_seen
        await wait_for(partial(_moved_on, sensor, stamp), "a repeated advert")
    await bluez.stop_beacon(PLAIN)
    await wait_state(hub, PLAIN, "temperature", STATE_UNAVAILABLE)
    assert STATE_UNAVAILABLE not in seen[:-1]


def _moved_on(sensor: Any, stamp: float | None) -> bool:
    return bool(sensor.last_seen != stamp)


async def test_encrypted_bthome_with_the_right_key(bluez: BlueZMock, make_hub: MakeHub) -> None:
    hub = await make_hub({"devices": [_device(SECRET, "bthome", "Bedroom", KEY)]})
    key = bytes.fromhex(KEY)
    payload = bthome_v2(
        bthome_objects(temperature=19.25, humidity=55.0), key=key, mac=SECRET, counter=7
    )
    await bluez.add_device(SECRET, service_data={BTHOME_UUID: payload})
    await wait_state(hub, SECRET, "temperature", "19.25")
    await wait_state(hub, SECRET, "humidity", "55.0")
    payload = bthome_v2(
        bthome_objects(temperature=18.0, humidity=56.0), key=key, mac=SECRET, counter=8
    )
    await bluez.advertise(SECRET, service_data={BTHOME_UUID: payload})
    await wait_state(hub, SECRET, "temperature", "18.0")


async def test_wrong_key_and_plaintext_downgrade_are_logged_not_crashing(
    bluez: BlueZMock, make_hub: MakeHub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    wrong = "00" * 16
    hub = await make_hub(
        {
            "devices": [
                _device(SECRET, "bthome", "Bedroom", wrong),
                _device(PLAIN, "bthome", "Hall", KEY),
                _device(XIAOMI, "xiaomi", "Study", "not-hex"),
            ]
        }
    )
    key = bytes.fromhex(KEY)
    sealed = bthome_v2(bthome_objects(temperature=19.25), key=key, mac=SECRET, counter=1)
    await bluez.add_device(SECRET, service_data={BTHOME_UUID: sealed})
    # A device configured with a key that sends plaintext is an attempted downgrade: ignored.
    await bluez.add_device(
        PLAIN, service_data={BTHOME_UUID: bthome_v2(bthome_objects(temperature=1.0))}
    )
    await wait_for(lambda: "the bind key is wrong" in caplog.text, "the wrong-key warning")
    await wait_for(lambda: "plaintext" in caplog.text, "the downgrade warning")
    assert "malformed bind key" in caplog.text  # the Xiaomi entry was skipped at setup
    assert ble_entity(hub, SECRET, "temperature") is None
    assert ble_entity(hub, PLAIN, "temperature") is None
    assert hub.state == "running" and "ble" in hub.integrations


async def test_xiaomi_mibeacon(bluez: BlueZMock, make_hub: MakeHub) -> None:
    hub = await make_hub({"devices": [_device(XIAOMI, "xiaomi", "Study")]})
    data = mibeacon_temp_humidity(XIAOMI, 1, 22.3, 51.0)
    await bluez.add_device(XIAOMI, name="MJ_HT_V1", service_data={MIBEACON_UUID: data})
    await wait_state(hub, XIAOMI, "temperature", "22.3")
    await wait_state(hub, XIAOMI, "humidity", "51.0")
    entity = ble_entity(hub, XIAOMI, "temperature")
    device = hub.registry.devices.get(entity.device_id)  # type: ignore[union-attr, arg-type]
    assert device is not None and device.model == "LYWSDCGQ" and device.manufacturer == "Xiaomi"
    await bluez.advertise(
        XIAOMI, service_data={MIBEACON_UUID: mibeacon_temp_humidity(XIAOMI, 2, 23.1, 50.0)}
    )
    await wait_state(hub, XIAOMI, "temperature", "23.1")


MALFORMED = [
    b"",  # empty
    b"\x40",  # header only
    b"\x40\x02",  # object id without its value
    b"\x40\x02\xc4",  # truncated int16
    b"\x41\x01\x02",  # encrypted flag, too short for counter and MIC
    b"\x60\x02\xc4\x09",  # BTHome version 3 does not exist
    b"\x40\xff\xff\xff",  # unknown object id
    bytes(range(256)) * 2,  # oversized garbage
]


async def test_malformed_adverts_over_the_bus_are_logged_and_survived(
    bluez: BlueZMock, make_hub: MakeHub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="integrations.ble")
    hub = await make_hub(
        {"devices": [_device(PLAIN, "bthome", "Kitchen"), _device(XIAOMI, "xiaomi", "Study")]}
    )
    await bluez.add_device(PLAIN, service_data={BTHOME_UUID: b"\x40\x02\x00\x01"})
    await wait_state(hub, PLAIN, "temperature", "2.56")
    await bluez.add_device(XIAOMI, service_data={MIBEACON_UUID: b"\x50"})
    for packet_id, payload in enumerate(MALFORMED, start=10):
        await bluez.advertise(PLAIN, service_data={BTHOME_UUID: payload}, rssi=-60 - packet_id)
        await bluez.advertise(
            XIAOMI, service_data={MIBEACON_UUID: payload[:40]}, rssi=-60 - packet_id
        )
    await wait_for(
        lambda: "Ignoring malformed bthome advert" in caplog.text, "the malformed-advert log"
    )
    # The integration still works: a good advert after all that garbage is parsed.
    good = bthome_v2(bthome_objects(packet_id=99, temperature=23.0))
    await bluez.advertise(PLAIN, service_data={BTHOME_UUID: good})
    await wait_state(hub, PLAIN, "temperature", "23.0")
    await bluez.advertise(
        XIAOMI, service_data={MIBEACON_UUID: mibeacon_temp_humidity(XIAOMI, 5, 20.5, 40.0)}
    )
    await wait_state(hub, XIAOMI, "temperature", "20.5")
