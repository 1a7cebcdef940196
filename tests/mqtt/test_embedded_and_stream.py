"""The embedded broker (generated credentials) and the state stream between hubs."""

from __future__ import annotations

import json
import stat

import pytest

from integrations.mqtt.broker import CREDENTIALS_FILE
from integrations.mqtt.client import BrokerSettings, MqttClient
from tests.conftest import HubFactory
from tests.mosquitto import Mosquitto, find_mosquitto, free_port

from . import payloads
from .conftest import integration, mqtt_config
from .helpers import Inbox, device_client, state_of, subscribed, wait_until

# mosquitto when installed; amqtt is what a home without it runs (and the fallback).
EMBEDDED = ["amqtt", pytest.param("mosquitto", marks=pytest.mark.skipif(
    find_mosquitto() is None, reason="mosquitto is not installed"))]  # fmt: skip


@pytest.mark.parametrize("kind", EMBEDDED)
async def test_embedded_broker_with_generated_credentials(
    hub_factory: HubFactory, kind: str
) -> None:
    port = free_port()
    hub = await hub_factory(
        mqtt={"embedded": kind, "embedded_host": "127.0.0.1", "embedded_port": port}
    )
    mqtt = integration(hub)
    assert mqtt.embedded is not None and mqtt.client.connected
    assert mqtt.embedded.kind == kind
    path = hub.config_dir / CREDENTIALS_FILE
    stored = json.loads(path.read_text())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(stored["password"]) >= 24 and stored["password"] not in ("hearth", "password")

    intruder = MqttClient(
        BrokerSettings("127.0.0.1", port, stored["username"], "guess", reconnect_min=5)
    )
    await intruder.async_start()
    anonymous = MqttClient(BrokerSettings("127.0.0.1", port, reconnect_min=5))
    await anonymous.async_start()

    device = await device_client("127.0.0.1", port, username=stored["username"],
                                 password=stored["password"])  # fmt: skip
    commands = await subscribed(device, "cmnd/EZPlug_35EBF6/#")
    device.async_publish("tele/EZPlug_35EBF6/LWT", "Online", qos=1, retain=True)
    item = payloads.TASMOTA_PLUG
    device.async_publish(item["topic"], payloads.encoded(item), qos=1, retain=True)
    manager = mqtt.discovery
    assert manager is not None
    eid = await wait_until(
        lambda: next((e.entity_id for e in manager.entities.values()), None), what="plug"
    )
    await mqtt.client.async_wait_subscribed(30)
    device.async_publish("tele/EZPlug_35EBF6/STATE", '{"POWER1": "OFF"}', qos=1)
    await wait_until(lambda: state_of(hub, eid).state == "off", what="plug off")
    await hub.services.async_call("switch", "turn_on", {}, target={"entity_id": eid})
    await commands.wait_for("cmnd/EZPlug_35EBF6/POWER1", "ON")
    assert not intruder.connected and not anonymous.connected
    for client in (intruder, anonymous, device):
        await client.async_stop()


@pytest.mark.parametrize("kind", EMBEDDED)
async def test_embedded_credentials_survive_restart(
    hub_factory: HubFactory, tmp_path, kind: str
) -> None:  # type: ignore[no-untyped-def]
    config_dir = tmp_path / "home"
    port = free_port()
    first = await hub_factory(
        config_dir=config_dir,
        mqtt={"embedded": kind, "embedded_host": "127.0.0.1", "embedded_port": port},
    )
    password = integration(first).client.settings.password
    await first.async_stop()
    second = await hub_factory(
        config_dir=config_dir,
        mqtt={"embedded": kind, "embedded_host": "127.0.0.1", "embedded_port": free_port()},
    )
    assert integration(second).client.settings.password == password
    assert integration(second).client.connected


