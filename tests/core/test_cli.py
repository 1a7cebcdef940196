"""The hearth command, run as a real subprocess."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEARTH = [sys.executable, "-m", "hub"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def hearth(*args: str, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HEARTH, "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=ENV,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def demo_config(tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "configuration.yaml").write_text("name: CLI home\ndemo:\n  delay: 0\n")
    return tmp_path


def test_version() -> None:
    out = subprocess.run(
        [*HEARTH, "--version"], capture_output=True, text=True, env=ENV, timeout=60
    )
    assert out.returncode == 0 and out.stdout.startswith("hearth ")


def test_states_and_call_against_a_config_dir(tmp_path: Path) -> None:
    config = demo_config(tmp_path / "home")
    out = hearth("states", "--domain", "light", "--json", config=config)
    assert out.returncode == 0, out.stderr
    lights = [json.loads(line) for line in out.stdout.splitlines()]
    assert {s["entity_id"] for s in lights} == {
        "light.kitchen_light",
        "light.living_room_lamp",
        "light.bedroom_light",
    }
    out = hearth(
        "call",
        "light.turn_on",
        "--target",
        "light.kitchen_light",
        "--data",
        "brightness=77",
        config=config,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    changed = {s["entity_id"]: s for s in result["changed_states"]}
    assert changed["light.kitchen_light"]["attributes"]["brightness"] == 77
    # The change was recorded and is restored by the next command.
    out = hearth("states", "--domain", "light", "--json", config=config)
    kitchen = next(json.loads(x) for x in out.stdout.splitlines() if "kitchen" in x)
    assert kitchen["state"] in {"on", "off"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["call", "light.explode", "--target", "light.kitchen_light"],
            "unknown service light.explode",
        ),
        (["call", "light.turn_on", "--target", "light.nowhere"], "unknown entity 'light.nowhere'"),
        (
            [
                "call",
                "light.turn_on",
                "--target",
                "light.kitchen_light",
                "--data",
                "brightness=999",
            ],
            "brightness: must be at most 255",
        ),
        (["call", "nodot"], "expected DOMAIN.SERVICE"),
        (["call", "light.turn_on", "--data", "{oops"], "--data is not valid JSON"),
    ],
)
def test_bad_calls_give_clear_errors(tmp_path: Path, args: list[str], message: str) -> None:
    out = hearth(*args, config=demo_config(tmp_path / "home"))
    assert out.returncode == 1
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_malformed_config_is_reported_with_line(tmp_path: Path) -> None:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "configuration.yaml").write_text("name: x\ndemo:\n  delay: [\n")
    out = hearth("states", config=tmp_path)
    assert out.returncode == 1
    assert "configuration.yaml, line" in out.stderr and "invalid YAML" in out.stderr
    assert "Traceback" not in out.stderr


def test_run_on_a_fresh_machine_logs_ready_and_stops_on_sigterm(tmp_path: Path) -> None:
    config = tmp_path / "fresh"  # does not exist: created with the default demo home
    proc = subprocess.Popen(
        [*HEARTH, "--config", str(config), "run"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**ENV, "HEARTH_WEB_PORT": "0", "HEARTH_MQTT_PORT": str(free_port())},
    )
    lines: list[str] = []
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "Hearth ready" in line:
                break
        assert any("Hearth ready" in line for line in lines), "".join(lines)
        proc.send_signal(signal.SIGTERM)
        rest = proc.communicate(timeout=60)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, rest
    assert "Hearth stopped" in rest
    # Every default integration came up: the ports the variables moved were free.
    assert "failed to set up" not in "".join(lines) + rest
    assert "Traceback" not in "".join(lines) + rest
    assert (config / "configuration.yaml").exists()
