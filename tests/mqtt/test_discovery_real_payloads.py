"""Real projects' discovery payloads become working entities; commands reach the devices."""

from __future__ import annotations

import json

from hub.core import Hub
from integrations.mqtt.client import MqttClient

from . import payloads
from .conftest import integration
from .helpers import state_of, subscribed, wait_until


async def announce(device: MqttClient, item: dict) -> None:  # type: ignore[type-arg]
    ack = device.async_publish(item["topic"], payloads.encoded(item), qos=1, retain=True)
    assert ack is not None
    await ack


def entity_for(hub: Hub, unique_id: str) -> str:
    for entity in integration(hub).discovery.entities.values():  # type: ignore[union-attr]
        if entity.unique_id == unique_id and entity.entity_id:
            return entity.entity_id
    return ""


async def discovered(hub: Hub, unique_id: str) -> str:
    """Wait for the entity and for its state subscriptions to be in place at the broker."""
    eid: str = await wait_until(lambda: entity_for(hub, unique_id), what=f"entity {unique_id}")
    await integration(hub).client.async_wait_subscribed(30)
    return eid


async def test_tasmota_plug(mqtt_hub: Hub, device: MqttClient) -> None:
    commands = await subscribed(device, "cmnd/EZPlug_35EBF6/#")
    await announce(device, payloads.TASMOTA_PLUG)
    eid = await discovered(mqtt_hub, "35EBF6_RL_1")
    assert eid.startswith("switch.")
    # Unavailable until Tasmota's LWT topic says Online.
    assert state_of(mqtt_hub, eid).state == "unavailable"
    device.async_publish("tele/EZPlug_35EBF6/LWT", "Online", qos=1, retain=True)
    device.async_publish("tele/EZPlug_35EBF6/STATE", json.dumps({"POWER1": "ON"}), qos=1)
    await wait_until(lambda: state_of(mqtt_hub, eid).state == "on", what="plug on")
    assert state_of(mqtt_hub, eid).attributes["friendly_name"] == "3DPrinter"
    await mqtt_hub.services.async_call("switch", "turn_off", {}, target={"entity_id": eid})
    await commands.wait_for("cmnd/EZPlug_35EBF6/POWER1", "OFF")
    device.async_publish("tele/EZPlug_35EBF6/LWT", "Offline", qos=1, retain=True)
    await wait_until(lambda: state_of(mqtt_hub, eid).state == "unavailable", what="offline")
    entry = mqtt_hub.registry.entities.get(eid)
    assert entry is not None and entry.device_id is not None
    assert mqtt_hub.registry.devices.get(entry.device_id) is not None


async def test_zigbee2mqtt_sensor_and_light(mqtt_hub: Hub, device: MqttClient) -> None:
    commands = await subscribed(device, "zigbee2mqtt/+/set")
    device.async_publish("zigbee2mqtt/bridge/state", '{"state":"online"}', qos=1, retain=True)
    await announce(device, payloads.Z2M_SENSOR)
    await announce(device, payloads.Z2M_LIGHT)
    sensor = await discovered(mqtt_hub, "0x00158d0001dc126a_temperature_zigbee2mqtt")
    light = await discovered(mqtt_hub, "0x000b57fffec6a5b2_light_zigbee2mqtt")
    state = {"temperature": 21.37, "humidity": 48.2, "battery": 91, "linkquality": 120}
    device.async_publish("zigbee2mqtt/Bedroom sensor", json.dumps(state), qos=1)
    await wait_until(lambda: state_of(mqtt_hub, sensor).state == "21.37", what="temperature")
    attrs = state_of(mqtt_hub, sensor).attributes
    assert attrs["unit_of_measurement"] == "°C" and attrs["device_class"] == "temperature"
    # The light has a null name: it takes its device's name.
    assert state_of(mqtt_hub, light).attributes["friendly_name"] == "Living room lamp"
    lamp = {"state": "ON", "brightness": 254, "color_temp": 370, "color_mode": "color_temp"}
    device.async_publish("zigbee2mqtt/Living room lamp", json.dumps(lamp), qos=1)
    await wait_until(lambda: state_of(mqtt_hub, light).state == "on", what="lamp on")
    attrs = state_of(mqtt_hub, light).attributes
    assert attrs["brightness"] == 255 and attrs["color_temp_kelvin"] == 2703
    await mqtt_hub.services.async_call(
        "light", "turn_on", {"brightness_pct": 50, "color_temp_kelvin": 4000},
        target={"entity_id": light},
    )  # fmt: skip
    topic = "zigbee2mqtt/Living room lamp/set"
    await wait_until(lambda: commands.payloads(topic), what="light command")
    assert json.loads(commands.payloads(topic)[0]) == {
        "state": "ON",
        "brightness": 127,
        "color_temp": 250,
    }
    # The bridge going offline takes both entities with it.
    device.async_publish("zigbee2mqtt/bridge/state", '{"state":"offline"}', qos=1, retain=True)
    await wait_until(
        lambda: (
            state_of(mqtt_hub, light).state == state_of(mqtt_hub, sensor).state == "unavailable"
        ),
        what="bridge offline",
    )


