"""The SwitchBot Color Bulb BLE open API: request packets, responses and adverts.

Source: https://github.com/OpenWonderLabs/SwitchBotAPI-BLE (devicetypes/colorbulb.md and the
README's device-type table). Requests are written to RX, responses are notified on TX.
"""

from __future__ import annotations

from dataclasses import dataclass

from habluetooth import BluetoothServiceInfoBleak

__all__ = [
    "COMPANY_ID",
    "RX_CHAR",
    "SERVICE_UUID",
    "STATUS_REQUEST",
    "TX_CHAR",
    "BulbAdvert",
    "BulbState",
    "is_color_bulb",
    "parse_advert",
    "parse_response",
    "req_brightness",
    "req_color_temp",
    "req_rgb",
    "req_turn_off",
    "req_turn_on",
]

SERVICE_UUID = "cba20d00-224d-11e6-9fb8-0002a5d5c51b"
RX_CHAR = "cba20002-224d-11e6-9fb8-0002a5d5c51b"  # terminal -> device
TX_CHAR = "cba20003-224d-11e6-9fb8-0002a5d5c51b"  # device -> terminal (notify)
COMPANY_ID = 0x0969  # Woan Technology, in ADV_IND manufacturer data
SERVICE_DATA_UUID = "0000fd3d-0000-1000-8000-00805f9b34fb"  # SCAN_RSP service data
DEVICE_TYPE_COLOR_BULB = 0x75  # 'u'

MIN_KELVIN, MAX_KELVIN = 2700, 6500
_SET = b"\x57\x0f\x47\x01"
STATUS_REQUEST = b"\x57\x0f\x48\x01"
_MODES = {1: "white", 2: "color", 3: "dynamic"}


@dataclass(frozen=True, slots=True)
class BulbState:
    """The bulb's state from a RESP packet; level is 0-100 %."""

    on: bool
    level: int
    rgb: tuple[int, int, int]
    kelvin: int | None
    mode: str


@dataclass(frozen=True, slots=True)
class BulbAdvert:
    """What the bulb's broadcast says (enough to keep state fresh without a connection)."""

    sequence: int
    on: bool
    level: int
    mode: str


def req_turn_on() -> bytes:
    return _SET + b"\x01"


def req_turn_off() -> bytes:
    return _SET + b"\x02"


def req_brightness(level: int) -> bytes:
    return _SET + bytes([0x14, _level(level)])


def req_rgb(level: int, rgb: tuple[int, int, int]) -> bytes:
    r, g, b = (max(0, min(255, int(c))) for c in rgb)
    return _SET + bytes([0x12, _level(level), r, g, b])


def req_color_temp(level: int, kelvin: int) -> bytes:
    kelvin = max(MIN_KELVIN, min(MAX_KELVIN, int(kelvin)))
    return _SET + bytes([0x13, _level(level)]) + kelvin.to_bytes(2, "big")


def parse_response(data: bytes) -> BulbState | None:
    """A RESP packet (11 bytes, first byte 0x01 = ok); None for errors and short packets."""
    if len(data) < 11 or data[0] != 0x01:
        return None
    kelvin = int.from_bytes(data[6:8], "big")
    return BulbState(
        on=bool(data[1] & 0x80),
        level=min(data[2], 100),
        rgb=(data[3], data[4], data[5]),
        kelvin=kelvin if MIN_KELVIN <= kelvin <= MAX_KELVIN else None,
        mode=_MODES.get(data[10], "unknown"),
    )


def is_color_bulb(info: BluetoothServiceInfoBleak) -> bool:
    """True for a SwitchBot Color Bulb: device type 'u' in the fd3d service data."""
    data = info.service_data.get(SERVICE_DATA_UUID)
    return data is not None and len(data) > 0 and (data[0] & 0x7F) == DEVICE_TYPE_COLOR_BULB


def parse_advert(info: BluetoothServiceInfoBleak) -> BulbAdvert | None:
    """Decode the manufacturer data (after the company id: MAC, sequence, power+level, state)."""
    data = info.manufacturer_data.get(COMPANY_ID)
    if data is None or len(data) < 9:
        return None
    return BulbAdvert(
        sequence=data[6],
        on=bool(data[7] & 0x80),
        level=data[7] & 0x7F,
        mode=_MODES.get(data[8] & 0x07, "unknown"),
    )


def _level(level: int) -> int:
    return max(0, min(100, int(level)))
