"""Voice runs of ESPHome devices, end to end: the emulated device streams real speech over
the native API through aioesphomeapi; the hub acts and answers with the events and a reply
URL the device fetches."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import numpy as np
import pytest

from hub.core import Hub
from hub.errors import DeviceUnavailable
from tests.waiting import wait_until
from voice.satellite.arbitration import WakeScore
from voice.timers import Timers

from .conftest import DEMO, DeviceFactory, config, hub_device, on

HubFactory = Callable[..., object]


async def _hub(hub_factory: HubFactory, *devices: object, **integrations: object) -> Hub:
    hub: Hub = await hub_factory(  # type: ignore[operator]
        demo=DEMO,
        voice={},
        esphome=config(*devices),
        **integrations,  # type: ignore[arg-type]
    )
    for device in devices:
        await wait_until(
            lambda d=device: hub_device(hub, d) and d.client,  # type: ignore[attr-defined]
            30,
            "device connected and subscribed",
        )
    return hub


async def test_spoken_command_acts_and_the_device_hears_every_stage(
    esphome_device: DeviceFactory,
    hub_factory: HubFactory,
    spoken: Callable[[str], Awaitable[bytes]],
) -> None:
    dev = await esphome_device("kitchen-voice", friendly_name="Kitchen voice", area="Kitchen")
    hub = await _hub(hub_factory, dev)
    pcm = await spoken("turn on the kitchen light")
    run = await dev.speak(pcm)

    assert on(hub, "light.kitchen_light")
    assert run.response.port == 0 and not run.response.error  # audio over the API
    names = run.names()
    assert names == [
        "RUN_START",
        "STT_START",
        "STT_VAD_END",
        "STT_END",
        "INTENT_START",
        "INTENT_END",
        "TTS_START",
        "TTS_END",
        "RUN_END",
    ], names
    stt_end = run.first("STT_END")
    assert stt_end is not None and stt_end.data["text"] == "turn on the kitchen light"
    tts_start = run.first("TTS_START")
    assert tts_start is not None and tts_start.data["text"]
    # The device stopped its microphone when told the speech had ended.
    assert run.sent_bytes < len(pcm)

    tts_end = run.first("TTS_END")
    assert tts_end is not None
    url = tts_end.data["url"]
    reply = await dev.fetch(url)
    assert reply.status == 200 and reply.content_type == "audio/wav"
    assert reply.body[:4] == b"RIFF" and len(reply.body) > 16_000  # a spoken sentence
    token = url.rsplit("/", 1)[1]
    guessed = await dev.fetch(url.replace(token, "x" * len(token)))
    assert guessed.status == 404


async def test_a_roomless_command_acts_in_the_devices_room(
    esphome_device: DeviceFactory,
    hub_factory: HubFactory,
    spoken: Callable[[str], Awaitable[bytes]],
) -> None:
    dev = await esphome_device("bedroom-voice", area="Bedroom")
    hub = await _hub(hub_factory, dev)
    run = await dev.speak(await spoken("turn on the light"))
    assert on(hub, "light.bedroom_light")
    assert not on(hub, "light.kitchen_light") and not on(hub, "light.living_room_lamp")
    assert "INTENT_END" in run.names() and "ERROR" not in run.names()


async def test_speech_that_is_no_command_does_nothing_and_is_refused(
    esphome_device: DeviceFactory,
    hub_factory: HubFactory,
    spoken: Callable[[str], Awaitable[bytes]],
) -> None:
    dev = await esphome_device("kitchen-voice", area="Kitchen")
    hub = await _hub(hub_factory, dev)
    before = {s.entity_id: s.state for s in hub.states.all()}
    run = await dev.speak(await spoken("my grandmother grew tomatoes near the old river"))
    error = run.first("ERROR")
    assert error is not None, run.names()
    assert error.data["code"] in ("stt-no-text-recognized", "intent-not-matched")
    assert error.data["message"]
    assert "INTENT_END" not in run.names() and "TTS_END" not in run.names()
    assert run.names()[-1] == "RUN_END"
    after = {s.entity_id: s.state for s in hub.states.all() if s.entity_id in before}
    changed = {
        e for e, s in after.items() if before[e] != s and e.startswith(("light.", "switch."))
    }
    assert not changed - {"switch.kitchen_voice_mute"}


async def test_a_spoken_timer_is_shown_on_the_device(
    esphome_device: DeviceFactory,
    hub_factory: HubFactory,
    spoken: Callable[[str], Awaitable[bytes]],
) -> None:
    dev = await esphome_device("kitchen-voice", area="Kitchen")
    hub = await _hub(hub_factory, dev)
    run = await dev.speak(await spoken("set a timer for ten minutes"))
    assert "INTENT_END" in run.names(), run.names()
    await dev.wait_for(lambda: bool(dev.timers), 10, "timer started")
    started = dev.timers[0]
    assert started.type.name == "VOICE_ASSISTANT_TIMER_STARTED"
    assert started.total_seconds == 600 and 590 <= started.seconds_left <= 600
    assert started.is_active

    timers: Timers = hub.data["voice"].timers
    (timer,) = timers.find(hub_device(hub, dev).conversation_id)  # type: ignore[union-attr]
    timers.pause(timer)
    timers.cancel(timer)
    await dev.wait_for(lambda: len(dev.timers) >= 3, 10, "timer updated and cancelled")
    updated, cancelled = dev.timers[1], dev.timers[2]
    assert updated.type.name == "VOICE_ASSISTANT_TIMER_UPDATED" and not updated.is_active
    assert cancelled.type.name == "VOICE_ASSISTANT_TIMER_CANCELLED"
    assert {t.timer_id for t in dev.timers} == {started.timer_id}

    short = timers.start(hub_device(hub, dev).conversation_id, 0.2, name="tea")  # type: ignore[union-attr]
    await dev.wait_for(
        lambda: dev.timers[-1].type.name == "VOICE_ASSISTANT_TIMER_FINISHED", 10, "finished"
    )
    assert dev.timers[-1].timer_id.endswith(f"-{short.id}") and dev.timers[-1].name == "tea"


async def test_announce_reaches_the_device_in_the_room(
    esphome_device: DeviceFactory, hub_factory: HubFactory
) -> None:
    dev = await esphome_device("kitchen-voice", friendly_name="Kitchen voice", area="Kitchen")
    other = await esphome_device("bedroom-voice", friendly_name="Bedroom voice", area="Bedroom")
    hub = await _hub(hub_factory, dev, other)
    result = await hub.services.async_call(
        "voice", "announce", {"text": "dinner is ready", "area": "Kitchen"}
    )
    assert result["played"] == ["Kitchen voice"] and not result["failed"]
    assert [a.text for a in dev.announcements] == ["dinner is ready"]
    assert not other.announcements
    assert dev.fetched[0].status == 200 and dev.fetched[0].body[:4] == b"RIFF"

    dev.announce_ok = False  # the device could not play it: the caller hears so
    with pytest.raises(DeviceUnavailable, match="not played"):
        await hub.services.async_call(
            "esphome", "announce", {"text": "hello", "satellite": "kitchen voice"}
        )


async def test_a_muted_device_is_not_listened_to(
    esphome_device: DeviceFactory,
    hub_factory: HubFactory,
    spoken: Callable[[str], Awaitable[bytes]],
) -> None:
    dev = await esphome_device("kitchen-voice", area="Kitchen")
    hub = await _hub(hub_factory, dev)
    await hub.services.async_call(
        "switch", "turn_on", target={"entity_id": "switch.kitchen_voice_mute"}
    )
    run = await dev.speak(await spoken("turn on the kitchen light"))
    assert run.response.error and not run.events
    assert not on(hub, "light.kitchen_light")


async def test_one_wake_word_one_answer_with_wyoming_satellites_and_devices(
    esphome_device: DeviceFactory,
    hub_factory: HubFactory,
    spoken: Callable[[str], Awaitable[bytes]],
) -> None:
    near = await esphome_device("near", area="Kitchen")
    far = await esphome_device("far", area="Kitchen")
    hub = await _hub(hub_factory, near, far, satellites={"discovery": False})
    arbiter = hub.data["satellites"].arbiter
    assert hub.data["esphome"].arbiter is arbiter  # one arbiter for both protocols

    # Two devices hear one command; the nearer (louder) one answers, the other stays quiet.
    pcm = (await spoken("turn on the kitchen light"))[int(0.3 * 32000) :]
    quiet = (np.frombuffer(pcm, dtype=np.int16) * 0.2).astype(np.int16).tobytes()
    loud_run, quiet_run = await asyncio.gather(near.speak(pcm), far.speak(quiet))
    assert on(hub, "light.kitchen_light")
    assert "STT_END" in loud_run.names()
    assert quiet_run.names() == ["RUN_START", "STT_START", "RUN_END"], quiet_run.names()

    # A Wyoming satellite nearer the speaker claims the same wake word: the device yields.
    await asyncio.sleep(arbiter.holdoff + 0.1)
    await hub.services.async_call("light", "turn_off", target={"entity_id": "light.kitchen_light"})
    wyoming = asyncio.ensure_future(arbiter.async_claim("wyoming-kitchen", WakeScore(1e9, 1.0)))
    run = await near.speak(pcm)
    assert await wyoming
    assert run.names() == ["RUN_START", "STT_START", "RUN_END"], run.names()
    assert not on(hub, "light.kitchen_light")


async def test_a_device_streaming_to_the_hubs_wake_word(
    esphome_device: DeviceFactory,
    hub_factory: HubFactory,
    spoken: Callable[[str], Awaitable[bytes]],
) -> None:
    """Firmware without its own wake word asks the hub to listen for it (USE_WAKE_WORD)."""
    dev = await esphome_device("kitchen-voice", area="Kitchen")
    hub = await _hub(hub_factory, dev)
    run = await dev.speak(await spoken("okay nabu, turn on the kitchen light"), use_wake_word=True)
    assert on(hub, "light.kitchen_light")
    names = run.names()
    assert names[:2] == ["RUN_START", "WAKE_WORD_START"], names
    assert names.index("WAKE_WORD_END") < names.index("STT_START") < names.index("STT_END")
    assert names[-1] == "RUN_END"
