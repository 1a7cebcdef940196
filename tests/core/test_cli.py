"""The hearth command, run as a real subprocess."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEARTH = [sys.executable, "-m", "hub"]
# Variables that would point these commands at another hub or port are not inherited.
ENV = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")} | {
    "PYTHONPATH": str(ROOT)
}


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
    turn_on_kitchen(config=config)
    # The change was recorded (restoring it is the next test's business).
    conn = sqlite3.connect(config / "history.db")
    try:
        state, attributes = conn.execute(
            "SELECT state, attributes FROM states WHERE entity_id = 'light.kitchen_light'"
            " ORDER BY id DESC LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    assert (state, json.loads(attributes)["brightness"]) == ("on", 77)


def test_a_called_change_is_restored_by_the_next_command(tmp_path: Path) -> None:
    config = demo_config(tmp_path / "home")
    turn_on_kitchen(config=config)
    out = hearth("states", "--domain", "light", "--json", config=config)
    kitchen = next(json.loads(x) for x in out.stdout.splitlines() if "kitchen" in x)
    assert (kitchen["state"], kitchen["attributes"].get("brightness")) == ("on", 77)


def turn_on_kitchen(*remote: str, config: Path) -> None:
    """`hearth call light.turn_on` at brightness 77; checks it reports exactly that change."""
    out = hearth(
        "call",
        "light.turn_on",
        *remote,
        "--target",
        "light.kitchen_light",
        "--data",
        "brightness=77",
        config=config,
    )
    assert out.returncode == 0, out.stderr
    changed = {s["entity_id"]: s for s in json.loads(out.stdout)["changed_states"]}
    assert set(changed) == {"light.kitchen_light"}
    assert changed["light.kitchen_light"]["state"] == "on"
    assert changed["light.kitchen_light"]["attributes"]["brightness"] == 77


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


# URL of a served hub -> its configuration folder.
_SERVED: dict[str, Path] = {}


@pytest.fixture
def running_hub(tmp_path: Path) -> Iterator[str]:
    """`hearth run` on the demo home with the API on a free local port; yields its URL."""
    home = tmp_path / "served"
    home.mkdir()
    (home / "configuration.yaml").write_text(
        "name: Served home\ndemo:\n  delay: 0\nweb:\n  host: 127.0.0.1\n  mdns: false\n"
    )
    proc = subprocess.Popen(
        [*HEARTH, "--config", str(home), "run"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**ENV, "HEARTH_WEB_PORT": "0"},
    )
    try:
        assert proc.stderr is not None
        lines: list[str] = []
        while not any("Hearth ready" in line for line in lines):
            line = proc.stderr.readline()
            assert line, "hub exited before it was ready:\n" + "".join(lines)
            lines.append(line)
        found = re.search(r"dashboard (http://127\.0\.0\.1:\d+)", lines[-1])
        assert found, lines[-1]
        _SERVED[found.group(1)] = home
        yield found.group(1)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()


def post(url: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[Any, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        return json.loads(resp.read()), resp.headers


def owner_token(url: str) -> str:
    """What a user does: create the owner on first visit, then a long-lived token for the CLI."""
    # The setup code the hub printed (and wrote, 0600, next to its configuration).
    code = (_SERVED[url] / "onboarding_code").read_text().strip()
    answer, headers = post(
        f"{url}/api/onboarding",
        {"username": "owner", "password": "correct horse battery", "code": code},
        {},
    )
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    created, _ = post(
        f"{url}/api/tokens",
        {"name": "command line"},
        {"Cookie": cookie, "X-CSRF-Token": answer["csrf_token"]},
    )
    return str(created["token"])


def test_states_and_call_against_a_running_hub(running_hub: str, tmp_path: Path) -> None:
    url = running_hub
    remote = ["--url", url, "--token", owner_token(url)]
    unused = tmp_path / "unused"  # --url never opens a config dir
    out = hearth("states", *remote, "--domain", "light", config=unused)
    assert out.returncode == 0, out.stderr
    rows = {line.split()[0]: line.split()[1] for line in out.stdout.splitlines()}
    assert rows == {
        "light.bedroom_light": "off",
        "light.kitchen_light": "off",
        "light.living_room_lamp": "off",
    }
    turn_on_kitchen(*remote, config=unused)
    out = hearth("states", *remote, "--domain", "light", "--json", config=unused)
    kitchen = next(json.loads(x) for x in out.stdout.splitlines() if "kitchen" in x)
    assert (kitchen["state"], kitchen["attributes"]["brightness"]) == ("on", 77)
    # The caller was recorded as the token's owner.
    assert kitchen["context"]["user_id"] is not None
    assert not unused.exists()


def test_running_hub_errors_are_clear(running_hub: str) -> None:
    cases = [
        (["states", "--url", running_hub, "--token", "not-a-token"], "hub answered 401"),
        (["states", "--url", running_hub], "needs an access token"),
        (["states", "--url", f"http://127.0.0.1:{free_port()}", "--token", "x"], "cannot reach"),
        (
            ["call", "light.explode", "--url", running_hub, "--token", owner_token(running_hub)],
            "unknown service light.explode",
        ),
    ]
    for args, message in cases:
        out = subprocess.run([*HEARTH, *args], capture_output=True, text=True, timeout=60, env=ENV)
        assert out.returncode == 1, (args, out.stdout)
        assert message in out.stderr, (args, out.stderr)
        assert "Traceback" not in out.stderr
