"""Positive tests for each discovery component, against a real mosquitto.

Configs follow Home Assistant's MQTT documentation and what real firmware announces (Tasmota,
Shelly, Zigbee2MQTT). A plain paho client with its own network thread plays the appliance: it
publishes state and availability and records every command that reaches it, so the check does not
go through Hearth's own MQTT client.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from hub.bus import Event
from hub.core import Hub
from hub.errors import DeviceUnavailable, InvalidServiceData
from tests.mosquitto import Mosquitto

from .conftest import integration
from .helpers import WAIT, state_of, wait_until


@dataclass(frozen=True)
class Received:
    topic: str
    payload: str
    retain: bool


class Appliance:
    """A paho client playing the devices: publishes like they do, records what they are sent."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=f"appliance-{uuid.uuid4().hex[:8]}"
        )
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._connected = threading.Event()
        self._subacks: dict[int, threading.Event] = {}
        self._sync = itertools.count()
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

    async def async_start(self) -> None:
        self._client.connect(self.host, self.port)
        self._client.loop_start()
        assert await asyncio.to_thread(self._connected.wait, WAIT), "appliance did not connect"
        await self.async_listen("test/sync/#")

    async def async_stop(self) -> None:
        self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)

    async def async_listen(self, topic_filter: str) -> None:
        """Subscribe at QoS 1 and wait for the broker's SUBACK."""
        done = threading.Event()
        with self._lock:
            _rc, mid = self._client.subscribe(topic_filter, qos=1)
            assert mid is not None
            self._subacks[mid] = done
        assert await asyncio.to_thread(done.wait, WAIT), f"no SUBACK for {topic_filter}"

    async def async_publish(
        self, topic: str, payload: str | dict[str, Any], retain: bool = False
    ) -> None:
        """Publish at QoS 1 and wait for the broker's PUBACK."""
        data = json.dumps(payload) if isinstance(payload, dict) else payload
        info = self._client.publish(topic, data, qos=1, retain=retain)
        await asyncio.to_thread(info.wait_for_publish, WAIT)
        assert info.is_published(), f"publish to {topic} not acknowledged"

    async def async_sync(self) -> None:
        """A marker round trip through the broker: whatever arrived before it is recorded."""
        topic = f"test/sync/{next(self._sync)}"
        await self.async_publish(topic, "sync")
        await wait_until(lambda: self.payloads(topic), what="sync marker")

    def received(self, topic: str | None = None) -> list[Received]:
        with self._lock:
            return [m for m in self._received if topic is None or m.topic == topic]

    def payloads(self, topic: str) -> list[str]:
        return [m.payload for m in self.received(topic)]

    def commands(self) -> list[tuple[str, str]]:
        """Every (topic, payload) recorded except sync markers, in arrival order."""
        return [(m.topic, m.payload) for m in self.received() if not m.topic.startswith("test/")]

    async def wait_for(self, topic: str, count: int = 1) -> list[str]:
        """Wait until ``count`` messages arrived on ``topic``; return their payloads."""
        await wait_until(lambda: len(self.payloads(topic)) >= count, what=f"{count} on {topic}")
        return self.payloads(topic)

    # paho callbacks, on paho's network thread.
    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if not reason.is_failure:
            self._connected.set()

    def _on_subscribe(self, _c: Any, _u: Any, mid: int, _r: Any, _p: Any) -> None:
        with self._lock:
            event = self._subacks.pop(mid, None)
        if event is not None:
            event.set()

    def _on_message(self, _c: Any, _u: Any, message: paho.MQTTMessage) -> None:
        item = Received(message.topic, message.payload.decode("utf-8", "replace"), message.retain)
        with self._lock:
            self._received.append(item)


@pytest.fixture
async def appliance(mosquitto: Mosquitto) -> AsyncIterator[Appliance]:
    device = Appliance(mosquitto.host, mosquitto.port)
    await device.async_start()
    yield device
    await device.async_stop()


async def announce(appliance: Appliance, topic: str, config: dict[str, Any]) -> None:
    await appliance.async_publish(topic, config, retain=True)


async def discovered(hub: Hub, unique_id: str) -> str:
    """The entity id once discovered, with its subscriptions acknowledged by the broker."""
    manager = integration(hub).discovery
    assert manager is not None

    def find() -> str:
        for entity in manager.entities.values():
            if entity.unique_id == unique_id and entity.entity_id:
                return entity.entity_id
        return ""

    eid: str = await wait_until(find, what=f"entity {unique_id}")
    # Several handlers on one topic resubscribe on the next loop turn; let that happen first.
    await asyncio.sleep(0)
    await integration(hub).client.async_wait_subscribed(WAIT)
    return eid


async def call(hub: Hub, domain: str, service: str, eid: str, **data: Any) -> None:
    await hub.services.async_call(domain, service, data, target={"entity_id": eid})


async def wait_state(hub: Hub, eid: str, state: str, **attributes: Any) -> None:
    """Wait until the entity has ``state`` and every given attribute value."""

    def matches() -> bool:
        current = hub.states.get(eid)
        return (
            current is not None
            and current.state == state
            and all(current.attributes.get(k) == v for k, v in attributes.items())
        )

    await wait_until(matches, what=f"{eid} {state} {attributes}")


async def assert_refused_while_offline(
    hub: Hub, appliance: Appliance, eid: str, domain: str, service: str, **data: Any
) -> None:
    """An unavailable entity refuses commands with DeviceUnavailable and sends nothing."""
    assert state_of(hub, eid).state == "unavailable"
    before = appliance.commands()
    with pytest.raises(DeviceUnavailable):
        await call(hub, domain, service, eid, **data)
    await appliance.async_sync()
    assert appliance.commands() == before


