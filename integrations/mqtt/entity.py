"""What every discovered MQTT entity shares: identity, device, availability, subscriptions."""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hub.entity import DeviceInfo, Entity

from .client import MqttClient, ReceivedMessage
from .discovery import DiscoveryConfig, DiscoveryError
from .guard import Budget, DeviceGuard
from .options import Options
from .outbox import DELIVERED, QUEUED, DeliveryPolicy, Outbox
from .template import Template, TemplateRenderError, render_optional

_LOGGER = logging.getLogger(__name__)

DOMAIN = "mqtt"
MAX_STATE_BYTES = 256 * 1024
MAX_JSON_ATTRIBUTES = 32
EVENT_COMMAND_LOST = "mqtt_command_lost"
EVENT_OVER_BUDGET = "mqtt_device_over_budget"
# Hearth sends commands at least at QoS 1 so a command made while the broker is briefly away
# is queued and delivered, not silently dropped (Home Assistant would use the config's QoS).
MIN_COMMAND_QOS = 1

# A state handler returns True when the entity changed and its state should be written.
StateHandler = Callable[[ReceivedMessage], bool]


@dataclass(frozen=True)
class AvailabilitySource:
    """One topic that says whether the device is there."""

    topic: str
    payload_available: str = "online"
    payload_not_available: str = "offline"
    template: Template | None = None


