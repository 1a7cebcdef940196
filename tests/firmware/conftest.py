"""Fixtures for firmware tests: virtual appliances run as real processes, a real broker."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest

from firmware.ota.keys import SigningKey, load_or_create_signing_key
from firmware.provision import Credentials
from firmware.virtual import DEFAULT_AP_SSID, VirtualAppliance, new_setup_code
from tests.mosquitto import Mosquitto, free_port, mosquitto, mosquitto_factory  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
DEVICE_DIR = REPO / "firmware" / "device"
APP_DIR = DEVICE_DIR / "app"
sys.path.insert(0, str(DEVICE_DIR / "base"))
sys.path.insert(0, str(APP_DIR))

WAIT_S = 60.0
AP_SSID = DEFAULT_AP_SSID
# Made per run: no password is written down anywhere in the repository.
AP_PASSWORD = secrets.token_urlsafe(12)
# The label of every test device unless a test gives its own.
SETUP_CODE = new_setup_code()


VirtualDevice = VirtualAppliance


DeviceFactory = Callable[..., VirtualDevice]


@pytest.fixture
def device_factory(tmp_path: Path) -> Iterator[DeviceFactory]:
    """Start virtual appliances: `device_factory("fridge", time_scale=20)`."""
    devices: list[VirtualDevice] = []

    def make(
        profile: str = "fridge",
        *,
        time_scale: float = 1.0,
        trial_seconds: float = 60.0,
        mdns: bool = False,
        device_id: str | None = None,
        setup_code: str | None = None,
    ) -> VirtualDevice:
        device_id = device_id or f"{profile}{len(devices)}x{os.getpid()}"
        device = VirtualAppliance(
            device_id,
            profile,
            tmp_path / f"dev-{device_id}",
            time_scale=time_scale,
            trial_seconds=trial_seconds,
            mdns=mdns,
            ap_ssid=AP_SSID,
            ap_password=AP_PASSWORD,
            setup_code=setup_code or SETUP_CODE,
        )
        devices.append(device)
        device.start()
        return device

    yield make
    for device in devices:
        device.kill()


@pytest.fixture
def signing_key(tmp_path: Path) -> SigningKey:
    """The hub's OTA key, created in a temporary config dir."""
    return load_or_create_signing_key(tmp_path / "hub-config")


@pytest.fixture
def broker(mosquitto_factory: Callable[..., Mosquitto]) -> Mosquitto:  # noqa: F811
    """A real mosquitto that requires a username and password."""
    return mosquitto_factory(auth=True)


def credentials_for(broker: Mosquitto, key: SigningKey, **overrides: Any) -> Credentials:
    values: dict[str, Any] = {
        "wifi_ssid": AP_SSID,
        "wifi_password": AP_PASSWORD,
        "broker_host": broker.host,
        "broker_port": broker.port,
        "broker_username": broker.username,
        "broker_password": broker.password,
        "ota_public_key": key.public_hex,
        "setup_code": SETUP_CODE,
    }
    values.update(overrides)
    return Credentials(**values)


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retain: bool
    qos: int = 1

    def json(self) -> Any:
        return json.loads(self.payload)


