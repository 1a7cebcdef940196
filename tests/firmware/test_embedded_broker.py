"""The firmware against amqtt running in-process, the broker a hub starts when none is set."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import paho.mqtt.client as paho
import pytest
from amqtt.broker import Broker

from firmware.ota.keys import SigningKey
from firmware.provision import Credentials, async_provision
from firmware.virtual import free_port

from .conftest import AP_PASSWORD, AP_SSID, SETUP_CODE, WAIT_S, DeviceFactory


@pytest.fixture
async def amqtt_port() -> AsyncIterator[int]:
    port = free_port()
    broker = Broker(
        {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
    )
    await broker.start()
    yield port
    await broker.shutdown()


async def test_fridge_on_the_embedded_broker(
    amqtt_port: int, device_factory: DeviceFactory, signing_key: SigningKey
) -> None:
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)

    def on_message(_c: Any, _u: Any, msg: paho.MQTTMessage) -> None:
        loop.call_soon_threadsafe(inbox.put_nowait, (msg.topic, bytes(msg.payload)))

    client.on_message = on_message
    client.on_connect = lambda c, u, f, rc, p=None: c.subscribe("hearth/#", 1)
    client.connect("127.0.0.1", amqtt_port, 30)
    client.loop_start()

    async def expect(topic: str, check: Any) -> bytes:
        async with asyncio.timeout(WAIT_S):
            while True:
                got_topic, payload = await inbox.get()
                if got_topic == topic and check(payload):
                    return payload

    try:
        device = device_factory("fridge")
        await device.async_wait_http()
        creds = Credentials(
            AP_SSID,
            AP_PASSWORD,
            "127.0.0.1",
            amqtt_port,
            None,
            None,
            signing_key.public_hex,
            SETUP_CODE,
        )
        await async_provision("127.0.0.1", device.http_port, creds)
        await expect(f"hearth/{device.id}/availability", lambda p: p == b"online")
        client.publish(f"hearth/{device.id}/set/mode", "eco", qos=1)
        await expect(f"hearth/{device.id}/state", lambda p: json.loads(p)["mode"] == "eco")
        device.kill()
        await expect(f"hearth/{device.id}/availability", lambda p: p == b"offline")
    finally:
        client.disconnect()
        client.loop_stop()
