"""Malformed discovery configs and state payloads are logged and skipped; nothing else breaks."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.core import Hub
from integrations.mqtt.abbreviations import ABBREVIATIONS
from integrations.mqtt.client import BrokerSettings, MqttClient, ReceivedMessage
from integrations.mqtt.components import create_entity
from integrations.mqtt.discovery import (
    COMPONENTS,
    DiscoveryError,
    DiscoveryId,
    parse_payload,
)
from integrations.mqtt.entity import MqttEntity

from . import payloads
from .conftest import integration
from .helpers import state_of, subscribed, wait_until

BAD_CONFIGS: list[tuple[str, bytes]] = [
    ("homeassistant/switch/bad1/config", b"{not json"),
    ("homeassistant/switch/bad2/config", b"[1, 2, 3]"),
    ("homeassistant/switch/bad3/config", b"\xff\xfe\x00garbage"),
    ("homeassistant/switch/bad4/config", b'{"cmd_t": "x/y", "name": {"a": 1}}'),
    ("homeassistant/switch/bad5/config", b'{"cmd_t": 5}'),
    ("homeassistant/switch/bad6/config", b'{"cmd_t": "a/#/b"}'),
    ("homeassistant/switch/bad7/config", b'{"cmd_t": "a/b", "qos": "lots"}'),
    ("homeassistant/sensor/bad8/config", b'{"stat_t": "s/t", "val_tpl": "{{ value_json.x "}'),
    ("homeassistant/sensor/bad9/config", b'{"name": "no state topic"}'),
    ("homeassistant/light/bad10/config", b'{"cmd_t": "l/set", "schema": "template"}'),
    ("homeassistant/select/bad11/config", b'{"cmd_t": "s/set", "options": []}'),
    ("homeassistant/alarm_control_panel/bad12/config", b'{"cmd_t": "a/set"}'),
    ("homeassistant/switch/bad13/config", json.dumps({"cmd_t": "a", "x": "y" * 70000}).encode()),
    ("homeassistant/switch/bad14/config", b"[" * 5000 + b"]" * 5000),
    ("homeassistant/number/bad15/config", b'{"cmd_t": "n/set", "min": 10, "max": 1}'),
    ("homeassistant/switch/bad16/config", b'{"cmd_t": "a/b", "avty": [{"t": "+/#/x"}]}'),
    ("homeassistant/climate/bad17/config", b'{"modes": ["warp"], "mode_cmd_t": "c/set"}'),
    ("homeassistant/switch/bad18/config", b'{"cmd_t": "a/b", "dev": {"ids": [{"x": 1}]}}'),
    ("homeassistant/switch/bad19/config", b'{"cmd_t": "a/b", "platform": "zwave"}'),
]


async def test_bad_configs_are_skipped(
    mqtt_hub: Hub, device: MqttClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    for topic, payload in BAD_CONFIGS:
        device.async_publish(topic, payload, qos=1, retain=True)
    good = payloads.ESPHOME_SWITCH
    device.async_publish(good["topic"], payloads.encoded(good), qos=1, retain=True)
    manager = integration(mqtt_hub).discovery
    assert manager is not None
    await wait_until(lambda: manager.rejected == len(BAD_CONFIGS), what="every bad config seen")
    await wait_until(lambda: len(manager.entities) == 1, what="the good entity")
    await manager.async_wait_idle()
    assert [e.unique_id for e in manager.entities.values()] == ["ESPswitchrelay"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # The good one works.
    eid = next(iter(manager.entities.values())).entity_id
    assert eid is not None
    commands = await subscribed(device, "livingroom/switch/relay/command")
    device.async_publish("livingroom/status", "online", qos=1, retain=True)
    await wait_until(lambda: state_of(mqtt_hub, eid).state != "unavailable", what="online")
    await mqtt_hub.services.async_call("switch", "turn_on", {}, target={"entity_id": eid})
    await commands.wait_for("livingroom/switch/relay/command", "ON")


async def test_bad_state_payloads_keep_last_good_state(
    mqtt_hub: Hub, device: MqttClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    device.async_publish("zigbee2mqtt/bridge/state", '{"state":"online"}', qos=1, retain=True)
    for item in (payloads.Z2M_SENSOR, payloads.Z2M_LIGHT, payloads.ESPHOME_SWITCH):
        device.async_publish(item["topic"], payloads.encoded(item), qos=1, retain=True)
    manager = integration(mqtt_hub).discovery
    assert manager is not None
    await wait_until(lambda: len(manager.entities) == 3, what="three entities")
    await integration(mqtt_hub).client.async_wait_subscribed(30)
    by_uid = {e.unique_id: e.entity_id for e in manager.entities.values()}
    sensor = by_uid["0x00158d0001dc126a_temperature_zigbee2mqtt"]
    light = by_uid["0x000b57fffec6a5b2_light_zigbee2mqtt"]
    switch = by_uid["ESPswitchrelay"]
    assert sensor and light and switch
    device.async_publish("livingroom/status", "online", qos=1, retain=True)
    device.async_publish("zigbee2mqtt/Bedroom sensor", '{"temperature": 20.5}', qos=1)
    device.async_publish("zigbee2mqtt/Living room lamp", '{"state": "OFF"}', qos=1)
    device.async_publish("livingroom/switch/relay/state", "ON", qos=1)
    await wait_until(lambda: state_of(mqtt_hub, sensor).state == "20.5", what="sensor")
    await wait_until(lambda: state_of(mqtt_hub, switch).state == "on", what="switch")
    await wait_until(lambda: state_of(mqtt_hub, light).state == "off", what="light")
    bad_sensor = [
        b"{oops",
        b'{"temperature": "warm"}',
        b'{"humidity": 40}',
        b'{"temperature": NaN}',
        b'{"temperature": [1, 2]}',
        b"x" * 300_000,
        b'{"temperature": 1e999}',
    ]
    bad_light = [b"{oops", b'"ON"', b'{"state": 7}', b'{"brightness": "max"}', b"[]"]
    for payload in bad_sensor:
        device.async_publish("zigbee2mqtt/Bedroom sensor", payload, qos=1)
    for payload in bad_light:
        device.async_publish("zigbee2mqtt/Living room lamp", payload, qos=1)
    device.async_publish("livingroom/switch/relay/state", "MAYBE", qos=1)
    # A good message after the bad ones proves they were all processed (and skipped).
    device.async_publish("zigbee2mqtt/Bedroom sensor", '{"temperature": 19.0}', qos=1)
    await wait_until(lambda: state_of(mqtt_hub, sensor).state == "19.0", what="sensor recovers")
    assert state_of(mqtt_hub, light).state == "off"
    assert state_of(mqtt_hub, switch).state == "on"
    # Every bad payload is counted on its device; the log says so once per device and kind.
    entities = {e.entity_id: e for e in manager.entities.values()}
    assert entities[sensor].guard.errors == len(bad_sensor)
    assert entities[light].guard.errors == len(bad_light)
    assert entities[switch].guard.errors == 1
    assert state_of(mqtt_hub, sensor).attributes["bad_messages"] == len(bad_sensor)
    warnings = [r.getMessage() for r in caplog.records if "MQTT device" in r.getMessage()]
    assert 3 <= len(warnings) <= 4, warnings  # sensor: "payload" and "size"; light; switch
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# -- hypothesis: arbitrary configs and payloads never escape as unexpected exceptions ------

_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
_json = st.recursive(
    _json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)  # fmt: skip
_topicish = st.sampled_from(["a/b", "dev/state", "+/x", "#", "bad/#/x", "", "~/set", "s/t"])
_key = st.sampled_from(sorted(set(ABBREVIATIONS) | set(ABBREVIATIONS.values()) | {"~", "dev"}))
_value = st.one_of(_json, _topicish, st.sampled_from(["{{ value_json.x }}", "{{ value ", "ON"]))
_config = st.dictionaries(_key, _value, max_size=10)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(component=st.sampled_from(COMPONENTS), config=_config)
def test_arbitrary_configs_raise_only_discovery_error(
    component: str, config: dict[str, Any]
) -> None:
    client = MqttClient(BrokerSettings("127.0.0.1"))
    try:
        raw = json.dumps(config).encode()
    except ValueError:
        return
    try:
        parsed = parse_payload(DiscoveryId(component, None, "obj"), raw)
        create_entity(client, parsed)
    except DiscoveryError:
        pass


_STATE_CONFIGS: dict[str, dict[str, Any]] = {
    "light": {"cmd_t": "l/set", "stat_t": "l/state", "bri_stat_t": "l/bri", "bri_cmd_t": "l/b",
              "clr_temp_stat_t": "l/ct", "clr_temp_cmd_t": "l/ctc", "rgb_stat_t": "l/rgb",
              "rgb_cmd_t": "l/rgbc"},
    "light_json": {"cmd_t": "j/set", "stat_t": "j/state", "schema": "json", "brightness": True,
                   "supported_color_modes": ["color_temp", "rgb"]},
    "sensor": {"stat_t": "s/state", "unit_of_meas": "W", "val_tpl": "{{ value_json.power }}"},
    "binary_sensor": {"stat_t": "b/state", "val_tpl": "{{ value_json.contact }}",
                      "pl_on": True, "pl_off": False},
    "climate": {"mode_cmd_t": "c/m", "mode_stat_t": "c/mode", "curr_temp_t": "c/t",
                "temp_stat_t": "c/target", "temp_stat_tpl": "{{ value_json.sp }}"},
    "vacuum": {"cmd_t": "v/cmd", "stat_t": "v/state"},
    "lock": {"cmd_t": "k/set", "stat_t": "k/state"},
    "cover": {"cmd_t": "o/set", "stat_t": "o/state", "pos_t": "o/pos", "set_pos_t": "o/sp"},
    "fan": {"cmd_t": "f/set", "stat_t": "f/state", "pct_stat_t": "f/pct", "pct_cmd_t": "f/p",
            "pr_mode_stat_t": "f/pr", "pr_modes": ["eco"], "osc_stat_t": "f/osc"},
    "number": {"cmd_t": "n/set", "stat_t": "n/state", "min": 0, "max": 10},
    "select": {"cmd_t": "e/set", "stat_t": "e/state", "ops": ["a", "b"]},
    "switch": {"cmd_t": "w/set", "stat_t": "w/state", "val_tpl": "{{ value_json.POWER }}"},
}  # fmt: skip


class _Collect(logging.Handler):
    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _entities() -> tuple[MqttClient, list[MqttEntity]]:
    client = MqttClient(BrokerSettings("127.0.0.1"))
    entities = []
    for name, config in _STATE_CONFIGS.items():
        component = "light" if name.startswith("light") else name
        parsed = parse_payload(DiscoveryId(component, None, name), json.dumps(config).encode())
        entities.append(create_entity(client, parsed))
    return client, entities


_payload = st.one_of(
    st.binary(max_size=64),
    _json.map(lambda v: json.dumps(v).encode()),
    st.sampled_from([b"ON", b"OFF", b"", b"None", b"100", b"-1", b"1e999", b"NaN", b"1,2,3",
                     b"300,0,0", b"LOCKED", b"open", b'{"state": "cleaning"}']),
)  # fmt: skip
_state_topic = st.sampled_from(
    sorted({v for c in _STATE_CONFIGS.values() for k, v in c.items() if k.endswith("_t")})
)


@pytest.mark.allow_slow_callbacks("hypothesis drives the entity on the loop")
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=st.lists(st.tuples(_state_topic, _payload), min_size=1, max_size=20))
async def test_arbitrary_state_payloads_are_contained(
    messages: list[tuple[str, bytes]],
) -> None:
    client, entities = _entities()
    for entity in entities:
        await entity.async_added_to_hub()
    handler = _Collect(logging.ERROR)
    errors = handler.records
    root = logging.getLogger("integrations.mqtt")
    root.addHandler(handler)
    try:
        for topic, payload in messages:
            client.dispatch(ReceivedMessage(topic, payload, 0, False))
            for entity in entities:
                # Whatever arrived, each entity still renders a valid state and attributes.
                state = entity.state
                assert state is None or (isinstance(state, str) and len(state) <= 255)
                json.dumps(entity.attributes(), default=str)
    finally:
        root.removeHandler(handler)
    assert errors == [], [r.getMessage() for r in errors]


async def test_duplicate_unique_id_does_not_replace_the_first(
    mqtt_hub: Hub, device: MqttClient
) -> None:
    first = {"name": "A", "cmd_t": "dup/a/set", "stat_t": "dup/a", "uniq_id": "same-id"}
    second = {"name": "B", "cmd_t": "dup/b/set", "stat_t": "dup/b", "uniq_id": "same-id"}
    device.async_publish("homeassistant/switch/a/config", json.dumps(first), qos=1, retain=True)
    manager = integration(mqtt_hub).discovery
    assert manager is not None
    await wait_until(lambda: len(manager.entities) == 1, what="first entity")
    device.async_publish("homeassistant/switch/b/config", json.dumps(second), qos=1, retain=True)
    marker = {"name": "M", "cmd_t": "dup/m/set", "uniq_id": "marker"}
    device.async_publish("homeassistant/switch/m/config", json.dumps(marker), qos=1, retain=True)
    await wait_until(lambda: len(manager.entities) == 2, what="marker entity")
    await manager.async_wait_idle()
    assert sorted(manager.entities) == ["switch/a", "switch/m"]
    eid = manager.entities["switch/a"].entity_id
    assert eid is not None
    await integration(mqtt_hub).client.async_wait_subscribed(30)
    device.async_publish("dup/a", "ON", qos=1)
    await wait_until(lambda: state_of(mqtt_hub, eid).state == "on", what="first still works")
