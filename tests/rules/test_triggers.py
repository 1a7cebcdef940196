"""Every trigger kind, on a real hub with a fake clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hub.clock import FakeClock
from hub.const import (
    EVENT_DEVICE_JOINED,
    EVENT_DEVICE_LEFT,
    EVENT_DEVICE_UNAVAILABLE,
    EVENT_INTEGRATION_LOADED,
)
from hub.rules.sun import sun_event_on
from integrations.mqtt.client import BrokerSettings, MqttClient
from tests.mosquitto import Mosquitto
from tests.voice.conftest import synthesize
from tests.waiting import wait_until
from voice.audio import read_wav, silence

from .conftest import RulesHub, manager, record, traces

FIRE = """
    actions:
      - event: fired
        event_data:
          platform: "{{ trigger.platform }}"
          id: "{{ trigger.id }}"
"""


def rule(triggers: str, rule_id: str = "r", extra: str = "") -> str:
    return f"- id: {rule_id}\n  triggers:\n{triggers}{extra}" + FIRE.replace("\n    ", "\n  ")


async def test_state_trigger_from_to(make_hub: RulesHub) -> None:
    hub = await make_hub(
        rule("    - {platform: state, entity_id: switch.pump, from: 'off', to: 'on', id: up}\n"),
        demo=False,
    )
    fired = record(hub, "fired")
    hub.states.async_set("switch.pump", "off")
    hub.states.async_set("switch.pump", "on")
    hub.states.async_set("switch.pump", "on", {"power": 3})  # attribute only: not a state change
    hub.states.async_set("switch.pump", "idle")
    hub.states.async_set("switch.pump", "on")  # from idle, not from off
    await manager(hub).async_wait_idle()
    assert fired == [{"platform": "state", "id": "up"}]
    (trace,) = await traces(hub, "r")
    assert trace["trigger"]["to_state"]["state"] == "on"
    assert trace["trigger"]["from_state"]["state"] == "off"


async def test_state_trigger_on_attribute(make_hub: RulesHub) -> None:
    hub = await make_hub(
        rule("    - {platform: state, entity_id: light.a, attribute: brightness, to: 200}\n"),
        demo=False,
    )
    fired = record(hub, "fired")
    hub.states.async_set("light.a", "on", {"brightness": 100})
    hub.states.async_set("light.a", "on", {"brightness": 200})
    hub.states.async_set("light.a", "off", {"brightness": 200})
    await manager(hub).async_wait_idle()
    assert len(fired) == 1


async def test_state_trigger_held_for(make_hub: RulesHub, fake_clock: FakeClock) -> None:
    hub = await make_hub(
        rule("    - {platform: state, entity_id: binary_sensor.door, to: 'on', for: 60}\n"),
        demo=False,
    )
    fired = record(hub, "fired")
    hub.states.async_set("binary_sensor.door", "on")
    await fake_clock.async_advance(59)
    hub.states.async_set("binary_sensor.door", "off")  # closed in time: no trigger
    await fake_clock.async_advance(120)
    assert fired == []
    hub.states.async_set("binary_sensor.door", "on")
    await fake_clock.async_advance(30)
    hub.states.async_set("binary_sensor.door", "on", {"battery": 90})  # still on: keeps waiting
    await fake_clock.async_advance(29)
    assert fired == []
    await fake_clock.async_advance(2)
    await manager(hub).async_wait_idle()
    assert len(fired) == 1
    await fake_clock.async_advance(600)
    assert len(fired) == 1


async def test_numeric_state_crossing_and_for(make_hub: RulesHub, fake_clock: FakeClock) -> None:
    hub = await make_hub(
        rule(
            "    - {platform: numeric_state, entity_id: sensor.t, above: 25, id: hot}\n",
            "hot",
            "  mode: parallel\n",
        )
        + rule(
            "    - {platform: numeric_state, entity_id: sensor.t, below: 10, for: 5m, id: cold}\n",
            "cold",
        ),
        demo=False,
    )
    fired = record(hub, "fired")
    for value in ("20", "26", "27", "24", "30", "unavailable", "31"):
        hub.states.async_set("sensor.t", value)
    await manager(hub).async_wait_idle()
    assert [f["id"] for f in fired] == ["hot", "hot", "hot"]  # 20->26, 24->30, unavailable->31
    fired.clear()
    hub.states.async_set("sensor.t", "5")
    await fake_clock.async_advance(200)
    hub.states.async_set("sensor.t", "12")  # left the range: the wait is cancelled
    hub.states.async_set("sensor.t", "8")
    await fake_clock.async_advance(200)
    hub.states.async_set("sensor.t", "7")  # still below: the wait continues
    await fake_clock.async_advance(99)
    assert fired == []
    await fake_clock.async_advance(2)
    await manager(hub).async_wait_idle()
    assert [f["id"] for f in fired] == ["cold"]


async def test_time_trigger_fires_daily(make_hub: RulesHub) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    hub = await make_hub(
        rule("    - {platform: time, at: ['07:30', '22:00:30']}\n"), demo=False, clock=clock
    )
    fired = record(hub, "fired")
    await clock.async_set(datetime(2026, 11, 23, 7, 29, 59, tzinfo=UTC))
    assert fired == []
    await clock.async_advance(1)
    assert len(fired) == 1
    await clock.async_set(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    await manager(hub).async_wait_idle()
    assert len(fired) == 5  # 07:30 x3, 22:00:30 x2
    (trace, *_) = await traces(hub, "r")
    assert trace["trigger"]["now"].startswith("2026-11-25T07:30:00")


async def test_schedule_trigger(make_hub: RulesHub) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 0, 0, tzinfo=UTC))  # a Monday
    hub = await make_hub(
        rule("    - {platform: schedule, cron: '*/20 9-10 * * mon,wed'}\n"), demo=False, clock=clock
    )
    fired = record(hub, "fired")
    await clock.async_set(datetime(2026, 11, 26, 0, 0, tzinfo=UTC))
    await manager(hub).async_wait_idle()
    assert len(fired) == 12  # 6 per day (9:00..10:40) on Monday and Wednesday
    times = [t["trigger"]["now"][:16] for t in await manager(hub).async_traces("r", 20)]
    assert "2026-11-25T10:40" in times and "2026-11-24T09:00" not in times


async def test_sun_trigger_with_offset(make_hub: RulesHub) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    hub = await make_hub(
        rule("    - {platform: sun, event: sunset, offset: '-00:30:00'}\n"), demo=False, clock=clock
    )
    fired = record(hub, "fired")
    sunset = sun_event_on("sunset", clock.now(), hub.config.location)
    assert sunset is not None
    await clock.async_set(sunset - timedelta(minutes=31))
    assert fired == []
    await clock.async_set(sunset - timedelta(minutes=29))
    assert len(fired) == 1
    await clock.async_advance(86400)
    assert len(fired) == 2


async def test_event_trigger_matches_data(make_hub: RulesHub) -> None:
    hub = await make_hub(
        rule(
            "    - platform: event\n      event_type: [button_pressed, remote]\n"
            "      event_data: {button: 2, extra: {kind: long}}\n"
        ),
        demo=False,
    )
    fired = record(hub, "fired")
    hub.bus.async_fire("button_pressed", {"button": 1, "extra": {"kind": "long"}})
    hub.bus.async_fire("button_pressed", {"button": 2, "extra": {"kind": "short"}})
    hub.bus.async_fire("button_pressed", {"button": 2})
    hub.bus.async_fire("remote", {"button": "2", "extra": {"kind": "long", "x": 1}})
    await manager(hub).async_wait_idle()
    assert len(fired) == 1


async def test_device_triggers(make_hub: RulesHub) -> None:
    hub = await make_hub(
        rule("    - {platform: device, event: joined, id: j}\n", "joined")
        + rule("    - {platform: device, event: left, device_id: dev1, id: l}\n", "left")
        + rule("    - {platform: device, event: unavailable, id: u}\n", "gone"),
        demo=False,
    )
    fired = record(hub, "fired")
    hub.bus.async_fire(EVENT_DEVICE_JOINED, {"device_id": "dev9"})
    hub.bus.async_fire(EVENT_DEVICE_LEFT, {"device_id": "dev9"})
    hub.bus.async_fire(EVENT_DEVICE_LEFT, {"device_id": "dev1"})
    hub.bus.async_fire(EVENT_DEVICE_UNAVAILABLE, {"device_id": "dev1"})
    await manager(hub).async_wait_idle()
    assert [f["id"] for f in fired] == ["j", "l", "u"]
    (trace,) = await traces(hub, "left")
    assert trace["trigger"]["device_id"] == "dev1"


async def test_hub_start_trigger(make_hub: RulesHub, tmp_path: object) -> None:
    hub = await make_hub(
        "- id: boot\n  triggers: [{platform: hub, event: start}]\n"
        "  actions: [{notify: 'Hearth started'}]\n",
        demo=False,
    )
    await manager(hub).async_wait_idle()
    assert [n.message for n in hub.notifications.all()] == ["Hearth started"]


async def test_voice_phrase_trigger_through_the_pipeline(make_hub: RulesHub) -> None:
    hub = await make_hub(
        rule("    - {platform: voice, phrase: ['Movie time!', 'cinema mode'], id: v}\n"),
        voice={},
    )
    fired = record(hub, "fired")
    assert manager(hub).voice_phrases() == ["cinema mode", "movie time"]
    heard = await hub.services.async_call("voice", "process_text", {"text": "movie time"})
    assert heard["intent"] == "HearthRulePhrase" and heard["reply"] == "OK."
    await hub.services.async_call("voice", "process_text", {"text": "turn on the kitchen light"})
    await manager(hub).async_wait_idle()
    assert fired == [{"platform": "voice", "id": "v"}]
    (trace,) = await traces(hub, "r")
    assert trace["trigger"]["phrase"] == "movie time"


async def test_spoken_rule_phrase_is_in_the_grammar(make_hub: RulesHub, tmp_path: Path) -> None:
    """Closed-vocabulary speech hears a rule's phrase once the rule exists, and after a reload."""
    hub = await make_hub(rule("    - {platform: voice, phrase: movie time}\n"), voice={})
    fired = record(hub, "fired")
    pipeline = hub.data["voice"]
    clip = read_wav(synthesize(tmp_path, "cinema mode please")).pcm
    await wait_until(lambda: "movie time" in pipeline.vocabulary.phrases, 10, "grammar rebuild")
    unheard = await pipeline.async_process_audio(silence(0.3) + clip + silence(0.8), speak=False)
    assert unheard.intent != "HearthRulePhrase"
    (hub.config.config_dir / "rules.yaml").write_text(
        rule("    - {platform: voice, phrase: cinema mode please}\n"), encoding="utf-8"
    )
    await hub.services.async_call("rules", "reload")
    await wait_until(
        lambda: "cinema mode please" in pipeline.vocabulary.phrases, 10, "grammar rebuild"
    )
    result = await pipeline.async_process_audio(silence(0.3) + clip + silence(0.8), speak=False)
    assert (result.transcript, result.intent, result.reply) == (
        "cinema mode please",
        "HearthRulePhrase",
        "OK.",
    )
    await manager(hub).async_wait_idle()
    assert fired == [{"platform": "voice", "id": None}]


