"""Wi-Fi pairing: find LAN devices over mDNS, hand Hearth devices the home's credentials.

A ``_hearth-device._tcp`` appliance in setup mode gets the Wi-Fi, a broker account of its own
(made now, with an ACL to its own topics; the password goes to the appliance only) and the
hub's OTA key through ``firmware.provision``, sealed with the setup code on its label; it then
joins the broker and announces itself with discovery, which is where its entities come from.
ESPHome, Shelly and MQTT brokers found on the LAN are offered with what the user has to do,
since they cannot be provisioned by us.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from hub.integration import (
    STAGE_CONFIGURED,
    STAGE_FAILED,
    STAGE_FOUND,
    STAGE_JOINED,
    STAGE_READY,
    STAGE_SEARCHING,
    PairingCandidate,
    PairingProgress,
    PairingRequest,
)
from integrations.zeroconf.browser import (
    ESPHOME,
    HEARTH_DEVICE,
    MQTT_BROKER,
    PAIRING_SERVICE_TYPES,
    SHELLY,
    LanService,
    async_browse,
)
from integrations.zeroconf.shared import async_zeroconf

if TYPE_CHECKING:
    from hub.core import Hub

    from .manager import DiscoveryManager

_LOGGER = logging.getLogger(__name__)

PROTOCOL = "wifi"
MAX_SEARCH = 120.0
ANNOUNCE_TIMEOUT = 60.0

_KIND = {
    HEARTH_DEVICE: "hearth",
    ESPHOME: "esphome",
    SHELLY: "shelly",
    MQTT_BROKER: "mqtt_broker",
}
_ADVICE = {
    "esphome": "ESPHome device: add an `mqtt:` block with this hub's broker to its YAML.",
    "shelly": "Shelly device: enable MQTT in its web UI with this hub's broker and account.",
    "mqtt_broker": "MQTT broker: set it as `broker:` in the mqtt section to use it instead.",
}


@dataclass(frozen=True)
class BrokerAccess:
    """What a device needs to reach this hub's broker."""

    host: str
    port: int
    username: str | None
    password: str | None = None
    ca_pem: str | None = None  # the hub's CA when the port is the TLS listener


class ApplianceAccounts(Protocol):
    """Where appliance accounts come from (the MQTT integration)."""

    async def async_add_appliance_account(self, device_id: str) -> tuple[Any, str]: ...

    async def async_remove_account(self, username: str) -> None: ...

    def appliance_access(self, device_host: str, username: str, password: str) -> BrokerAccess: ...


