"""MQTT button (restart a device, trigger a scene on it)."""

from __future__ import annotations

from hub.domains.button import ButtonEntity

from ..client import MqttClient
from ..discovery import DiscoveryConfig, DiscoveryError
from ..entity import MqttEntity


class MqttButton(MqttEntity, ButtonEntity):
    """Publishes ``payload_press`` (through the command template) when pressed."""

    def __init__(self, client: MqttClient, config: DiscoveryConfig) -> None:
        super().__init__(client, config)
        topic = self.opts.topic("command_topic")
        if topic is None:
            raise DiscoveryError("button needs a command_topic")
        self.command_topic: str = topic
        self.payload_press = self.opts.payload("payload_press", "PRESS")
        self.command_template = self.opts.template("command_template")

    async def async_press(self) -> None:
        payload = self.payload_press
        if self.command_template is not None:
            payload = self.command_template.render({"value": payload})
        self.publish(self.command_topic, payload)
