"""The paired BLE devices (with their bind keys), kept in a private JSON file."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = ["DeviceKind", "DeviceStore", "PairedDevice"]

_LOGGER = logging.getLogger(__name__)

DeviceKind = Literal["bthome", "xiaomi", "switchbot_bulb"]
KINDS: tuple[DeviceKind, ...] = ("bthome", "xiaomi", "switchbot_bulb")


@dataclass(frozen=True, slots=True)
class PairedDevice:
    """One device the user added: what it is, what to call it, and its key if encrypted."""

    address: str
    kind: DeviceKind
    name: str
    bind_key: str | None = None  # hex

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> PairedDevice:
        kind = raw["kind"]
        if kind not in KINDS:
            raise ValueError(f"unknown BLE device kind {kind!r}")
        return cls(
            address=str(raw["address"]).upper(),
            kind=kind,
            name=str(raw.get("name") or raw["address"]),
            bind_key=raw.get("bind_key") or None,
        )


class DeviceStore:
    """Reads and writes the file synchronously: call through the hub's executor."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> list[PairedDevice]:
        """The stored devices; a damaged file is logged and read as empty, never a crash."""
        try:
            raw = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            _LOGGER.error(
                "Cannot read %s (%s); starting with no paired BLE devices", self.path, exc
            )
            return []
        devices: list[PairedDevice] = []
        for item in raw.get("devices", []) if isinstance(raw, dict) else []:
            try:
                devices.append(PairedDevice.from_dict(item))
            except (KeyError, TypeError, ValueError) as exc:
                _LOGGER.error("Skipping a bad paired BLE device entry %r: %s", item, exc)
        return devices

    def save(self, devices: list[PairedDevice]) -> None:
        """Write atomically, readable by the hub's user only (bind keys are secrets)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        data = json.dumps({"version": 1, "devices": [asdict(d) for d in devices]}, indent=2)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
