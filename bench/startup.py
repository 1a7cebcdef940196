"""Start-up time and idle memory of `hearth run` on a fresh config directory.

Workload: for each home (the demo home alone; the default home `make run` creates, with the
dashboard, voice, rules, the built-in MQTT broker and mDNS), start `hearth run` on an empty
config directory `--runs` times, time spawn → the `ready` log line, wait `--idle` seconds and
read the resident memory of the hub and of its child processes (the built-in broker).
With `--vs-home-assistant PYTHON` it does the same for Home Assistant with a minimal
configuration (spawn → "Home Assistant initialized") and prints the ratios. Run with
`--skip-pip`, an install missing optional packages sets up fewer integrations, which flatters
Home Assistant's figures.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HEARTH = [sys.executable, "-m", "hub"]
DEMO_ONLY = "name: Bench\nrecorder:\n  keep_days: 10\ndemo:\n"
# Home Assistant logs its "initialized" line at INFO; its default level is WARNING.
HA_CONFIG = (
    "homeassistant:\n  name: Bench\n"
    "logger:\n  default: warning\n  logs:\n    homeassistant.bootstrap: info\n"
)


@dataclass(frozen=True)
class Run:
    """One start: seconds to ready, and idle RSS (MB) of the process and its children."""

    ready: float
    rss: float
    children: float


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds idle before reading RSS")
    parser.add_argument("--vs-home-assistant", metavar="PYTHON", help="a Home Assistant install")
    args = parser.parse_args()

    homes = {"demo home only": DEMO_ONLY, "default home (make run)": None}
    results = {
        name: [_hearth(config, args.idle) for _ in range(args.runs)]
        for name, config in homes.items()
    }
    for name, runs in results.items():
        _print(f"hearth, {name}", runs)
    if args.vs_home_assistant:
        ha = [_home_assistant(args.vs_home_assistant, args.idle) for _ in range(args.runs)]
        _print("home assistant, minimal config", ha)
        ha_ready = statistics.median(r.ready for r in ha)
        ha_rss = statistics.median(r.rss for r in ha)
        for name, runs in results.items():
            ready = statistics.median(r.ready for r in runs)
            total = statistics.median(r.rss + r.children for r in runs)
            speed = (
                f"{ha_ready / ready:.1f}x faster"
                if ready <= ha_ready
                else f"{ready / ha_ready:.1f}x slower"
            )
            print(
                f"{name}: start {speed} than Home Assistant, "
                f"memory (with children) {total / ha_rss:.2f}x of Home Assistant's"
            )


def _hearth(config: str | None, idle: float) -> Run:
    with tempfile.TemporaryDirectory() as tmp:
        config_dir = Path(tmp) / "home"
        if config is not None:
            config_dir.mkdir()
            (config_dir / "configuration.yaml").write_text(config, encoding="utf-8")
        env = {**os.environ, "HEARTH_WEB_PORT": "0"}
        return _measure([*HEARTH, "--config", str(config_dir), "run"], "ready", idle, env)


def _home_assistant(python: str, idle: float) -> Run:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "configuration.yaml").write_text(HA_CONFIG, encoding="utf-8")
        cmd = [python, "-m", "homeassistant", "--config", tmp, "--skip-pip"]
        return _measure(cmd, "Home Assistant initialized", idle, dict(os.environ))


def _measure(cmd: list[str], marker: str, idle: float, env: dict[str, str]) -> Run:
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    assert proc.stdout is not None
    ready = None
    for line in proc.stdout:
        if marker in line:
            ready = time.perf_counter() - started
            break
    if ready is None:
        raise SystemExit(f"{cmd[0]} exited ({proc.wait()}) before logging {marker!r}")
    time.sleep(idle)
    children = sum(_rss(pid) for pid in _children(proc.pid))
    rss = _rss(proc.pid)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
    return Run(ready, rss, children)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _rss(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


def _print(name: str, runs: list[Run]) -> None:
    ready = sorted(r.ready for r in runs)
    print(
        f"{name:40s} ready median {statistics.median(ready):.2f} s (min {ready[0]:.2f}, "
        f"max {ready[-1]:.2f}); idle RSS {statistics.median(r.rss for r in runs):.1f} MB"
        + (
            f" + children {statistics.median(r.children for r in runs):.1f} MB"
            if any(r.children for r in runs)
            else ""
        )
    )


if __name__ == "__main__":
    main()
