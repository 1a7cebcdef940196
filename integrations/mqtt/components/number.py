"""MQTT number (a setpoint, a volume, a timer length)."""

from __future__ import annotations

from hub.domains.number import NumberEntity

from ..client import MqttClient, ReceivedMessage
from ..discovery import DiscoveryConfig, DiscoveryError
from ..entity import MqttEntity, StateHandler, finite_float


class MqttNumber(MqttEntity, NumberEntity):
    """A bounded number: commands on the command topic, value from the state topic."""

    def __init__(self, client: MqttClient, config: DiscoveryConfig) -> None:
        super().__init__(client, config)
        opts = self.opts
        topic = opts.topic("command_topic")
        if topic is None:
            raise DiscoveryError("number needs a command_topic")
        self.command_topic: str = topic
        self.state_topic = opts.topic("state_topic")
        self.value_template = opts.template("value_template")
        self.command_template = opts.template("command_template")
        self.min_value = opts.number("min", 1.0)
        self.max_value = opts.number("max", 100.0)
        self.step = opts.number("step", 1.0)
        if self.min_value > self.max_value or self.step <= 0:
            raise DiscoveryError("number needs min <= max and a positive step")
        self.unit_of_measurement = opts.text("unit_of_measurement")
        self.optimistic = opts.flag("optimistic", self.state_topic is None)

    def state_topics(self) -> list[tuple[str, StateHandler]]:
        return [(self.state_topic, self._on_state)] if self.state_topic else []

    def _on_state(self, message: ReceivedMessage) -> bool:
        value = finite_float(self.render_state(self.value_template, message))
        if not self.min_value <= value <= self.max_value:
            raise ValueError(f"{value} outside {self.min_value}..{self.max_value}")
        self.native_value = value
        return True

    async def async_set_value(self, value: float) -> None:
        number: float | int = int(value) if float(value).is_integer() and self.step >= 1 else value
        payload = str(number)
        if self.command_template is not None:
            payload = self.command_template.render({"value": number})
        self.publish(self.command_topic, payload)
        if self.optimistic:
            self.native_value = float(value)
            self.async_write_state()
