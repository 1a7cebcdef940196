"""Build a Zigbee OTA image file (zigpy's own OTA types) for the local OTA folder.

    python firmware/zigbee/make_ota_image.py                      # the committed example
    python firmware/zigbee/make_ota_image.py --image-type 0x0102 --version 3 --size 2048

The default is the example image in this folder: firmware version 2 for the simulated colour
bulb (manufacturer 0x1234, image type 0x0101). The payload is deterministic, so running the
script again rebuilds the committed file byte for byte.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from integrations.zigbee.ota import build_ota_image

HERE = Path(__file__).resolve().parent
EXAMPLE = {"manufacturer": 0x1234, "image_type": 0x0101, "version": 2, "size": 1024}


def image_name(manufacturer: int, image_type: int, version: int) -> str:
    """The file name used in the folder: manufacturer, image type and version."""
    return f"hearth-sim-{manufacturer:04x}-{image_type:04x}-v{version}.zigbee"


def payload(image_type: int, version: int, size: int) -> bytes:
    """Deterministic stand-in firmware bytes (a hash chain), `size` bytes long."""
    out = bytearray()
    block = f"hearth zigbee firmware {image_type:04x} v{version}".encode()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


def make_image(manufacturer: int, image_type: int, version: int, size: int) -> bytes:
    """A complete OTA file: header plus one upgrade-image element."""
    return build_ota_image(manufacturer, image_type, version, payload(image_type, version, size))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manufacturer", type=lambda s: int(s, 0), default=EXAMPLE["manufacturer"])
    parser.add_argument("--image-type", type=lambda s: int(s, 0), default=EXAMPLE["image_type"])
    parser.add_argument("--version", type=int, default=EXAMPLE["version"])
    parser.add_argument("--size", type=int, default=EXAMPLE["size"], help="payload bytes")
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write into")
    args = parser.parse_args(argv)
    data = make_image(args.manufacturer, args.image_type, args.version, args.size)
    path = args.out / image_name(args.manufacturer, args.image_type, args.version)
    path.write_bytes(data)
    print(f"{path} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