# -- light, default schema -----------------------------------------------------------------

# Home Assistant's documented "Brightness and RGB support" example, with an availability topic.
OFFICE_RGB: dict[str, Any] = {
    "name": "Office Light RGB",
    "uniq_id": "office_rgb1",
    "stat_t": "office/rgb1/light/status",
    "cmd_t": "office/rgb1/light/switch",
    "bri_stat_t": "office/rgb1/brightness/status",
    "bri_cmd_t": "office/rgb1/brightness/set",
    "rgb_stat_t": "office/rgb1/rgb/status",
    "rgb_cmd_t": "office/rgb1/rgb/set",
    "stat_val_tpl": "{{ value_json.state }}",
    "bri_val_tpl": "{{ value_json.brightness }}",
    "rgb_val_tpl": "{{ value_json.rgb | join(',') }}",
    "qos": 0,
    "pl_on": "ON",
    "pl_off": "OFF",
    "opt": False,
    "avty_t": "office/rgb1/available",
}


async def test_default_schema_rgb_light(mqtt_hub: Hub, appliance: Appliance) -> None:
    await appliance.async_listen("office/rgb1/+/set")
    await appliance.async_listen("office/rgb1/light/switch")
    await announce(appliance, "homeassistant/light/office_rgb1/config", OFFICE_RGB)
    eid = await discovered(mqtt_hub, "office_rgb1")
    assert eid.startswith("light.")
    assert state_of(mqtt_hub, eid).state == "unavailable"

    await appliance.async_publish("office/rgb1/available", "online", retain=True)
    await appliance.async_publish("office/rgb1/light/status", {"state": "ON"})
    await appliance.async_publish("office/rgb1/brightness/status", {"brightness": 200})
    await appliance.async_publish("office/rgb1/rgb/status", {"rgb": [255, 128, 0]})
    await wait_state(mqtt_hub, eid, "on", brightness=200, rgb_color=[255, 128, 0])
    attrs = state_of(mqtt_hub, eid).attributes
    assert attrs["color_mode"] == "rgb" and attrs["supported_color_modes"] == ["rgb"]
    assert attrs["friendly_name"] == "Office Light RGB"

    await call(mqtt_hub, "light", "turn_on", eid, brightness=128, rgb_color=[0, 0, 255])
    await appliance.wait_for("office/rgb1/light/switch")
    # on_command_type "last" (the default): the style topics first, then payload_on.
    assert appliance.commands() == [
        ("office/rgb1/brightness/set", "128"),
        ("office/rgb1/rgb/set", "0,0,255"),
        ("office/rgb1/light/switch", "ON"),
    ]
    # Not optimistic: the hub shows what the light reports, not what it was asked.
    assert state_of(mqtt_hub, eid).attributes["brightness"] == 200
    await appliance.async_publish("office/rgb1/rgb/status", {"rgb": [0, 0, 255]})
    await appliance.async_publish("office/rgb1/brightness/status", {"brightness": 128})
    await wait_state(mqtt_hub, eid, "on", brightness=128, rgb_color=[0, 0, 255])

    await call(mqtt_hub, "light", "turn_off", eid)
    assert await appliance.wait_for("office/rgb1/light/switch", 2) == ["ON", "OFF"]
    assert state_of(mqtt_hub, eid).state == "on"
    await appliance.async_publish("office/rgb1/light/status", {"state": "OFF"})
    await wait_state(mqtt_hub, eid, "off")
    assert "brightness" not in state_of(mqtt_hub, eid).attributes

    await appliance.async_publish("office/rgb1/available", "offline", retain=True)
    await wait_state(mqtt_hub, eid, "unavailable")
    await assert_refused_while_offline(mqtt_hub, appliance, eid, "light", "turn_on")


# A Tasmota CCT bulb as its (legacy) Home Assistant discovery announces it: one STATE topic for
# everything, Dimmer 0-100, colour temperature in mireds, brightness-only "on" commands.
TASMOTA_CCT: dict[str, Any] = {
    "~": "tasmota_4A1F0C/",
    "name": "Desk lamp",
    "uniq_id": "4A1F0C_LI_1",
    "cmd_t": "~cmnd/POWER",
    "stat_t": "~tele/STATE",
    "stat_val_tpl": "{{ value_json.POWER }}",
    "pl_off": "OFF",
    "pl_on": "ON",
    "avty_t": "~tele/LWT",
    "pl_avail": "Online",
    "pl_not_avail": "Offline",
    "bri_cmd_t": "~cmnd/Dimmer",
    "bri_stat_t": "~tele/STATE",
    "bri_scl": 100,
    "on_cmd_type": "brightness",
    "bri_val_tpl": "{{ value_json.Dimmer }}",
    "clr_temp_cmd_t": "~cmnd/CT",
    "clr_temp_stat_t": "~tele/STATE",
    "clr_temp_val_tpl": "{{ value_json.CT }}",
    "dev": {"ids": ["4A1F0C"], "name": "Desk lamp", "mdl": "Generic", "sw": "13.2.0"},
}