def _no_delay(_client: Any, _userdata: Any, sock: Any) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class MqttProbe:
    """A paho client in its own thread that records every message and publishes for tests.

    It also satisfies firmware.ota.updater.MqttLink, so the updater can drive devices with it.
    """

    def __init__(self, broker: Mosquitto) -> None:
        self._loop = asyncio.get_running_loop()
        self.messages: list[Received] = []
        self._changed = asyncio.Event()
        self._subs: list[tuple[str, Callable[[Any], None]]] = []
        self._client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
        self._client.username_pw_set(broker.username, broker.password)
        self._client.on_message = self._on_message
        self._client.on_socket_open = _no_delay
        self.ready = asyncio.Event()
        self._client.on_connect = lambda c, u, f, rc, p=None: c.subscribe("#", 1)
        self._client.on_subscribe = self._on_subscribe
        self._client.connect(broker.host, broker.port, 30)
        self._client.loop_start()

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_subscribe(self, *_args: Any) -> None:
        self._loop.call_soon_threadsafe(self.ready.set)

    def _on_message(self, _c: Any, _u: Any, message: paho.MQTTMessage) -> None:
        item = Received(message.topic, bytes(message.payload), bool(message.retain), message.qos)
        self._loop.call_soon_threadsafe(self._deliver, item)

    def _deliver(self, item: Received) -> None:
        self.messages.append(item)
        self._changed.set()
        for topic_filter, callback in list(self._subs):
            if paho.topic_matches_sub(topic_filter, item.topic):
                callback(item)

    def latest(self, topic: str) -> Received | None:
        for item in reversed(self.messages):
            if item.topic == topic:
                return item
        return None

    async def wait_for(
        self, predicate: Callable[[Received], bool], timeout: float = WAIT_S, since: int = 0
    ) -> Received:
        """Wait for a message (at index >= since) that satisfies predicate."""
        deadline = time.monotonic() + timeout
        index = since
        while True:
            while index < len(self.messages):
                item = self.messages[index]
                index += 1
                try:
                    if predicate(item):
                        return item
                except (ValueError, KeyError, TypeError):
                    pass
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("timed out waiting for an MQTT message")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass

    async def wait_state(
        self, device_id: str, predicate: Callable[[dict[str, Any]], bool], since: int = 0
    ) -> dict[str, Any]:
        topic = f"hearth/{device_id}/state"
        item = await self.wait_for(lambda m: m.topic == topic and predicate(m.json()), since=since)
        data: dict[str, Any] = item.json()
        return data

    def mark(self) -> int:
        return len(self.messages)

    def publish(self, topic: str, payload: str | bytes, retain: bool = False) -> None:
        self._client.publish(topic, payload, qos=1, retain=retain)

    # -- MqttLink --------------------------------------------------------------------
    def async_subscribe(
        self, topic_filter: str, callback: Callable[[Any], None], qos: int = 0
    ) -> Callable[[], None]:
        entry = (topic_filter, callback)
        self._subs.append(entry)
        return lambda: self._subs.remove(entry)

    def async_publish(
        self, topic: str, payload: str | bytes, qos: int = 0, retain: bool = False
    ) -> asyncio.Future[None] | None:
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if qos == 0:
            return None
        return asyncio.ensure_future(asyncio.to_thread(info.wait_for_publish, 30))


def _fetch_retained(broker: Mosquitto, topic_filter: str, settle: float) -> dict[str, bytes]:
    got: dict[str, bytes] = {}
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
    client.username_pw_set(broker.username, broker.password)

    def on_message(_c: Any, _u: Any, message: paho.MQTTMessage) -> None:
        if message.retain:
            got[message.topic] = bytes(message.payload)

    client.on_message = on_message
    client.on_connect = lambda c, u, f, rc, p=None: c.subscribe(topic_filter, 1)
    client.connect(broker.host, broker.port, 30)
    client.loop_start()
    time.sleep(settle)
    client.disconnect()
    client.loop_stop()
    return got


async def async_fetch_retained(
    broker: Mosquitto, topic_filter: str, settle: float = 1.0
) -> dict[str, bytes]:
    """What a newcomer subscribing to topic_filter gets from the broker's retained store."""
    return await asyncio.to_thread(_fetch_retained, broker, topic_filter, settle)


async def async_provisioned(
    device_factory: DeviceFactory,
    broker: Mosquitto,
    key: SigningKey,
    probe: MqttProbe,
    profile: str = "fridge",
    **options: Any,
) -> VirtualDevice:
    """Start a virtual appliance, provision it, and wait until it is online on the broker."""
    from firmware.provision import async_provision

    device = device_factory(profile, **options)
    await device.async_wait_http()
    mark = probe.mark()
    await async_provision("127.0.0.1", device.http_port, credentials_for(broker, key))
    await probe.wait_state(device.id, lambda s: True, since=mark)
    return device


@pytest.fixture
async def probe(broker: Mosquitto) -> AsyncIterator[MqttProbe]:
    client = MqttProbe(broker)
    await asyncio.wait_for(client.ready.wait(), WAIT_S)
    yield client
    client.close()
