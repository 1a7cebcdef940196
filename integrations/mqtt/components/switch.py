"""MQTT switch (a Tasmota or ESPHome relay, a Zigbee2MQTT plug)."""

from __future__ import annotations

from typing import Any

from hub.domains.switch import SwitchEntity

from ..client import MqttClient, ReceivedMessage
from ..discovery import DiscoveryConfig
from ..entity import MqttEntity, StateHandler, parse_bool_payload


class MqttSwitch(MqttEntity, SwitchEntity):
    """On/off over a command topic; state from a state topic, or optimistic without one."""

    def __init__(self, client: MqttClient, config: DiscoveryConfig) -> None:
        super().__init__(client, config)
        opts = self.opts
        self.command_topic = opts.topic("command_topic")
        self.state_topic = opts.topic("state_topic")
        self.payload_on = opts.payload("payload_on", "ON")
        self.payload_off = opts.payload("payload_off", "OFF")
        self.state_on = opts.payload("state_on", self.payload_on)
        self.state_off = opts.payload("state_off", self.payload_off)
        self.value_template = opts.template("value_template")
        self.optimistic = opts.flag("optimistic", self.state_topic is None)

    def state_topics(self) -> list[tuple[str, StateHandler]]:
        return [(self.state_topic, self._on_state)] if self.state_topic else []

    def _on_state(self, message: ReceivedMessage) -> bool:
        value = self.render_state(self.value_template, message)
        self.is_on = parse_bool_payload(value, self.state_on, self.state_off)
        return True

    async def async_turn_on(self, **data: Any) -> None:
        self._command(True)

    async def async_turn_off(self, **data: Any) -> None:
        self._command(False)

    def _command(self, on: bool) -> None:
        if self.command_topic is None:
            raise_read_only(self)
        self.publish(str(self.command_topic), self.payload_on if on else self.payload_off)
        if self.optimistic:
            self.is_on = on
            self.async_write_state()


def raise_read_only(entity: MqttEntity) -> None:
    """Refuse a command on an entity whose config has no command topic."""
    from hub.errors import NotSupported

    raise NotSupported(f"{entity.entity_id} has no command topic")