async def test_default_schema_tasmota_dimmer(mqtt_hub: Hub, appliance: Appliance) -> None:
    await appliance.async_listen("tasmota_4A1F0C/cmnd/#")
    await appliance.async_publish("tasmota_4A1F0C/tele/LWT", "Online", retain=True)
    await announce(appliance, "homeassistant/light/4A1F0C_LI_1/config", TASMOTA_CCT)
    eid = await discovered(mqtt_hub, "4A1F0C_LI_1")
    await appliance.async_publish(
        "tasmota_4A1F0C/tele/STATE", {"POWER": "ON", "Dimmer": 40, "CT": 370}
    )
    # Dimmer 40 of 100 is 102 of 255; 370 mired is 2703 K.
    await wait_state(mqtt_hub, eid, "on", brightness=102, color_temp_kelvin=2703)
    attrs = state_of(mqtt_hub, eid).attributes
    assert attrs["color_mode"] == "color_temp"
    assert attrs["supported_color_modes"] == ["color_temp"]
    # The default mired range 153-500 is 6536-2000 K.
    assert (attrs["min_color_temp_kelvin"], attrs["max_color_temp_kelvin"]) == (2000, 6536)

    await call(mqtt_hub, "light", "turn_on", eid, brightness_pct=75, color_temp_kelvin=4000)
    await appliance.wait_for("tasmota_4A1F0C/cmnd/CT")
    await appliance.async_sync()
    # on_command_type "brightness": the Dimmer command turns it on, no POWER ON is sent.
    assert appliance.commands() == [
        ("tasmota_4A1F0C/cmnd/Dimmer", "75"),
        ("tasmota_4A1F0C/cmnd/CT", "250"),
    ]
    await call(mqtt_hub, "light", "turn_off", eid)
    assert await appliance.wait_for("tasmota_4A1F0C/cmnd/POWER") == ["OFF"]
    await appliance.async_publish(
        "tasmota_4A1F0C/tele/STATE", {"POWER": "OFF", "Dimmer": 75, "CT": 250}
    )
    await wait_state(mqtt_hub, eid, "off")

    await appliance.async_publish("tasmota_4A1F0C/tele/LWT", "Offline", retain=True)
    await wait_state(mqtt_hub, eid, "unavailable")
    await assert_refused_while_offline(mqtt_hub, appliance, eid, "light", "turn_off")


# -- lock ----------------------------------------------------------------------------------

# Home Assistant's documented "Frontdoor" lock, with a JSON state and an availability list.
FRONTDOOR: dict[str, Any] = {
    "name": "Frontdoor",
    "uniq_id": "frontdoor_lock",
    "stat_t": "home-assistant/frontdoor/state",
    "cod_form": "^\\d{4}$",
    "cmd_t": "home-assistant/frontdoor/set",
    "cmd_tpl": '{ "action": "{{ value }}", "code":"{{ code }}" }',
    "pl_lock": "LOCK",
    "pl_unlk": "UNLOCK",
    "pl_open": "OPEN",
    "stat_locked": "LOCK",
    "stat_unlocked": "UNLOCK",
    "stat_locking": "LOCKING",
    "stat_unlocking": "UNLOCKING",
    "stat_jam": "MOTOR_JAMMED",
    "opt": False,
    "qos": 1,
    "ret": True,
    "val_tpl": "{{ value_json.x }}",
    "avty": [{"t": "home-assistant/frontdoor/availability"}],
}


async def test_lock(mqtt_hub: Hub, appliance: Appliance) -> None:
    await appliance.async_listen("home-assistant/frontdoor/set")
    jammed: list[Event] = []
    mqtt_hub.bus.async_listen("lock_jammed", jammed.append)
    await announce(appliance, "homeassistant/lock/frontdoor/config", FRONTDOOR)
    eid = await discovered(mqtt_hub, "frontdoor_lock")
    await appliance.async_publish("home-assistant/frontdoor/availability", "online", retain=True)
    await appliance.async_publish("home-assistant/frontdoor/state", {"x": "LOCK"}, retain=True)
    await wait_state(mqtt_hub, eid, "locked")

    await call(mqtt_hub, "lock", "unlock", eid, code="1234")
    [unlock] = await appliance.wait_for("home-assistant/frontdoor/set")
    assert json.loads(unlock) == {"action": "UNLOCK", "code": "1234"}
    assert state_of(mqtt_hub, eid).state == "locked"  # not optimistic
    await appliance.async_publish("home-assistant/frontdoor/state", {"x": "UNLOCKING"})
    await wait_state(mqtt_hub, eid, "unlocking")
    await appliance.async_publish("home-assistant/frontdoor/state", {"x": "UNLOCK"})
    await wait_state(mqtt_hub, eid, "unlocked")

    await call(mqtt_hub, "lock", "open", eid, code="4321")
    await call(mqtt_hub, "lock", "lock", eid, code="1234")
    payloads = await appliance.wait_for("home-assistant/frontdoor/set", 3)
    assert [json.loads(p) for p in payloads[1:]] == [
        {"action": "OPEN", "code": "4321"},
        {"action": "LOCK", "code": "1234"},
    ]
    # A code that does not match code_format is refused before anything is sent.
    for code in ("12", "abcd", None):
        data = {} if code is None else {"code": code}
        with pytest.raises(InvalidServiceData):
            await call(mqtt_hub, "lock", "unlock", eid, **data)
    await appliance.async_sync()
    assert len(appliance.payloads("home-assistant/frontdoor/set")) == 3
    # "retain": true in the config: the broker kept the last command for a late subscriber.
    await appliance.async_listen("home-assistant/frontdoor/+")
    await wait_until(
        lambda: any(m.retain for m in appliance.received("home-assistant/frontdoor/set")),
        what="retained lock command",
    )
    kept = [m for m in appliance.received("home-assistant/frontdoor/set") if m.retain]
    assert [json.loads(m.payload) for m in kept] == [{"action": "LOCK", "code": "1234"}]

    await appliance.async_publish("home-assistant/frontdoor/state", {"x": "MOTOR_JAMMED"})
    await wait_state(mqtt_hub, eid, "jammed")
    assert [e.data["entity_id"] for e in jammed] == [eid]

    await appliance.async_publish("home-assistant/frontdoor/availability", "offline", retain=True)
    await wait_state(mqtt_hub, eid, "unavailable")
    await assert_refused_while_offline(mqtt_hub, appliance, eid, "lock", "lock", code="1234")


