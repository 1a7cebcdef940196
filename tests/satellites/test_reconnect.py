"""The link comes back: after a hub restart, after a satellite restart; a muted satellite is
not listened to."""

from __future__ import annotations

import asyncio
import wave
from collections.abc import Callable
from pathlib import Path

from hub.core import Hub
from tests.waiting import wait_until
from voice.satellite.entities import IDENTIFIER_DOMAIN

from .conftest import DEMO, FAST_LINK, SatelliteFactory, session_of


def _state(hub: Hub, entity_id: str) -> str | None:
    state = hub.states.get(entity_id)
    return None if state is None else state.state


async def test_hub_restart_then_satellite_restart_link_comes_back(
    hub_factory: Callable[..., object],
    satellite: SatelliteFactory,
    clip: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    sat = await satellite("kitchen", "Kitchen", zeroconf=False)
    config = {"discovery": False, "hosts": [sat.endpoint], **FAST_LINK}
    home = tmp_path / "home"
    hub: Hub = await hub_factory(config_dir=home, demo=DEMO, voice={}, satellites=config)  # type: ignore[misc]
    first = await wait_until(lambda: session_of(hub, sat), 60, "attached")
    device = await wait_until(
        lambda: hub.registry.devices.find_by_identifier((IDENTIFIER_DOMAIN, first.key)),
        10,
        "the satellite's device",
    )
    await hub.async_stop()

    hub = await hub_factory(config_dir=home, demo=DEMO, voice={}, satellites=config)  # type: ignore[misc]
    await wait_until(lambda: session_of(hub, sat), 60, "attached to the restarted hub")
    again = hub.registry.devices.find_by_identifier((IDENTIFIER_DOMAIN, first.key))
    assert again is not None and again.id == device.id  # the same device, not a new one
    sat.say(clip("okay nabu, turn on the light"))
    await wait_until(
        lambda: _state(hub, "light.kitchen_light") == "on", 60, "command after hub restart"
    )

    await sat.async_stop()
    await wait_until(lambda: _state(hub, "binary_sensor.kitchen_online") == "off", 30, "offline")
    await sat.async_start()
    await wait_until(lambda: session_of(hub, sat), 60, "attached after the satellite restarted")
    await wait_until(lambda: _state(hub, "binary_sensor.kitchen_online") == "on", 10, "online")
    sat.say(clip("okay nabu, turn off the light"))
    await wait_until(
        lambda: _state(hub, "light.kitchen_light") == "off", 60, "command after satellite restart"
    )


async def test_hub_starts_while_the_satellite_is_away(
    hub_factory: Callable[..., object], satellite: SatelliteFactory, satellite_exe: Path
) -> None:
    from .rig import free_port

    port = free_port()
    hub: Hub = await hub_factory(  # type: ignore[misc]
        demo=DEMO,
        voice={},
        satellites={"discovery": False, "hosts": [f"127.0.0.1:{port}"], **FAST_LINK},
    )
    assert hub.state == "running"  # did not wait for the satellite
    sat = await satellite("late", "Hallway", port=port, zeroconf=False)
    session = await wait_until(lambda: session_of(hub, sat), 60, "attached once it came up")
    assert session.name == "late"


async def test_muted_satellite_is_not_heard(
    hub_factory: Callable[..., object],
    satellite: SatelliteFactory,
    clip: Callable[[str], Path],
) -> None:
    sat = await satellite("kitchen", "Kitchen", zeroconf=False)
    hub: Hub = await hub_factory(  # type: ignore[misc]
        demo=DEMO, voice={}, satellites={"discovery": False, "hosts": [sat.endpoint], **FAST_LINK}
    )
    await wait_until(lambda: session_of(hub, sat), 60, "attached")
    await wait_until(lambda: hub.states.get("switch.kitchen_mute"), 10, "the mute switch")
    await hub.services.async_call(
        "switch", "turn_on", {}, target={"entity_id": "switch.kitchen_mute"}
    )

    ignored = clip("okay nabu, turn on the light")
    sat.say(ignored)
    await wait_until(sat.spoken, 30, "the muted satellite's microphone spoke")
    with wave.open(str(ignored), "rb") as wav:
        seconds = wav.getnframes() / wav.getframerate()
    await asyncio.sleep(seconds + 1.0)  # sequencing, not timing: the clip has been spoken
    await hub.services.async_call(
        "switch", "turn_off", {}, target={"entity_id": "switch.kitchen_mute"}
    )

    sat.say(clip("okay nabu, turn on the coffee maker"))
    await wait_until(lambda: _state(hub, "switch.coffee_maker") == "on", 60, "heard once unmuted")
    assert _state(hub, "light.kitchen_light") == "off"  # the muted command never ran
    played = await wait_until(sat.played, 60, "the reply to the unmuted command")
    assert len(played) == 1
