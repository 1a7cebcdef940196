"""Text path: follow-ups, confirmations, timers, Chinese, events and grammar rebuilds."""

from __future__ import annotations

import asyncio
from typing import Any

from hub.bus import Event
from voice import events
from voice.pipeline import VoicePipeline


def _state(pipeline: VoicePipeline, entity_id: str) -> str | None:
    state = pipeline.hub.states.get(entity_id)
    return None if state is None else state.state


async def test_follow_up_it_and_another_room(voice_hub: VoicePipeline) -> None:
    await voice_hub.async_process_text("turn on the kitchen light")
    assert _state(voice_hub, "light.kitchen_light") == "on"
    result = await voice_hub.async_process_text("turn it off")
    assert [a.service for a in result.actions] == ["light.turn_off"]
    assert _state(voice_hub, "light.kitchen_light") == "off"
    result = await voice_hub.async_process_text("and the bedroom too")
    assert result.actions[0].entity_ids == ("light.bedroom_light",)
    assert _state(voice_hub, "light.bedroom_light") == "off"
    await voice_hub.async_process_text("turn on the lights in the living room")
    await voice_hub.async_process_text("also the bedroom")
    assert _state(voice_hub, "light.bedroom_light") == "on"


async def test_follow_up_without_context(voice_hub: VoicePipeline) -> None:
    result = await voice_hub.async_process_text("turn it off", conversation_id="new")
    assert result.actions == ()
    assert "don't know" in result.reply


async def test_unlock_asks_and_yes_confirms(voice_hub: VoicePipeline) -> None:
    result = await voice_hub.async_process_text("unlock the front door")
    assert result.actions == () and "really" in result.reply
    assert _state(voice_hub, "lock.front_door_lock") == "locked"
    result = await voice_hub.async_process_text("yes")
    assert [a.service for a in result.actions] == ["lock.unlock"]
    assert _state(voice_hub, "lock.front_door_lock") == "unlocked"


async def test_unlock_no_cancels(voice_hub: VoicePipeline) -> None:
    await voice_hub.async_process_text("unlock the front door")
    result = await voice_hub.async_process_text("no")
    assert result.reply == "Cancelled."
    result = await voice_hub.async_process_text("yes")
    assert result.actions == () and result.reply == "There is nothing to confirm."
    assert _state(voice_hub, "lock.front_door_lock") == "locked"


async def test_confirmation_times_out_to_cancelled(voice_hub: VoicePipeline) -> None:
    cancelled = asyncio.ensure_future(
        voice_hub.hub.bus.async_wait_for(
            events.EVENT_VOICE_REPLY, lambda e: e.data.get("text") == "Cancelled.", timeout=30
        )
    )
    await asyncio.sleep(0)
    await voice_hub.async_process_text("order more coffee")
    event = await cancelled  # confirm_timeout is 2 s in the fixture
    assert event.data["reason"] == "confirmation timed out"
    result = await voice_hub.async_process_text("yes")
    assert result.actions == ()
    todo = voice_hub.hub.states.get("todo.shopping_list")
    assert todo is not None and todo.attributes["items"] == []


async def test_timer_finishes_on_the_bus(voice_hub: VoicePipeline) -> None:
    done = asyncio.ensure_future(
        voice_hub.hub.bus.async_wait_for(events.EVENT_VOICE_TIMER_FINISHED, timeout=60)
    )
    await asyncio.sleep(0)
    result = await voice_hub.async_process_text("set a timer for five seconds")
    assert result.reply == "Timer set for five seconds"  # HA's template says it as said
    left = await voice_hub.async_process_text("how much time is left")
    assert left.reply.endswith("seconds left.")
    event = await done
    assert event.data["seconds"] == 5
    result = await voice_hub.async_process_text("cancel the timer")
    assert result.reply == "There is no timer running."


async def test_chinese_text_commands(voice_hub: VoicePipeline) -> None:
    result = await voice_hub.async_process_text("打开厨房灯")
    assert result.language == "zh-CN" and result.reply == "厨房灯已打开"  # HA's zh-CN template
    assert _state(voice_hub, "light.kitchen_light") == "on"
    result = await voice_hub.async_process_text("把卧室的温度设为二十二度")
    assert result.intent == "HassClimateSetTemperature"
    thermostat = voice_hub.hub.states.get("climate.bedroom_thermostat")
    assert thermostat is not None and thermostat.attributes["temperature"] == 22.0
    result = await voice_hub.async_process_text("冰箱里有什么")
    assert result.reply.startswith("冰箱里有")
    result = await voice_hub.async_process_text("把牛奶加到购物清单")
    todo = voice_hub.hub.states.get("todo.shopping_list")
    assert todo is not None and todo.attributes["items"] == ["牛奶"]  # as said, not translated
    result = await voice_hub.async_process_text("今天天气怎么样")
    assert result.actions == () and result.reply == "抱歉，我没听清楚。"


async def test_every_stage_reports_on_the_bus(voice_hub: VoicePipeline, speech: Any) -> None:
    seen: list[Event] = []
    voice_hub.hub.bus.async_listen_all(lambda e: seen.append(e))
    reply = asyncio.ensure_future(
        voice_hub.hub.bus.async_wait_for(events.EVENT_VOICE_REPLY, timeout=30)
    )
    await asyncio.sleep(0)
    await voice_hub.async_process_audio(speech("okay nabu, turn on the kitchen light"), speak=True)
    await reply
    await asyncio.sleep(0.1)
    by_type = {e.event_type: e.data for e in seen if e.event_type.startswith("voice_")}
    for kind in (
        events.EVENT_VOICE_WAKE,
        events.EVENT_VOICE_END_OF_SPEECH,
        events.EVENT_VOICE_TRANSCRIPT,
        events.EVENT_VOICE_INTENT,
        events.EVENT_VOICE_ACTION,
        events.EVENT_VOICE_REPLY,
    ):
        assert kind in by_type, kind
    assert by_type[events.EVENT_VOICE_TRANSCRIPT]["seconds"] > 0
    assert by_type[events.EVENT_VOICE_ACTION]["service"] == "light.turn_on"
    assert by_type[events.EVENT_VOICE_ACTION]["since_end_of_speech"] >= 0
    assert by_type[events.EVENT_VOICE_REPLY]["audio_seconds"] > 0
    assert "stt" in by_type[events.EVENT_VOICE_REPLY]["timings"]


async def test_grammar_follows_registry_aliases(voice_hub: VoicePipeline, speech: Any) -> None:
    rebuilt = asyncio.ensure_future(
        voice_hub.hub.bus.async_wait_for(events.EVENT_VOICE_GRAMMAR, timeout=30)
    )
    await asyncio.sleep(0)
    pcm = speech("turn on the reading lamp")
    before = await voice_hub.async_process_audio(pcm, speak=False)
    assert before.actions == ()
    await voice_hub.hub.registry.entities.async_update(
        "light.bedroom_light", aliases=("reading lamp",)
    )
    await rebuilt
    after = await voice_hub.async_process_audio(pcm, speak=False)
    assert after.transcript == "turn on the reading lamp"
    assert _state(voice_hub, "light.bedroom_light") == "on"
