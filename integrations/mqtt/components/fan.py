"""MQTT fan (ceiling fans, air purifiers)."""

from __future__ import annotations

import math
from typing import Any

from hub.domains.fan import FanEntity
from hub.errors import InvalidServiceData, NotSupported

from ..client import MqttClient, ReceivedMessage
from ..discovery import DiscoveryConfig, DiscoveryError
from ..entity import MqttEntity, StateHandler, finite_float, parse_bool_payload


class MqttFan(MqttEntity, FanEntity):
    """On/off, a percentage mapped onto the device's speed range, presets, oscillation."""

    def __init__(self, client: MqttClient, config: DiscoveryConfig) -> None:
        super().__init__(client, config)
        opts = self.opts
        topic = opts.topic("command_topic")
        if topic is None:
            raise DiscoveryError("fan needs a command_topic")
        self.command_topic: str = topic
        self.state_topic = opts.topic("state_topic")
        self.state_template = opts.template("state_value_template")
        self.payload_on = opts.payload("payload_on", "ON")
        self.payload_off = opts.payload("payload_off", "OFF")
        self.percentage_command_topic = opts.topic("percentage_command_topic")
        self.percentage_state_topic = opts.topic("percentage_state_topic")
        self.percentage_template = opts.template("percentage_value_template")
        self.percentage_command_template = opts.template("percentage_command_template")
        self.speed_min = opts.integer("speed_range_min", 1, 1)
        self.speed_max = opts.integer("speed_range_max", 100, 1)
        if self.speed_min > self.speed_max:
            raise DiscoveryError("speed_range_min must not exceed speed_range_max")
        self.preset_mode_command_topic = opts.topic("preset_mode_command_topic")
        self.preset_mode_state_topic = opts.topic("preset_mode_state_topic")
        self.preset_template = opts.template("preset_mode_value_template")
        self.preset_modes = opts.text_list("preset_modes")
        self.oscillation_command_topic = opts.topic("oscillation_command_topic")
        self.oscillation_state_topic = opts.topic("oscillation_state_topic")
        self.oscillation_template = opts.template("oscillation_value_template")
        self.payload_osc_on = opts.payload("payload_oscillation_on", "oscillate_on")
        self.payload_osc_off = opts.payload("payload_oscillation_off", "oscillate_off")
        self.optimistic = opts.flag("optimistic", self.state_topic is None)

    def state_topics(self) -> list[tuple[str, StateHandler]]:
        pairs: list[tuple[str | None, StateHandler]] = [
            (self.state_topic, self._on_state),
            (self.percentage_state_topic, self._on_percentage),
            (self.preset_mode_state_topic, self._on_preset),
            (self.oscillation_state_topic, self._on_oscillation),
        ]
        return [(topic, handler) for topic, handler in pairs if topic]

    def _on_state(self, message: ReceivedMessage) -> bool:
        value = self.render_state(self.state_template, message)
        self.is_on = parse_bool_payload(value, self.payload_on, self.payload_off)
        return True

    def _on_percentage(self, message: ReceivedMessage) -> bool:
        speed = finite_float(self.render_state(self.percentage_template, message))
        if speed == 0:
            self.percentage = 0
            return True
        if not self.speed_min <= speed <= self.speed_max:
            raise ValueError(f"speed {speed} outside {self.speed_min}..{self.speed_max}")
        span = self.speed_max - self.speed_min + 1
        # Home Assistant's ranged_value_to_percentage (floor): rounding up would show speed 1
        # of 3 as 34 %, which _speed_for sends back as speed 2.
        self.percentage = int((speed - self.speed_min + 1) * 100 // span)
        return True

    def _on_preset(self, message: ReceivedMessage) -> bool:
        value = self.render_state(self.preset_template, message)
        if value not in self.preset_modes:
            raise ValueError(f"preset {value[:40]!r} is not one of {self.preset_modes}")
        self.preset_mode = value
        return True

    def _on_oscillation(self, message: ReceivedMessage) -> bool:
        value = self.render_state(self.oscillation_template, message)
        self.oscillating = parse_bool_payload(value, self.payload_osc_on, self.payload_osc_off)
        return True

    def _speed_for(self, percentage: int) -> int:
        span = self.speed_max - self.speed_min + 1
        return self.speed_min - 1 + math.ceil(percentage * span / 100)

    def _publish_percentage(self, percentage: int) -> None:
        assert self.percentage_command_topic is not None
        speed = self._speed_for(percentage)
        payload = str(speed)
        if self.percentage_command_template is not None:
            payload = self.percentage_command_template.render({"value": speed})
        self.publish(self.percentage_command_topic, payload)

    async def async_set_percentage(self, percentage: int) -> None:
        # As Home Assistant: a speed change goes to the percentage topic alone, without
        # payload_on (which on some fans selects a speed of its own).
        if percentage == 0 or self.percentage_command_topic is None:
            await super().async_set_percentage(percentage)
            return
        self._publish_percentage(percentage)
        if self.optimistic:
            self.is_on = True
            self.percentage = percentage
            self.async_write_state()

    async def async_turn_on(self, **data: Any) -> None:
        self.publish(self.command_topic, self.payload_on)
        percentage = data.get("percentage")
        if percentage is not None and percentage > 0 and self.percentage_command_topic:
            self._publish_percentage(int(percentage))
        preset = data.get("preset_mode")
        if preset is not None:
            if preset not in self.preset_modes or self.preset_mode_command_topic is None:
                raise InvalidServiceData("unknown preset", {"preset_mode": f"{preset!r}"})
            self.publish(self.preset_mode_command_topic, preset)
        if self.optimistic:
            self.is_on = True
            if percentage is not None:
                self.percentage = int(percentage)
            self.async_write_state()

    async def async_turn_off(self, **data: Any) -> None:
        self.publish(self.command_topic, self.payload_off)
        if self.optimistic:
            self.is_on = False
            self.async_write_state()

    async def async_oscillate(self, oscillating: bool) -> None:
        if self.oscillation_command_topic is None:
            raise NotSupported(f"{self.entity_id} cannot oscillate")
        self.publish(
            self.oscillation_command_topic,
            self.payload_osc_on if oscillating else self.payload_osc_off,
        )
        if self.optimistic:
            self.oscillating = oscillating
            self.async_write_state()