async def test_valetudo_vacuum(mqtt_hub: Hub, device: MqttClient) -> None:
    vid = payloads.VALETUDO_ID
    commands = await subscribed(device, f"valetudo/{vid}/#")
    device.async_publish(f"valetudo/{vid}/$state", "ready", qos=1, retain=True)
    await announce(device, payloads.VALETUDO_VACUUM)
    eid = await discovered(mqtt_hub, f"{vid}_vacuum")
    state_topic = f"valetudo/{vid}/hass/{vid}_vacuum/state"
    device.async_publish(state_topic, '{"state":"docked","fan_speed":"max","battery_level":87}', 1)
    await wait_until(lambda: state_of(mqtt_hub, eid).state == "docked", what="docked")
    assert state_of(mqtt_hub, eid).attributes["battery_level"] == 87
    await mqtt_hub.services.async_call("vacuum", "start", {}, target={"entity_id": eid})
    await mqtt_hub.services.async_call(
        "vacuum", "set_fan_speed", {"fan_speed": "low"}, target={"entity_id": eid}
    )
    await mqtt_hub.services.async_call("vacuum", "return_to_base", {}, target={"entity_id": eid})
    command_topic = f"valetudo/{vid}/hass/{vid}_vacuum/command"
    await commands.wait_for(command_topic, "HOME")
    assert commands.payloads(command_topic) == ["START", "HOME"]
    await commands.wait_for(f"valetudo/{vid}/FanSpeedControlCapability/preset/set", "low")
    device.async_publish(f"valetudo/{vid}/$state", "lost", qos=1, retain=True)
    await wait_until(lambda: state_of(mqtt_hub, eid).state == "unavailable", what="lost")


async def test_esphome_switch(mqtt_hub: Hub, device: MqttClient) -> None:
    commands = await subscribed(device, "livingroom/switch/relay/command")
    device.async_publish("livingroom/status", "online", qos=1, retain=True)
    await announce(device, payloads.ESPHOME_SWITCH)
    eid = await discovered(mqtt_hub, "ESPswitchrelay")
    device.async_publish("livingroom/switch/relay/state", "OFF", qos=1, retain=True)
    await wait_until(lambda: state_of(mqtt_hub, eid).state == "off", what="relay off")
    await mqtt_hub.services.async_call("switch", "toggle", {}, target={"entity_id": eid})
    await commands.wait_for("livingroom/switch/relay/command", "ON")
    entry = mqtt_hub.registry.entities.get(eid)
    assert entry is not None and entry.device_id is not None
    device_entry = mqtt_hub.registry.devices.get(entry.device_id)
    assert device_entry is not None
    assert device_entry.name == "livingroom"


async def test_removing_retained_config_removes_entity(mqtt_hub: Hub, device: MqttClient) -> None:
    await announce(device, payloads.ESPHOME_SWITCH)
    await announce(device, payloads.TASMOTA_PLUG)
    esp = await discovered(mqtt_hub, "ESPswitchrelay")
    plug = await discovered(mqtt_hub, "35EBF6_RL_1")
    ack = device.async_publish(payloads.ESPHOME_SWITCH["topic"], b"", qos=1, retain=True)
    assert ack is not None
    await ack
    await wait_until(lambda: mqtt_hub.states.get(esp) is None, what="entity removed")
    assert mqtt_hub.entities.get(esp) is None
    assert mqtt_hub.states.get(plug) is not None


async def test_retained_configs_survive_hub_restart(
    hub_factory,
    mosquitto,
    device: MqttClient,  # type: ignore[no-untyped-def]
) -> None:
    from .conftest import mqtt_config

    for item in payloads.ALL:
        await announce(device, item)
    hub = await hub_factory(mqtt=mqtt_config(mosquitto))
    for item in payloads.ALL:
        await discovered(hub, item["config"].get("uniq_id") or item["config"]["unique_id"])
    assert len(integration(hub).discovery.entities) == len(payloads.ALL)  # type: ignore[union-attr]


async def test_json_attributes_topic(mqtt_hub: Hub, device: MqttClient) -> None:
    config = {
        "name": "Plug",
        "stat_t": "plug9/state",
        "cmd_t": "plug9/set",
        "json_attr_t": "plug9/telemetry",
        "uniq_id": "plug9",
    }
    await announce(device, {"topic": "homeassistant/switch/plug9/config", "config": config})
    eid = await discovered(mqtt_hub, "plug9")
    telemetry = {"Uptime": "0T01:02:03", "Vcc": 3.2, "Wifi": {"RSSI": 70}, "friendly_name": "x"}
    device.async_publish("plug9/telemetry", json.dumps(telemetry), qos=1)
    await wait_until(lambda: "Vcc" in state_of(mqtt_hub, eid).attributes, what="attributes")
    attrs = state_of(mqtt_hub, eid).attributes
    # Flat values become attributes; nested ones and Hearth's own keys are left alone.
    assert attrs["Uptime"] == "0T01:02:03" and "Wifi" not in attrs
    assert attrs["friendly_name"] == "Plug"
    device.async_publish("plug9/telemetry", b"[not an object]", qos=1)
    device.async_publish("plug9/telemetry", json.dumps({"Vcc": 3.3}), qos=1)
    await wait_until(lambda: state_of(mqtt_hub, eid).attributes.get("Vcc") == 3.3, what="update")
