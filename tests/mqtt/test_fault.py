"""Fault tests: the broker killed (SIGKILL) and restarted, the hub and broker lost together."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from hub.bus import Event
from hub.core import Hub
from integrations.mqtt.entity import EVENT_COMMAND_LOST
from integrations.mqtt.sim_device import SimRelay
from tests.conftest import HubFactory
from tests.mosquitto import Mosquitto

from .conftest import integration, mqtt_config
from .helpers import Inbox, device_client, state_of, wait_until


async def _adopted(hub: Hub, unique_id: str) -> str:
    manager = integration(hub).discovery
    assert manager is not None

    def find() -> str | None:
        for entity in manager.entities.values():
            if entity.unique_id == unique_id and entity.entity_id is not None:
                return entity.entity_id
        return None

    return await wait_until(find, what=f"entity {unique_id}")


async def _call(hub: Hub, service: str, eid: str) -> Any:
    result = await hub.services.async_call("switch", service, {}, target={"entity_id": eid})
    return result["entities"][eid]["delivery"]


async def test_broker_killed_three_times_every_command_arrives_once(
    hub_factory: HubFactory, mosquitto: Mosquitto
) -> None:
    hub = await hub_factory(mqtt=mqtt_config(mosquitto, command_expiry=120))
    mqtt = integration(hub)
    # A clean-session device: the broker keeps nothing for it, so only the hub's holding
    # commands until the device is back (its live "online") can deliver them.
    relay = SimRelay(mosquitto.host, mosquitto.port, "hall")
    await relay.async_start()
    eid = await _adopted(hub, "hall_relay")
    await wait_until(lambda: state_of(hub, eid).state == "off", what="relay off")
    assert await _call(hub, "turn_on", eid) == "delivered"
    expected = ["ON"]
    await wait_until(lambda: relay.commands == expected, what="first command")

    for round_no in range(3):
        await asyncio.sleep(1.5)  # mosquitto saves once a second
        await mosquitto.async_stop(graceful=False)  # SIGKILL: nothing is flushed at exit
        await wait_until(lambda: not mqtt.client.connected, what="hub notices")
        for service in ("turn_off", "turn_on"):
            assert await _call(hub, service, eid) == "queued", round_no
            expected.append("ON" if service == "turn_on" else "OFF")
        await mosquitto.async_start()
        await wait_until(lambda: relay.commands == expected, 60, f"round {round_no} commands")
    # Exactly once: nothing more arrives once everything was released.
    await asyncio.sleep(1.0)
    assert relay.commands == expected
    await wait_until(lambda: state_of(hub, eid).state == "on", what="state follows")

    # Retained discovery survived the kills (the broker's persistence or the hub's copy).
    observer = await device_client(mosquitto.host, mosquitto.port)
    seen = Inbox()
    observer.async_subscribe(relay.config_topic, seen, qos=1)
    await wait_until(lambda: seen.messages and seen.messages[0].retain, what="retained config")
    await observer.async_stop()
    await relay.async_stop()


async def test_command_expires_instead_of_arriving_late(
    hub_factory: HubFactory, mosquitto: Mosquitto
) -> None:
    hub = await hub_factory(mqtt=mqtt_config(mosquitto, command_expiry=3))
    mqtt = integration(hub)
    relay = SimRelay(mosquitto.host, mosquitto.port, "door")
    await relay.async_start()
    eid = await _adopted(hub, "door_relay")
    lost: list[Event] = []
    hub.bus.async_listen(EVENT_COMMAND_LOST, lost.append)
    await asyncio.sleep(1.5)
    await mosquitto.async_stop(graceful=False)
    await wait_until(lambda: not mqtt.client.connected, what="hub notices")
    assert await _call(hub, "turn_on", eid) == "queued"
    await wait_until(lambda: lost, what="expiry reported")
    assert lost[0].data["reason"] == "expired"
    assert lost[0].data["entity_id"] == eid
    await mosquitto.async_start()
    await relay.client.async_wait_connected(30)
    # The device is back and commandable, and the stale command never came.
    await wait_until(lambda: mqtt.client.ready, what="hub back")
    await wait_until(lambda: state_of(hub, eid).state == "off", what="available again")
    assert await _call(hub, "turn_off", eid) in ("delivered", "queued")
    await wait_until(lambda: relay.commands == ["OFF"], what="fresh command only")
    await relay.async_stop()


async def test_hub_and_broker_lost_together_entities_come_back(
    hub_factory: HubFactory, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    config_dir = tmp_path / "home"
    hub = await hub_factory(config_dir=config_dir, mqtt=mqtt_config(mosquitto))
    relay = SimRelay(mosquitto.host, mosquitto.port, "porch")
    await relay.async_start()
    eid = await _adopted(hub, "porch_relay")
    copy = config_dir / "mqtt_discovery.json"
    await wait_until(lambda: copy.exists() and b"porch" in copy.read_bytes(), what="hub copy")

    # Both go away; the broker comes back with nothing retained (its file lost too).
    await mosquitto.async_stop(graceful=False)
    await relay.async_stop()
    await hub.async_stop()
    for leftover in mosquitto.workdir.glob("mosquitto.db*"):
        leftover.unlink()
    await mosquitto.async_start()

    hub2 = await hub_factory(config_dir=config_dir, mqtt=mqtt_config(mosquitto))
    # The entity is live again from the hub's own copy, before the device says anything.
    assert hub2.entities.get(eid) is not None
    relay2 = SimRelay(mosquitto.host, mosquitto.port, "porch")
    await relay2.async_start()
    await wait_until(lambda: state_of(hub2, eid).state == "off", what="porch back")
    assert not state_of(hub2, eid).attributes.get("restored")
    assert await _call(hub2, "turn_on", eid) == "delivered"
    await wait_until(lambda: relay2.commands == ["ON"], what="command after restart")
    await relay2.async_stop()
