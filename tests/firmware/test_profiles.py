"""The appliance models in-process: time moves only when the test says so."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hearthapp import discovery  # type: ignore[import-not-found]
from hearthapp.cleaner import Cleaner  # type: ignore[import-not-found]
from hearthapp.fridge import Fridge  # type: ignore[import-not-found]


class Inputs:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def read(self, name: str) -> Any:
        return self.values.get(name)


def run(model: Any, start_s: float, seconds: float, step: float = 1.0) -> float:
    t = start_s
    while t < start_s + seconds:
        t += step
        model.tick(int(t * 1000))
    return t


def test_cleaner_cycle_moving_cleaning_returning_docked() -> None:
    robot = Cleaner({}, 0, Inputs().read)
    robot.command("send_command", json.dumps({"command": "clean_room", "room": "kitchen"}))
    seen = [robot.status]
    t = 0.0
    for _ in range(200):
        t = run(robot, t, 1)
        # What the "clean room" select reports must always be one of its options.
        assert robot.state()["target_room"] == "kitchen"
        if robot.status != seen[-1]:
            seen.append(robot.status)
    assert seen == ["moving", "cleaning", "returning", "docked"]
    assert robot.state()["state"] == "docked"
    assert robot.battery == 100.0  # recharged on the dock


@pytest.mark.parametrize(
    "payload",
    [
        {"command": "clean_area", "area": "Living room"},  # what the hub's MQTT vacuum sends
        {"command": "clean_room", "room": "living-room"},
        {"command": "clean_room", "rooms": ["living_room"]},
    ],
)
def test_cleaner_room_commands(payload: dict[str, Any]) -> None:
    robot = Cleaner({}, 0, Inputs().read)
    robot.command("send_command", json.dumps(payload))
    assert robot.status == "moving" and robot.room == "living_room"


def test_cleaner_pause_resume_stop_and_low_battery() -> None:
    robot = Cleaner({}, 0, Inputs().read)
    robot.command("command", "start")
    assert robot.state()["state"] == "cleaning" and robot.status == "moving"
    t = run(robot, 0, 15)
    assert robot.status == "cleaning"
    robot.command("command", "pause")
    remaining = robot.remaining
    t = run(robot, t, 30)
    assert robot.status == "paused" and robot.remaining == remaining
    robot.command("command", "start")
    assert robot.status == "cleaning"
    robot.battery = 16.0
    t = run(robot, t, 10)
    assert robot.status in ("returning", "docked") and robot.error == "low battery"
    run(robot, t, 30)
    assert robot.status == "docked"
    with pytest.raises(ValueError):
        robot.command("target_room", "garage")
    robot.command("command", "start")
    robot.command("command", "stop")
    assert robot.status == "idle" and robot.queue == []


@pytest.mark.parametrize(
    ("key", "payload"),
    [
        ("command", "fly"),
        ("send_command", '{"command": "clean_room", "room": "attic"}'),
        ("send_command", "[1, 2]"),
        ("fan_speed", "ludicrous"),
        ("warp", "1"),
    ],
)
def test_cleaner_bad_commands_raise_value_error(key: str, payload: str) -> None:
    robot = Cleaner({}, 0, Inputs().read)
    before = robot.state()
    with pytest.raises(ValueError):
        robot.command(key, payload)
    assert robot.state() == before


def test_fridge_modes_door_alert_and_inventory() -> None:
    inputs = Inputs()
    fridge = Fridge({}, 0, inputs.read)
    t = run(fridge, 0, 600)
    assert abs(fridge.fridge_temperature - 4.0) < 1.0  # the thermostat holds the set-point
    assert abs(fridge.freezer_temperature + 18.0) < 1.0
    fridge.command("mode", "eco")
    assert fridge.state()["fridge_target"] == 5.0 and fridge.state()["freezer_target"] == -16.0
    fridge.command("mode", "fast_freeze")
    assert fridge.state()["freezer_target"] == -30.0
    t = run(fridge, t, 1200, step=5)
    assert fridge.freezer_temperature < -25.0
    t = run(fridge, t, 2 * 3600, step=60)
    assert fridge.mode == "normal"  # fast-freeze ends by itself

    inputs.values["door"] = True
    t = run(fridge, t, 60)
    assert fridge.state()["door"] == "open" and "door_open" not in fridge.alerts
    t = run(fridge, t, 90)
    assert "door_open" in fridge.alerts and fridge.state()["alert"] == "ON"
    inputs.values["door"] = False
    run(fridge, t, 600)
    assert fridge.alerts == []

    fridge.command("inventory", '{"add": "milk"}')
    fridge.command("inventory", '{"add": "milk"}')
    fridge.command("inventory", '{"add": "eggs"}')
    fridge.command("inventory", '{"remove": "milk"}')
    assert fridge.state()["inventory"] == {"milk": 1, "eggs": 1}
    assert fridge.state()["inventory_count"] == 2
    restored = Fridge(fridge.settings(), 0, inputs.read)
    assert restored.state()["inventory"] == {"milk": 1, "eggs": 1}


@pytest.mark.parametrize(
    ("key", "payload"),
    [
        ("fridge_setpoint", "12"),
        ("fridge_setpoint", "nan"),
        ("freezer_setpoint", "cold"),
        ("mode", "party"),
        ("inventory", "milk"),
        ("inventory", '{"add": ""}'),
        ("inventory", '{"add": 5}'),
    ],
)
def test_fridge_bad_commands_raise_value_error(key: str, payload: str) -> None:
    fridge = Fridge({}, 0, Inputs().read)
    before = fridge.state()
    with pytest.raises(ValueError):
        fridge.command(key, payload)
    assert fridge.state() == before


def test_discovery_configs_are_complete() -> None:
    for profile in (Fridge({}, 0, Inputs().read), Cleaner({}, 0, Inputs().read)):
        configs = discovery.configs("dev1", profile, "1.0.0")
        assert len(configs) == len(profile.entities())
        unique = set()
        for topic, payload in configs:
            parts = topic.split("/")
            assert parts[0] == "homeassistant" and parts[2] == "dev1" and parts[-1] == "config"
            config = json.loads(payload)
            assert config["~"] == "hearth/dev1" and config["avty_t"] == "~/availability"
            assert config["dev"]["ids"] == ["dev1"] and config["dev"]["sw"] == "1.0.0"
            unique.add(config["uniq_id"])
            for key in ("stat_t", "cmd_t"):
                if key in config:
                    assert config[key].startswith("~/")
        assert len(unique) == len(configs)
