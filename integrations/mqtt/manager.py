"""Discovery manager: retained config messages in, Hearth entities out (and removed again)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .client import MqttClient, ReceivedMessage
from .components import create_entity
from .discovery import DiscoveryConfig, DiscoveryError, DiscoveryId, parse_payload, parse_topic
from .discovery_store import DiscoveryStore
from .entity import DOMAIN, MqttEntity
from .guard import Budget, DeviceGuard
from .outbox import DeliveryPolicy

if TYPE_CHECKING:
    from hub.core import Hub

_LOGGER = logging.getLogger(__name__)

# Discovery bursts (a bridge announcing 300 devices) are queued, not dropped; this bounds memory.
MAX_BACKLOG = 20_000


class DiscoveryManager:
    """Turns discovery configs into entities; an empty config removes its entity."""

    def __init__(
        self,
        hub: Hub,
        client: MqttClient,
        prefix: str,
        integration: str = DOMAIN,
        *,
        store: DiscoveryStore | None = None,
        delivery: DeliveryPolicy | None = None,
        budget: Budget | None = None,
    ):
        self.hub = hub
        self.client = client
        self.prefix = prefix
        self.integration = integration
        self.store = store
        self.delivery = delivery or DeliveryPolicy()
        self.budget = budget or Budget()
        self.entities: dict[str, MqttEntity] = {}
        self._configs: dict[str, bytes] = {}
        self._queue: asyncio.Queue[tuple[DiscoveryId, ReceivedMessage]] = asyncio.Queue(MAX_BACKLOG)
        self._task: asyncio.Task[None] | None = None
        self._unsubscribers: list[object] = []
        self._idle = asyncio.Event()
        self._idle.set()
        self._guards: dict[str, DeviceGuard] = {}
        # Configs the broker delivered since the last reconnect (the rest it has lost).
        self._seen: set[str] = set()
        self._check_handle: asyncio.TimerHandle | None = None
        # Our own republished configs come back live; they are no word from the device.
        self._echo: set[str] = set()
        self.rejected = 0
        # Set by the integration when it runs the broker: (node_id, config) -> why refused.
        self.policy: Callable[[str | None, Mapping[str, Any]], str | None] | None = None
        self.dropped = 0
        self.adopted_from_copy = 0
        self.republished = 0

    async def async_start(self) -> None:
        if self.store is not None:
            await self._async_adopt_copy()
        self._task = self.hub.async_create_task(self._async_worker(), name="mqtt-discovery")
        self._unsubscribers.append(self.client.add_ready_listener(self._on_client_ready))
        for topic in (f"{self.prefix}/+/+/config", f"{self.prefix}/+/+/+/config"):
            self._unsubscribers.append(self.client.async_subscribe(topic, self._on_message, 1))

    async def async_stop(self) -> None:
        for unsubscribe in self._unsubscribers:
            unsubscribe()  # type: ignore[operator]
        self._unsubscribers.clear()
        if self._check_handle is not None:
            self._check_handle.cancel()
            self._check_handle = None
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        for entity in list(self.entities.values()):
            await entity.async_will_remove()
        self.entities.clear()
        if self.store is not None:
            await self.store.async_flush()

    async def async_wait_idle(self) -> None:
        """Wait until every received discovery message has been processed."""
        await self._idle.wait()

    def entity_for(self, discovery_key: str) -> MqttEntity | None:
        return self.entities.get(discovery_key)

    def guard_for(self, name: str) -> DeviceGuard:
        """The budget shared by every entity (and discovery topic) of one device."""
        guard = self._guards.get(name)
        if guard is None:
            guard = self._guards[name] = DeviceGuard(name, self.budget)
        return guard

    def _on_message(self, message: ReceivedMessage) -> None:
        discovery_id = parse_topic(self.prefix, message.topic)
        if discovery_id is None:
            _LOGGER.debug("Ignoring non-discovery topic %s", message.topic)
            return
        if not self.guard_for(discovery_id.node_id or discovery_id.key).admit():
            self.dropped += 1
            return
        try:
            self._queue.put_nowait((discovery_id, message))
        except asyncio.QueueFull:
            self.dropped += 1
            self.guard_for(discovery_id.node_id or discovery_id.key).log(
                "backlog", "discovery backlog full; dropping config on %s", message.topic
            )
            return
        self._idle.clear()

    async def _async_worker(self) -> None:
        while True:
            discovery_id, message = await self._queue.get()
            try:
                await self._async_process(discovery_id, message)
            except Exception:
                # A bug here must not stop discovery of every other device.
                _LOGGER.exception("Discovery of %s failed", discovery_id.key)
            if self._queue.empty():
                self._idle.set()

    async def _async_process(self, discovery_id: DiscoveryId, message: ReceivedMessage) -> None:
        key = discovery_id.key
        payload = message.payload
        self._seen.add(key)
        if not payload.strip():
            if key in self.entities:
                _LOGGER.info("Discovery config %s removed; removing its entity", key)
                await self._async_remove(key)
            elif self.store is not None:
                self.store.remove(message.topic)
            return
        if self._configs.get(key) == payload:
            # The same config again: retained after a reconnect, or live (the device answering
            # our birth message, so it is connected and listening).
            entity = self.entities.get(key)
            if key in self._echo:
                self._echo.discard(key)
            elif entity is not None and not message.retain:
                entity.confirm_present()
            return
        try:
            config = parse_payload(discovery_id, payload)
            refused = self.policy and self.policy(discovery_id.node_id, config.data)
            if refused:
                raise DiscoveryError(refused)
            entity = create_entity(self.client, config)
        except DiscoveryError as err:
            self.rejected += 1
            self.guard_for(discovery_id.node_id or key).refuse(
                "discovery", "ignoring discovery config %s: %s", key, err
            )
            return
        if key in self.entities:
            await self._async_remove(key)
        await self._async_add(key, config, entity)
        if not message.retain:
            entity.confirm_present()

    async def _async_add(self, key: str, config: DiscoveryConfig, entity: MqttEntity) -> None:
        entity.guard = self.guard_for(_device_key(config))
        entity.delivery = self.delivery
        added = await self.hub.entities.async_add(self.integration, [entity])
        if not added:
            # Disabled in the registry by the user, or a unique_id another config already uses.
            _LOGGER.info("Discovery config %s was not added as an entity", key)
            return
        self.entities[key] = entity
        self._configs[key] = config.raw
        if self.store is not None:
            self.store.set(self._topic(config.id), config.raw)
        _LOGGER.info("Discovered %s from %s", added[0], key)

    async def _async_remove(self, key: str) -> None:
        entity = self.entities.pop(key)
        self._configs.pop(key, None)
        if self.store is not None:
            self.store.remove(self._topic(entity.discovery.id))
        if entity.entity_id is not None:
            await self.hub.entities.async_remove(entity.entity_id)

    def _topic(self, discovery_id: DiscoveryId) -> str:
        return f"{self.prefix}/{discovery_id.key}/config"

    async def _async_adopt_copy(self) -> None:
        """Bring back every entity from the hub's own copy before the broker says anything."""
        assert self.store is not None
        copies = await self.store.async_load()
        if self.store.damaged is not None:
            self.hub.notifications.async_create(
                f"The copy of MQTT discovery configs was damaged and kept as "
                f"{self.store.damaged.name}; devices are discovered again as they announce.",
                "MQTT discovery copy damaged",
                "mqtt_discovery_damaged",
            )
        for topic, payload in copies.items():
            discovery_id = parse_topic(self.prefix, topic)
            if discovery_id is None:
                continue
            try:
                config = parse_payload(discovery_id, payload)
                entity = create_entity(self.client, config)
            except DiscoveryError as err:
                _LOGGER.warning("Dropping stored discovery config %s: %s", topic, err)
                self.store.remove(topic)
                continue
            await self._async_add(discovery_id.key, config, entity)
            self.adopted_from_copy += 1

    def _on_client_ready(self) -> None:
        if self.client.connect_count <= 1:
            return
        # After a reconnect: whatever the broker does not hand back within the grace period
        # it has lost (killed before saving). Nobody removed it meanwhile, or we would have
        # seen the empty config live, so it is published again for the device.
        self._seen = set()
        if self._check_handle is not None:
            self._check_handle.cancel()
        self._check_handle = self.hub.loop.call_later(
            self.delivery.confirm_grace, self._republish_lost
        )

    def _republish_lost(self) -> None:
        self._check_handle = None
        if not self.client.ready:
            return
        count = 0
        for key, payload in self._configs.items():
            entity = self.entities.get(key)
            if key in self._seen or entity is None:
                continue
            self._echo.add(key)
            self.client.async_publish(self._topic(entity.discovery.id), payload, 1, True)
            count += 1
        self.republished += count
        if count:
            _LOGGER.info("Republished %d discovery configs the broker lost", count)


def _device_key(config: DiscoveryConfig) -> str:
    """Which device a config belongs to (its first identifier, else its node or own key)."""
    device = config.data.get("device")
    if isinstance(device, dict):
        ids = device.get("identifiers")
        if isinstance(ids, list) and ids and isinstance(ids[0], str | int):
            return str(ids[0])
        if isinstance(ids, str | int) and not isinstance(ids, bool):
            return str(ids)
    return config.id.node_id or config.id.key
