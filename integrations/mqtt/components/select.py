"""MQTT select (a mode or preset picked from a list)."""

from __future__ import annotations

from hub.domains.select import SelectEntity

from ..client import MqttClient, ReceivedMessage
from ..discovery import DiscoveryConfig, DiscoveryError
from ..entity import MqttEntity, StateHandler


class MqttSelect(MqttEntity, SelectEntity):
    """One of ``options``: commands on the command topic, current option from the state topic."""

    def __init__(self, client: MqttClient, config: DiscoveryConfig) -> None:
        super().__init__(client, config)
        opts = self.opts
        topic = opts.topic("command_topic")
        if topic is None:
            raise DiscoveryError("select needs a command_topic")
        self.command_topic: str = topic
        self.options = opts.text_list("options")
        if not self.options:
            raise DiscoveryError("select needs a non-empty options list")
        self.state_topic = opts.topic("state_topic")
        self.value_template = opts.template("value_template")
        self.command_template = opts.template("command_template")
        self.optimistic = opts.flag("optimistic", self.state_topic is None)

    def state_topics(self) -> list[tuple[str, StateHandler]]:
        return [(self.state_topic, self._on_state)] if self.state_topic else []

    def _on_state(self, message: ReceivedMessage) -> bool:
        value = self.render_state(self.value_template, message)
        if value not in self.options:
            raise ValueError(f"{value[:40]!r} is not one of the options")
        self.current_option = value
        return True

    async def async_select_option(self, option: str) -> None:
        payload = option
        if self.command_template is not None:
            payload = self.command_template.render({"value": option})
        self.publish(self.command_topic, payload)
        if self.optimistic:
            self.current_option = option
            self.async_write_state()
