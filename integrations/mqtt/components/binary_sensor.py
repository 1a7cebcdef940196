"""MQTT binary sensor (door contact, motion, leak)."""

from __future__ import annotations

import asyncio

from hub.domains.binary_sensor import BinarySensorEntity

from ..client import MqttClient, ReceivedMessage
from ..discovery import DiscoveryConfig, DiscoveryError
from ..entity import MqttEntity, StateHandler, parse_bool_payload


class MqttBinarySensor(MqttEntity, BinarySensorEntity):
    """On/off from a state topic, optionally falling back to off after ``off_delay``."""

    def __init__(self, client: MqttClient, config: DiscoveryConfig) -> None:
        super().__init__(client, config)
        opts = self.opts
        topic = opts.topic("state_topic")
        if topic is None:
            raise DiscoveryError("binary_sensor needs a state_topic")
        self.state_topic: str = topic
        self.payload_on = opts.payload("payload_on", "ON")
        self.payload_off = opts.payload("payload_off", "OFF")
        self.value_template = opts.template("value_template")
        self.off_delay = opts.number("off_delay", 0.0)
        self._off_timer: asyncio.TimerHandle | None = None

    def state_topics(self) -> list[tuple[str, StateHandler]]:
        return [(self.state_topic, self._on_state)]

    def _on_state(self, message: ReceivedMessage) -> bool:
        value = self.render_state(self.value_template, message)
        self.is_on = parse_bool_payload(value, self.payload_on, self.payload_off)
        if self._off_timer is not None:
            self._off_timer.cancel()
            self._off_timer = None
        if self.is_on and self.off_delay > 0:
            self._off_timer = asyncio.get_running_loop().call_later(self.off_delay, self._off)
        return True

    def _off(self) -> None:
        self._off_timer = None
        self.is_on = False
        self.async_write_state()

    async def async_will_remove(self) -> None:
        if self._off_timer is not None:
            self._off_timer.cancel()
        await super().async_will_remove()
