"""Test helpers: waiting for conditions and a real MQTT client playing the devices."""

from __future__ import annotations

from typing import Any

from hub.core import Hub
from hub.states import State
from integrations.mqtt.client import BrokerSettings, MqttClient, ReceivedMessage
from tests.waiting import wait_until as wait_until  # the mqtt tests import it from here

WAIT = 30.0


class Inbox:
    """Collects messages delivered to a subscription."""

    def __init__(self) -> None:
        self.messages: list[ReceivedMessage] = []

    def __call__(self, message: ReceivedMessage) -> None:
        self.messages.append(message)

    def payloads(self, topic: str | None = None) -> list[str]:
        return [m.payload.decode() for m in self.messages if topic is None or m.topic == topic]

    async def wait_for(self, topic: str, payload: str, timeout: float = WAIT) -> None:
        await wait_until(lambda: payload in self.payloads(topic), timeout, f"{payload} on {topic}")


async def device_client(host: str, port: int, **kwargs: Any) -> MqttClient:
    """A connected client playing one or more appliances."""
    client = MqttClient(
        BrokerSettings(host=host, port=port, reconnect_min=0.1, reconnect_max=1.0, **kwargs)
    )
    await client.async_start()
    await client.async_wait_connected(WAIT)
    return client


async def subscribed(client: MqttClient, topic: str) -> Inbox:
    """Subscribe an Inbox and give the SUBACK time to land (a marker round trip)."""
    inbox = Inbox()
    client.async_subscribe(topic, inbox, qos=1)
    marker = Inbox()
    client.async_subscribe("test/marker", marker, qos=1)
    ack = client.async_publish("test/marker", "ping", qos=1)
    assert ack is not None
    await marker.wait_for("test/marker", "ping")
    return inbox


def state_of(hub: Hub, entity_id: str) -> State:
    """The entity's current state (failing the test if it has none)."""
    state = hub.states.get(entity_id)
    assert state is not None, f"{entity_id} has no state"
    return state
