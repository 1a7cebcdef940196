"""Signed OTA images kept in the hub's config dir, addressed by the SHA-256 of the image."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .image import ImageError, ImageHeader, verify_image

__all__ = ["IMAGES_DIR", "ImageStore", "StoredImage"]

_LOGGER = logging.getLogger(__name__)

IMAGES_DIR = Path("ota") / "images"
SEQUENCE_FILE = Path("ota") / "sequence"
MAX_IMAGE_BYTES = 1024 * 1024  # what a device accepts (hearthfw.ota.MAX_IMAGE)
_ID_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class StoredImage:
    id: str
    version: str
    profile: str
    size: int
    created: int
    path: Path
    sequence: int = 0


class ImageStore:
    """Holds only images signed by this hub's key; methods block, async_ ones use a thread."""

    def __init__(self, config_dir: Path, public_hex: str) -> None:
        self.directory = config_dir / IMAGES_DIR
        self._sequence_path = config_dir / SEQUENCE_FILE
        self._public_hex = public_hex

    def next_sequence(self) -> int:
        """Reserve the next build number (kept in a file, so it never goes backwards)."""
        try:
            current = int(self._sequence_path.read_text().strip() or "0")
        except FileNotFoundError:
            current = 0
        except ValueError:
            # A damaged counter must not hand out old numbers: restart above every stored image.
            current = max((i.sequence for i in self.images()), default=0)
        value = current + 1
        self._sequence_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._sequence_path.with_suffix(".tmp")
        tmp.write_text(f"{value}\n")
        os.replace(tmp, self._sequence_path)
        return value

    def add(self, data: bytes) -> StoredImage:
        """Verify and store an image (idempotent); ImageError if unsigned or malformed."""
        if len(data) > MAX_IMAGE_BYTES:
            raise ImageError(f"image of {len(data)} bytes exceeds {MAX_IMAGE_BYTES}")
        header = verify_image(data, self._public_hex)
        image_id = hashlib.sha256(data).hexdigest()
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{image_id}.ota"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        return _stored(image_id, header, len(data), path)

    def get(self, image_id: str) -> StoredImage | None:
        if not _ID_RE.match(image_id):
            return None
        path = self.directory / f"{image_id}.ota"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            header = verify_image(data, self._public_hex)
        except ImageError:
            _LOGGER.warning("Stored OTA image %s no longer verifies; ignoring it", image_id)
            return None
        return _stored(image_id, header, len(data), path)

    def images(self) -> list[StoredImage]:
        if not self.directory.is_dir():
            return []
        found = (self.get(p.stem) for p in sorted(self.directory.glob("*.ota")))
        return sorted((i for i in found if i is not None), key=lambda i: (i.sequence, i.created))

    def latest(self, profile: str) -> StoredImage | None:
        """The newest image that fits a device profile."""
        fits = [i for i in self.images() if i.profile in ("*", profile)]
        return fits[-1] if fits else None

    def remove(self, image_id: str) -> bool:
        if not _ID_RE.match(image_id):
            return False
        try:
            (self.directory / f"{image_id}.ota").unlink()
        except FileNotFoundError:
            return False
        return True

    async def async_add(self, data: bytes) -> StoredImage:
        return await asyncio.get_running_loop().run_in_executor(None, self.add, data)

    async def async_get(self, image_id: str) -> StoredImage | None:
        return await asyncio.get_running_loop().run_in_executor(None, self.get, image_id)

    async def async_images(self) -> list[StoredImage]:
        return await asyncio.get_running_loop().run_in_executor(None, self.images)


def _stored(image_id: str, header: ImageHeader, size: int, path: Path) -> StoredImage:
    return StoredImage(
        image_id, header.version, header.profile, size, header.created, path, header.sequence
    )
