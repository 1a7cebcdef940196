"""MQTT cover (blinds, shutters, garage doors)."""

from __future__ import annotations

from hub.domains.cover import CoverEntity
from hub.errors import NotSupported

from ..client import MqttClient, ReceivedMessage
from ..discovery import DiscoveryConfig
from ..entity import MqttEntity, StateHandler, finite_float


class MqttCover(MqttEntity, CoverEntity):
    """Open/close/stop payloads, an optional position topic pair, state from a state topic."""

    def __init__(self, client: MqttClient, config: DiscoveryConfig) -> None:
        super().__init__(client, config)
        opts = self.opts
        self.command_topic = opts.topic("command_topic")
        self.state_topic = opts.topic("state_topic")
        self.position_topic = opts.topic("position_topic")
        self.set_position_topic = opts.topic("set_position_topic")
        self.value_template = opts.template("value_template")
        self.position_template = opts.template("position_template")
        self.set_position_template = opts.template("set_position_template")
        self.payload_open = opts.payload("payload_open", "OPEN")
        self.payload_close = opts.payload("payload_close", "CLOSE")
        self.payload_stop = opts.payload("payload_stop", "STOP")
        self.position_open = opts.integer("position_open", 100)
        self.position_closed = opts.integer("position_closed", 0)
        self.states = {
            opts.payload("state_open", "open"): "open",
            opts.payload("state_opening", "opening"): "opening",
            opts.payload("state_closed", "closed"): "closed",
            opts.payload("state_closing", "closing"): "closing",
        }
        self.state_stopped = opts.payload("state_stopped", "stopped")
        # After a "stopped" report the state follows the position, whichever arrives first
        # (retained state and position come in subscription order, not the device's order).
        self._stopped = False
        self.optimistic = opts.flag(
            "optimistic", self.state_topic is None and self.position_topic is None
        )

    def state_topics(self) -> list[tuple[str, StateHandler]]:
        topics: list[tuple[str, StateHandler]] = []
        if self.state_topic:
            topics.append((self.state_topic, self._on_state))
        if self.position_topic:
            topics.append((self.position_topic, self._on_position))
        return topics

    def _on_state(self, message: ReceivedMessage) -> bool:
        value = self.render_state(self.value_template, message)
        if value == self.state_stopped:
            self._stopped = True
            if self.current_position is not None:
                self.cover_state = "closed" if self.current_position == 0 else "open"
            else:
                # As Home Assistant: stopped while closing (or closed) is closed, else open.
                closed = self.cover_state in ("closed", "closing")
                self.cover_state = "closed" if closed else "open"
            return True
        state = self.states.get(value)
        if state is None:
            raise ValueError(f"unknown cover state {value[:40]!r}")
        self._stopped = False
        self.cover_state = state
        return True

    def _on_position(self, message: ReceivedMessage) -> bool:
        raw = finite_float(self.render_state(self.position_template, message))
        span = self.position_open - self.position_closed
        if span == 0:
            raise ValueError("position_open equals position_closed")
        percent = round((raw - self.position_closed) * 100 / span)
        if not 0 <= percent <= 100:
            raise ValueError(f"position {raw} outside the configured range")
        self.current_position = percent
        if not self.state_topic or self._stopped:
            self.cover_state = "closed" if percent == 0 else "open"
        return True

    def _send(self, payload: str, state: str, position: int | None) -> None:
        if self.command_topic is None:
            raise NotSupported(f"{self.entity_id} has no command topic")
        self.publish(self.command_topic, payload)
        if self.optimistic:
            self.cover_state = state
            if position is not None:
                self.current_position = position
            self.async_write_state()

    async def async_open_cover(self) -> None:
        self._send(self.payload_open, "open", 100)

    async def async_close_cover(self) -> None:
        self._send(self.payload_close, "closed", 0)

    async def async_stop_cover(self) -> None:
        self._send(self.payload_stop, self.cover_state or "open", None)

    async def async_set_cover_position(self, position: int) -> None:
        if self.set_position_topic is None:
            if position in (0, 100):
                await (self.async_open_cover() if position else self.async_close_cover())
                return
            raise NotSupported(f"{self.entity_id} cannot be positioned")
        raw = round(
            self.position_closed + position * (self.position_open - self.position_closed) / 100
        )
        payload = str(raw)
        if self.set_position_template is not None:
            payload = self.set_position_template.render({"position": raw, "value": raw})
        self.publish(self.set_position_topic, payload)
        if self.optimistic:
            self.current_position = position
            self.cover_state = "closed" if position == 0 else "open"
            self.async_write_state()