async def test_voice_phrase_fires_once_per_utterance(make_hub: RulesHub) -> None:
    hub = await make_hub(rule("    - {platform: voice, phrase: cinema mode}\n"), demo=False)
    fired = record(hub, "fired")
    # What the pipeline fires for spoken audio: a transcript, then the intent stage's verdict.
    hub.bus.async_fire("voice_transcript", {"conversation_id": "c1", "text": "Cinema mode."})
    hub.bus.async_fire(
        "voice_error", {"conversation_id": "c1", "stage": "intent", "text": "cinema mode"}
    )
    hub.bus.async_fire("voice_error", {"conversation_id": "c1", "stage": "stt", "text": "x"})
    await manager(hub).async_wait_idle()
    assert len(fired) == 1


async def test_mqtt_trigger_through_the_mqtt_integration(
    make_hub: RulesHub, mosquitto: Mosquitto
) -> None:
    hub = await make_hub(
        rule("    - {platform: mqtt, topic: 'home/+/button', payload: press}\n"),
        demo=False,
        mqtt={"broker": mosquitto.host, "port": mosquitto.port, "discovery": False},
    )
    assert manager(hub).get("r").info.errors == ()
    sender = MqttClient(BrokerSettings(host=mosquitto.host, port=mosquitto.port))
    await sender.async_start()
    try:
        await sender.async_wait_connected(20)
        seen = asyncio.Event()
        hub.bus.async_listen("fired", lambda _e: seen.set())
        # The rule's subscription reaches the broker asynchronously: publish until it fires.
        for _ in range(100):
            sender.async_publish("home/hall/button", "hold")
            sender.async_publish("home/hall/button", "press")
            try:
                await asyncio.wait_for(seen.wait(), 0.2)
                break
            except TimeoutError:
                continue
        assert seen.is_set()
        await manager(hub).async_wait_idle()
        traced = await manager(hub).async_traces("r")
        assert {t["trigger"]["payload"] for t in traced} == {"press"}
        assert traced[0]["trigger"]["topic"] == "home/hall/button"
    finally:
        await sender.async_stop()


async def test_mqtt_missing_fails_only_that_rule(make_hub: RulesHub) -> None:
    hub = await make_hub(
        rule("    - {platform: mqtt, topic: a/b}\n", "needs_mqtt")
        + rule("    - {platform: event, event_type: ping}\n", "fine"),
        demo=False,
    )
    info = manager(hub).get("needs_mqtt").info
    assert len(info.errors) == 1 and "MQTT is not set up" in info.errors[0]
    fired = record(hub, "fired")
    hub.bus.async_fire("ping")
    await manager(hub).async_wait_idle()
    assert len(fired) == 1 and manager(hub).get("fine").info.errors == ()
    # When MQTT shows up later, the rule attaches (a client not yet connected keeps the
    # subscription for when it is).
    hub.data["mqtt"] = MqttClient(BrokerSettings(host="127.0.0.1", port=1))
    hub.bus.async_fire(EVENT_INTEGRATION_LOADED, {"domain": "mqtt"})
    assert manager(hub).get("needs_mqtt").info.errors == ()
