"""Two real satellites in two rooms: each acts in its own room, a shared wake word answers once,
announcements reach one room or all."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from hub.core import Hub
from tests.waiting import wait_until

from .conftest import DEMO, FAST_LINK, SatelliteFactory, session_of
from .rig import SatelliteProcess


def _is_on(hub: Hub, entity_id: str) -> bool:
    state = hub.states.get(entity_id)
    return state is not None and state.state == "on"


async def _two_rooms(
    hub_factory: Callable[..., object], satellite: SatelliteFactory
) -> tuple[Hub, SatelliteProcess, SatelliteProcess]:
    kitchen = await satellite("kitchen", "Kitchen", zeroconf=False)
    bedroom = await satellite("bedroom", "Bedroom", zeroconf=False)
    hub: Hub = await hub_factory(  # type: ignore[misc]
        demo=DEMO,
        voice={},
        satellites={"discovery": False, "hosts": [kitchen.endpoint, bedroom.endpoint], **FAST_LINK},
    )
    for sat in (kitchen, bedroom):
        await wait_until(lambda s=sat: session_of(hub, s), 60, f"{sat.name} attached")
    return hub, kitchen, bedroom


async def test_each_satellite_acts_in_its_own_room_and_answers_itself(
    hub_factory: Callable[..., object],
    satellite: SatelliteFactory,
    clip: Callable[[str], Path],
) -> None:
    hub, kitchen, bedroom = await _two_rooms(hub_factory, satellite)
    command = clip("okay nabu, turn on the light")

    bedroom.say(command)
    await wait_until(lambda: _is_on(hub, "light.bedroom_light"), 60, "bedroom light on")
    await wait_until(bedroom.played, 60, "reply on the bedroom satellite")
    assert not _is_on(hub, "light.kitchen_light")

    kitchen.say(command)
    await wait_until(lambda: _is_on(hub, "light.kitchen_light"), 60, "kitchen light on")
    await wait_until(kitchen.played, 60, "reply on the kitchen satellite")
    assert len(bedroom.played()) == 1  # the kitchen's answer went to the kitchen only

    # Announcements: one room, then everyone.
    result = await hub.services.async_call(
        "voice", "announce", {"text": "dinner is ready", "area": "Bedroom"}
    )
    assert result["played"] == ["bedroom"]
    assert len(bedroom.played()) == 2 and len(kitchen.played()) == 1
    result = await hub.services.async_call("voice", "announce", {"text": "time to go"})
    assert sorted(result["played"]) == ["bedroom", "kitchen"]
    assert len(bedroom.played()) == 3 and len(kitchen.played()) == 2


async def test_wake_word_heard_by_both_answers_once_from_the_louder(
    hub_factory: Callable[..., object],
    satellite: SatelliteFactory,
    quiet_command: tuple[Path, Path],
) -> None:
    hub, kitchen, bedroom = await _two_rooms(hub_factory, satellite)
    loud, quiet = quiet_command
    outvoted: list[str] = []
    hub.bus.async_listen("satellite_outvoted", lambda e: outvoted.append(e.data["satellite"]))

    kitchen.say(loud)
    bedroom.say(quiet)
    await wait_until(lambda: _is_on(hub, "light.kitchen_light"), 60, "kitchen light on")
    await wait_until(kitchen.played, 60, "reply from the kitchen")
    await wait_until(lambda: outvoted, 60, "the bedroom satellite stood down")
    bedroom_session = session_of(hub, bedroom)
    assert bedroom_session is not None and outvoted == [bedroom_session.key]
    assert not _is_on(hub, "light.bedroom_light")
    assert bedroom.played() == []


@pytest.fixture
def quiet_command(clip: Callable[[str], Path], tmp_path: Path) -> tuple[Path, Path]:
    """The same command loud (near) and at 40% (across the house)."""
    loud = clip("okay nabu, turn on the light")
    quiet = tmp_path / "quiet.wav"
    subprocess.run(["sox", str(loud), str(quiet), "vol", "0.4"], check=True)
    return loud, quiet


async def test_announce_needs_a_connected_target(
    hub_factory: Callable[..., object], satellite: SatelliteFactory
) -> None:
    from hub.errors import DeviceUnavailable, InvalidServiceData

    hub: Hub = await hub_factory(  # type: ignore[misc]
        demo=DEMO, voice={}, satellites={"discovery": False}
    )
    with pytest.raises(DeviceUnavailable):
        await hub.services.async_call("voice", "announce", {"text": "hello", "area": "Kitchen"})
    with pytest.raises(InvalidServiceData):
        await hub.services.async_call("voice", "announce", {"text": "a", "wav": "b"})
