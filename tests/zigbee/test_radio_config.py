"""No silent simulator: the simulated stick runs only when named; bad device paths are named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hub.errors import ConfigError
from integrations.zigbee.radio import RadioConfig, RadioDeviceMissing, check_device_path
from tests.conftest import HubFactory


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"device": "/dev/ttyUSB0"}, ["name the radio", "/dev/ttyUSB0", "radio: sim"]),
        ({}, ["name the radio"]),
        ({"device": "sim://x"}, ["name the radio"]),
        ({"radio": "sim", "device": "/dev/ttyUSB0"}, ["/dev/ttyUSB0", "not sim://"]),
        ({"radio": "znp", "device": "sim://x"}, ["simulated", "radio: sim"]),
        ({"radio": "ezsp"}, ["needs device"]),
    ],
)
def test_radio_must_be_named(config: dict[str, str], words: list[str]) -> None:
    with pytest.raises(ValueError) as caught:
        RadioConfig.from_dict(config)
    for word in words:
        assert word in str(caught.value)


def test_sim_only_when_named() -> None:
    assert RadioConfig.from_dict({"radio": "sim"}).device == "sim://hearth"
    assert RadioConfig.from_dict({"radio": "znp", "device": "/dev/ttyACM0"}).radio == "znp"


def test_device_path_checks(tmp_path: Path) -> None:
    missing = tmp_path / "ttyUSB7"
    with pytest.raises(RadioDeviceMissing, match=f"{missing} does not exist"):
        check_device_path(RadioConfig("znp", str(missing)))
    regular = tmp_path / "notatty"
    regular.write_text("")
    with pytest.raises(RadioDeviceMissing, match=f"{regular} is not a serial device"):
        check_device_path(RadioConfig("ezsp", str(regular)))
    with pytest.raises(RadioDeviceMissing, match="is not a serial device"):
        check_device_path(RadioConfig("znp", str(tmp_path)))
    # A character device passes the check (whether it speaks Zigbee is zigpy's to find out),
    # and so do network-attached coordinators and the simulated stick.
    assert os.path.exists("/dev/null")
    check_device_path(RadioConfig("znp", "/dev/null"))
    check_device_path(RadioConfig("znp", "socket://192.0.2.1:6638"))
    check_device_path(RadioConfig("sim", "sim://x"))


async def test_hub_refuses_a_stick_without_radio(hub_factory: HubFactory) -> None:
    with pytest.raises(ConfigError, match="/dev/ttyUSB0"):
        await hub_factory(zigbee={"device": "/dev/ttyUSB0"})


async def test_hub_names_a_missing_stick(hub_factory: HubFactory, tmp_path: Path) -> None:
    stick = tmp_path / "ttyUSB9"
    hub = await hub_factory(zigbee={"radio": "znp", "device": str(stick)})
    assert "zigbee" not in hub.integrations
    assert f"{stick} does not exist" in hub.failed_integrations["zigbee"]
