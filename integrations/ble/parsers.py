"""Advertisement parsing through bthome-ble and xiaomi-ble, reduced to Hearth's own values."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from bluetooth_sensor_state_data import BluetoothData
from bthome_ble import BTHomeBluetoothDeviceData
from habluetooth import BluetoothServiceInfoBleak
from sensor_state_data import SensorUpdate
from xiaomi_ble import XiaomiBluetoothDeviceData

__all__ = [
    "FAMILIES",
    "AdvertParser",
    "Family",
    "ParseOutcome",
    "Reading",
    "detect_family",
    "parse_bind_key",
]

_LOGGER = logging.getLogger(__name__)

Family = Literal["bthome", "xiaomi"]
FAMILIES: tuple[Family, ...] = ("bthome", "xiaomi")
# Signal strength and the packet counter describe the link, not the room: not entities.
_NOT_READINGS = {"signal_strength", "packet_id"}

_BTHOME_UUIDS = {
    "0000fcd2-0000-1000-8000-00805f9b34fb",  # BTHome v2
    "0000181c-0000-1000-8000-00805f9b34fb",  # BTHome v1, plain
    "0000181e-0000-1000-8000-00805f9b34fb",  # BTHome v1, encrypted
}
_XIAOMI_UUIDS = {
    "0000fe95-0000-1000-8000-00805f9b34fb",  # MiBeacon
    "0000fd50-0000-1000-8000-00805f9b34fb",  # HHCC plant sensor
    "0000181b-0000-1000-8000-00805f9b34fb",  # Mi scale v1
    "0000181d-0000-1000-8000-00805f9b34fb",  # Mi scale v2
}


@dataclass(frozen=True, slots=True)
class Reading:
    """One parsed value: becomes one sensor or binary_sensor entity."""

    key: str
    name: str
    value: float | int | str | bool | None
    unit: str | None
    device_class: str | None
    binary: bool


@dataclass(frozen=True, slots=True)
class ParseOutcome:
    """What one advert told us about a device."""

    address: str
    family: Family
    title: str | None
    model: str | None
    manufacturer: str | None
    readings: tuple[Reading, ...]
    encrypted: bool
    key_verified: bool


def detect_family(info: BluetoothServiceInfoBleak) -> Family | None:
    """Which parser family an advert belongs to, by its service-data UUIDs."""
    uuids = set(info.service_data)
    if uuids & _BTHOME_UUIDS:
        return "bthome"
    if uuids & _XIAOMI_UUIDS:
        return "xiaomi"
    return None


def parse_bind_key(text: str | None, family: Family = "bthome") -> bytes | None:
    """Decode a user's bind key: 32 hex digits (old MiBeacon also 24); ValueError if malformed."""
    if text is None or not text.strip():
        return None
    cleaned = text.strip().replace(" ", "").replace(":", "").replace("-", "")
    try:
        key = bytes.fromhex(cleaned)
    except ValueError:
        raise ValueError("a bind key is hexadecimal: 32 characters 0-9 and a-f") from None
    allowed = (12, 16) if family == "xiaomi" else (16,)
    if len(key) not in allowed:
        raise ValueError(f"a bind key is 32 hex characters long, got {len(cleaned)}")
    return key


class AdvertParser:
    """Per-device parser state (bind key, replay counters) around the library's parser."""

    def __init__(self, address: str, family: Family, bind_key: bytes | None = None) -> None:
        self.address = address.upper()
        self.family: Family = family
        self.bind_key = bind_key
        self._data: BluetoothData = (
            BTHomeBluetoothDeviceData(bindkey=bind_key)
            if family == "bthome"
            else XiaomiBluetoothDeviceData(bindkey=bind_key)
        )

    @property
    def encrypted(self) -> bool:
        """True once an advert showed the device encrypts its payload."""
        scheme = getattr(self._data, "encryption_scheme", None)
        return scheme is not None and getattr(scheme, "value", "none") != "none"

    @property
    def key_verified(self) -> bool:
        return bool(getattr(self._data, "bindkey_verified", False))

    def parse(self, info: BluetoothServiceInfoBleak) -> ParseOutcome | None:
        """Parse one advert; bad or undecryptable input is logged and gives None, never raises."""
        try:
            update = self._data.update(info)
        except Exception:
            # The libraries are well kept but adverts are attacker-controlled bytes: never crash.
            _LOGGER.warning(
                "Ignoring malformed %s advert from %s: %s",
                self.family,
                self.address,
                {k: v.hex() for k, v in info.service_data.items()},
            )
            _LOGGER.debug("Parser traceback", exc_info=True)
            return None
        if self.encrypted and not self.key_verified:
            _LOGGER.warning(
                "Encrypted advert from %s could not be decrypted: %s",
                self.address,
                "no bind key configured" if self.bind_key is None else "the bind key is wrong",
            )
            return None
        readings = _readings(update)
        if not readings:
            return None
        info_dev = update.devices.get(None)
        return ParseOutcome(
            address=self.address,
            family=self.family,
            title=update.title,
            model=info_dev.model if info_dev else None,
            manufacturer=info_dev.manufacturer if info_dev else None,
            readings=readings,
            encrypted=self.encrypted,
            key_verified=self.key_verified,
        )


def _readings(update: SensorUpdate) -> tuple[Reading, ...]:
    out: list[Reading] = []
    for key, sensor in update.entity_values.items():
        desc = update.entity_descriptions.get(key)
        value = sensor.native_value
        if value is not None and not isinstance(value, int | float | str):
            value = str(value)  # dates and Decimals: keep them JSON-ready
        out.append(
            Reading(
                key=key.key,
                name=sensor.name or key.key,
                value=value,
                unit=str(desc.native_unit_of_measurement)
                if desc and desc.native_unit_of_measurement
                else None,
                device_class=str(desc.device_class) if desc and desc.device_class else None,
                binary=False,
            )
        )
    for key, binary in update.binary_entity_values.items():
        bdesc = update.binary_entity_descriptions.get(key)
        out.append(
            Reading(
                key=key.key,
                name=binary.name or key.key,
                value=binary.native_value,
                unit=None,
                device_class=str(bdesc.device_class) if bdesc and bdesc.device_class else None,
                binary=True,
            )
        )
    return tuple(r for r in out if r.key not in _NOT_READINGS)
