"""Run the reference firmware on this computer as a virtual appliance (CPython hardware layer).

    python firmware/device/run_host.py --state-dir /tmp/fridge --profile fridge \
        --ap-ssid home --ap-password "$WIFI_PASSWORD" --http-port 8081

The state directory plays the board's flash: slots, OTA state, configuration, settings.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "base"))

from hearthfw import bootloader, ota  # noqa: E402
from hearthfw.hal import host  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--state-dir", required=True, help="the virtual board's flash")
    parser.add_argument("--profile", choices=("fridge", "cleaner"), default="fridge")
    parser.add_argument("--id", help="hardware id (default: random, kept in the state dir)")
    parser.add_argument("--ap-ssid", help="the virtual Wi-Fi network the device can join")
    parser.add_argument("--ap-password", default="")
    parser.add_argument("--address", default="127.0.0.1", help="the device's IP address")
    parser.add_argument("--http-port", type=int, default=0, help="provisioning endpoint port")
    parser.add_argument("--time-scale", type=float, default=1.0, help="speed of the models")
    parser.add_argument("--trial-seconds", type=float, default=120.0, help="OTA report deadline")
    parser.add_argument("--no-mdns", action="store_true", help="do not announce over mDNS")
    parser.add_argument(
        "--setup-code", help="the code on the label (default: a random one, printed at first boot)"
    )
    parser.add_argument(
        "--factory-reset", action="store_true", help="hold the reset button at power-up"
    )
    args = parser.parse_args(argv)
    if args.id is not None and not _valid_id(args.id):
        parser.error("--id: 1-64 letters, digits, '_' or '-' (it becomes part of MQTT topics)")
    state_dir = os.path.abspath(args.state_dir)
    os.makedirs(state_dir, exist_ok=True)
    ident = os.path.join(state_dir, "device.json")
    if not os.path.exists(ident):
        # Profile and setup code are burned in at the factory, like a board's model and label.
        code = args.setup_code or f"{int.from_bytes(os.urandom(4), 'big') % 10**8:08d}"
        if args.setup_code is None:
            print("setup code (the label):", code, flush=True)
        with open(ident, "w") as f:
            json.dump({"profile": args.profile, "setup_code": code}, f)
    host.configure(
        root=state_dir,
        id=args.id,
        ap_ssid=args.ap_ssid,
        ap_password=args.ap_password,
        address=args.address,
        http_port=args.http_port,
        time_scale=args.time_scale,
        mdns=not args.no_mdns,
    )
    ota.TRIAL_MS = int(args.trial_seconds * 1000)
    if args.factory_reset:
        host.set_input("factory_reset", True)
        # The button is released after power-up: later resets must not wipe again.
        sys.orig_argv.remove("--factory-reset")
    bootloader.run(os.path.join(HERE, "app"))


def _valid_id(value):
    allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
    return 0 < len(value) <= 64 and all(c in allowed for c in value)


if __name__ == "__main__":
    main()
