"""MQTT vacuum, state schema (Valetudo, the reference robot cleaner firmware)."""

from __future__ import annotations

import json

from hub.domains.vacuum import VacuumEntity
from hub.errors import InvalidServiceData, NotSupported

from ..client import MqttClient, ReceivedMessage
from ..discovery import DiscoveryConfig, DiscoveryError
from ..entity import MqttEntity, StateHandler, json_payload

# Home Assistant's vacuum activities; "idle" and "error" pass through too.
ACTIVITIES = ("cleaning", "docked", "paused", "idle", "returning", "error")


class MqttVacuum(MqttEntity, VacuumEntity):
    """Commands as payloads on one command topic; state as a JSON document."""

    def __init__(self, client: MqttClient, config: DiscoveryConfig) -> None:
        super().__init__(client, config)
        opts = self.opts
        schema = opts.text("schema", "state")
        if schema != "state":
            raise DiscoveryError(f"unsupported vacuum schema {schema!r} (only 'state')")
        self.command_topic = opts.topic("command_topic")
        self.state_topic = opts.topic("state_topic")
        self.set_fan_speed_topic = opts.topic("set_fan_speed_topic")
        self.send_command_topic = opts.topic("send_command_topic")
        self.fan_speeds = opts.text_list("fan_speed_list")
        self.payloads = {
            "start": opts.payload("payload_start", "start"),
            "pause": opts.payload("payload_pause", "pause"),
            "stop": opts.payload("payload_stop", "stop"),
            "return_to_base": opts.payload("payload_return_to_base", "return_to_base"),
            "locate": opts.payload("payload_locate", "locate"),
            "clean_spot": opts.payload("payload_clean_spot", "clean_spot"),
        }
        features = set(opts.text_list("supported_features")) or {
            "start", "stop", "return_home", "status", "battery", "clean_spot"
        }  # fmt: skip
        self._features = features

    @property
    def supported_commands(self) -> tuple[str, ...]:
        wanted = {
            "start": "start",
            "pause": "pause",
            "stop": "stop",
            "return_to_base": "return_home",
            "locate": "locate",
            "set_fan_speed": "fan_speed",
        }
        names = [cmd for cmd, feature in wanted.items() if feature in self._features]
        if self.send_command_topic:
            names.append("clean_area")
        return tuple(names)

    def state_topics(self) -> list[tuple[str, StateHandler]]:
        return [(self.state_topic, self._on_state)] if self.state_topic else []

    def _on_state(self, message: ReceivedMessage) -> bool:
        data = json_payload(message.payload)
        if not isinstance(data, dict):
            raise ValueError("vacuum state must be a JSON object")
        state = data.get("state")
        if state is not None:
            if state not in ACTIVITIES:
                raise ValueError(f"unknown vacuum state {str(state)[:40]!r}")
            self.activity = state
        battery = data.get("battery_level")
        if battery is not None:
            if isinstance(battery, bool) or not isinstance(battery, int | float):
                raise ValueError("battery_level must be a number")
            self.battery_level = max(0, min(100, int(battery)))
        fan_speed = data.get("fan_speed")
        if isinstance(fan_speed, str):
            self.fan_speed = fan_speed[:40]
        return True

    def _command(self, name: str) -> None:
        if self.command_topic is None:
            raise NotSupported(f"{self.entity_id} has no command topic")
        self.publish(self.command_topic, self.payloads[name])

    async def async_start(self) -> None:
        self._command("start")

    async def async_pause(self) -> None:
        self._command("pause")

    async def async_stop(self) -> None:
        self._command("stop")

    async def async_return_to_base(self) -> None:
        self._command("return_to_base")

    async def async_locate(self) -> None:
        self._command("locate")

    async def async_set_fan_speed(self, fan_speed: str) -> None:
        if self.set_fan_speed_topic is None:
            raise NotSupported(f"{self.entity_id} has no fan speeds")
        if self.fan_speeds and fan_speed not in self.fan_speeds:
            raise InvalidServiceData(
                "unknown fan speed", {"fan_speed": f"not in {self.fan_speeds}"}
            )
        self.publish(self.set_fan_speed_topic, fan_speed)

    async def async_clean_area(self, area: str) -> None:
        # HA's send_command carries a JSON command; devices that know areas read it there.
        if self.send_command_topic is None:
            raise NotSupported(f"{self.entity_id} cannot clean an area")
        self.publish(self.send_command_topic, json.dumps({"command": "clean_area", "area": area}))