# -- cover ---------------------------------------------------------------------------------

# A Shelly 2.5 in roller mode (Gen1 MQTT API): the roller topic says "open"/"close" while moving
# and "stop" when stopped; position 0-100 on roller/0/pos; availability "true"/"false".
SHELLY_ROLLER: dict[str, Any] = {
    "~": "shellies/shellyswitch25-8CAAB5/",
    "name": "Living room shutter",
    "uniq_id": "8CAAB5-roller-0",
    "cmd_t": "~roller/0/command",
    "pos_t": "~roller/0/pos",
    "set_pos_t": "~roller/0/command/pos",
    "pl_open": "open",
    "pl_cls": "close",
    "pl_stop": "stop",
    "stat_t": "~roller/0",
    "stat_opening": "open",
    "stat_closing": "close",
    "stat_stopped": "stop",
    "avty_t": "~online",
    "pl_avail": "true",
    "pl_not_avail": "false",
    "opt": False,
    "dev_cla": "shutter",
    "dev": {
        "ids": ["8CAAB5"],
        "name": "Shelly 2.5 8CAAB5",
        "mdl": "Shelly 2.5",
        "mf": "Allterco Robotics",
        "sw": "20230913-112003/v1.14.0-gcb84623",
    },
}


async def test_cover_shelly_roller(mqtt_hub: Hub, appliance: Appliance) -> None:
    base = "shellies/shellyswitch25-8CAAB5/"
    await appliance.async_listen(base + "roller/0/command/#")
    await appliance.async_publish(base + "online", "true", retain=True)
    await appliance.async_publish(base + "roller/0/pos", "0", retain=True)
    await appliance.async_publish(base + "roller/0", "stop", retain=True)
    await announce(appliance, "homeassistant/cover/8CAAB5-roller-0/config", SHELLY_ROLLER)
    eid = await discovered(mqtt_hub, "8CAAB5-roller-0")
    assert eid.startswith("cover.")
    await wait_state(mqtt_hub, eid, "closed", current_position=0, device_class="shutter")
    assert state_of(mqtt_hub, eid).attributes["friendly_name"] == (
        "Shelly 2.5 8CAAB5 Living room shutter"
    )

    await call(mqtt_hub, "cover", "open_cover", eid)
    await appliance.wait_for(base + "roller/0/command")
    assert state_of(mqtt_hub, eid).state == "closed"  # not optimistic
    await appliance.async_publish(base + "roller/0", "open")
    await wait_state(mqtt_hub, eid, "opening")
    await appliance.async_publish(base + "roller/0/pos", "37")
    await appliance.async_publish(base + "roller/0", "stop")
    await wait_state(mqtt_hub, eid, "open", current_position=37)

    await call(mqtt_hub, "cover", "set_cover_position", eid, position=60)
    await call(mqtt_hub, "cover", "stop_cover", eid)
    await call(mqtt_hub, "cover", "close_cover", eid)
    await appliance.wait_for(base + "roller/0/command", 3)
    assert appliance.commands() == [
        (base + "roller/0/command", "open"),
        (base + "roller/0/command/pos", "60"),
        (base + "roller/0/command", "stop"),
        (base + "roller/0/command", "close"),
    ]
    await appliance.async_publish(base + "roller/0", "close")
    await wait_state(mqtt_hub, eid, "closing")
    await appliance.async_publish(base + "roller/0/pos", "0")
    await appliance.async_publish(base + "roller/0", "stop")
    await wait_state(mqtt_hub, eid, "closed", current_position=0)

    await appliance.async_publish(base + "online", "false", retain=True)
    await wait_state(mqtt_hub, eid, "unavailable")
    await assert_refused_while_offline(
        mqtt_hub, appliance, eid, "cover", "set_cover_position", position=50
    )


# A blind whose motor counts the other way (0 = open, 100 = closed), reporting JSON and taking a
# JSON position command, with no separate state topic: the state follows from the position.
INVERTED_BLIND: dict[str, Any] = {
    "name": "Bedroom blind",
    "uniq_id": "blind_0x54ef441000a3f2c1",
    "cmd_t": "blinds/bedroom/set",
    "pos_t": "blinds/bedroom",
    "pos_tpl": "{{ value_json.position }}",
    "set_pos_t": "blinds/bedroom/set/position",
    "set_pos_tpl": '{"position": {{ position }} }',
    "pos_open": 0,
    "pos_clsd": 100,
    "pl_open": "OPEN",
    "pl_cls": "CLOSE",
    "pl_stop": "STOP",
}


async def test_cover_inverted_positions(mqtt_hub: Hub, appliance: Appliance) -> None:
    await appliance.async_listen("blinds/bedroom/set/#")
    await appliance.async_listen("blinds/bedroom/set")
    await announce(appliance, "homeassistant/cover/bedroom_blind/config", INVERTED_BLIND)
    eid = await discovered(mqtt_hub, "blind_0x54ef441000a3f2c1")
    await appliance.async_publish("blinds/bedroom", {"position": 25, "battery": 80})
    await wait_state(mqtt_hub, eid, "open", current_position=75)
    await appliance.async_publish("blinds/bedroom", {"position": 100})
    await wait_state(mqtt_hub, eid, "closed", current_position=0)

    await call(mqtt_hub, "cover", "set_cover_position", eid, position=30)
    await call(mqtt_hub, "cover", "open_cover", eid)
    await appliance.wait_for("blinds/bedroom/set")
    assert appliance.commands() == [
        ("blinds/bedroom/set/position", '{"position": 70 }'),
        ("blinds/bedroom/set", "OPEN"),
    ]
    assert state_of(mqtt_hub, eid).state == "closed"  # a position topic: not optimistic


