"""The state stream: Hearth's states and events on MQTT, and service calls accepted from it.

Under an opt-in prefix (e.g. ``hearth/house``):
  ``<prefix>/status``                 ``online``/``offline`` (retained; offline is our will)
  ``<prefix>/state/<entity_id>``      JSON state, retained; empty when the entity is removed
  ``<prefix>/event/<event_type>``     JSON event data
  ``<prefix>/command/<domain>/<service>``  JSON ``{"data": {...}, "target": {...}, "id": ...}``
  ``<prefix>/command_result``         ``{"id", "ok", "error"}`` for every command
Each hub has its own prefix, so several hubs, satellites and tools can share one broker.
Commands are off unless ``stream_commands`` is set, and risky services (unlock, open) are
always refused here.
"""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any

from hub.const import EVENT_STATE_CHANGED
from hub.context import Context
from hub.errors import HearthError
from hub.json import json_bytes
from hub.services import Target

from .client import MqttClient, ReceivedMessage, Will
from .topic import valid_topic

if TYPE_CHECKING:
    from hub.bus import Event
    from hub.core import Hub

_LOGGER = logging.getLogger(__name__)

MAX_COMMAND_BYTES = 64 * 1024
_NAME_RE = re.compile(r"^[a-z0-9_]{1,64}$")
ORIGIN = "mqtt"


def status_will(prefix: str) -> Will:
    """The will that marks this hub offline on the stream when it vanishes."""
    return Will(f"{prefix}/status", "offline", qos=1, retain=True)


class StateStream:
    """Mirrors the bus onto MQTT and runs service calls received under the prefix."""

    def __init__(
        self, hub: Hub, client: MqttClient, prefix: str, *, accept_commands: bool = False
    ) -> None:
        if not valid_topic(prefix) or prefix.endswith("/"):
            raise ValueError(f"invalid state stream prefix {prefix!r}")
        self.hub = hub
        self.client = client
        self.prefix = prefix
        self.accept_commands = accept_commands
        self._unsubscribers: list[Any] = []
        self.published = 0

    async def async_start(self) -> None:
        bus = self.hub.bus
        self._unsubscribers.append(bus.async_listen_all(self._on_event))
        self._unsubscribers.append(self.client.add_connection_listener(self._on_connection))
        if self.accept_commands:
            self._unsubscribers.append(
                self.client.async_subscribe(f"{self.prefix}/command/+/+", self._on_command, 1)
            )
        if self.client.connected:
            self._on_connection(True)

    async def async_stop(self) -> None:
        # Say goodbye explicitly: a clean disconnect does not fire the will.
        self.client.async_publish(f"{self.prefix}/status", "offline", qos=1, retain=True)
        for unsubscribe in self._unsubscribers:
            unsubscribe()
        self._unsubscribers.clear()

    def _on_connection(self, connected: bool) -> None:
        if not connected:
            return
        self.client.async_publish(f"{self.prefix}/status", "online", qos=1, retain=True)
        # Retained states may be stale after an outage: republish what is true now.
        for state in self.hub.states.all():
            self._publish_state(state.entity_id, state.as_dict())

    def _on_event(self, event: Event) -> None:
        if event.event_type == EVENT_STATE_CHANGED:
            new_state = event.data.get("new_state")
            entity_id = event.data.get("entity_id")
            if not isinstance(entity_id, str):
                return
            self._publish_state(entity_id, new_state.as_dict() if new_state is not None else None)
            return
        topic = f"{self.prefix}/event/{event.event_type}"
        if not valid_topic(topic):
            return
        payload = {
            "event_type": event.event_type,
            "data": event.data,
            "time_fired": event.time_fired,
            "context": event.context.as_dict(),
        }
        self._publish(topic, payload, retain=False)

    def _publish_state(self, entity_id: str, state: dict[str, Any] | None) -> None:
        topic = f"{self.prefix}/state/{entity_id}"
        if state is None:
            self.client.async_publish(topic, b"", qos=1, retain=True)
            return
        self._publish(topic, state, retain=True)

    def _publish(self, topic: str, payload: Any, retain: bool) -> None:
        if not self.client.connected:
            return  # states are republished on reconnect; events are not worth queueing
        try:
            data = json_bytes(payload)
        except (TypeError, ValueError) as err:
            _LOGGER.debug("Cannot serialise %s for the state stream: %s", topic, err)
            return
        self.client.async_publish(topic, data, qos=0, retain=retain)
        self.published += 1

    def _on_command(self, message: ReceivedMessage) -> None:
        domain, service = message.topic.rsplit("/", 2)[-2:]
        request_id: Any = None
        try:
            if not (_NAME_RE.match(domain) and _NAME_RE.match(service)):
                raise ValueError("bad domain or service name")
            if len(message.payload) > MAX_COMMAND_BYTES:
                raise ValueError("command too large")
            body = json.loads(message.payload or b"{}")
            if not isinstance(body, dict):
                raise ValueError("command must be a JSON object")
            request_id = body.get("id")
            data = body.get("data") or {}
            target = body.get("target")
            if not isinstance(data, dict) or not (target is None or isinstance(target, dict)):
                raise ValueError("data and target must be objects")
        except (ValueError, UnicodeDecodeError, RecursionError) as err:
            _LOGGER.warning("Rejecting state stream command on %s: %s", message.topic, err)
            self._result(request_id, domain, service, str(err))
            return
        self.hub.async_create_task(
            self._async_call(request_id, domain, service, data, target), name="mqtt-command"
        )

    async def _async_call(
        self,
        request_id: Any,
        domain: str,
        service: str,
        data: dict[str, Any],
        target: dict[str, Any] | None,
    ) -> None:
        entry = self.hub.services.get(domain, service)
        if entry is not None and entry.risky:
            # Unlocking a door must not be one MQTT message away: the broker account is
            # shared with appliances. Risky services go through the API with a user.
            self._result(request_id, domain, service, "risky service refused", "forbidden")
            return
        try:
            await self.hub.services.async_call(
                domain,
                service,
                data,
                target=Target.from_dict(target) if target else None,
                context=Context(origin=ORIGIN),
            )
        except HearthError as err:
            self._result(request_id, domain, service, str(err), getattr(err, "code", "error"))
            return
        except (ValueError, TypeError) as err:
            self._result(request_id, domain, service, str(err))
            return
        self._result(request_id, domain, service, None)

    def _result(
        self, request_id: Any, domain: str, service: str, error: str | None, code: str = "invalid"
    ) -> None:
        if not isinstance(request_id, str | int) or isinstance(request_id, bool):
            request_id = None
        payload: dict[str, Any] = {"id": request_id, "service": f"{domain}.{service}"}
        payload["ok"] = error is None
        if error is not None:
            payload["error"] = {"code": code, "message": error}
        self.client.async_publish(f"{self.prefix}/command_result", json_bytes(payload), qos=1)
