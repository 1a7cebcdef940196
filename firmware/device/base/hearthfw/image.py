"""OTA image format, device side: streaming signature check, header validation, extraction.

Layout: MAGIC (8) | ed25519 signature (64) | body. The signature covers the whole body:
header length (4, big-endian) | header JSON | file contents in header order.
"""

import hashlib
import json

from hearthfw import ed25519, fs

MAGIC = b"HEARTHO1"
PREFIX = len(MAGIC) + 64
MAX_HEADER = 16 * 1024
APP_PACKAGE = "hearthapp"
_PATH_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."


class ImageError(Exception):
    """The image is malformed, unsigned by our hub, or does not fit this device."""


class StreamVerifier:
    """Feed the image as it downloads; finish() raises ImageError unless the hub signed it."""

    def __init__(self, public_key):
        self._key = public_key
        self._prefix = b""
        self._verifier = None
        self.size = 0

    def feed(self, chunk):
        self.size += len(chunk)
        if self._verifier is None:
            self._prefix += chunk
            if len(self._prefix) < PREFIX:
                return
            if self._prefix[: len(MAGIC)] != MAGIC:
                raise ImageError("not a Hearth OTA image")
            try:
                self._verifier = ed25519.Verifier(self._key, self._prefix[len(MAGIC) : PREFIX])
            except ed25519.BadSignature as err:
                raise ImageError("bad signature: " + str(err)) from None
            chunk = self._prefix[PREFIX:]
            self._prefix = b""
        self._verifier.update(chunk)

    def finish(self):
        if self._verifier is None:
            raise ImageError("image truncated")
        try:
            self._verifier.verify()
        except ed25519.BadSignature as err:
            raise ImageError("bad signature: " + str(err)) from None


def read_header(f):
    """Read and validate the header of an image file positioned at its start."""
    head = f.read(PREFIX + 4)
    if len(head) != PREFIX + 4 or head[: len(MAGIC)] != MAGIC:
        raise ImageError("not a Hearth OTA image")
    length = int.from_bytes(head[PREFIX:], "big")
    if length > MAX_HEADER:
        raise ImageError("header too large")
    try:
        header = json.loads(f.read(length))
    except ValueError:
        raise ImageError("header is not JSON") from None
    validate_header(header)
    return header


def validate_header(header):
    if not isinstance(header, dict) or header.get("format") != 1:
        raise ImageError("unknown image format")
    version = header.get("version")
    if not isinstance(version, str) or not 0 < len(version) <= 32:
        raise ImageError("bad version")
    if not isinstance(header.get("profile"), str):
        raise ImageError("bad profile")
    sequence = header.get("sequence", 0)
    if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 0:
        raise ImageError("bad sequence")
    files = header.get("files")
    if not isinstance(files, list) or not files:
        raise ImageError("no files")
    for entry in files:
        if not isinstance(entry, dict):
            raise ImageError("bad file entry")
        check_path(entry.get("path"))
        size = entry.get("size")
        digest = entry.get("sha256")
        if not isinstance(size, int) or size < 0:
            raise ImageError("bad file size")
        if not isinstance(digest, str) or len(digest) != 64:
            raise ImageError("bad file digest")


def check_path(path):
    """Only relative paths inside the application package: no '..', no absolute paths."""
    if not isinstance(path, str) or not path:
        raise ImageError("bad file path")
    parts = path.split("/")
    if parts[0] != APP_PACKAGE:
        raise ImageError("file outside the application package: " + path)
    for part in parts:
        if part in ("", ".", "..") or any(c not in _PATH_CHARS for c in part):
            raise ImageError("bad file path: " + path)


def extract(f, header, dest):
    """Write the files of an already verified image into dest, checking each file's SHA-256."""
    fs.rmtree(dest)
    fs.makedirs(dest)
    for entry in header["files"]:
        path = fs.join(dest, entry["path"])
        fs.makedirs(path[: path.rfind("/")])
        digest = hashlib.sha256()
        remaining = entry["size"]
        with open(path, "wb") as out:
            while remaining:
                chunk = f.read(min(2048, remaining))
                if not chunk:
                    raise ImageError("image truncated in " + entry["path"])
                digest.update(chunk)
                out.write(chunk)
                remaining -= len(chunk)
        if _hex(digest.digest()) != entry["sha256"]:
            raise ImageError("digest mismatch in " + entry["path"])


def _hex(data):
    return "".join(f"{b:02x}" for b in data)