class WifiPairing:
    """Pairing sessions of the MQTT integration (protocol ``wifi``)."""

    def __init__(
        self,
        hub: Hub,
        accounts: ApplianceAccounts,
        discovery: Callable[[], DiscoveryManager | None],
        wifi: tuple[str | None, str | None],
    ) -> None:
        self.hub = hub
        self._accounts = accounts
        self._discovery = discovery
        self._wifi = wifi
        self.candidates: dict[str, LanService] = {}

    async def async_pair(self, request: PairingRequest) -> AsyncIterator[PairingProgress]:
        if request.candidate_id is None:
            async for step in self._async_search(min(request.duration, MAX_SEARCH)):
                yield step
            return
        service = self.candidates.get(request.candidate_id)
        if service is None:
            yield PairingProgress(
                STAGE_FAILED, PROTOCOL, f"unknown candidate {request.candidate_id!r}; search again"
            )
            return
        async for step in self._async_provision(service, dict(request.options)):
            yield step

    async def _async_search(self, duration: float) -> AsyncIterator[PairingProgress]:
        yield PairingProgress(STAGE_SEARCHING, PROTOCOL, "Looking for Wi-Fi devices")
        async with async_zeroconf(self.hub) as aiozc:
            async for service in async_browse(aiozc, PAIRING_SERVICE_TYPES, duration):
                candidate = self._candidate(service)
                self.candidates[candidate.id] = service
                yield PairingProgress(
                    STAGE_FOUND,
                    PROTOCOL,
                    f"Found {candidate.name}",
                    candidate=candidate,
                    suggested_name=candidate.name,
                )

    def _candidate(self, service: LanService) -> PairingCandidate:
        kind = _KIND.get(service.type, "unknown")
        props = service.properties
        details: dict[str, Any] = {
            "kind": kind,
            "host": service.host,
            "port": service.port,
            "service": service.type,
        }
        needs: tuple[str, ...] = ()
        if kind == "hearth":
            details["state"] = props.get("state", "unknown")
            details["firmware_version"] = props.get("fw")
            details["pairable"] = props.get("state") == "unprovisioned"
            # The setup code keys the sealed hand-over: always needed.
            wanted = ["setup_code"]
            if self._wifi[0] is None:
                wanted += ["wifi_ssid", "wifi_password"]
            needs = tuple(wanted)
        else:
            details["pairable"] = False
            details["advice"] = _ADVICE.get(kind, "")
        name = props.get("friendly_name") or props.get("name") or service.instance
        return PairingCandidate(
            id=f"{kind}:{service.instance}",
            protocol=PROTOCOL,
            name=name[:64],
            model=props.get("model") or props.get("app") or None,
            manufacturer="Hearth" if kind == "hearth" else None,
            needs=needs,
            details=details,
        )

    async def _async_provision(
        self, service: LanService, options: dict[str, Any]
    ) -> AsyncIterator[PairingProgress]:
        candidate = self._candidate(service)
        if not candidate.details.get("pairable"):
            message = candidate.details.get("advice") or "device is already provisioned"
            yield PairingProgress(STAGE_FAILED, PROTOCOL, message, candidate=candidate)
            return
        try:
            provision = importlib.import_module("firmware.provision")
        except ImportError:
            yield PairingProgress(
                STAGE_FAILED,
                PROTOCOL,
                "firmware provisioning is not installed",
                candidate=candidate,
            )
            return
        ssid = options.get("wifi_ssid") or self._wifi[0]
        wifi_password = options.get("wifi_password") or self._wifi[1] or ""
        setup_code = options.get("setup_code")
        if not ssid:
            yield PairingProgress(STAGE_FAILED, PROTOCOL, "Wi-Fi name (wifi_ssid) needed")
            return
        if not setup_code:
            yield PairingProgress(
                STAGE_FAILED, PROTOCOL, "the setup code on the device's label is needed"
            )
            return
        try:
            ota_key = await self._async_ota_public_key()
        except Exception as err:  # the OTA key store lives in firmware/, a separate package
            yield PairingProgress(STAGE_FAILED, PROTOCOL, f"no OTA signing key: {err}")
            return
        try:
            device = await provision.async_device_info(service.host, service.port)
            account, password = await self._accounts.async_add_appliance_account(device.id)
        except (provision.ProvisioningError, ValueError, OSError) as err:
            yield PairingProgress(STAGE_FAILED, PROTOCOL, str(err), candidate=candidate)
            return
        try:
            access = self._accounts.appliance_access(service.host, account.username, password)
            credentials = provision.Credentials(
                wifi_ssid=str(ssid),
                wifi_password=str(wifi_password),
                broker_host=access.host,
                broker_port=access.port,
                broker_username=access.username,
                broker_password=access.password,
                ota_public_key=ota_key,
                setup_code=str(setup_code),
                broker_ca=access.ca_pem,
            )
            yield PairingProgress(STAGE_JOINED, PROTOCOL, "Sending Wi-Fi and broker settings")
            info = await provision.async_provision(service.host, service.port, credentials)
        except (provision.ProvisioningError, ValueError) as err:
            # The account was made for this hand-over only.
            await self._accounts.async_remove_account(account.username)
            yield PairingProgress(STAGE_FAILED, PROTOCOL, str(err), candidate=candidate)
            return
        yield PairingProgress(
            STAGE_CONFIGURED,
            PROTOCOL,
            f"{info.model} {info.id} accepted the settings; waiting for it to announce itself",
        )
        entity_ids = await self._async_wait_for_entities(info.id)
        if not entity_ids:
            yield PairingProgress(
                STAGE_FAILED,
                PROTOCOL,
                f"{info.id} took the settings but did not announce itself on the broker",
            )
            return
        device_id = self._device_id(entity_ids[0])
        yield PairingProgress(
            STAGE_READY,
            PROTOCOL,
            f"{info.model} is ready",
            device_id=device_id,
            entity_ids=tuple(entity_ids),
            suggested_name=candidate.name,
        )

    async def _async_ota_public_key(self) -> str:
        keys = importlib.import_module("firmware.ota.keys")
        key = await self.hub.async_add_executor_job(
            keys.load_or_create_signing_key, self.hub.config_dir
        )
        return str(key.public_hex)

    async def _async_wait_for_entities(self, device_id: str) -> list[str]:
        """Entity ids of discovered entities whose device identifiers name this device."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ANNOUNCE_TIMEOUT
        settle_until: float | None = None
        found: list[str] = []
        while loop.time() < deadline:
            manager = self._discovery()
            if manager is not None:
                found = [
                    e.entity_id
                    for e in manager.entities.values()
                    if e.entity_id is not None
                    and e.device_info is not None
                    and any(device_id == value for _, value in e.device_info.identifiers)
                ]
            if found and settle_until is None:
                # A device announces several entities in a burst; give the rest a moment.
                settle_until = loop.time() + 1.0
            if settle_until is not None and loop.time() >= settle_until:
                return sorted(found)
            await asyncio.sleep(0.1)
        return sorted(found)

    def _device_id(self, entity_id: str) -> str | None:
        entry = self.hub.registry.entities.get(entity_id)
        return entry.device_id if entry is not None else None
