"""Hub side of device provisioning: hand Wi-Fi, broker and OTA key to an unprovisioned device."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import aiohttp

__all__ = [
    "PROVISION_PATH",
    "SERVICE_TYPE",
    "Credentials",
    "DeviceInfo",
    "ProvisioningError",
    "async_device_info",
    "async_provision",
]

_LOGGER = logging.getLogger(__name__)

# mDNS service type an unprovisioned (or provisioned) Hearth reference device announces.
SERVICE_TYPE = "_hearth-device._tcp.local."
INFO_PATH = "/info"
PROVISION_PATH = "/provision"
TIMEOUT_S = 15.0
# A device answer is a few hundred bytes; refuse anything that pretends to be much more.
MAX_RESPONSE_BYTES = 16 * 1024
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_HEX_KEY_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Credentials:
    """What the hub hands to a device: Wi-Fi, MQTT broker, and the hub's OTA public key (hex)."""

    wifi_ssid: str
    wifi_password: str
    broker_host: str
    broker_port: int
    broker_username: str | None
    broker_password: str | None
    ota_public_key: str
    # The code on the appliance's label, for devices that announce `pop=1` in their TXT record.
    setup_code: str | None = None

    def as_payload(self) -> dict[str, Any]:
        """Return the JSON body the device's provisioning endpoint expects."""
        payload: dict[str, Any] = {
            "wifi_ssid": self.wifi_ssid,
            "wifi_password": self.wifi_password,
            "broker_host": self.broker_host,
            "broker_port": self.broker_port,
            "broker_username": self.broker_username,
            "broker_password": self.broker_password,
            "ota_public_key": self.ota_public_key,
        }
        if self.setup_code is not None:
            payload["setup_code"] = self.setup_code
        return payload

    def __repr__(self) -> str:
        # Never leak secrets into logs.
        return (
            f"Credentials(wifi_ssid={self.wifi_ssid!r}, broker_host={self.broker_host!r}, "
            f"broker_port={self.broker_port}, broker_username={self.broker_username!r})"
        )


@dataclass(frozen=True)
class DeviceInfo:
    """Identity a device reports about itself."""

    id: str
    model: str
    profile: str
    firmware_version: str


class ProvisioningError(Exception):
    """The device could not be reached, refused the credentials, or answered nonsense."""


async def async_device_info(host: str, port: int) -> DeviceInfo:
    """Ask a device who it is (works provisioned or not)."""
    data = await _async_request("GET", host, port, INFO_PATH, None)
    return _parse_info(data)


async def async_provision(host: str, port: int, credentials: Credentials) -> DeviceInfo:
    """Send credentials to an unprovisioned device; return its identity once it accepted them."""
    _validate_credentials(credentials)
    data = await _async_request("POST", host, port, PROVISION_PATH, credentials.as_payload())
    return _parse_info(data)


def _validate_credentials(credentials: Credentials) -> None:
    if not credentials.wifi_ssid or len(credentials.wifi_ssid.encode()) > 32:
        raise ProvisioningError("Wi-Fi SSID must be 1-32 bytes")
    if len(credentials.wifi_password.encode()) > 63:
        raise ProvisioningError("Wi-Fi password must be at most 63 bytes")
    if not credentials.broker_host:
        raise ProvisioningError("broker host is empty")
    if not 0 < credentials.broker_port < 65536:
        raise ProvisioningError(f"broker port out of range: {credentials.broker_port}")
    if not _HEX_KEY_RE.match(credentials.ota_public_key):
        raise ProvisioningError("OTA public key must be 32 bytes as lowercase hex")


async def _async_request(
    method: str, host: str, port: int, path: str, body: dict[str, Any] | None
) -> dict[str, Any]:
    url = f"http://{_host_for_url(host)}:{port}{path}"
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.request(method, url, json=body) as resp,
        ):
            raw = await resp.content.read(MAX_RESPONSE_BYTES + 1)
            status = resp.status
    except (aiohttp.ClientError, TimeoutError, OSError) as err:
        raise ProvisioningError(f"device at {host}:{port} unreachable: {err}") from err
    if len(raw) > MAX_RESPONSE_BYTES:
        raise ProvisioningError("device answer too large")
    try:
        data = json.loads(raw)
    except ValueError as err:
        raise ProvisioningError(f"device answered invalid JSON (HTTP {status})") from err
    if not isinstance(data, dict):
        raise ProvisioningError("device answer is not a JSON object")
    if status != 200:
        raise ProvisioningError(f"device refused ({status}): {data.get('error', 'unknown error')}")
    return data


def _host_for_url(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _parse_info(data: dict[str, Any]) -> DeviceInfo:
    fields = ("id", "model", "profile", "firmware_version")
    values = [data.get(name) for name in fields]
    if not all(isinstance(value, str) and 0 < len(value) <= 64 for value in values):
        _LOGGER.warning("Malformed device info: %r", data)
        raise ProvisioningError("device info is missing fields")
    info = DeviceInfo(*(str(value) for value in values))
    if not _ID_RE.match(info.id):
        raise ProvisioningError(f"device id has invalid characters: {info.id!r}")
    return info
