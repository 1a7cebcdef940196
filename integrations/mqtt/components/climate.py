"""MQTT climate (thermostats, radiator valves, heat pumps)."""

from __future__ import annotations

from hub.domains.climate import HVAC_MODES, ClimateEntity
from hub.errors import InvalidServiceData, NotSupported

from ..client import MqttClient, ReceivedMessage
from ..discovery import DiscoveryConfig, DiscoveryError
from ..entity import MqttEntity, StateHandler, finite_float
from ..template import Template


class MqttClimate(MqttEntity, ClimateEntity):
    """Mode and target temperature over command topics; current values from state topics."""

    def __init__(self, client: MqttClient, config: DiscoveryConfig) -> None:
        super().__init__(client, config)
        opts = self.opts
        self.mode_command_topic = opts.topic("mode_command_topic")
        self.mode_command_template = opts.template("mode_command_template")
        self.temperature_command_topic = opts.topic("temperature_command_topic")
        self.temperature_command_template = opts.template("temperature_command_template")
        modes = opts.text_list("modes") or ("auto", "off", "cool", "heat", "dry", "fan_only")
        unknown = [m for m in modes if m not in HVAC_MODES]
        if unknown:
            raise DiscoveryError(f"unknown climate modes {unknown}")
        self.hvac_modes = modes
        unit = opts.text("temperature_unit", "C") or "C"
        self.temperature_unit = "°F" if unit.upper().endswith("F") else "°C"
        self.min_temp = opts.number("min_temp", 7.0)
        self.max_temp = opts.number("max_temp", 35.0)
        self.target_temperature_step = opts.number("temp_step", 0.5)
        if self.min_temp >= self.max_temp or self.target_temperature_step <= 0:
            raise DiscoveryError("climate needs min_temp < max_temp and a positive temp_step")
        self._state_topics: list[tuple[str, StateHandler]] = []
        self._float_topic("current_temperature_topic", "current_temperature_template", "current")
        self._float_topic("temperature_state_topic", "temperature_state_template", "target")
        self._float_topic("current_humidity_topic", "current_humidity_template", "humidity")
        mode_topic = opts.topic("mode_state_topic")
        if mode_topic:
            self._state_topics.append(
                (mode_topic, self._text_handler(opts.template("mode_state_template"), "mode"))
            )
        action_topic = opts.topic("action_topic")
        if action_topic:
            self._state_topics.append(
                (action_topic, self._text_handler(opts.template("action_template"), "action"))
            )
        self.optimistic = opts.flag("optimistic", not mode_topic)

    def state_topics(self) -> list[tuple[str, StateHandler]]:
        return self._state_topics

    def _float_topic(self, topic_key: str, template_key: str, target: str) -> None:
        topic = self.opts.topic(topic_key)
        if not topic:
            return
        template = self.opts.template(template_key)

        def handle(message: ReceivedMessage) -> bool:
            value = finite_float(self.render_state(template, message))
            if value != value or not -100 <= value <= 200:
                raise ValueError(f"implausible {target} value {value}")
            if target == "current":
                self.current_temperature = value
            elif target == "target":
                self.target_temperature = value
            else:
                self.current_humidity = value
            return True

        self._state_topics.append((topic, handle))

    def _text_handler(self, template: Template | None, target: str) -> StateHandler:
        def handle(message: ReceivedMessage) -> bool:
            value = self.render_state(template, message)
            if target == "mode":
                if value not in self.hvac_modes:
                    raise ValueError(f"mode {value[:40]!r} is not one of {self.hvac_modes}")
                self.hvac_mode = value
            else:
                self.hvac_action = value[:40] or None
            return True

        return handle

    async def async_set_temperature(self, temperature: float, hvac_mode: str | None = None) -> None:
        if self.temperature_command_topic is None:
            raise NotSupported(f"{self.entity_id} has no temperature command topic")
        if not self.min_temp <= temperature <= self.max_temp:
            raise InvalidServiceData(
                "temperature out of range",
                {"temperature": f"must be {self.min_temp}-{self.max_temp}"},
            )
        if hvac_mode is not None:
            await self.async_set_hvac_mode(hvac_mode)
        payload = str(temperature)
        if self.temperature_command_template is not None:
            payload = self.temperature_command_template.render({"value": temperature})
        self.publish(self.temperature_command_topic, payload)
        if self.optimistic or not self.opts.topic("temperature_state_topic"):
            self.target_temperature = temperature
            self.async_write_state()

    async def async_set_hvac_mode(self, hvac_mode: str) -> None:
        if self.mode_command_topic is None:
            raise NotSupported(f"{self.entity_id} has no mode command topic")
        if hvac_mode not in self.hvac_modes:
            raise InvalidServiceData("unsupported mode", {"hvac_mode": f"not in {self.hvac_modes}"})
        payload = hvac_mode
        if self.mode_command_template is not None:
            payload = self.mode_command_template.render({"value": hvac_mode})
        self.publish(self.mode_command_topic, payload)
        if self.optimistic:
            self.hvac_mode = hvac_mode
            self.async_write_state()
