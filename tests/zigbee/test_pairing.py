"""Pairing from config alone: sim_devices, the hub's PairingManager, and `hearth pair zigbee`."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from zigpy.zcl.clusters.general import OnOff

from hub.const import EVENT_PAIRING_PROGRESS
from hub.errors import ConfigError
from integrations.zigbee.sim.profiles import make_ieee

from .conftest import HomeFactory, wait_for

REPO = Path(__file__).resolve().parents[2]
HEARTH = Path(sys.executable).with_name("hearth")
_n = itertools.count()


async def _session(home: Any, duration: float) -> list[dict[str, Any]]:
    """Run a PairingManager session on zigbee; return the bus events it produced."""
    events: list[dict[str, Any]] = []
    home.hub.bus.async_listen(EVENT_PAIRING_PROGRESS, lambda e: events.append(dict(e.data)))
    session = home.hub.pairing.async_start(["zigbee"], duration=duration)
    await asyncio.wait_for(session.done.wait(), duration + 60)
    return [e for e in events if e.get("session_id") == session.id]


async def test_pairing_manager_pairs_config_devices_one_per_opening(
    make_home: HomeFactory,
) -> None:
    home = await make_home(sim_devices=["color_bulb", "door_contact"], sim_join_delay=0.1)
    assert home.hub.pairing.protocols() == {"zigbee": "zigbee"}
    assert [d.kind for d in home.stick.waiting] == ["colour_bulb", "door_contact"]

    events = await _session(home, duration=2)
    stages = [e["stage"] for e in events]
    assert stages[0] == "searching"
    assert stages[-1] == "done" and events[-1].get("finished")
    # Exactly one device joined in this window, the first one listed.
    steps = [e for e in events if e["stage"] in ("joined", "interviewing", "configured", "ready")]
    assert [e["stage"] for e in steps] == ["joined", "interviewing", "configured", "ready"]
    bulb_ieee = make_ieee("colour_bulb", 0)
    device_id = home.device_id(home.air.devices[bulb_ieee])
    # The dashboard keys its cards on device_id: the same one on every step of the device.
    assert {e["device_id"] for e in steps} == {device_id}
    ready = steps[-1]
    assert ready["suggested_name"].startswith("SIM-RGBW") and ready["entity_ids"]
    assert [d.kind for d in home.stick.waiting] == ["door_contact"]

    # The next opening brings the next device; the paired light works.
    events = await _session(home, duration=2)
    assert [e["stage"] for e in events].count("ready") == 1
    assert not home.stick.waiting
    light = next(eid for eid in ready["entity_ids"] if eid.startswith("light."))
    await home.call("light", "turn_on", light)
    await home.until_state(light, "on")
    assert home.air.devices[bulb_ieee].get(OnOff.cluster_id, "on_off")


async def test_sim_join_all_and_known_devices_come_back_after_restart(
    make_home: HomeFactory, tmp_path: Path
) -> None:
    config_dir = tmp_path / "restart"
    kinds = ["plug", "motion", "plug"]
    first = await make_home(config_dir=config_dir, sim_devices=kinds, sim_join="all")
    events = await _session(first, duration=1)
    assert [e["stage"] for e in events].count("ready") == 3
    ids = {eid for e in events if e["stage"] == "ready" for eid in e["entity_ids"]}
    await first.hub.async_stop()

    # A new process: an empty air and a blank stick, only the config dir survives.
    second = await make_home(config_dir=config_dir, sim_devices=kinds, sim_join="all")
    assert not second.stick.waiting  # all three were paired before
    gateway = second.zigbee.gateway
    assert {e.entity_id for es in gateway.entities.values() for e in es} == ids
    switch = next(eid for eid in ids if eid.startswith("switch."))
    await second.call("switch", "turn_on", switch)
    await second.until_state(switch, "on")


async def test_bad_sim_devices_config_is_a_config_error(make_home: HomeFactory) -> None:
    with pytest.raises(ConfigError, match="toaster"):
        await make_home(sim_devices=["color_bulb", "toaster"])


async def test_pairing_fails_cleanly_while_the_radio_is_gone(make_home: HomeFactory) -> None:
    home = await make_home(sim_devices=["color_bulb"])
    home.stick.unplug()
    await wait_for(lambda: not home.zigbee.gateway.connected.is_set())
    events = await _session(home, duration=1)
    assert events[0]["stage"] == "failed" and "not connected" in events[0]["message"]
    assert home.stick.waiting  # nobody joined
    home.stick.plug()


def _run_cli(config_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [str(HEARTH), "--config", str(config_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=REPO,
    )


def test_hearth_pair_zigbee_cli(tmp_path: Path) -> None:
    config_dir = tmp_path / "cli"
    config_dir.mkdir()
    (config_dir / "configuration.yaml").write_text(
        "name: CLI home\n"
        "zigbee:\n"
        "  radio: sim\n"
        f"  device: sim://cli-{next(_n)}\n"
        "  sim_devices: [color_bulb]\n"
        "  sim_join_delay: 0.1\n"
        f"  ota_dir: {tmp_path / 'ota'}\n"
    )
    (tmp_path / "ota").mkdir()
    run = _run_cli(config_dir, "pair", "zigbee", "--duration", "2")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == [
        "searching",
        "joined",
        "interviewing",
        "configured",
        "ready",
        "done",
    ]
    assert "SIM-RGBW" in run.stdout and lines[-1] == "1 device(s) paired"
    # A second run (a new process, the stick blank again): the bulb is already paired.
    again = _run_cli(config_dir, "pair", "zigbee", "--duration", "1")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1] == "0 device(s) paired"
    # The CLI refuses what it cannot do, with a message rather than a traceback.
    bad = _run_cli(config_dir, "pair", "bluetooth")
    assert bad.returncode != 0 and "invalid choice" in bad.stderr


async def test_a_new_hub_on_a_used_stick_pairs_the_config_devices_again(
    make_home: HomeFactory, tmp_path: Path
) -> None:
    """Like the dashboard's browser tests: several hubs in one process, one default stick."""
    path = f"sim://shared-{next(_n)}"
    first = await make_home(config_dir=tmp_path / "a", path=path, sim_devices=["plug"])
    events = await _session(first, duration=1)
    assert [e["stage"] for e in events].count("ready") == 1
    air = first.air
    await first.hub.async_stop()
    second = await make_home(config_dir=tmp_path / "b", path=path, air=air, sim_devices=["plug"])
    assert [d.kind for d in second.stick.waiting] == ["metering_plug"]
    events = await _session(second, duration=1)
    assert [e["stage"] for e in events].count("ready") == 1
