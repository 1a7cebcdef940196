"""One device flooding garbage is dropped, counted and marked; the others keep working."""

from __future__ import annotations

import json
import logging

import pytest

from hub.core import Hub
from integrations.mqtt.client import MqttClient
from integrations.mqtt.template import Template, TemplateRenderError, payload_variables
from tests.conftest import HubFactory
from tests.mosquitto import Mosquitto

from .conftest import integration, mqtt_config
from .helpers import device_client, state_of, wait_until

GARBAGE = [
    b"{oops",
    b"\xff\xfe\x00\x01binary",
    b'{"temperature": NaN}',
    b"[" * 5000 + b"]" * 5000,
    b'{"temperature": ' * 3000,
    b"x" * (1024 * 1024),
]
FLOOD = 3000


def _sensor(node: str) -> tuple[str, bytes]:
    config = {
        "name": "Temperature",
        "stat_t": f"{node}/state",
        "val_tpl": "{{ value_json.temperature }}",
        "uniq_id": f"{node}_temperature",
        "dev": {"ids": [node], "name": node},
    }
    return f"homeassistant/sensor/{node}/temperature/config", json.dumps(config).encode()


async def _adopt(hub: Hub, device: MqttClient, node: str) -> str:
    topic, config = _sensor(node)
    ack = device.async_publish(topic, config, 1, True)
    assert ack is not None
    await ack
    manager = integration(hub).discovery
    assert manager is not None
    return await wait_until(
        lambda: next(
            (
                e.entity_id
                for e in manager.entities.values()
                if e.unique_id == f"{node}_temperature"
            ),
            None,
        ),
        what=node,
    )


@pytest.mark.allow_slow_callbacks("the flooding device writes 1 MB payloads on the test loop")
async def test_garbage_flood_is_bounded(
    hub_factory: HubFactory, mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    hub = await hub_factory(mqtt=mqtt_config(mosquitto, device_rate=20, device_burst=50))
    good_dev = await device_client(mosquitto.host, mosquitto.port)
    bad_dev = await device_client(mosquitto.host, mosquitto.port)
    good = await _adopt(hub, good_dev, "good")
    bad = await _adopt(hub, bad_dev, "bad")
    await integration(hub).client.async_wait_subscribed(30)

    for i in range(FLOOD):
        bad_dev.async_publish("bad/state", GARBAGE[i % len(GARBAGE)], qos=0)
    # QoS 1 after the flood on the same connection: acknowledged once the broker has it all.
    ack = bad_dev.async_publish("bad/state", b'{"temperature": 1}', qos=1)
    assert ack is not None
    await ack
    good_dev.async_publish("good/state", b'{"temperature": 21.5}', qos=1)
    await wait_until(lambda: state_of(hub, good).state == "21.5", what="good sensor")

    manager = integration(hub).discovery
    assert manager is not None
    bad_guard = manager.guard_for("bad")
    await wait_until(lambda: bad_guard.dropped + bad_guard.errors >= FLOOD - 60, what="flood")
    assert bad_guard.dropped > FLOOD / 2  # the budget dropped most of it unparsed
    assert bad_guard.errors > 0
    assert manager.guard_for("good").attributes() == {}
    attributes = state_of(hub, bad).attributes
    assert attributes["over_budget"] is True
    assert attributes["dropped_messages"] > 0
    # Once a minute per kind and device, not once per message; no tracebacks.
    guard_lines = [r for r in caplog.records if r.name == "integrations.mqtt.guard"]
    assert len(guard_lines) <= 6, [r.getMessage() for r in guard_lines]
    assert not [r for r in caplog.records if r.exc_info]
    await good_dev.async_stop()
    await bad_dev.async_stop()


def test_deep_json_is_not_value_json() -> None:
    assert "value_json" not in payload_variables(b"[" * 5000 + b"]" * 5000)
    template = Template("{{ value | from_json }}")
    with pytest.raises(TemplateRenderError):
        template.render_payload(b"[" * 5000 + b"]" * 5000)
