"""The hub's ed25519 OTA signing key, generated once per hub and kept in its config dir."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = ["KEY_FILE", "SigningKey", "load_or_create_signing_key", "public_key_from_hex"]

_LOGGER = logging.getLogger(__name__)

KEY_FILE = Path("ota") / "signing_key.pem"


@dataclass(frozen=True)
class SigningKey:
    """The hub's private OTA key; devices receive `public_hex` during provisioning."""

    private: Ed25519PrivateKey

    @property
    def public_raw(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def public_hex(self) -> str:
        return self.public_raw.hex()

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)

    def __repr__(self) -> str:
        return f"SigningKey(public={self.public_hex})"


def load_or_create_signing_key(config_dir: Path) -> SigningKey:
    """Load the hub's key, creating it (mode 0600) on first use. Blocking: run in an executor."""
    path = config_dir / KEY_FILE
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        return _create(path)
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an ed25519 key")
    return SigningKey(key)


def public_key_from_hex(public_hex: str) -> Ed25519PublicKey:
    """Decode a 32-byte hex public key; ValueError when malformed."""
    raw = bytes.fromhex(public_hex)
    if len(raw) != 32:
        raise ValueError("an ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def _create(path: Path) -> SigningKey:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # O_EXCL: two hub processes racing on first start must not overwrite each other's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_or_create_signing_key(path.parent.parent)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    _LOGGER.info("Created the hub's OTA signing key at %s", path)
    return SigningKey(key)
