"""Signed OTA images, hub side: build and sign, read headers, verify.

Layout (the device parser is firmware/device/base/hearthfw/image.py):
MAGIC (8) | ed25519 signature (64) | body, where body = header length (4, big-endian) |
header JSON | file contents in header order, and the signature covers the whole body.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature

from .keys import SigningKey, public_key_from_hex

__all__ = [
    "MAGIC",
    "ImageError",
    "ImageFile",
    "ImageHeader",
    "app_files",
    "build_image",
    "read_header",
    "verify_image",
]

MAGIC = b"HEARTHO1"
PREFIX = len(MAGIC) + 64
APP_PACKAGE = "hearthapp"
MAX_HEADER = 16 * 1024
_SEGMENT_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
_VERSION_RE = re.compile(r"^[A-Za-z0-9_.+-]{1,32}$")


class ImageError(ValueError):
    """Malformed image, or a signature that does not verify."""


@dataclass(frozen=True)
class ImageFile:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ImageHeader:
    """What an image says about itself (authentic only after verify_image)."""

    version: str
    profile: str
    files: tuple[ImageFile, ...]
    created: int
    # Hub-wide build counter; devices refuse an image older than the one they run (replays).
    sequence: int = 0

    @property
    def payload_size(self) -> int:
        return sum(f.size for f in self.files)


def build_image(
    files: Mapping[str, bytes],
    *,
    version: str,
    profile: str,
    key: SigningKey,
    created: int | None = None,
    sequence: int = 0,
) -> bytes:
    """Pack application files into an image signed with the hub's key."""
    if not _VERSION_RE.match(version):
        raise ImageError(f"invalid version {version!r}")
    paths = sorted(files)
    for path in paths:
        _check_path(path)
    header = {
        "format": 1,
        "version": version,
        "profile": profile,
        "created": int(time.time()) if created is None else created,
        "sequence": sequence,
        "files": [
            {"path": p, "size": len(files[p]), "sha256": hashlib.sha256(files[p]).hexdigest()}
            for p in paths
        ],
    }
    head = json.dumps(header, separators=(",", ":")).encode()
    if len(head) > MAX_HEADER:
        raise ImageError("too many files for one image")
    body = len(head).to_bytes(4, "big") + head + b"".join(files[p] for p in paths)
    return MAGIC + key.sign(body) + body


def read_header(data: bytes) -> ImageHeader:
    """Parse an image's header without checking the signature."""
    if len(data) < PREFIX + 4 or data[: len(MAGIC)] != MAGIC:
        raise ImageError("not a Hearth OTA image")
    length = int.from_bytes(data[PREFIX : PREFIX + 4], "big")
    if length > MAX_HEADER or PREFIX + 4 + length > len(data):
        raise ImageError("header length out of range")
    try:
        raw = json.loads(data[PREFIX + 4 : PREFIX + 4 + length])
    except ValueError as err:
        raise ImageError("header is not JSON") from err
    header = _parse_header(raw)
    if PREFIX + 4 + length + header.payload_size != len(data):
        raise ImageError("image size does not match its header")
    return header


def verify_image(data: bytes, public_hex: str) -> ImageHeader:
    """Return the header if the image is intact and signed by the key; ImageError otherwise."""
    header = read_header(data)
    try:
        public_key_from_hex(public_hex).verify(data[len(MAGIC) : PREFIX], data[PREFIX:])
    except InvalidSignature as err:
        raise ImageError("bad signature") from err
    offset = PREFIX + 4 + int.from_bytes(data[PREFIX : PREFIX + 4], "big")
    for entry in header.files:
        if hashlib.sha256(data[offset : offset + entry.size]).hexdigest() != entry.sha256:
            raise ImageError(f"digest mismatch in {entry.path}")
        offset += entry.size
    return header


def app_files(app_dir: Path, *, version: str | None = None) -> dict[str, bytes]:
    """Collect the application package under app_dir; optionally stamp version.py."""
    package = app_dir / APP_PACKAGE
    if not package.is_dir():
        raise ImageError(f"{app_dir} holds no {APP_PACKAGE} package")
    files = {
        path.relative_to(app_dir).as_posix(): path.read_bytes()
        for path in sorted(package.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".mpy")
    }
    if version is not None:
        files[f"{APP_PACKAGE}/version.py"] = f'VERSION = "{version}"\n'.encode()
    return files


def _check_path(path: str) -> None:
    parts = path.split("/")
    if parts[0] != APP_PACKAGE or any(
        part in (".", "..") or not _SEGMENT_RE.match(part) for part in parts
    ):
        raise ImageError(f"file path not allowed in an image: {path!r}")


def _parse_header(raw: object) -> ImageHeader:
    if not isinstance(raw, dict) or raw.get("format") != 1:
        raise ImageError("unknown image format")
    version, profile, created, files = (
        raw.get("version"),
        raw.get("profile"),
        raw.get("created", 0),
        raw.get("files"),
    )
    sequence = raw.get("sequence", 0)
    if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 0:
        raise ImageError("bad sequence")
    if not isinstance(version, str) or not _VERSION_RE.match(version):
        raise ImageError("bad version")
    if not isinstance(profile, str) or not isinstance(created, int):
        raise ImageError("bad profile or creation time")
    if not isinstance(files, list) or not files:
        raise ImageError("no files")
    entries = []
    for entry in files:
        if not isinstance(entry, dict):
            raise ImageError("bad file entry")
        path, size, digest = entry.get("path"), entry.get("size"), entry.get("sha256")
        if not isinstance(path, str) or not isinstance(size, int) or size < 0:
            raise ImageError("bad file entry")
        if not isinstance(digest, str) or len(digest) != 64:
            raise ImageError("bad file digest")
        _check_path(path)
        entries.append(ImageFile(path, size, digest))
    return ImageHeader(version, profile, tuple(entries), created, sequence)
