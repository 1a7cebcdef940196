"""Fault test: the broker is killed and restarted while the hub is commanding a device."""

from __future__ import annotations

import asyncio

from hub.core import Hub
from integrations.mqtt.client import MqttClient
from tests.mosquitto import Mosquitto

from . import payloads
from .conftest import integration
from .helpers import Inbox, device_client, state_of, wait_until

COMMAND_TOPIC = "livingroom/switch/relay/command"
STATE_TOPIC = "livingroom/switch/relay/state"
STATUS_TOPIC = "livingroom/status"


async def test_broker_restart_loses_no_command(mqtt_hub: Hub, mosquitto: Mosquitto) -> None:
    # The relay keeps a persistent session, as a device should, so the broker holds commands
    # for it while it is still reconnecting.
    relay: MqttClient = await device_client(
        mosquitto.host, mosquitto.port, client_id="esp-relay", clean_session=False
    )
    commands = Inbox()
    relay.async_subscribe(COMMAND_TOPIC, commands, qos=1)
    await relay.async_wait_subscribed(30)
    relay.async_publish(STATUS_TOPIC, "online", qos=1, retain=True)
    relay.async_publish(STATE_TOPIC, "OFF", qos=1, retain=True)
    ack = relay.async_publish(
        payloads.ESPHOME_SWITCH["topic"], payloads.encoded(payloads.ESPHOME_SWITCH), 1, True
    )
    assert ack is not None
    await ack
    mqtt = integration(mqtt_hub)
    eid = await wait_until(
        lambda: next(iter(e.entity_id for e in mqtt.discovery.entities.values()), None),  # type: ignore[union-attr]
        what="relay entity",
    )
    await wait_until(lambda: state_of(mqtt_hub, eid).state == "off", what="relay off")
    # mosquitto saves its persistence file every second; let it record the relay's session.
    await asyncio.sleep(2.5)
    await mosquitto.async_stop(graceful=False)  # SIGKILL: nothing is flushed at exit
    await wait_until(lambda: not mqtt.client.connected, what="hub notices the broker is gone")

    sequence = ["turn_on", "turn_off", "turn_on", "turn_off", "turn_on"]
    for service in sequence:
        await mqtt_hub.services.async_call("switch", service, {}, target={"entity_id": eid})
    assert mqtt.client.queued == len(sequence)
    # The device's last word was "online": commands are still accepted (and queued).
    assert state_of(mqtt_hub, eid).state == "off"

    await mosquitto.async_start()
    await mqtt.client.async_wait_connected(60)
    await relay.async_wait_connected(60)
    expected = ["ON" if s == "turn_on" else "OFF" for s in sequence]
    await wait_until(lambda: commands.payloads(COMMAND_TOPIC) == expected, 60, "all commands")
    assert mqtt.client.queued == 0

    # Subscriptions came back: state and availability changes reach the entity again.
    await mqtt.client.async_wait_subscribed(30)
    relay.async_publish(STATE_TOPIC, "ON", qos=1, retain=True)
    await wait_until(lambda: state_of(mqtt_hub, eid).state == "on", what="state after restart")
    relay.async_publish(STATUS_TOPIC, "offline", qos=1, retain=True)
    await wait_until(lambda: state_of(mqtt_hub, eid).state == "unavailable", what="offline")
    relay.async_publish(STATUS_TOPIC, "online", qos=1, retain=True)
    await wait_until(lambda: state_of(mqtt_hub, eid).state == "on", what="back online")
    await relay.async_stop()