# -- climate -------------------------------------------------------------------------------

# A thermostatic radiator valve as Zigbee2MQTT announces it: every value from one JSON topic
# through templates, setpoint and mode commands on their own /set/<attribute> topics.
Z2M_TRV: dict[str, Any] = {
    "action_template": (
        "{% set values = {None:None,'idle':'idle','heat':'heating','cool':'cooling',"
        "'fan_only':'fan'} %}{{ values[value_json.running_state] }}"
    ),
    "action_topic": "zigbee2mqtt/Radiator",
    "availability": [
        {"topic": "zigbee2mqtt/bridge/state", "value_template": "{{ value_json.state }}"}
    ],
    "current_temperature_template": "{{ value_json.local_temperature }}",
    "current_temperature_topic": "zigbee2mqtt/Radiator",
    "device": {
        "identifiers": ["zigbee2mqtt_0x847127fffe1e2b7a"],
        "manufacturer": "Danfoss",
        "model": "Ally thermostat (014G2461)",
        "name": "Radiator",
    },
    "max_temp": "35",
    "min_temp": "5",
    "mode_command_topic": "zigbee2mqtt/Radiator/set/system_mode",
    "mode_state_template": "{{ value_json.system_mode }}",
    "mode_state_topic": "zigbee2mqtt/Radiator",
    "modes": ["off", "heat"],
    "name": None,
    "object_id": "radiator",
    "origin": {"name": "Zigbee2MQTT", "sw": "1.35.1", "url": "https://www.zigbee2mqtt.io"},
    "temp_step": 0.5,
    "temperature_command_topic": "zigbee2mqtt/Radiator/set/occupied_heating_setpoint",
    "temperature_state_template": "{{ value_json.occupied_heating_setpoint }}",
    "temperature_state_topic": "zigbee2mqtt/Radiator",
    "temperature_unit": "C",
    "unique_id": "0x847127fffe1e2b7a_climate_zigbee2mqtt",
}


async def test_climate_zigbee2mqtt_trv(mqtt_hub: Hub, appliance: Appliance) -> None:
    await appliance.async_listen("zigbee2mqtt/Radiator/set/#")
    await appliance.async_publish("zigbee2mqtt/bridge/state", '{"state":"online"}', retain=True)
    await announce(appliance, "homeassistant/climate/0x847127fffe1e2b7a/climate/config", Z2M_TRV)
    eid = await discovered(mqtt_hub, "0x847127fffe1e2b7a_climate_zigbee2mqtt")
    assert eid.startswith("climate.")
    report = {
        "local_temperature": 19.5,
        "occupied_heating_setpoint": 21,
        "system_mode": "heat",
        "running_state": "heat",
        "battery": 87,
    }
    await appliance.async_publish("zigbee2mqtt/Radiator", report)
    await wait_state(
        mqtt_hub, eid, "heat", current_temperature=19.5, temperature=21.0, hvac_action="heating"
    )
    attrs = state_of(mqtt_hub, eid).attributes
    assert attrs["hvac_modes"] == ["off", "heat"]
    assert (attrs["min_temp"], attrs["max_temp"], attrs["target_temp_step"]) == (5.0, 35.0, 0.5)
    assert attrs["temperature_unit"] == "°C" and attrs["friendly_name"] == "Radiator"

    await call(mqtt_hub, "climate", "set_temperature", eid, temperature=22.5)
    await call(mqtt_hub, "climate", "set_hvac_mode", eid, hvac_mode="off")
    await appliance.wait_for("zigbee2mqtt/Radiator/set/system_mode")
    assert appliance.commands() == [
        ("zigbee2mqtt/Radiator/set/occupied_heating_setpoint", "22.5"),
        ("zigbee2mqtt/Radiator/set/system_mode", "off"),
    ]
    # State topics for both: the hub waits for the valve to report.
    assert state_of(mqtt_hub, eid).state == "heat"
    assert state_of(mqtt_hub, eid).attributes["temperature"] == 21.0
    report.update(occupied_heating_setpoint=22.5, system_mode="off", running_state="idle")
    await appliance.async_publish("zigbee2mqtt/Radiator", report)
    await wait_state(mqtt_hub, eid, "off", temperature=22.5, hvac_action="idle")

    # Out of the valve's range or modes: refused, nothing sent.
    with pytest.raises(InvalidServiceData):
        await call(mqtt_hub, "climate", "set_temperature", eid, temperature=40)
    with pytest.raises(InvalidServiceData):
        await call(mqtt_hub, "climate", "set_hvac_mode", eid, hvac_mode="cool")
    await appliance.async_sync()
    assert len(appliance.commands()) == 2

    await appliance.async_publish("zigbee2mqtt/bridge/state", '{"state":"offline"}', retain=True)
    await wait_state(mqtt_hub, eid, "unavailable")
    await assert_refused_while_offline(
        mqtt_hub, appliance, eid, "climate", "set_temperature", temperature=20
    )


# Home Assistant's documented air conditioner: mode sent through a command template, no state
# topics at all (so optimistic), Fahrenheit.
STUDY_AC: dict[str, Any] = {
    "name": "Study",
    "uniq_id": "study_ac",
    "modes": ["off", "cool", "fan_only"],
    "mode_cmd_t": "study/ac/mode/set",
    "mode_cmd_tpl": '{{ value if value=="off" else "on" }}',
    "temp_cmd_t": "study/ac/temperature/set",
    "temp_cmd_tpl": "{{ value | int }}",
    "temp_unit": "F",
    "min_temp": 60,
    "max_temp": 86,
    "temp_step": 1,
}