class MqttEntity(Entity):
    """Base of the discovered entities; a component class also inherits its domain class."""

    def __init__(self, client: MqttClient, config: DiscoveryConfig) -> None:
        self.client = client
        self.discovery = config
        self.opts = options = Options(config.data)
        device_info = _device_info(options)
        super().__init__(
            config.unique_id,
            _entity_name(options, device_info, config),
            device_info=device_info,
            device_class=options.text("device_class"),
            icon=options.text("icon"),
        )
        self.qos = options.qos()
        self.retain = options.flag("retain", False)
        self._availability = _availability_sources(options)
        self._availability_mode = options.text("availability_mode", "latest")
        if self._availability_mode not in ("latest", "all", "any"):
            raise DiscoveryError(f"unknown availability_mode {self._availability_mode!r}")
        self._availability_state: dict[str, bool] = {}
        self._latest_available: bool | None = None
        self._unsubscribers: list[Callable[[], None]] = []
        self._json_attributes_topic = options.topic("json_attributes_topic")
        self._json_attributes_template = options.template("json_attributes_template")
        self._json_attributes: dict[str, Any] = {}
        # Devices with an availability topic are unavailable until they say they are there.
        self.available = not self._availability
        # The discovery manager replaces both with the device's shared guard and its policy.
        self.guard = DeviceGuard(config.id.key, Budget())
        self.delivery = DeliveryPolicy()
        self._outbox: Outbox | None = None
        self._outcomes: list[asyncio.Future[str]] = []

    # -- for components ---------------------------------------------------------------------

    def state_topics(self) -> list[tuple[str, StateHandler]]:
        """The topics this entity listens to, with their handlers."""
        return []

    def publish(self, topic: str, payload: str | bytes) -> None:
        """Send a command at QoS >= 1; held (with an expiry) until the device is listening."""
        qos = max(self.qos, MIN_COMMAND_QOS)
        if self._outbox is None:
            self.client.async_publish(topic, payload, qos, self.retain)
            return
        self._outcomes.append(self._outbox.submit(topic, payload, qos, self.retain))

    async def async_command_result(self) -> dict[str, Any] | None:
        """What became of the commands of the last service call: delivered or queued."""
        outcomes, self._outcomes = self._outcomes, []
        if not outcomes:
            return None
        await asyncio.wait(outcomes, timeout=self.delivery.ack_wait)
        results = [o.result() if o.done() else QUEUED for o in outcomes]
        if all(r == DELIVERED for r in results):
            return {"delivery": DELIVERED}
        lost = [r for r in results if r not in (DELIVERED, QUEUED)]
        if lost:
            return {"delivery": lost[0]}
        return {"delivery": QUEUED, "expires_in": self.delivery.expiry}

    @property
    def commands_held(self) -> int:
        """Commands waiting for the device to be back."""
        return 0 if self._outbox is None else self._outbox.held

    @staticmethod
    def render_state(template: Template | None, message: ReceivedMessage) -> str:
        """The payload as text, through the value template if there is one."""
        return render_optional(template, message.payload)

    # -- lifecycle --------------------------------------------------------------------------

    async def async_added_to_hub(self) -> None:
        self._outbox = Outbox(self.client, self.delivery, lambda: self.available, self._on_lost)
        self._unsubscribers.append(self._outbox.close)
        self._unsubscribers.append(self.guard.add_listener(self._on_guard_change))
        for source in self._availability:
            self._subscribe(source.topic, self._availability_handler(source))
        for topic, handler in self.state_topics():
            self._subscribe(topic, handler)
        if self._json_attributes_topic:
            self._subscribe(self._json_attributes_topic, self._on_json_attributes)

    async def async_will_remove(self) -> None:
        for unsubscribe in self._unsubscribers:
            unsubscribe()
        self._unsubscribers.clear()

    @property
    def extra_attributes(self) -> dict[str, Any]:
        return {
            **self._json_attributes,
            "discovery_topic": self.discovery.id.key,
            **self.guard.attributes(),
        }

    def confirm_present(self) -> None:
        """The device spoke live (e.g. re-announced its config): release held commands."""
        if self._outbox is not None:
            self._outbox.confirm()

    # -- internals --------------------------------------------------------------------------

    def _subscribe(self, topic: str, handler: StateHandler) -> None:
        guard = self.guard

        def on_message(message: ReceivedMessage) -> None:
            # Budget and size first: a flood costs a counter, not a parse or a log line.
            if not guard.admit():
                return
            if len(message.payload) > MAX_STATE_BYTES:
                guard.refuse("size", "%d-byte payload on %s ignored", len(message.payload), topic)
                return
            try:
                changed = handler(message)
            except (TemplateRenderError, ValueError, TypeError, KeyError, ArithmeticError) as err:
                guard.refuse(
                    "payload",
                    "bad payload on %s (%s): %r",
                    message.topic,
                    err,
                    message.payload[:80],
                )
                return
            except (RecursionError, MemoryError) as err:
                guard.refuse("payload", "payload on %s too deep (%s)", message.topic, err)
                return
            if not message.retain and self._outbox is not None:
                self._outbox.confirm()
            if changed and self.hub is not None:
                self.async_write_state()

        self._unsubscribers.append(self.client.async_subscribe(topic, on_message, self.qos))

    def _on_json_attributes(self, message: ReceivedMessage) -> bool:
        if self._json_attributes_template is not None:
            data = json.loads(self._json_attributes_template.render_payload(message.payload))
        else:
            data = json_payload(message.payload)
        if not isinstance(data, dict):
            raise ValueError("json attributes must be a JSON object")
        # Only flat values, and never ones that would shadow what Hearth itself reports.
        reserved = {"friendly_name", "device_class", "icon", "discovery_topic"}
        reserved.update(self.state_attributes)
        attributes = {
            str(k)[:64]: v
            for k, v in list(data.items())[:MAX_JSON_ATTRIBUTES]
            if k not in reserved
            and (v is None or isinstance(v, bool | int | float | str))
            and not (isinstance(v, str) and len(v) > 255)
        }
        self._json_attributes = attributes
        return True

    def _availability_handler(self, source: AvailabilitySource) -> StateHandler:
        def handle(message: ReceivedMessage) -> bool:
            value = render_optional(source.template, message.payload)
            if value == source.payload_available:
                present = True
            elif value == source.payload_not_available:
                present = False
            else:
                raise ValueError(f"unexpected availability payload {value!r}")
            self._availability_state[source.topic] = present
            self._latest_available = present
            before = self.available
            self.available = self._compute_available()
            if self.available and self._outbox is not None:
                # Retained "online" may be stale (a broker crash fires no will); live is news.
                if message.retain:
                    self._outbox.flush()
                else:
                    self._outbox.confirm()
            return before != self.available

        return handle

    def _on_lost(self, topic: str, why: str) -> None:
        _LOGGER.warning("%s: command to %s %s before the device was back", self, topic, why)
        if self.hub is not None:
            self.async_fire_event(EVENT_COMMAND_LOST, {"topic": topic, "reason": why})

    def _on_guard_change(self, guard: DeviceGuard) -> None:
        if self.hub is None:
            return
        self.async_fire_event(
            EVENT_OVER_BUDGET, {"device": guard.name, "over_budget": guard.over_budget}
        )
        self.async_write_state()

    def _compute_available(self) -> bool:
        states = self._availability_state
        if self._availability_mode == "all":
            return len(states) == len(self._availability) and all(states.values())
        if self._availability_mode == "any":
            return any(states.values())
        return bool(self._latest_available)


