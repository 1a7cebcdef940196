"""The hub against the real wyoming-satellite 1.0.0: found over zeroconf, attached, answered."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hub.core import Hub
from tests.waiting import wait_until
from voice.satellite.entities import IDENTIFIER_DOMAIN

from .conftest import DEMO, FAST_LINK, SatelliteFactory, session_of

BYTES_PER_SECOND = 32000


def _is_on(hub: Hub, entity_id: str) -> bool:
    state = hub.states.get(entity_id)
    return state is not None and state.state == "on"


async def test_discovered_attached_command_changes_home_reply_played(
    hub_factory: Callable[..., object],
    satellite: SatelliteFactory,
    clip: Callable[[str], Path],
) -> None:
    sat = await satellite("kitchen", "Kitchen")
    hub: Hub = await hub_factory(  # type: ignore[misc]
        demo=DEMO, voice={}, satellites={"discovery": True, **FAST_LINK}
    )
    session = await wait_until(lambda: session_of(hub, sat), 60, "satellite found over zeroconf")
    assert session.key == sat.zeroconf_name  # found by its announcement, not configured
    device = await wait_until(
        lambda: hub.registry.devices.find_by_identifier((IDENTIFIER_DOMAIN, session.key)),
        10,
        "the satellite's device",
    )
    assert device.name == "kitchen" and device.area_id == "kitchen"
    await wait_until(lambda: _is_on(hub, "binary_sensor.kitchen_online"), 10, "online")

    sat.say(clip("okay nabu, turn on the light"))
    await wait_until(lambda: _is_on(hub, "light.kitchen_light"), 60, "kitchen light on")
    assert not _is_on(hub, "light.bedroom_light")  # no room said: the satellite's room
    played = await wait_until(sat.played, 60, "reply played by the satellite's speaker")
    assert played[0]["bytes"] > BYTES_PER_SECOND // 2  # over half a second of spoken reply
    last_heard = hub.states.get("sensor.kitchen_last_heard")
    assert last_heard is not None and last_heard.state not in ("unknown", "unavailable")

    # The next command right after the reply: the hub listens again at once.
    sat.say(clip("okay nabu, turn off the light"))
    await wait_until(lambda: not _is_on(hub, "light.kitchen_light"), 60, "kitchen light off")
    await wait_until(lambda: len(sat.played()) == 2, 60, "the second reply")
