"""The asyncio MQTT client against a real mosquitto: delivery, reconnect, queueing, will."""

from __future__ import annotations

import asyncio

import pytest

from integrations.mqtt.client import BrokerSettings, MqttClient, ReceivedMessage, Will
from tests.mosquitto import Mosquitto

WAIT = 30.0


def settings(broker: Mosquitto, **kwargs: object) -> BrokerSettings:
    return BrokerSettings(
        host=broker.host,
        port=broker.port,
        username=broker.username,
        password=broker.password,
        reconnect_min=0.1,
        reconnect_max=1.0,
        **kwargs,  # type: ignore[arg-type]
    )


async def started(broker: Mosquitto, **kwargs: object) -> MqttClient:
    client = MqttClient(settings(broker, **kwargs))
    await client.async_start()
    await client.async_wait_connected(WAIT)
    return client


class Inbox:
    def __init__(self) -> None:
        self.messages: list[ReceivedMessage] = []
        self._changed = asyncio.Event()

    def __call__(self, message: ReceivedMessage) -> None:
        self.messages.append(message)
        self._changed.set()

    async def wait_for(self, count: int) -> list[ReceivedMessage]:
        async def until() -> None:
            while len(self.messages) < count:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(until(), WAIT)
        return self.messages

    def payloads(self) -> list[bytes]:
        return [m.payload for m in self.messages]


async def test_publish_subscribe_roundtrip(mosquitto: Mosquitto) -> None:
    a = await started(mosquitto)
    b = await started(mosquitto)
    exact, wild = Inbox(), Inbox()
    b.async_subscribe("home/lamp/state", exact, qos=1)
    b.async_subscribe("home/+/state", wild)
    await asyncio.sleep(0.3)  # SUBACK in flight; the broker drops what arrives before it
    ack = a.async_publish("home/lamp/state", "ON", qos=1)
    assert ack is not None
    await asyncio.wait_for(ack, WAIT)
    a.async_publish("home/fan/state", b"\x00\xff", qos=0)
    await exact.wait_for(1)
    await wild.wait_for(2)
    assert exact.payloads() == [b"ON"]
    assert sorted(wild.payloads()) == sorted([b"ON", b"\x00\xff"])
    await a.async_stop()
    await b.async_stop()


@pytest.mark.allow_slow_callbacks("paho writes its whole out-queue in one writable callback")
async def test_many_messages_in_order(mosquitto: Mosquitto) -> None:
    a = await started(mosquitto)
    inbox = Inbox()
    a.async_subscribe("bulk/#", inbox)
    await asyncio.sleep(0.3)
    for i in range(3000):
        a.async_publish(f"bulk/{i % 7}", str(i))
    received = await inbox.wait_for(3000)
    assert [int(m.payload) for m in received] == list(range(3000))
    await a.async_stop()


async def test_unsubscribe_stops_delivery(mosquitto: Mosquitto) -> None:
    a = await started(mosquitto)
    kept, dropped = Inbox(), Inbox()
    a.async_subscribe("x/y", kept)
    unsub = a.async_subscribe("x/y", dropped)
    await asyncio.sleep(0.3)
    unsub()
    a.async_publish("x/y", "1", qos=1)
    await kept.wait_for(1)
    await asyncio.sleep(0.2)
    assert dropped.messages == []
    await a.async_stop()


async def test_broker_restart_keeps_qos1_and_subscriptions(mosquitto: Mosquitto) -> None:
    sender = await started(mosquitto)
    receiver = await started(mosquitto)
    inbox = Inbox()
    receiver.async_subscribe("cmd/#", inbox, qos=1)
    await asyncio.sleep(0.3)
    await mosquitto.async_stop()
    for _ in range(100):
        if not sender.connected and not receiver.connected:
            break
        await asyncio.sleep(0.1)
    assert not sender.connected
    futures = [sender.async_publish(f"cmd/{i}", str(i), qos=1) for i in range(20)]
    dropped = sender.async_publish("cmd/qos0", "lost", qos=0)
    assert dropped is None
    assert sender.queued == 20
    await mosquitto.async_start()
    await sender.async_wait_connected(WAIT)
    await receiver.async_wait_connected(WAIT)
    # Every message issued in the gap is acknowledged by the restarted broker.
    await asyncio.gather(*(asyncio.wait_for(f, WAIT) for f in futures if f is not None))
    assert sender.connect_count == 2 and receiver.connect_count == 2
    marker = sender.async_publish("cmd/after", "after", qos=1)
    assert marker is not None
    await asyncio.wait_for(marker, WAIT)
    received = await inbox.wait_for(1)
    assert b"after" in [m.payload for m in received]
    await sender.async_stop()
    await receiver.async_stop()


async def test_will_published_when_client_vanishes(mosquitto: Mosquitto) -> None:
    watcher = await started(mosquitto)
    inbox = Inbox()
    watcher.async_subscribe("hub/status", inbox, qos=1)
    await asyncio.sleep(0.3)
    doomed = await started(mosquitto, will=Will("hub/status", "offline"), keepalive=60)
    # Kill the socket without DISCONNECT: the broker must publish the will.
    assert doomed._sock is not None
    doomed._stopping = True
    doomed._sock.shutdown(2)
    received = await inbox.wait_for(1)
    assert received[0].payload == b"offline"
    await watcher.async_stop()
    await doomed.async_stop()


@pytest.mark.allow_slow_callbacks("the test starts a password broker synchronously")
async def test_wrong_password_is_refused_and_retried(mosquitto_factory) -> None:  # type: ignore[no-untyped-def]
    broker = mosquitto_factory(auth=True)
    client = MqttClient(
        BrokerSettings(
            host=broker.host,
            port=broker.port,
            username=broker.username,
            password="nope",
            reconnect_min=0.05,
            reconnect_max=0.2,
        )
    )
    await client.async_start()
    await asyncio.sleep(1.0)
    assert not client.connected
    await client.async_stop()


async def test_late_local_subscriber_gets_retained_state(mosquitto: Mosquitto) -> None:
    """Two entities share one availability topic; the second subscribes after it was set."""
    hub_side = await started(mosquitto)
    device = await started(mosquitto)
    first = Inbox()
    hub_side.async_subscribe("dev/availability", first, qos=1)
    await hub_side.async_wait_subscribed(WAIT)
    # Published after the first subscription: it arrives live, without the retain flag.
    device.async_publish("dev/availability", "online", qos=1, retain=True)
    await first.wait_for(1)
    second, third = Inbox(), Inbox()
    hub_side.async_subscribe("dev/availability", second, qos=1)
    await second.wait_for(1)
    assert second.payloads()[-1] == b"online"
    hub_side.async_subscribe("dev/availability", third, qos=1)  # now served from the cache
    await third.wait_for(1)
    assert third.payloads() == [b"online"]
    await hub_side.async_stop()
    await device.async_stop()