async def test_climate_optimistic_with_templates(mqtt_hub: Hub, appliance: Appliance) -> None:
    await appliance.async_listen("study/ac/+/set")
    await announce(appliance, "homeassistant/climate/study_ac/config", STUDY_AC)
    eid = await discovered(mqtt_hub, "study_ac")
    assert state_of(mqtt_hub, eid).state == "unknown"
    await call(mqtt_hub, "climate", "set_hvac_mode", eid, hvac_mode="cool")
    await wait_state(mqtt_hub, eid, "cool")
    await call(mqtt_hub, "climate", "set_temperature", eid, temperature=72, hvac_mode="off")
    await wait_state(mqtt_hub, eid, "off", temperature=72)
    assert state_of(mqtt_hub, eid).attributes["temperature_unit"] == "°F"
    await appliance.wait_for("study/ac/temperature/set")
    await appliance.async_sync()
    assert appliance.commands() == [
        ("study/ac/mode/set", "on"),
        ("study/ac/mode/set", "off"),
        ("study/ac/temperature/set", "72"),
    ]


# -- fan -----------------------------------------------------------------------------------

# Home Assistant's documented "Bedroom Fan": boolean payloads, speeds 1-10, preset modes.
BEDROOM_FAN: dict[str, Any] = {
    "name": "Bedroom Fan",
    "uniq_id": "bedroom_fan",
    "stat_t": "bedroom_fan/on/state",
    "cmd_t": "bedroom_fan/on/set",
    "osc_stat_t": "bedroom_fan/oscillation/state",
    "osc_cmd_t": "bedroom_fan/oscillation/set",
    "pct_stat_t": "bedroom_fan/speed/percentage_state",
    "pct_cmd_t": "bedroom_fan/speed/percentage",
    "pr_mode_stat_t": "bedroom_fan/preset/preset_mode_state",
    "pr_mode_cmd_t": "bedroom_fan/preset/preset_mode",
    "pr_modes": ["auto", "smart", "whoosh", "eco", "breeze"],
    "qos": 0,
    "pl_on": "true",
    "pl_off": "false",
    "pl_osc_on": "true",
    "pl_osc_off": "false",
    "spd_rng_min": 1,
    "spd_rng_max": 10,
    "avty_t": "bedroom_fan/status",
}


async def test_fan(mqtt_hub: Hub, appliance: Appliance) -> None:
    await appliance.async_listen("bedroom_fan/on/set")
    await appliance.async_listen("bedroom_fan/oscillation/set")
    await appliance.async_listen("bedroom_fan/speed/percentage")
    await appliance.async_listen("bedroom_fan/preset/preset_mode")
    await announce(appliance, "homeassistant/fan/bedroom_fan/config", BEDROOM_FAN)
    eid = await discovered(mqtt_hub, "bedroom_fan")
    await appliance.async_publish("bedroom_fan/status", "online", retain=True)
    await appliance.async_publish("bedroom_fan/on/state", "true")
    await appliance.async_publish("bedroom_fan/speed/percentage_state", "3")
    await appliance.async_publish("bedroom_fan/preset/preset_mode_state", "eco")
    await appliance.async_publish("bedroom_fan/oscillation/state", "true")
    await wait_state(mqtt_hub, eid, "on", percentage=30, preset_mode="eco", oscillating=True)
    assert state_of(mqtt_hub, eid).attributes["preset_modes"] == BEDROOM_FAN["pr_modes"]

    await call(mqtt_hub, "fan", "set_percentage", eid, percentage=50)
    await call(mqtt_hub, "fan", "turn_on", eid, preset_mode="whoosh")
    await call(mqtt_hub, "fan", "oscillate", eid, oscillating=False)
    await call(mqtt_hub, "fan", "turn_off", eid)
    await appliance.wait_for("bedroom_fan/on/set", 2)
    await appliance.async_sync()
    # set_percentage sends only the speed, as Home Assistant does; turn_on sends payload_on.
    assert appliance.commands() == [
        ("bedroom_fan/speed/percentage", "5"),
        ("bedroom_fan/on/set", "true"),
        ("bedroom_fan/preset/preset_mode", "whoosh"),
        ("bedroom_fan/oscillation/set", "false"),
        ("bedroom_fan/on/set", "false"),
    ]
    assert state_of(mqtt_hub, eid).state == "on"  # not optimistic
    await appliance.async_publish("bedroom_fan/speed/percentage_state", "5")
    await appliance.async_publish("bedroom_fan/oscillation/state", "false")
    await appliance.async_publish("bedroom_fan/on/state", "false")
    await wait_state(mqtt_hub, eid, "off", percentage=50, oscillating=False)

    with pytest.raises(InvalidServiceData):
        await call(mqtt_hub, "fan", "turn_on", eid, preset_mode="turbo")

    await appliance.async_publish("bedroom_fan/status", "offline", retain=True)
    await wait_state(mqtt_hub, eid, "unavailable")
    await assert_refused_while_offline(
        mqtt_hub, appliance, eid, "fan", "set_percentage", percentage=20
    )


