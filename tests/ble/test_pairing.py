"""Pairing through the hub's pairing manager: scan, pick, bind key, added and remembered."""

from __future__ import annotations

import json
import stat
from collections.abc import Awaitable, Callable
from typing import Any

from hub.core import Hub
from hub.integration import PairingProgress

from .adverts import BTHOME_UUID, MIBEACON_UUID, bthome_objects, bthome_v2, mibeacon_temp_humidity
from .bluez_mock import BlueZMock
from .helpers import ble_entity, wait_state

MakeHub = Callable[..., Awaitable[Hub]]
PLAIN = "A4:C1:38:00:00:21"
SECRET = "A4:C1:38:00:00:22"
XIAOMI = "58:2D:34:00:00:23"
BULB = "C4:7C:8D:00:00:24"
OTHER = "11:22:33:44:55:66"
KEY = "e9ea895fac7cca6d30532432a516f3a8"


async def _pair(hub: Hub, **kwargs: Any) -> list[PairingProgress]:
    session = hub.pairing.async_start(["ble"], **kwargs)
    return [step async for step in hub.pairing.async_iterate(session)]


async def _advertise_all(bluez: BlueZMock) -> None:
    plain = bthome_v2(bthome_objects(temperature=20.5, humidity=44.0))
    sealed = bthome_v2(
        bthome_objects(temperature=17.0), key=bytes.fromhex(KEY), mac=SECRET, counter=3
    )
    await bluez.add_device(PLAIN, name="Hall sensor", service_data={BTHOME_UUID: plain}, rssi=-50)
    await bluez.add_device(
        SECRET, name="Bedroom sensor", service_data={BTHOME_UUID: sealed}, rssi=-55
    )
    await bluez.add_device(
        XIAOMI,
        name="MJ_HT_V1",
        service_data={MIBEACON_UUID: mibeacon_temp_humidity(XIAOMI, 1, 21.0, 50.0)},
    )
    await bluez.add_bulb(BULB, "Desk Lamp")
    await bluez.add_device(
        OTHER, name="Someone's phone", manufacturer={0x004C: b"\x10\x05\x01"}, rssi=-40
    )
    for address in (PLAIN, SECRET, XIAOMI, BULB, OTHER):
        await bluez.start_beacon(address, 0.2)


async def test_scan_session_lists_what_was_recognised(bluez: BlueZMock, make_hub: MakeHub) -> None:
    hub = await make_hub()
    await _advertise_all(bluez)
    steps = await _pair(hub, duration=1.0)
    assert steps[0].stage == "searching"
    found = {s.candidate.id: s for s in steps if s.stage == "found" and s.candidate}
    assert set(found) == {PLAIN, SECRET, XIAOMI, BULB, OTHER}
    plain = found[PLAIN].candidate
    assert plain is not None and plain.needs == ()
    assert plain.details["kind"] == "bthome"
    assert plain.details["readings"] == {"temperature": 20.5, "humidity": 44.0}
    secret = found[SECRET].candidate
    assert secret is not None and secret.needs == ("bind_key",)
    assert secret.details["readings"] == {}  # nothing readable without the key
    assert "needs its bind key" in found[SECRET].message
    xiaomi = found[XIAOMI].candidate
    assert xiaomi is not None and (xiaomi.manufacturer, xiaomi.model) == ("Xiaomi", "LYWSDCGQ")
    bulb = found[BULB].candidate
    assert bulb is not None and (bulb.manufacturer, bulb.model) == ("SwitchBot", "Color Bulb")
    other = found[OTHER].candidate
    assert other is not None and other.details["kind"] is None
    assert "not a supported device" in found[OTHER].message
    # Recognised devices come first, nearest first; the unknown phone is last despite -40 dBm.
    order = [s.candidate.id for s in steps if s.stage == "found" and s.candidate]
    assert order[-1] == OTHER and order[0] == PLAIN
    assert any(s.stage == "done" for s in steps)
    assert hub.entities.for_integration("ble") == []  # scanning adds nothing


async def test_bind_key_missing_wrong_then_right(bluez: BlueZMock, make_hub: MakeHub) -> None:
    hub = await make_hub({"verify_wait": 10})
    await _advertise_all(bluez)

    steps = await _pair(hub, candidate_id=SECRET)
    assert not any(s.stage == "ready" for s in steps)
    failed = next(s for s in steps if s.stage == "failed")
    assert "enter its bind key" in failed.message

    failed = next(
        s
        for s in await _pair(hub, candidate_id=SECRET, options={"bind_key": "00" * 16})
        if s.stage == "failed"
    )
    assert "does not decrypt" in failed.message

    failed = next(
        s
        for s in await _pair(hub, candidate_id=SECRET, options={"bind_key": "xyz"})
        if s.stage == "failed"
    )
    assert "not valid" in failed.message and "hexadecimal" in failed.message
    assert ble_entity(hub, SECRET, "temperature") is None

    steps = await _pair(
        hub, candidate_id=SECRET, options={"bind_key": KEY.upper(), "name": "Bedroom"}
    )
    ready = next(s for s in steps if s.stage == "ready")
    assert ready.suggested_name == "Bedroom"
    assert len(ready.entity_ids) == 1
    state = hub.states.get(ready.entity_ids[0])
    assert state is not None and state.state == "17.0"

    # Remembered across a restart, key included, in a file only the hub's user can read.
    store = hub.config_dir / ".storage" / "ble_devices.json"
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    saved = json.loads(store.read_text())["devices"]
    assert saved == [
        {"address": SECRET, "kind": "bthome", "name": "Bedroom", "bind_key": KEY.upper()}
    ]
    config_dir = hub.config_dir
    await hub.async_stop()
    hub2 = await make_hub({"verify_wait": 10}, config_dir=config_dir)
    sealed = bthome_v2(
        bthome_objects(temperature=16.5), key=bytes.fromhex(KEY), mac=SECRET, counter=4
    )
    await bluez.advertise(SECRET, service_data={BTHOME_UUID: sealed})
    state2 = await wait_state(hub2, SECRET, "temperature", "16.5")
    assert state2.entity_id == ready.entity_ids[0]  # same entity id after the restart


async def test_pair_plain_sensor_and_bulb(bluez: BlueZMock, make_hub: MakeHub) -> None:
    hub = await make_hub({"verify_wait": 10})
    await _advertise_all(bluez)
    ready = next(s for s in await _pair(hub, candidate_id=PLAIN) if s.stage == "ready")
    assert sorted(hub.states.get(e).state for e in ready.entity_ids) == ["20.5", "44.0"]  # type: ignore[union-attr]
    again = next(s for s in await _pair(hub, candidate_id=PLAIN.lower()) if s.stage == "ready")
    assert again.entity_ids == ready.entity_ids  # pairing twice keeps the same entities
    ready = next(s for s in await _pair(hub, candidate_id=BULB) if s.stage == "ready")
    assert ready.entity_ids and ready.entity_ids[0].startswith("light.")
    await wait_state(hub, BULB, "light", "off")
    again = next(s for s in await _pair(hub, candidate_id=BULB) if s.stage == "ready")
    assert again.entity_ids == ready.entity_ids
    assert len(hub.entities.for_integration("ble")) == 3
    failed = next(s for s in await _pair(hub, candidate_id=OTHER) if s.stage == "failed")
    assert "not a supported device" in failed.message
    failed = next(
        s for s in await _pair(hub, candidate_id="AA:AA:AA:AA:AA:AA") if s.stage == "failed"
    )
    assert "not a supported device" in failed.message
