"""Virtual appliances: the reference firmware run as processes on this computer.

For tests, benchmarks and the demo. Each appliance is one process running
firmware/device/run_host.py with its own state directory (its flash) and HTTP port.

    python -m firmware.virtual --state-dir /tmp/appliances --broker 127.0.0.1:1883 \
        --username u --password "$PASSWORD"
starts a fridge and a robot cleaner and provisions them (sealed with each one's setup code)
with this hub's OTA key and the given broker account, e.g. one made with
`hearth mqtt-account add u --topic 'hearth/#' --discovery-id fridge-virtual ...`. Pairing from
the hub instead gives each its own account.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

__all__ = ["DEFAULT_AP_SSID", "RUNNER", "VirtualAppliance", "new_setup_code"]

RUNNER = Path(__file__).resolve().parent / "device" / "run_host.py"
DEFAULT_AP_SSID = "hearth-virtual-net"
START_TIMEOUT_S = 60.0
LABEL_FILE = "label.json"  # beside the appliance's flash: its setup code and virtual Wi-Fi


def new_setup_code() -> str:
    """A random 8-digit code, like the one printed on an appliance's label."""
    return f"{secrets.randbelow(10**8):08d}"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class VirtualAppliance:
    """One virtual appliance process; `start()`, `kill()` (a power cut), `async_wait_http()`."""

    id: str
    profile: str
    state_dir: Path
    http_port: int = 0
    time_scale: float = 1.0
    trial_seconds: float = 120.0
    mdns: bool = True
    ap_ssid: str = DEFAULT_AP_SSID
    # No default password: each virtual network gets its own, kept with the label.
    ap_password: str | None = field(default=None, repr=False)
    setup_code: str | None = field(default=None, repr=False)
    log_path: Path | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.http_port == 0:
            self.http_port = free_port()
        if self.log_path is None:
            self.log_path = self.state_dir.parent / f"{self.id}.log"
        label = self._read_label()
        if self.setup_code is None:
            self.setup_code = label.get("setup_code") or new_setup_code()
        if self.ap_password is None:
            self.ap_password = label.get("ap_password") or secrets.token_urlsafe(12)

    @property
    def label_path(self) -> Path:
        return self.state_dir.parent / f"{self.id}.{LABEL_FILE}"

    def _read_label(self) -> dict[str, str]:
        try:
            data = json.loads(self.label_path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    @property
    def argv(self) -> list[str]:
        assert self.ap_password is not None and self.setup_code is not None
        argv = [
            sys.executable, str(RUNNER), "--state-dir", str(self.state_dir),
            "--profile", self.profile, "--id", self.id,
            # "=": a random password may start with "-", which argparse reads as an option.
            f"--ap-ssid={self.ap_ssid}", f"--ap-password={self.ap_password}",
            "--http-port", str(self.http_port), "--time-scale", str(self.time_scale),
            "--trial-seconds", str(self.trial_seconds), f"--setup-code={self.setup_code}",
        ]  # fmt: skip
        return argv if self.mdns else [*argv, "--no-mdns"]

    def start(self, *, factory_reset: bool = False) -> None:
        """Power up; factory_reset holds the reset button while doing so."""
        assert self.log_path is not None
        self.state_dir.parent.mkdir(parents=True, exist_ok=True)
        label = {"setup_code": self.setup_code, "ap_password": self.ap_password}
        fd = os.open(self.label_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(label, handle)
        argv = [*self.argv, "--factory-reset"] if factory_reset else self.argv
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )

    def kill(self) -> None:
        """Pull the plug (SIGKILL): no clean MQTT disconnect, the broker sends the will."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def wait(self) -> int | None:
        """Block until the process ends; return its exit status."""
        return self.proc.wait() if self.proc is not None else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:] if self.log_path else ""
        except OSError:
            return ""

    async def async_info(self) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.http_port}/info"
        async with aiohttp.ClientSession() as session, session.get(url) as resp:
            data: dict[str, Any] = await resp.json()
            return data

    async def async_wait_http(self, timeout: float = START_TIMEOUT_S) -> dict[str, Any]:
        """Wait until the appliance's HTTP endpoint answers (after boot or a reset)."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                raise RuntimeError(f"appliance {self.id} died:\n{self.log()}")
            try:
                return await self.async_info()
            except (aiohttp.ClientError, OSError):
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"appliance {self.id} never answered:\n{self.log()}"
                    ) from None
                await asyncio.sleep(0.1)


async def _async_main(args: argparse.Namespace) -> None:
    from firmware.ota.keys import load_or_create_signing_key
    from firmware.provision import Credentials, async_provision

    root: Path = args.state_dir
    key = await asyncio.to_thread(load_or_create_signing_key, args.config_dir)
    host, _, port = args.broker.rpartition(":")
    appliances = [
        VirtualAppliance(f"{profile}-virtual", profile, root / profile, time_scale=args.time_scale)
        for profile in ("fridge", "cleaner")
    ]
    try:
        for appliance in appliances:
            appliance.start()
            info = await appliance.async_wait_http()
            if info["state"] == "unprovisioned":
                assert appliance.ap_password is not None
                creds = Credentials(
                    appliance.ap_ssid, appliance.ap_password, host, int(port),
                    args.username, args.password, key.public_hex, appliance.setup_code,
                )  # fmt: skip
                await async_provision("127.0.0.1", appliance.http_port, creds)
            print(
                f"{appliance.profile}: id {appliance.id}, http port {appliance.http_port}, "
                f"setup code {appliance.setup_code}"
            )
        waits = [asyncio.ensure_future(asyncio.to_thread(a.wait)) for a in appliances]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for appliance in appliances:
            appliance.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description="Run a virtual fridge and robot cleaner.")
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--config-dir", default="hearth-data", help="the hub's config dir")
    parser.add_argument("--broker", default="127.0.0.1:1883", help="host:port")
    parser.add_argument("--username")
    parser.add_argument("--password")
    parser.add_argument("--time-scale", type=float, default=1.0)
    args = parser.parse_args()
    args.state_dir = Path(args.state_dir).resolve()
    args.config_dir = Path(args.config_dir).resolve()
    # SIGTERM unwinds like Ctrl-C, so the appliance processes are stopped with us.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        asyncio.run(_async_main(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
