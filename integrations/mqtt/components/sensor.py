"""MQTT sensor (temperature, humidity, power, anything with a value)."""

from __future__ import annotations

from hub.domains.sensor import SensorEntity

from ..client import MqttClient, ReceivedMessage
from ..discovery import DiscoveryConfig, DiscoveryError
from ..entity import MqttEntity, StateHandler

MAX_STATE_TEXT = 255
NUMERIC_DEVICE_CLASSES = frozenset(
    {"temperature", "humidity", "power", "energy", "voltage", "current", "battery", "pressure",
     "illuminance", "carbon_dioxide", "pm25", "signal_strength"}
)  # fmt: skip


class MqttSensor(MqttEntity, SensorEntity):
    """A value from a state topic, through the value template."""

    def __init__(self, client: MqttClient, config: DiscoveryConfig) -> None:
        super().__init__(client, config)
        opts = self.opts
        topic = opts.topic("state_topic")
        if topic is None:
            raise DiscoveryError("sensor needs a state_topic")
        self.state_topic: str = topic
        self.value_template = opts.template("value_template")
        self.unit_of_measurement = opts.text("unit_of_measurement")
        self.state_class = opts.text("state_class")
        precision = opts.integer("suggested_display_precision", -1, -1, 10)
        self.precision = None if precision < 0 else precision
        self._numeric = bool(
            self.unit_of_measurement
            or self.state_class
            or (self.device_class in NUMERIC_DEVICE_CLASSES)
        )

    def state_topics(self) -> list[tuple[str, StateHandler]]:
        return [(self.state_topic, self._on_state)]

    def _on_state(self, message: ReceivedMessage) -> bool:
        value = self.render_state(self.value_template, message)
        if value in ("", "None"):
            self.native_value = None
            return True
        if self._numeric:
            # A measurement that is not a number is a device bug: keep the last good value.
            number = float(value)
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError(f"not a finite number: {value!r}")
            self.native_value = int(number) if number.is_integer() and "." not in value else number
        else:
            if len(value) > MAX_STATE_TEXT:
                raise ValueError(f"state longer than {MAX_STATE_TEXT} characters")
            self.native_value = value
        return True