# A three-speed ceiling fan (Sonoff iFan03 on Tasmota): speed 0 is off, 1-3 the speeds, all on the
# FanSpeed command, state from stat/RESULT.
IFAN03: dict[str, Any] = {
    "~": "ifan03_8E33A1/",
    "name": "Ceiling fan",
    "uniq_id": "8E33A1_fan",
    "cmd_t": "~cmnd/FanSpeed",
    "pl_on": "2",
    "pl_off": "0",
    "stat_t": "~stat/RESULT",
    "stat_val_tpl": "{{ '0' if value_json.FanSpeed == 0 else '2' }}",
    "pct_cmd_t": "~cmnd/FanSpeed",
    "pct_stat_t": "~stat/RESULT",
    "pct_val_tpl": "{{ value_json.FanSpeed }}",
    "spd_rng_min": 1,
    "spd_rng_max": 3,
}


async def test_fan_speed_range_round_trips(mqtt_hub: Hub, appliance: Appliance) -> None:
    """The percentage the hub shows for a speed, sent back, selects that same speed."""
    await appliance.async_listen("ifan03_8E33A1/cmnd/FanSpeed")
    await announce(appliance, "homeassistant/fan/8E33A1_fan/config", IFAN03)
    eid = await discovered(mqtt_hub, "8E33A1_fan")

    def percentage() -> Any:
        return state_of(mqtt_hub, eid).attributes.get("percentage")

    shown: dict[int, int] = {}
    for speed in (1, 2, 3):
        before = percentage()
        await appliance.async_publish("ifan03_8E33A1/stat/RESULT", {"FanSpeed": speed})

        def changed(old: Any = before) -> bool:
            return bool(percentage() != old)

        await wait_until(changed, what=f"speed {speed} reported")
        assert state_of(mqtt_hub, eid).state == "on"
        shown[speed] = percentage()
    # Home Assistant's mapping: speed n of 3 is floor(n * 100 / 3) percent.
    assert shown == {1: 33, 2: 66, 3: 100}
    for speed in (1, 2, 3):
        await call(mqtt_hub, "fan", "set_percentage", eid, percentage=shown[speed])
    await call(mqtt_hub, "fan", "set_percentage", eid, percentage=0)
    assert await appliance.wait_for("ifan03_8E33A1/cmnd/FanSpeed", 4) == ["1", "2", "3", "0"]
    await appliance.async_publish("ifan03_8E33A1/stat/RESULT", {"FanSpeed": 0})
    await wait_state(mqtt_hub, eid, "off", percentage=0)


# -- button --------------------------------------------------------------------------------

# Home Assistant's documented "Restart Bedroom Switch" button.
RESTART_BUTTON: dict[str, Any] = {
    "uniq_id": "bedroom_switch_reboot_btn",
    "name": "Restart Bedroom Switch",
    "cmd_t": "home/bedroom/switch1/commands",
    "pl_prs": "restart",
    "avty": [{"t": "home/bedroom/switch1/available"}],
    "qos": 0,
    "ret": False,
    "ent_cat": "config",
    "dev_cla": "restart",
}

# A camera's snapshot button whose command is a JSON document built by a command template.
SNAPSHOT_BUTTON: dict[str, Any] = {
    "uniq_id": "esp32cam_snapshot",
    "name": "Snapshot",
    "cmd_t": "esp32cam/command",
    "cmd_tpl": '{"action": "{{ value }}"}',
    "pl_prs": "snapshot",
}


async def test_buttons(mqtt_hub: Hub, appliance: Appliance) -> None:
    await appliance.async_listen("home/bedroom/switch1/commands")
    await appliance.async_listen("esp32cam/command")
    await announce(appliance, "homeassistant/button/bedroom_reboot/config", RESTART_BUTTON)
    await announce(appliance, "homeassistant/button/esp32cam/snapshot/config", SNAPSHOT_BUTTON)
    restart = await discovered(mqtt_hub, "bedroom_switch_reboot_btn")
    snapshot = await discovered(mqtt_hub, "esp32cam_snapshot")
    assert restart.startswith("button.")
    assert state_of(mqtt_hub, restart).state == "unavailable"
    await appliance.async_publish("home/bedroom/switch1/available", "online", retain=True)
    await wait_state(mqtt_hub, restart, "unknown", device_class="restart")
    assert state_of(mqtt_hub, snapshot).state == "unknown"

    await call(mqtt_hub, "button", "press", restart)
    await call(mqtt_hub, "button", "press", snapshot)
    await appliance.wait_for("esp32cam/command")
    await appliance.async_sync()
    assert appliance.commands() == [
        ("home/bedroom/switch1/commands", "restart"),
        ("esp32cam/command", '{"action": "snapshot"}'),
    ]
    # "retain": false: nothing is kept at the broker for a late subscriber.
    await appliance.async_listen("home/bedroom/switch1/+")
    await appliance.async_sync()
    assert [m.retain for m in appliance.received("home/bedroom/switch1/commands")] == [False]
    # The state is the time of the last press.
    pressed = state_of(mqtt_hub, restart).state
    assert pressed.startswith("20") and "T" in pressed

    await appliance.async_publish("home/bedroom/switch1/available", "offline", retain=True)
    await wait_state(mqtt_hub, restart, "unavailable")
    await assert_refused_while_offline(mqtt_hub, appliance, restart, "button", "press")
    await appliance.async_publish("home/bedroom/switch1/available", "online", retain=True)
    await wait_state(mqtt_hub, restart, pressed)


# -- binary_sensor, number, select (third-party configs; Hearth's firmware covers its own) ----

Z2M_AVAILABILITY = [
    {"topic": "zigbee2mqtt/bridge/state", "value_template": "{{ value_json.state }}"}
]

# Zigbee2MQTT's occupancy sensor: JSON true/false payloads, compared as Home Assistant does.
Z2M_OCCUPANCY: dict[str, Any] = {
    "availability": Z2M_AVAILABILITY,
    "device_class": "occupancy",
    "name": "Occupancy",
    "payload_off": False,
    "payload_on": True,
    "state_topic": "zigbee2mqtt/Hall motion",
    "unique_id": "0x00158d00045bd4a1_occupancy_zigbee2mqtt",
    "value_template": "{{ value_json.occupancy }}",
}

