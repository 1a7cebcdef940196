"""Device-side advert encoders written from the BTHome v2 and MiBeacon specs (not the parsers)."""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers.aead import AESCCM

BTHOME_UUID = "0000fcd2-0000-1000-8000-00805f9b34fb"
MIBEACON_UUID = "0000fe95-0000-1000-8000-00805f9b34fb"


def bthome_objects(
    *,
    packet_id: int | None = None,
    battery: int | None = None,
    temperature: float | None = None,
    humidity: float | None = None,
    motion: bool | None = None,
) -> bytes:
    """BTHome v2 objects in ascending object-id order, as the spec requires."""
    out = bytearray()
    if packet_id is not None:
        out += bytes([0x00, packet_id & 0xFF])
    if battery is not None:
        out += bytes([0x01, battery])
    if temperature is not None:
        out += bytes([0x02]) + round(temperature * 100).to_bytes(2, "little", signed=True)
    if humidity is not None:
        out += bytes([0x03]) + round(humidity * 100).to_bytes(2, "little")
    if motion is not None:
        out += bytes([0x21, int(motion)])
    return bytes(out)


def bthome_v2(
    objects: bytes, *, key: bytes | None = None, mac: str = "", counter: int = 1
) -> bytes:
    """BTHome v2 service data; with a key, AES-CCM encrypted as in the BTHome spec."""
    if key is None:
        return bytes([0x40]) + objects
    info = 0x41  # version 2, encrypted
    count = counter.to_bytes(4, "little")
    nonce = bytes.fromhex(mac.replace(":", "")) + b"\xd2\xfc" + bytes([info]) + count
    sealed = AESCCM(key, tag_length=4).encrypt(nonce, objects, None)
    return bytes([info]) + sealed[:-4] + count + sealed[-4:]


def mibeacon_temp_humidity(mac: str, counter: int, temperature: float, humidity: float) -> bytes:
    """Plain MiBeacon v3 from a LYWSDCGQ (product 0x01AA): object 0x100D temperature+humidity."""
    frame_control = 0x3050  # version 3, object included, MAC included
    out = frame_control.to_bytes(2, "little") + (0x01AA).to_bytes(2, "little")
    out += bytes([counter & 0xFF]) + bytes.fromhex(mac.replace(":", ""))[::-1]
    value = round(temperature * 10).to_bytes(2, "little", signed=True)
    value += round(humidity * 10).to_bytes(2, "little")
    return out + (0x100D).to_bytes(2, "little") + bytes([len(value)]) + value