def json_payload(payload: bytes) -> Any:
    """Parse a JSON state payload, refusing NaN and Infinity (not JSON, but Python allows them)."""
    try:
        return json.loads(payload, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON value")


def finite_float(text: str) -> float:
    """A number from a payload; NaN and infinities are refused like any other garbage."""
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {text[:40]!r}")
    return number


def parse_bool_payload(value: str, on: str, off: str) -> bool | None:
    """True for ``on``, False for ``off``, None for an empty payload (unknown)."""
    if value == on:
        return True
    if value == off:
        return False
    if value in ("", "None"):
        return None
    raise ValueError(f"expected {on!r} or {off!r}, got {value[:40]!r}")


def _availability_sources(options: Options) -> tuple[AvailabilitySource, ...]:
    sources: list[AvailabilitySource] = []
    available = options.payload("payload_available", "online")
    not_available = options.payload("payload_not_available", "offline")
    topic = options.topic("availability_topic")
    if topic is not None:
        sources.append(
            AvailabilitySource(
                topic, available, not_available, options.template("availability_template")
            )
        )
    for item in options.data.get("availability") or ():
        entry = Options(item)
        sources.append(
            AvailabilitySource(
                str(entry.topic("topic")),
                entry.payload("payload_available", available),
                entry.payload("payload_not_available", not_available),
                entry.template("value_template"),
            )
        )
    return tuple(sources)


def _device_info(options: Options) -> DeviceInfo | None:
    device = options.data.get("device")
    if not isinstance(device, dict):
        return None
    dev = Options(device)
    identifiers: list[tuple[str, str]] = []
    raw_ids = device.get("identifiers")
    if isinstance(raw_ids, str | int) and not isinstance(raw_ids, bool):
        raw_ids = [raw_ids]
    if raw_ids is not None:
        if not isinstance(raw_ids, list):
            raise DiscoveryError("device identifiers must be a list")
        for item in raw_ids:
            if isinstance(item, bool) or not isinstance(item, str | int):
                raise DiscoveryError("device identifiers must be text")
            identifiers.append((DOMAIN, str(item)))
    for connection in device.get("connections") or ():
        if (
            isinstance(connection, list)
            and len(connection) == 2
            and all(isinstance(c, str) for c in connection)
        ):
            identifiers.append((connection[0], connection[1].lower()))
        else:
            raise DiscoveryError("device connections must be [type, value] pairs")
    if not identifiers:
        return None
    via = dev.text("via_device")
    return DeviceInfo(
        identifiers=tuple(identifiers),
        name=dev.text("name") or identifiers[0][1],
        manufacturer=dev.text("manufacturer"),
        model=dev.text("model"),
        sw_version=dev.text("sw_version"),
        suggested_area=dev.text("suggested_area"),
        via_device=(DOMAIN, via) if via else None,
    )


def _entity_name(options: Options, device: DeviceInfo | None, config: DiscoveryConfig) -> str:
    name = options.text("name")
    named_device = isinstance(options.data.get("device"), dict) and options.data["device"].get(
        "name"
    )
    if device is not None and named_device:
        # Home Assistant's rule: a null name means "the device itself"; otherwise prefix it.
        if name is None:
            return device.name
        return name if name.startswith(device.name) else f"{device.name} {name}"
    if name is None and device is not None:
        return device.name
    return name or config.id.object_id.replace("_", " ")