# A doorbell button that only ever says ON; off_delay turns it back off.
DOORBELL: dict[str, Any] = {
    "name": "Doorbell",
    "uniq_id": "doorbell_press",
    "stat_t": "doorbell/button",
    "pl_on": "ON",
    "off_dly": 1,
}

Z2M_CALIBRATION: dict[str, Any] = {
    "availability": Z2M_AVAILABILITY,
    "command_topic": "zigbee2mqtt/Radiator/set/local_temperature_calibration",
    "entity_category": "config",
    "max": 12.5,
    "min": -12.5,
    "name": "Local temperature calibration",
    "state_topic": "zigbee2mqtt/Radiator",
    "step": 0.1,
    "unique_id": "0x847127fffe1e2b7a_local_temperature_calibration_zigbee2mqtt",
    "unit_of_measurement": "°C",
    "value_template": "{{ value_json.local_temperature_calibration }}",
}

Z2M_POWER_ON_BEHAVIOR: dict[str, Any] = {
    "availability": Z2M_AVAILABILITY,
    "command_topic": "zigbee2mqtt/Kitchen plug/set/power_on_behavior",
    "entity_category": "config",
    "name": "Power-on behavior",
    "options": ["off", "on", "toggle", "previous"],
    "state_topic": "zigbee2mqtt/Kitchen plug",
    "unique_id": "0xa4c138d2b1e5f6a7_power_on_behavior_zigbee2mqtt",
    "value_template": "{{ value_json.power_on_behavior }}",
}


async def test_binary_sensor_number_select(mqtt_hub: Hub, appliance: Appliance) -> None:
    await appliance.async_listen("zigbee2mqtt/+/set/#")
    await appliance.async_publish("zigbee2mqtt/bridge/state", '{"state":"online"}', retain=True)
    prefix = "homeassistant"
    await announce(appliance, f"{prefix}/binary_sensor/0x00158d00045bd4a1/occupancy/config",
                   Z2M_OCCUPANCY)  # fmt: skip
    await announce(appliance, f"{prefix}/binary_sensor/doorbell/config", DOORBELL)
    await announce(appliance, f"{prefix}/number/0x847127fffe1e2b7a/calibration/config",
                   Z2M_CALIBRATION)  # fmt: skip
    await announce(appliance, f"{prefix}/select/0xa4c138d2b1e5f6a7/power_on/config",
                   Z2M_POWER_ON_BEHAVIOR)  # fmt: skip
    occupancy = await discovered(mqtt_hub, Z2M_OCCUPANCY["unique_id"])
    doorbell = await discovered(mqtt_hub, "doorbell_press")
    calibration = await discovered(mqtt_hub, Z2M_CALIBRATION["unique_id"])
    behavior = await discovered(mqtt_hub, Z2M_POWER_ON_BEHAVIOR["unique_id"])

    await appliance.async_publish("zigbee2mqtt/Hall motion", {"occupancy": True, "battery": 90})
    await wait_state(mqtt_hub, occupancy, "on", device_class="occupancy")
    await appliance.async_publish("zigbee2mqtt/Hall motion", {"occupancy": False})
    await wait_state(mqtt_hub, occupancy, "off")

    await appliance.async_publish("doorbell/button", "ON")
    await wait_state(mqtt_hub, doorbell, "on")
    await wait_state(mqtt_hub, doorbell, "off")  # after off_delay, with no message

    await appliance.async_publish("zigbee2mqtt/Radiator", {"local_temperature_calibration": -1})
    await wait_state(mqtt_hub, calibration, "-1.0", min=-12.5, max=12.5, step=0.1)
    assert state_of(mqtt_hub, calibration).attributes["unit_of_measurement"] == "°C"
    await call(mqtt_hub, "number", "set_value", calibration, value=-1.5)
    with pytest.raises(InvalidServiceData):
        await call(mqtt_hub, "number", "set_value", calibration, value=13)

    await appliance.async_publish("zigbee2mqtt/Kitchen plug", {"power_on_behavior": "previous"})
    await wait_state(mqtt_hub, behavior, "previous", options=Z2M_POWER_ON_BEHAVIOR["options"])
    await call(mqtt_hub, "select", "select_option", behavior, option="off")
    with pytest.raises(InvalidServiceData):
        await call(mqtt_hub, "select", "select_option", behavior, option="sometimes")

    await appliance.wait_for("zigbee2mqtt/Kitchen plug/set/power_on_behavior")
    await appliance.async_sync()
    assert appliance.commands() == [
        ("zigbee2mqtt/Radiator/set/local_temperature_calibration", "-1.5"),
        ("zigbee2mqtt/Kitchen plug/set/power_on_behavior", "off"),
    ]
    assert state_of(mqtt_hub, behavior).state == "previous"  # not optimistic
    assert state_of(mqtt_hub, calibration).state == "-1.0"

    await appliance.async_publish("zigbee2mqtt/bridge/state", '{"state":"offline"}', retain=True)
    for eid in (occupancy, calibration, behavior):
        await wait_state(mqtt_hub, eid, "unavailable")
    assert state_of(mqtt_hub, doorbell).state == "off"  # no availability topic: unaffected
    await assert_refused_while_offline(
        mqtt_hub, appliance, calibration, "number", "set_value", value=0
    )
    await assert_refused_while_offline(
        mqtt_hub, appliance, behavior, "select", "select_option", option="on"
    )
