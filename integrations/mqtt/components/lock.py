"""MQTT lock (door locks, smart latches)."""

from __future__ import annotations

import re

from hub.domains.lock import LockEntity
from hub.errors import InvalidServiceData

from ..client import MqttClient, ReceivedMessage
from ..discovery import DiscoveryConfig, DiscoveryError
from ..entity import MqttEntity, StateHandler


class MqttLock(MqttEntity, LockEntity):
    """Lock/unlock/open payloads on the command topic; lock state from the state topic."""

    def __init__(self, client: MqttClient, config: DiscoveryConfig) -> None:
        super().__init__(client, config)
        opts = self.opts
        topic = opts.topic("command_topic")
        if topic is None:
            raise DiscoveryError("lock needs a command_topic")
        self.command_topic: str = topic
        self.state_topic = opts.topic("state_topic")
        self.value_template = opts.template("value_template")
        self.command_template = opts.template("command_template")
        self.payloads = {
            "lock": opts.payload("payload_lock", "LOCK"),
            "unlock": opts.payload("payload_unlock", "UNLOCK"),
            "open": opts.payload("payload_open", "OPEN"),
        }
        self.states = {
            opts.payload("state_locked", "LOCKED"): "locked",
            opts.payload("state_unlocked", "UNLOCKED"): "unlocked",
            opts.payload("state_locking", "LOCKING"): "locking",
            opts.payload("state_unlocking", "UNLOCKING"): "unlocking",
            opts.payload("state_jammed", "JAMMED"): "jammed",
        }
        self.has_open = "payload_open" in opts
        code_format = opts.text("code_format")
        try:
            self.code_format = re.compile(code_format) if code_format else None
        except re.error as err:
            raise DiscoveryError(f"code_format is not a regular expression: {err}") from None
        self.optimistic = opts.flag("optimistic", self.state_topic is None)

    @property
    def supported_commands(self) -> tuple[str, ...]:
        return ("lock", "unlock", "open") if self.has_open else ("lock", "unlock")

    def state_topics(self) -> list[tuple[str, StateHandler]]:
        return [(self.state_topic, self._on_state)] if self.state_topic else []

    def _on_state(self, message: ReceivedMessage) -> bool:
        value = self.render_state(self.value_template, message)
        state = self.states.get(value)
        if state is None:
            raise ValueError(f"unknown lock state {value[:40]!r}")
        if state == "jammed" and self.lock_state != "jammed":
            self.async_fire_event("lock_jammed")
        self.lock_state = state
        return True

    def _command(self, name: str, code: str | None, result: str) -> None:
        # As Home Assistant: a lock announcing a code_format gets no command without such a code.
        if self.code_format is not None and (code is None or not self.code_format.match(code)):
            raise InvalidServiceData("code does not match", {"code": "wrong format for this lock"})
        payload = self.payloads[name]
        if self.command_template is not None:
            payload = self.command_template.render({"value": payload, "code": code or ""})
        self.publish(self.command_topic, payload)
        if self.optimistic:
            self.lock_state = result
            self.async_write_state()

    async def async_lock(self, code: str | None = None) -> None:
        self._command("lock", code, "locked")

    async def async_unlock(self, code: str | None = None) -> None:
        self._command("unlock", code, "unlocked")

    async def async_open(self, code: str | None = None) -> None:
        self._command("open", code, "unlocked")
