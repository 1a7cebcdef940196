"""OTA on a running hub: the key, store and image server, a service, and progress events."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.errors import InvalidServiceData
from hub.schema import Field, Schema
from hub.services import ServiceCall

from .image import app_files, build_image
from .keys import SigningKey, load_or_create_signing_key
from .server import ImageServer
from .store import ImageStore, StoredImage
from .updater import (
    DEFAULT_TIMEOUT_S,
    DEVICE_ID_RE,
    EVENT_OTA_PROGRESS,
    MqttLink,
    OtaProgress,
    OtaResult,
    OtaUpdater,
)

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = ["DATA_KEY", "DOMAIN", "REFERENCE_APP", "OtaManager"]

_LOGGER = logging.getLogger(__name__)

DOMAIN = "firmware"
DATA_KEY = "firmware.ota"
REFERENCE_APP = Path(__file__).resolve().parents[1] / "device" / "app"

UPDATE_SCHEMA = Schema(
    {
        "device": Field("str", required=True, max_length=64, description="firmware device id"),
        "image": Field("str", max_length=64, description="stored image id (default: newest)"),
        "profile": Field("str", max_length=32, description="profile, to pick the newest image"),
        "wait": Field("bool", default=False, description="return only when the update ended"),
    }
)


class OtaManager:
    """Owned by whoever holds the MQTT connection (the MQTT integration); one per hub."""

    def __init__(
        self,
        hub: Hub,
        link: MqttLink,
        *,
        advertise_host: str,
        bind_host: str = "0.0.0.0",
        port: int = 0,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.hub = hub
        self._link = link
        self._advertise = advertise_host
        self._bind = bind_host
        self._port = port
        self._timeout = timeout
        self._key: SigningKey | None = None
        self._store: ImageStore | None = None
        self._server: ImageServer | None = None
        self._updater: OtaUpdater | None = None
        self._remove_service: list[Any] = []

    @property
    def key(self) -> SigningKey:
        assert self._key is not None, "async_setup() first"
        return self._key

    @property
    def public_key_hex(self) -> str:
        """What provisioning hands to devices (Credentials.ota_public_key)."""
        return self.key.public_hex

    @property
    def store(self) -> ImageStore:
        assert self._store is not None, "async_setup() first"
        return self._store

    async def async_setup(self) -> None:
        self._key = await self.hub.async_add_executor_job(
            load_or_create_signing_key, self.hub.config_dir
        )
        self._store = ImageStore(self.hub.config_dir, self._key.public_hex)
        self._server = ImageServer(
            self._store, host=self._bind, port=self._port, advertise=self._advertise
        )
        await self._server.async_start()
        self._updater = OtaUpdater(self._link, self._store, self._server, self._fire)
        self._remove_service.append(
            self.hub.services.async_register(
                DOMAIN,
                "ota_update",
                self._async_handle_update,
                UPDATE_SCHEMA,
                description="Install a stored, hub-signed firmware image on a Hearth device",
                access="admin",
                risky=True,
            )
        )
        self.hub.data[DATA_KEY] = self

    async def async_teardown(self) -> None:
        for remove in self._remove_service:
            remove()
        self._remove_service.clear()
        if self._server is not None:
            await self._server.async_stop()
        self.hub.data.pop(DATA_KEY, None)

    async def async_add_image(self, data: bytes) -> StoredImage:
        """Store an image signed by this hub (ImageError otherwise)."""
        return await self.store.async_add(data)

    async def async_build_reference_image(
        self, version: str, profile: str = "*", app_dir: Path = REFERENCE_APP
    ) -> StoredImage:
        """Sign the reference application as `version` and store it."""

        def build() -> bytes:
            files = app_files(app_dir, version=version)
            sequence = self.store.next_sequence()
            return build_image(
                files, version=version, profile=profile, key=self.key, sequence=sequence
            )

        return await self.async_add_image(await self.hub.async_add_executor_job(build))

    async def async_update(self, device_id: str, image_id: str) -> OtaResult:
        """Update one device; progress goes to the bus as ota_progress events."""
        assert self._updater is not None, "async_setup() first"
        return await self._updater.async_update(device_id, image_id, timeout=self._timeout)

    async def _async_handle_update(self, call: ServiceCall) -> dict[str, Any]:
        image_id = call.data.get("image")
        if image_id is None:
            newest = await self.hub.async_add_executor_job(
                self.store.latest, call.data.get("profile") or "*"
            )
            if newest is None:
                raise InvalidServiceData("no stored firmware image fits", {"image": "none"})
            image_id = newest.id
        elif await self.store.async_get(image_id) is None:
            raise InvalidServiceData("unknown firmware image", {"image": "not stored"})
        device = call.data["device"]
        if not DEVICE_ID_RE.match(device):
            raise InvalidServiceData("invalid device id", {"device": "letters, digits, _ and -"})
        if not call.data["wait"]:
            self.hub.async_create_task(self.async_update(device, image_id))
            return {"device": device, "image": image_id, "started": True}
        result = await self.async_update(device, image_id)
        return {
            "device": device,
            "image": image_id,
            "update_id": result.update_id,
            "stage": result.stage,
            "running": result.running,
            "error": result.error,
        }

    def _fire(self, progress: OtaProgress) -> None:
        self.hub.bus.async_fire(EVENT_OTA_PROGRESS, progress.as_event_data())
