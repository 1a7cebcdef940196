"""Drives one device through an OTA update over MQTT and reports progress.

The hub publishes `hearth/<id>/ota/start` with a download URL; the device answers on
`hearth/<id>/ota/status` (starting, downloading, verifying, installing, rebooting) and, from the
new image once it reported in, `done`; or `failed` (nothing installed) or `rolled_back`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from .server import ImageServer
from .store import ImageStore

__all__ = [
    "EVENT_OTA_PROGRESS",
    "MqttLink",
    "OtaProgress",
    "OtaResult",
    "OtaUpdater",
]

_LOGGER = logging.getLogger(__name__)

EVENT_OTA_PROGRESS = "ota_progress"
DEFAULT_TIMEOUT_S = 300.0
TERMINAL = ("done", "failed", "rolled_back")
DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class MqttMessage(Protocol):
    @property
    def topic(self) -> str: ...
    @property
    def payload(self) -> bytes: ...


class MqttLink(Protocol):
    """What the updater needs from an MQTT client (integrations.mqtt's MqttClient fits)."""

    def async_subscribe(
        self, topic_filter: str, callback: Callable[[MqttMessage], None], qos: int = 0
    ) -> Callable[[], None]: ...

    def async_publish(
        self, topic: str, payload: str | bytes, qos: int = 0, retain: bool = False
    ) -> asyncio.Future[None] | None: ...


@dataclass(frozen=True)
class OtaProgress:
    """One step reported by a device during an update."""

    device_id: str
    update_id: str
    stage: str
    progress: int | None = None
    version: str | None = None
    error: str | None = None

    def as_event_data(self) -> dict[str, Any]:
        return {
            "device_id": self.device_id,
            "update_id": self.update_id,
            "stage": self.stage,
            "progress": self.progress,
            "version": self.version,
            "error": self.error,
        }


@dataclass(frozen=True)
class OtaResult:
    """How an update ended: done (new version running), failed, rolled_back or timeout."""

    device_id: str
    update_id: str
    stage: str
    version: str
    running: str | None
    error: str | None = None

    @property
    def success(self) -> bool:
        return self.stage == "done"


class OtaUpdater:
    """Sends update requests and follows devices' status topics until the outcome is known."""

    def __init__(
        self,
        link: MqttLink,
        store: ImageStore,
        server: ImageServer,
        on_progress: Callable[[OtaProgress], None] | None = None,
    ) -> None:
        self._link = link
        self._store = store
        self._server = server
        self._on_progress = on_progress
        self._active: set[str] = set()

    async def async_update(
        self, device_id: str, image_id: str, *, timeout: float = DEFAULT_TIMEOUT_S
    ) -> OtaResult:
        """Update one device to a stored image; return how it ended (never raises on failure)."""
        if not DEVICE_ID_RE.match(device_id):
            raise ValueError(f"invalid device id {device_id!r}")
        if device_id in self._active:
            raise RuntimeError(f"an update of {device_id} is already running")
        image = await self._store.async_get(image_id)
        if image is None:
            raise KeyError(f"no stored OTA image {image_id}")
        update_id = secrets.token_hex(8)
        url = self._server.offer(image.id)
        base = f"hearth/{device_id}/ota"
        outcome: asyncio.Future[OtaProgress] = asyncio.get_running_loop().create_future()
        last: dict[str, str | None] = {"running": None}

        def on_status(message: MqttMessage) -> None:
            progress = _parse_status(device_id, update_id, message.payload)
            if progress is None:
                return  # someone else's update, a stale retained status, or garbage
            if isinstance(running := _running(message.payload), str):
                last["running"] = running
            self._report(progress)
            if progress.stage in TERMINAL and not outcome.done():
                outcome.set_result(progress)

        self._active.add(device_id)
        unsubscribe = self._link.async_subscribe(f"{base}/status", on_status, qos=1)
        try:
            request = {"url": url, "update": update_id, "size": image.size}
            request["version"] = image.version
            ack = self._link.async_publish(f"{base}/start", json.dumps(request), qos=1)
            self._report(OtaProgress(device_id, update_id, "requested", 0, image.version))
            if ack is not None:
                await asyncio.wait_for(ack, timeout)
            final = await asyncio.wait_for(outcome, timeout)
        except TimeoutError:
            _LOGGER.warning("OTA update %s of %s timed out", update_id, device_id)
            self._report(OtaProgress(device_id, update_id, "timeout", None, image.version))
            return OtaResult(device_id, update_id, "timeout", image.version, last["running"])
        finally:
            unsubscribe()
            self._server.revoke(url)
            self._active.discard(device_id)
        return OtaResult(
            device_id,
            update_id,
            final.stage,
            image.version,
            final.version if final.stage == "done" else last["running"],
            final.error,
        )

    def _report(self, progress: OtaProgress) -> None:
        _LOGGER.debug("OTA %s: %s", progress.device_id, progress)
        if self._on_progress is not None:
            try:
                self._on_progress(progress)
            except Exception:
                _LOGGER.exception("OTA progress listener failed")


def _parse_status(device_id: str, update_id: str, payload: bytes) -> OtaProgress | None:
    try:
        data = json.loads(payload)
    except ValueError:
        _LOGGER.warning("Malformed OTA status from %s: %r", device_id, payload[:200])
        return None
    if not isinstance(data, dict) or data.get("update") != update_id:
        return None
    stage = data.get("stage")
    if not isinstance(stage, str):
        return None
    progress = data.get("progress")
    version = data.get("version")
    error = data.get("error")
    return OtaProgress(
        device_id,
        update_id,
        stage,
        progress if isinstance(progress, int) else None,
        version if isinstance(version, str) else None,
        error if isinstance(error, str) else None,
    )


def _running(payload: bytes) -> object:
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return data.get("running")
