"""Discovery manager: retained config messages in, Hearth entities out (and removed again)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .client import MqttClient, ReceivedMessage
from .components import create_entity
from .discovery import DiscoveryConfig, DiscoveryError, DiscoveryId, parse_payload, parse_topic
from .entity import DOMAIN, MqttEntity

if TYPE_CHECKING:
    from hub.core import Hub

_LOGGER = logging.getLogger(__name__)

# Discovery bursts (a bridge announcing 300 devices) are queued, not dropped; this bounds memory.
MAX_BACKLOG = 20_000


class DiscoveryManager:
    """Turns discovery configs into entities; an empty config removes its entity."""

    def __init__(self, hub: Hub, client: MqttClient, prefix: str, integration: str = DOMAIN):
        self.hub = hub
        self.client = client
        self.prefix = prefix
        self.integration = integration
        self.entities: dict[str, MqttEntity] = {}
        self._configs: dict[str, bytes] = {}
        self._queue: asyncio.Queue[tuple[DiscoveryId, bytes]] = asyncio.Queue(MAX_BACKLOG)
        self._task: asyncio.Task[None] | None = None
        self._unsubscribers: list[object] = []
        self._idle = asyncio.Event()
        self._idle.set()
        self.rejected = 0
        # Set by the integration when it runs the broker: (node_id, config) -> why refused.
        self.policy: Callable[[str | None, Mapping[str, Any]], str | None] | None = None

    async def async_start(self) -> None:
        self._task = self.hub.async_create_task(self._async_worker(), name="mqtt-discovery")
        for topic in (f"{self.prefix}/+/+/config", f"{self.prefix}/+/+/+/config"):
            self._unsubscribers.append(self.client.async_subscribe(topic, self._on_message, 1))

    async def async_stop(self) -> None:
        for unsubscribe in self._unsubscribers:
            unsubscribe()  # type: ignore[operator]
        self._unsubscribers.clear()
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

    async def async_wait_idle(self) -> None:
        """Wait until every received discovery message has been processed."""
        await self._idle.wait()

    def entity_for(self, discovery_key: str) -> MqttEntity | None:
        return self.entities.get(discovery_key)

    def _on_message(self, message: ReceivedMessage) -> None:
        discovery_id = parse_topic(self.prefix, message.topic)
        if discovery_id is None:
            _LOGGER.debug("Ignoring non-discovery topic %s", message.topic)
            return
        try:
            self._queue.put_nowait((discovery_id, message.payload))
        except asyncio.QueueFull:
            _LOGGER.warning("Discovery backlog full; dropping config on %s", message.topic)
            return
        self._idle.clear()

    async def _async_worker(self) -> None:
        while True:
            discovery_id, payload = await self._queue.get()
            try:
                await self._async_process(discovery_id, payload)
            except Exception:
                # A bug here must not stop discovery of every other device.
                _LOGGER.exception("Discovery of %s failed", discovery_id.key)
            if self._queue.empty():
                self._idle.set()

    async def _async_process(self, discovery_id: DiscoveryId, payload: bytes) -> None:
        key = discovery_id.key
        if not payload.strip():
            if key in self.entities:
                _LOGGER.info("Discovery config %s removed; removing its entity", key)
                await self._async_remove(key)
            return
        if self._configs.get(key) == payload:
            return  # the same retained config again (e.g. after a reconnect)
        try:
            config = parse_payload(discovery_id, payload)
            refused = self.policy and self.policy(discovery_id.node_id, config.data)
            if refused:
                raise DiscoveryError(refused)
            entity = create_entity(self.client, config)
        except DiscoveryError as err:
            self.rejected += 1
            _LOGGER.warning("Ignoring discovery config %s: %s", key, err)
            return
        if key in self.entities:
            await self._async_remove(key)
        await self._async_add(key, config, entity)

    async def _async_add(self, key: str, config: DiscoveryConfig, entity: MqttEntity) -> None:
        added = await self.hub.entities.async_add(self.integration, [entity])
        if not added:
            # Disabled in the registry by the user, or a unique_id another config already uses.
            _LOGGER.info("Discovery config %s was not added as an entity", key)
            return
        self.entities[key] = entity
        self._configs[key] = config.raw
        _LOGGER.info("Discovered %s from %s", added[0], key)

    async def _async_remove(self, key: str) -> None:
        entity = self.entities.pop(key)
        self._configs.pop(key, None)
        if entity.entity_id is not None:
            await self.hub.entities.async_remove(entity.entity_id)
