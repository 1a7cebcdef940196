"""What PyPI's wyoming-satellite 1.0.0 cannot show, against a peer speaking the newer protocol:
local wake word with reply audio at the rate asked for and `played`, timers, ping/pong, pause."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from hub.core import Hub
from tests.waiting import wait_until
from voice.audio import read_wav, silence
from voice.satellite.entities import IDENTIFIER_DOMAIN
from voice.satellite.manager import SatelliteManager

from .conftest import DEMO
from .peer import PeerSatellite


@pytest.fixture
async def peer() -> AsyncIterator[PeerSatellite]:
    satellite = PeerSatellite("office", "Kitchen")
    await satellite.async_start()
    yield satellite
    await satellite.async_stop()


async def _hub(hub_factory: Callable[..., object], peer: PeerSatellite) -> Hub:
    hub: Hub = await hub_factory(  # type: ignore[misc]
        demo=DEMO,
        voice={},
        satellites={
            "discovery": False,
            "hosts": [f"127.0.0.1:{peer.port}"],
            "reconnect_max": 1.0,
            "ping_interval": 0.2,
        },
    )
    await wait_until(lambda: "run-satellite" in peer.types(), 30, "run-satellite")
    return hub


async def test_local_wake_reply_at_the_asked_rate_played_and_timer_events(
    hub_factory: Callable[..., object], peer: PeerSatellite, clip: Callable[[str], Path]
) -> None:
    hub = await _hub(hub_factory, peer)
    pcm = read_wav(clip("set a timer for five seconds")).pcm
    await peer.async_speak(silence(0.3) + pcm + silence(1.0), snd_rate=22050)

    await wait_until(lambda: peer.of("audio-stop"), 60, "the spoken reply")
    types = peer.types()
    order = [types.index(t) for t in ("transcript", "synthesize", "audio-start", "audio-stop")]
    assert order == sorted(order)
    assert peer.of("transcript")[0].data["text"] == "set a timer for five seconds"
    assert peer.of("audio-start")[0].data["rate"] == 22050
    assert {e.data["rate"] for e in peer.of("audio-chunk")} == {22050}
    started = await wait_until(lambda: peer.of("timer-started"), 10, "timer-started")
    assert started[0].data["total_seconds"] == 5
    finished = await wait_until(lambda: peer.of("timer-finished"), 30, "timer-finished")
    assert finished[0].data["id"] == started[0].data["id"]
    state = hub.states.get("sensor.office_last_heard")
    assert state is not None and state.attributes.get("heard") == "command"


async def test_pings_answered_keep_the_link_a_silent_satellite_is_dropped(
    hub_factory: Callable[..., object], peer: PeerSatellite
) -> None:
    hub = await _hub(hub_factory, peer)
    manager: SatelliteManager = hub.data["satellites"]
    link = next(iter(manager.links.values()))
    await wait_until(lambda: link.pong_supported, 10, "pongs")
    assert peer.connections == 1
    peer.answer_pings = False  # it hangs: TCP alone would not tell
    await wait_until(lambda: peer.connections >= 2, 30, "the hub hung up and dialled again")


async def test_mute_sends_pause_satellite_and_unmute_run_satellite(
    hub_factory: Callable[..., object], peer: PeerSatellite
) -> None:
    hub = await _hub(hub_factory, peer)
    await wait_until(lambda: hub.states.get("switch.office_mute"), 10, "the mute switch")
    await hub.services.async_call("switch", "turn_on", target={"entity_id": "switch.office_mute"})
    await wait_until(lambda: "pause-satellite" in peer.types(), 10, "pause-satellite")
    await hub.services.async_call("switch", "turn_off", target={"entity_id": "switch.office_mute"})
    await wait_until(lambda: len(peer.of("run-satellite")) == 2, 10, "run-satellite again")


async def test_a_wyoming_service_is_not_taken_for_a_satellite(
    hub_factory: Callable[..., object],
) -> None:
    service = PeerSatellite("whisper", None, satellite=False)
    await service.async_start()
    try:
        hub: Hub = await hub_factory(  # type: ignore[misc]
            demo=DEMO,
            voice={},
            satellites={"discovery": False, "hosts": [f"127.0.0.1:{service.port}"]},
        )
        manager: SatelliteManager = hub.data["satellites"]
        link = next(iter(manager.links.values()))
        await wait_until(lambda: link.not_a_satellite, 10, "described as a service")
        key = f"127.0.0.1:{service.port}"
        assert hub.registry.devices.find_by_identifier((IDENTIFIER_DOMAIN, key)) is None
        assert "run-satellite" not in service.types()
    finally:
        await service.async_stop()


async def test_rules_announce_and_speak_on_a_satellite(
    hub_factory: Callable[..., object], peer: PeerSatellite, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "rules.yaml").write_text(
        "- id: dinner\n"
        "  triggers: [{platform: event, event_type: dinner_ready}]\n"
        "  actions:\n"
        "    - service: voice.announce\n"
        "      data: {text: dinner is ready, area: kitchen}\n"
        "    - speak: {text: wash your hands, satellite: office}\n",
        encoding="utf-8",
    )
    hub: Hub = await hub_factory(  # type: ignore[misc]
        config_dir=home,
        demo=DEMO,
        voice={},
        rules={},
        satellites={"discovery": False, "hosts": [f"127.0.0.1:{peer.port}"]},
    )
    await wait_until(lambda: "run-satellite" in peer.types(), 30, "run-satellite")
    hub.bus.async_fire("dinner_ready", {})
    await wait_until(lambda: len(peer.of("audio-stop")) == 2, 60, "both played on the satellite")
    assert [e.data["text"] for e in peer.of("synthesize")] == ["dinner is ready"]
