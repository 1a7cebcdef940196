"""Discovery payloads as the real projects publish them (from their documentation and source).

- Tasmota: the switch example in Home Assistant's MQTT discovery documentation (abbreviated keys).
- Zigbee2MQTT: a temperature sensor and a colour-temperature bulb as Zigbee2MQTT announces them
  (long keys, JSON light schema, bridge availability with a value template, null light name).
- Valetudo: VacuumHassComponent's autoconf (state schema, Homie `$state` availability).
- ESPHome: a relay switch as ESPHome's MQTT component announces it (abbreviated keys, `cns`).
"""

from __future__ import annotations

import json
from typing import Any

Z2M_BRIDGE_DEVICE = "zigbee2mqtt_bridge_0x00124b0024c13fa8"

TASMOTA_PLUG: dict[str, Any] = {
    "topic": "homeassistant/switch/35EBF6_RL_1/config",
    "config": {
        "name": "3DPrinter",
        "stat_t": "tele/EZPlug_35EBF6/STATE",
        "avty_t": "tele/EZPlug_35EBF6/LWT",
        "pl_avail": "Online",
        "pl_not_avail": "Offline",
        "cmd_t": "cmnd/EZPlug_35EBF6/POWER1",
        "pl_off": "OFF",
        "pl_on": "ON",
        "val_tpl": "{{value_json.POWER1}}",
        "uniq_id": "35EBF6_RL_1",
        "dev": {"ids": ["35EBF6"]},
    },
}

Z2M_SENSOR: dict[str, Any] = {
    "topic": "homeassistant/sensor/0x00158d0001dc126a/temperature/config",
    "config": {
        "availability": [
            {"topic": "zigbee2mqtt/bridge/state", "value_template": "{{ value_json.state }}"}
        ],
        "device": {
            "identifiers": ["zigbee2mqtt_0x00158d0001dc126a"],
            "manufacturer": "Aqara",
            "model": "Temperature and humidity sensor (WSDCGQ11LM)",
            "name": "Bedroom sensor",
            "via_device": Z2M_BRIDGE_DEVICE,
        },
        "device_class": "temperature",
        "enabled_by_default": True,
        "object_id": "bedroom_sensor_temperature",
        "origin": {"name": "Zigbee2MQTT", "sw": "1.35.1", "url": "https://www.zigbee2mqtt.io"},
        "state_class": "measurement",
        "state_topic": "zigbee2mqtt/Bedroom sensor",
        "unique_id": "0x00158d0001dc126a_temperature_zigbee2mqtt",
        "unit_of_measurement": "°C",
        "value_template": "{{ value_json.temperature }}",
        "name": "Temperature",
    },
}

Z2M_LIGHT: dict[str, Any] = {
    "topic": "homeassistant/light/0x000b57fffec6a5b2/light/config",
    "config": {
        "availability": [
            {"topic": "zigbee2mqtt/bridge/state", "value_template": "{{ value_json.state }}"}
        ],
        "brightness": True,
        "brightness_scale": 254,
        "command_topic": "zigbee2mqtt/Living room lamp/set",
        "device": {
            "identifiers": ["zigbee2mqtt_0x000b57fffec6a5b2"],
            "manufacturer": "IKEA",
            "model": "TRADFRI bulb E27 WS opal 980lm (LED1545G12)",
            "name": "Living room lamp",
            "sw_version": "2.3.093",
            "via_device": Z2M_BRIDGE_DEVICE,
        },
        "max_mireds": 454,
        "min_mireds": 250,
        "name": None,
        "object_id": "living_room_lamp",
        "schema": "json",
        "state_topic": "zigbee2mqtt/Living room lamp",
        "supported_color_modes": ["color_temp"],
        "unique_id": "0x000b57fffec6a5b2_light_zigbee2mqtt",
    },
}

VALETUDO_ID = "ShinyTeenyDog"
VALETUDO_VACUUM: dict[str, Any] = {
    "topic": f"homeassistant/vacuum/{VALETUDO_ID}/{VALETUDO_ID}_vacuum/config",
    "config": {
        "name": "Robot",
        "object_id": f"valetudo_{VALETUDO_ID.lower()}",
        "supported_features": [
            "status",
            "start",
            "stop",
            "pause",
            "return_home",
            "fan_speed",
            "locate",
        ],
        "state_topic": f"valetudo/{VALETUDO_ID}/hass/{VALETUDO_ID}_vacuum/state",
        "command_topic": f"valetudo/{VALETUDO_ID}/hass/{VALETUDO_ID}_vacuum/command",
        "payload_start": "START",
        "payload_pause": "PAUSE",
        "payload_return_to_base": "HOME",
        "payload_stop": "STOP",
        "payload_locate": "LOCATE",
        "fan_speed_list": ["low", "medium", "high", "max"],
        "set_fan_speed_topic": f"valetudo/{VALETUDO_ID}/FanSpeedControlCapability/preset/set",
        "availability_topic": f"valetudo/{VALETUDO_ID}/$state",
        "payload_available": "ready",
        "payload_not_available": "lost",
        "unique_id": f"{VALETUDO_ID}_vacuum",
        "device": {
            "manufacturer": "Dreame",
            "model": "L10S Ultra",
            "name": "Valetudo L10S Ultra ShinyTeenyDog",
            "identifiers": [VALETUDO_ID],
            "sw_version": "2024.02.0 (Valetudo)",
            "configuration_url": "http://valetudo-shinyteenydog.local",
        },
    },
}

ESPHOME_SWITCH: dict[str, Any] = {
    "topic": "homeassistant/switch/livingroom/relay/config",
    "config": {
        "name": "Relay",
        "stat_t": "livingroom/switch/relay/state",
        "cmd_t": "livingroom/switch/relay/command",
        "avty_t": "livingroom/status",
        "uniq_id": "ESPswitchrelay",
        "dev": {
            "ids": "a4cf12b3c4d5",
            "cns": [["mac", "a4cf12b3c4d5"]],
            "name": "livingroom",
            "sw": "esphome v2024.2.0 Feb 20 2024, 10:00:00",
            "mdl": "nodemcuv2",
            "mf": "espressif",
        },
    },
}

ALL = (TASMOTA_PLUG, Z2M_SENSOR, Z2M_LIGHT, VALETUDO_VACUUM, ESPHOME_SWITCH)


def encoded(item: dict[str, Any]) -> bytes:
    return json.dumps(item["config"]).encode()
