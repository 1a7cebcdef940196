"""Room awareness on the text path: a command naming no room acts in the speaker's room."""

from __future__ import annotations

import pytest

from hub.core import Hub
from voice.pipeline import VoicePipeline
from voice.satellite.manager import parse_endpoint
from voice.settings import VoiceSettings


@pytest.fixture
async def pipeline(demo_hub: Hub) -> VoicePipeline:
    voice = VoicePipeline(demo_hub, VoiceSettings(), engines=[])
    await voice.async_start()
    yield voice  # type: ignore[misc]
    await voice.async_stop()


def _on(hub: Hub, entity_id: str) -> bool:
    state = hub.states.get(entity_id)
    return state is not None and state.state == "on"


async def test_roomless_command_acts_in_the_given_area(pipeline: VoicePipeline) -> None:
    hub = pipeline.hub
    result = await pipeline.async_process_text("turn on the light", "en", "s1", area_id="bedroom")
    assert [a.entity_ids for a in result.actions] == [("light.bedroom_light",)]
    assert _on(hub, "light.bedroom_light") and not _on(hub, "light.kitchen_light")


async def test_without_a_room_it_refuses_rather_than_guess(pipeline: VoicePipeline) -> None:
    result = await pipeline.async_process_text("turn on the light", "en", "console")
    assert result.actions == ()
    assert not any(_on(pipeline.hub, e) for e in ("light.bedroom_light", "light.kitchen_light"))


async def test_a_named_device_or_room_wins_over_the_satellite_room(pipeline: VoicePipeline) -> None:
    named = await pipeline.async_process_text(
        "turn on the kitchen light", "en", "s", area_id="bedroom"
    )
    assert [a.entity_ids for a in named.actions] == [("light.kitchen_light",)]
    room = await pipeline.async_process_text(
        "turn off the kitchen lights", "en", "s", area_id="bedroom"
    )
    assert [a.entity_ids for a in room.actions] == [("light.kitchen_light",)]


async def test_nothing_of_the_kind_in_the_room_falls_back_to_the_home(
    pipeline: VoicePipeline,
) -> None:
    # The hallway has no light; with several lights in the home, "the light" is ambiguous.
    result = await pipeline.async_process_text("turn on the light", "en", "s", area_id="hallway")
    assert result.actions == ()


def test_endpoints_parse_with_the_wyoming_default_port() -> None:
    assert parse_endpoint("10.0.0.5").port == 10700
    assert parse_endpoint("sat.local:10800").host == "sat.local"
    for bad in ("", "host:port", "host:70000"):
        with pytest.raises(ValueError):
            parse_endpoint(bad)