async def test_state_stream_between_two_hubs(hub_factory: HubFactory, mosquitto: Mosquitto) -> None:
    upstairs = await hub_factory(
        mqtt=mqtt_config(mosquitto, stream_prefix="hearth/upstairs", stream_commands=True),
        demo={"delay": 0},
    )
    tool = await device_client(mosquitto.host, mosquitto.port)
    stream = await subscribed(tool, "hearth/upstairs/#")
    lights = [s.entity_id for s in upstairs.states.all() if s.entity_id.startswith("light.")]
    assert lights, "the demo home has lights"
    light = lights[0]
    # A command over MQTT becomes a service call with an answer.
    command = {"id": "c1", "target": {"entity_id": light}, "data": {"brightness": 77}}
    tool.async_publish("hearth/upstairs/command/light/turn_on", json.dumps(command), qos=1)
    await wait_until(lambda: stream.payloads("hearth/upstairs/command_result"), what="result")
    result = json.loads(stream.payloads("hearth/upstairs/command_result")[0])
    assert result == {"id": "c1", "service": "light.turn_on", "ok": True}
    await wait_until(lambda: state_of(upstairs, light).state == "on", what="light on")

    def streamed_state() -> dict | None:  # type: ignore[type-arg]
        for raw in reversed(stream.payloads(f"hearth/upstairs/state/{light}")):
            data = json.loads(raw)
            if data.get("state") == "on":
                return data  # type: ignore[no-any-return]
        return None

    data = await wait_until(streamed_state, what="state on the stream")
    assert data["attributes"]["brightness"] == 77
    assert data["context"]["origin"] == "mqtt"
    # Bad commands are answered, not crashed on.
    tool.async_publish("hearth/upstairs/command/light/turn_on", b"{nope", qos=1)
    tool.async_publish("hearth/upstairs/command/no_such/service", b'{"id": 2}', qos=1)
    await wait_until(lambda: len(stream.payloads("hearth/upstairs/command_result")) >= 3, what="")
    answers = [json.loads(p) for p in stream.payloads("hearth/upstairs/command_result")[1:]]
    assert [a["ok"] for a in answers] == [False, False]
    assert answers[1]["id"] == 2
    # Risky services are never taken from the stream.
    locks = [s.entity_id for s in upstairs.states.all() if s.entity_id.startswith("lock.")]
    assert locks, "the demo home has a lock"
    before = state_of(upstairs, locks[0]).state
    unlock = {"id": "u", "target": {"entity_id": locks[0]}}
    tool.async_publish("hearth/upstairs/command/lock/unlock", json.dumps(unlock), qos=1)
    await wait_until(lambda: len(stream.payloads("hearth/upstairs/command_result")) >= 4)
    refused = json.loads(stream.payloads("hearth/upstairs/command_result")[3])
    assert refused["ok"] is False and refused["error"]["code"] == "forbidden"
    assert state_of(upstairs, locks[0]).state == before
    # A second hub on the same broker sees the first one's retained states and status.
    late = await device_client(mosquitto.host, mosquitto.port)
    retained = Inbox()
    late.async_subscribe("hearth/upstairs/#", retained, qos=1)
    await retained.wait_for("hearth/upstairs/status", "online")
    await wait_until(lambda: retained.payloads(f"hearth/upstairs/state/{light}"), what="retained")
    await upstairs.async_stop()
    await retained.wait_for("hearth/upstairs/status", "offline")
    await tool.async_stop()
    await late.async_stop()


async def test_stream_commands_are_off_unless_enabled(
    hub_factory: HubFactory, mosquitto: Mosquitto
) -> None:
    hub = await hub_factory(
        mqtt=mqtt_config(mosquitto, stream_prefix="hearth/h"), demo={"delay": 0}
    )
    tool = await device_client(mosquitto.host, mosquitto.port)
    stream = await subscribed(tool, "hearth/h/#")
    light = next(s.entity_id for s in hub.states.all() if s.entity_id.startswith("light."))
    before = state_of(hub, light).state
    command = {"id": 1, "target": {"entity_id": light}}
    service = "turn_off" if before == "on" else "turn_on"
    tool.async_publish(f"hearth/h/command/light/{service}", json.dumps(command), qos=1)
    # States still stream out; the command is simply not listened to.
    await wait_until(lambda: stream.payloads(f"hearth/h/state/{light}"), what="state streamed")
    marker = tool.async_publish("hearth/h/marker", "x", qos=1)
    assert marker is not None
    await marker
    await stream.wait_for("hearth/h/marker", "x")
    assert not stream.payloads("hearth/h/command_result")
    assert state_of(hub, light).state == before
    await tool.async_stop()
