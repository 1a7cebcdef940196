"""The hub's own copy of every adopted discovery config, so entities survive a lost broker.

A broker killed before it saved (or a fresh broker) forgets retained configs; without this copy
the hub would come back with stale, restored states and no entity to command.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from hub.safefile import quarantine, read_json, write_atomic

_LOGGER = logging.getLogger(__name__)

FILE_NAME = "mqtt_discovery.json"
SAVE_DELAY = 1.0

Executor = Callable[..., Awaitable[Any]]


class DiscoveryStore:
    """``{discovery topic: raw config}`` in one JSON file, saved shortly after each change."""

    def __init__(self, path: Path, executor: Executor) -> None:
        self.path = path
        self._executor = executor
        self.configs: dict[str, bytes] = {}
        self._save_handle: asyncio.TimerHandle | None = None
        self._saving: asyncio.Task[None] | None = None
        # Set when the file was damaged and moved aside (the caller tells the user).
        self.damaged: Path | None = None

    async def async_load(self) -> dict[str, bytes]:
        """Read the copy; a damaged file is kept aside and the copy starts empty."""
        self.configs, self.damaged = await self._executor(self._load)
        return dict(self.configs)

    def set(self, topic: str, payload: bytes) -> None:
        if self.configs.get(topic) != payload:
            self.configs[topic] = payload
            self._schedule()

    def remove(self, topic: str) -> None:
        if self.configs.pop(topic, None) is not None:
            self._schedule()

    async def async_flush(self) -> None:
        """Save now if anything changed (at stop)."""
        if self._save_handle is not None:
            self._save_handle.cancel()
            self._save_handle = None
            await self._async_save()
        if self._saving is not None:
            await self._saving

    def _schedule(self) -> None:
        if self._save_handle is None:
            loop = asyncio.get_running_loop()
            self._save_handle = loop.call_later(SAVE_DELAY, self._start_save)

    def _start_save(self) -> None:
        self._save_handle = None
        self._saving = asyncio.get_running_loop().create_task(self._async_save())

    async def _async_save(self) -> None:
        data = json.dumps(
            {"version": 1, "configs": {t: p.decode("utf-8") for t, p in self.configs.items()}},
            ensure_ascii=False,
            sort_keys=True,
        ).encode()
        try:
            await self._executor(write_atomic, self.path, data, 0o600)
        except OSError as err:
            _LOGGER.error("Could not save %s: %s", self.path, err)

    def _load(self) -> tuple[dict[str, bytes], Path | None]:
        try:
            data = read_json(self.path)
        except FileNotFoundError:
            return {}, None
        except (OSError, ValueError) as err:
            return {}, quarantine(self.path, str(err))
        configs = data.get("configs") if isinstance(data, dict) else None
        if not isinstance(configs, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in configs.items()
        ):
            return {}, quarantine(self.path, "not a discovery copy")
        return {k: v.encode("utf-8") for k, v in configs.items()}, None
