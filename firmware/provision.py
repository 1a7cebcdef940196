"""Hub side of device provisioning: hand Wi-Fi, broker and OTA key to an unprovisioned device.

The hand-over is sealed (scheme x25519-hkdf-sha512-chacha20poly1305-v1): the device shows a
fresh X25519 key in `/info`; the hub derives a ChaCha20-Poly1305 key from the X25519 secret and
the setup code on the device's label (HKDF-SHA512), seals the credentials, and the device
proves it opened them. Without the code nothing is sent; a wrong code opens nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
from dataclasses import dataclass
from typing import Any

import aiohttp
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "PROVISION_PATH",
    "SERVICE_TYPE",
    "Credentials",
    "DeviceInfo",
    "ProvisioningError",
    "async_device_info",
    "async_provision",
    "seal_credentials",
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
SCHEME = "x25519-hkdf-sha512-chacha20poly1305-v1"
INFO = b"hearth provisioning v1"
PROOF = b"hearth provisioning accepted"


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
    # The code on the appliance's label: required, it keys the sealed hand-over.
    setup_code: str | None = None
    # The hub's CA (PEM) when broker_port is the broker's TLS listener.
    broker_ca: str | None = None

    def as_payload(self) -> dict[str, Any]:
        """The credentials the device gets (sealed; the setup code is the key, not content)."""
        payload: dict[str, Any] = {
            "wifi_ssid": self.wifi_ssid,
            "wifi_password": self.wifi_password,
            "broker_host": self.broker_host,
            "broker_port": self.broker_port,
            "broker_username": self.broker_username,
            "broker_password": self.broker_password,
            "ota_public_key": self.ota_public_key,
        }
        if self.broker_ca is not None:
            payload["broker_ca"] = self.broker_ca
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
    """Seal credentials with the setup code and send them to an unprovisioned device.

    Returns its identity once it accepted them and proved it opened the hand-over.
    """
    _validate_credentials(credentials)
    setup_code = credentials.setup_code
    if not setup_code:
        raise ProvisioningError("the setup code on the device's label is required")
    data = await _async_request("GET", host, port, INFO_PATH, None)
    info = _parse_info(data)
    device_key = data.get("pairing_key")
    if data.get("scheme") != SCHEME or not isinstance(device_key, str):
        raise ProvisioningError(
            f"{info.id} does not offer sealed provisioning ({SCHEME}); update its firmware"
        )
    if not _HEX_KEY_RE.match(device_key):
        raise ProvisioningError("device pairing key must be 32 bytes as lowercase hex")
    device_public = bytes.fromhex(device_key)
    body, key, hub_public = seal_credentials(credentials, setup_code, device_public, info.id)
    answer = await _async_request("POST", host, port, PROVISION_PATH, body)
    expected = hmac.new(key, PROOF + hub_public, hashlib.sha512).digest()[:16].hex()
    proof = answer.get("proof")
    if not isinstance(proof, str) or not hmac.compare_digest(proof, expected):
        raise ProvisioningError("the device did not prove it opened the hand-over")
    accepted = _parse_info(answer)
    if accepted.id != info.id:
        raise ProvisioningError("a different device answered the hand-over")
    return accepted


def seal_credentials(
    credentials: Credentials, setup_code: str, device_public: bytes, device_id: str
) -> tuple[dict[str, Any], bytes, bytes]:
    """The POST body sealing `credentials` for one device; also the key and the hub's public key."""
    private = X25519PrivateKey.generate()
    hub_public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(device_public))
    except ValueError as err:  # a low-order point: all-zero secret
        raise ProvisioningError(f"device pairing key refused: {err}") from err
    key = HKDF(
        hashes.SHA512(),
        32,
        salt=device_public + hub_public,
        info=INFO + b" " + device_id.encode(),
    ).derive(shared + b"\x00" + setup_code.encode())
    nonce = os.urandom(12)
    plaintext = json.dumps(credentials.as_payload()).encode()
    sealed = ChaCha20Poly1305(key).encrypt(nonce, plaintext, device_public + hub_public)
    body = {"v": 1, "hub_key": hub_public.hex(), "nonce": nonce.hex(), "sealed": sealed.hex()}
    return body, key, hub_public


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
