"""Every action kind, with what its trace records."""

from __future__ import annotations

import asyncio
from typing import Any

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.info import Attribution, Info, Satellite

from hub.bus import Event
from hub.clock import FakeClock
from hub.core import Hub

from ..mosquitto import free_port
from .conftest import RulesHub, manager, record, traces


def on_go(actions: str, extra: str = "") -> str:
    return (
        f"- id: r\n{extra}  triggers: [{{platform: event, event_type: go}}]\n  actions:\n{actions}"
    )


async def go(hub: Hub, data: dict[str, Any] | None = None) -> dict[str, Any]:
    hub.bus.async_fire("go", data or {})
    return (await traces(hub, "r"))[0]


async def test_service_call_with_templated_data_and_target(make_hub: RulesHub) -> None:
    hub = await make_hub(
        on_go(
            "    - service: light.turn_on\n"
            "      target: {entity_id: '{{ trigger.data.lamp }}'}\n"
            "      data: {brightness: '{{ trigger.data.level * 2 }}'}\n"
            "    - service: light.turn_on\n      target: {area_id: kitchen}\n"
        )
    )
    trace = await go(hub, {"lamp": "light.living_room_lamp", "level": 60})
    assert trace["state"] == "finished", trace
    lamp = hub.states.get("light.living_room_lamp")
    assert lamp is not None and lamp.state == "on" and lamp.attributes["brightness"] == 120
    assert trace["steps"][0]["result"]["data"] == {"brightness": 120}  # a number, not "120"
    kitchen = hub.states.get("light.kitchen_light")
    assert kitchen is not None and kitchen.state == "on"
    # The change is attributed to the rule.
    assert lamp.context.origin == "rule:r"


async def test_failed_service_call_is_a_traced_error(make_hub: RulesHub) -> None:
    hub = await make_hub(
        on_go(
            "    - service: light.turn_on\n      target: {entity_id: light.nowhere}\n"
            "      continue_on_error: true\n"
            "    - service: light.explode\n      target: {entity_id: light.kitchen_light}\n"
            "    - event: never\n"
        )
    )
    never = record(hub, "never")
    trace = await go(hub)
    assert trace["state"] == "error" and "unknown service light.explode" in trace["error"]
    assert trace["error"].startswith("actions[1]:")
    assert [s["path"] for s in trace["steps"]] == ["actions[0]", "actions[1]"]
    assert trace["steps"][0]["error"] and never == []


async def test_delay(make_hub: RulesHub, fake_clock: FakeClock) -> None:
    hub = await make_hub(
        on_go(
            "    - delay: 00:05:00\n    - event: after_fixed\n"
            "    - delay: '{{ trigger.data.wait }}'\n    - event: after_template\n"
        ),
        demo=False,
    )
    fixed, templated = record(hub, "after_fixed"), record(hub, "after_template")
    hub.bus.async_fire("go", {"wait": "30s"})
    await fake_clock.async_advance(299)
    assert fixed == []
    await fake_clock.async_advance(2)
    assert len(fixed) == 1 and templated == []
    await fake_clock.async_advance(30)
    (trace,) = await traces(hub, "r")
    assert len(templated) == 1
    assert [s["seconds"] for s in trace["steps"] if s["kind"] == "delay"] == [300.0, 30.0]


async def test_wait_for_trigger(make_hub: RulesHub, fake_clock: FakeClock) -> None:
    hub = await make_hub(
        on_go(
            "    - wait_for_trigger:\n"
            "        - {platform: state, entity_id: binary_sensor.door, to: 'on'}\n"
            "      timeout: 60\n"
            "    - event: waited\n"
            "      event_data: {timed_out: '{{ wait.timed_out }}'}\n"
            "    - wait_for_trigger: [{platform: event, event_type: never}]\n"
            "      timeout: 10\n      continue_on_timeout: false\n"
            "    - event: unreachable\n"
        ),
        demo=False,
    )
    waited, unreachable = record(hub, "waited"), record(hub, "unreachable")
    hub.bus.async_fire("go")
    await fake_clock.async_advance(5)
    hub.states.async_set("binary_sensor.door", "on")
    await fake_clock.async_advance(1)
    assert waited == [{"timed_out": False}]
    await fake_clock.async_advance(11)
    (trace,) = await traces(hub, "r")
    assert trace["state"] == "stopped" and "timed out" in trace["reason"] and unreachable == []
    hub.states.async_set("binary_sensor.door", "off")
    hub.bus.async_fire("go")
    await fake_clock.async_advance(61)
    assert waited[-1] == {"timed_out": True}


async def test_condition_gate_stops_the_run(make_hub: RulesHub) -> None:
    hub = await make_hub(
        on_go(
            "    - event: before\n"
            "    - {condition: state, entity_id: binary_sensor.someone_home, state: 'off'}\n"
            "    - event: after\n"
        )
    )
    before, after = record(hub, "before"), record(hub, "after")
    trace = await go(hub)
    assert trace["state"] == "stopped" and len(before) == 1 and after == []
    await hub.services.async_call("demo", "simulate", {"device": "someone_home", "value": False})
    trace = await go(hub)
    assert trace["state"] == "finished" and len(after) == 1


async def test_choose_and_if_elif_else(make_hub: RulesHub) -> None:
    hub = await make_hub(
        on_go(
            "    - choose:\n"
            '        - conditions: "{{ trigger.data.n > 10 }}"\n'
            "          sequence: [{event: picked, event_data: {b: big}}]\n"
            '        - conditions: ["{{ trigger.data.n > 5 }}"]\n'
            "          sequence: [{event: picked, event_data: {b: medium}}]\n"
            "      default: [{event: picked, event_data: {b: small}}]\n"
            '    - if: "{{ trigger.data.n % 2 == 0 }}"\n'
            "      then: [{event: parity, event_data: {p: even}}]\n"
            '      elif: [{if: "{{ trigger.data.n == 7 }}", then: [{event: parity, event_data: {p: seven}}]}]\n'
            "      else: [{event: parity, event_data: {p: odd}}]\n",
            "  mode: queued\n",
        ),
        demo=False,
    )
    picked, parity = record(hub, "picked"), record(hub, "parity")
    for n in (12, 7, 3):
        hub.bus.async_fire("go", {"n": n})
    await manager(hub).async_wait_idle()
    assert [p["b"] for p in picked] == ["big", "medium", "small"]
    assert [p["p"] for p in parity] == ["even", "seven", "odd"]
    trace = (await traces(hub, "r"))[0]
    assert trace["steps"][0]["result"] == {"choice": "default"}
    assert "actions[0].default[0]" in [s["path"] for s in trace["steps"]]


async def test_repeat_count_while_until(make_hub: RulesHub) -> None:
    hub = await make_hub(
        on_go(
            "    - repeat:\n        count: '{{ trigger.data.n }}'\n"
            "        sequence: [{event: tick, event_data: {i: '{{ repeat.index }}'}}]\n"
            "    - repeat:\n        while: \"{{ states('counter.c') | int < 3 }}\"\n"
            "        sequence: [{event: bump}]\n"
            '    - repeat:\n        until: "{{ repeat.index >= 2 }}"\n'
            "        sequence: [{event: until_tick}]\n"
        ),
        demo=False,
    )
    ticks, until = record(hub, "tick"), record(hub, "until_tick")
    hub.states.async_set("counter.c", "0")

    def bump(_event: Event) -> None:
        counter = hub.states.get("counter.c")
        assert counter is not None
        hub.states.async_set("counter.c", str(int(counter.state) + 1))

    hub.bus.async_listen("bump", bump)
    trace = await go(hub, {"n": 4})
    assert [t["i"] for t in ticks] == [1, 2, 3, 4]
    assert hub.states.get("counter.c").state == "3"  # type: ignore[union-attr]
    assert len(until) == 2
    assert [s["result"] for s in trace["steps"] if s["kind"] == "repeat"] == [
        {"iterations": 4},
        {"iterations": 3},
        {"iterations": 2},
    ]


async def test_parallel(make_hub: RulesHub, fake_clock: FakeClock) -> None:
    hub = await make_hub(
        on_go(
            "    - parallel:\n"
            "        - sequence: [{delay: 10}, {event: slow}]\n"
            "        - {event: fast}\n"
            "    - event: joined\n"
        ),
        demo=False,
    )
    order: list[str] = []
    for name in ("slow", "fast", "joined"):
        hub.bus.async_listen(name, lambda e: order.append(e.event_type))
    hub.bus.async_fire("go")
    await fake_clock.async_advance(1)
    assert order == ["fast"]
    await fake_clock.async_advance(10)
    await manager(hub).async_wait_idle()
    assert order == ["fast", "slow", "joined"]


async def test_fire_event_notify_and_variables(make_hub: RulesHub) -> None:
    hub = await make_hub(
        "- id: r\n  variables: {greeting: 'Hello {{ trigger.data.name }}'}\n"
        "  triggers: [{platform: event, event_type: go}]\n  actions:\n"
        "    - variables: {shout: '{{ greeting | upper }}'}\n"
        "    - event: said\n      event_data: {text: '{{ shout }}', rule: '{{ this.id }}'}\n"
        "    - notify: {message: '{{ greeting }}!', title: Rules}\n",
        demo=False,
    )
    said = record(hub, "said")
    trace = await go(hub, {"name": "Ada"})
    assert said == [{"text": "HELLO ADA", "rule": "r"}]
    (note,) = hub.notifications.all()
    assert (note.message, note.title) == ("Hello Ada!", "Rules")
    assert trace["steps"][2]["result"]["message"] == "Hello Ada!"


async def test_speak_without_voice_is_a_clear_step_error(make_hub: RulesHub) -> None:
    hub = await make_hub(on_go("    - speak: Hello there\n"), demo=False)
    trace = await go(hub)
    assert trace["state"] == "error"
    assert "voice.say is not available" in trace["steps"][0]["error"]


async def test_speak_through_the_voice_pipeline(make_hub: RulesHub) -> None:
    hub = await make_hub(
        on_go("    - speak: 'The {{ trigger.data.what }} is open'\n"), demo=False, voice={}
    )
    calls = record(hub, "call_service")
    trace = await go(hub, {"what": "fridge door"})
    assert trace["state"] == "finished", trace
    assert {"domain": "voice", "service": "say"}.items() <= calls[-1].items()
    result = trace["steps"][0]["result"]
    assert result["text"] == "The fridge door is open" and result["seconds"] > 0.5  # real speech


async def test_speak_on_a_named_wyoming_satellite(make_hub: RulesHub) -> None:
    """The rule speaks on the satellite that introduced itself as "kitchen", and only there."""
    port = free_port()
    hub = await make_hub(
        on_go("    - speak: {text: Dinner is ready, satellite: '{{ trigger.data.where }}'}\n"),
        demo=False,
        voice={"wyoming_port": port},
    )
    async with AsyncTcpClient("127.0.0.1", port) as kitchen:
        await kitchen.write_event(
            Info(
                satellite=Satellite(
                    name="kitchen",
                    attribution=Attribution("test", ""),
                    installed=True,
                    description="",
                    version="1",
                )
            ).event()
        )
        await asyncio.sleep(0.2)  # the hub reads the info event
        trace = await go(hub, {"where": "kitchen"})
        assert trace["state"] == "finished", trace
        assert trace["steps"][0]["result"]["satellite"] == "kitchen"
        received = []
        while not received or not AudioStop.is_type(received[-1].type):
            event = await asyncio.wait_for(kitchen.read_event(), timeout=30)
            assert event is not None
            received.append(event)
        assert AudioStart.is_type(received[0].type)
        pcm = b"".join(AudioChunk.from_event(e).audio for e in received[1:-1])
        assert len(pcm) > 16000  # over half a second of real speech

        hub.bus.async_fire("go", {"where": "garage"})
        trace = next(t for t in await traces(hub, "r") if t["state"] == "error")
        assert "satellite 'garage' is not connected (connected: kitchen)" in str(trace)


async def test_scene_named_and_inline(make_hub: RulesHub) -> None:
    hub = await make_hub(
        "scenes:\n  evening:\n    entities:\n"
        "      light.living_room_lamp: {state: 'on', brightness: 80}\n"
        "      lock.front_door_lock: unlocked\n"
        "rules:\n  - id: r\n    triggers: [{platform: event, event_type: go}]\n    actions:\n"
        "      - scene: evening\n"
        "      - scene: {entities: {light.kitchen_light: 'on', switch.coffee_maker: 'on'}}\n"
    )
    trace = await go(hub)
    assert trace["state"] == "finished", trace
    states = {
        eid: hub.states.get(eid)
        for eid in (
            "light.living_room_lamp",
            "lock.front_door_lock",
            "light.kitchen_light",
            "switch.coffee_maker",
        )
    }
    assert {eid: s.state for eid, s in states.items() if s} == {
        "light.living_room_lamp": "on",
        "lock.front_door_lock": "unlocked",
        "light.kitchen_light": "on",
        "switch.coffee_maker": "on",
    }
    assert states["light.living_room_lamp"].attributes["brightness"] == 80  # type: ignore[union-attr]


async def test_scene_with_a_missing_entity_fails_clearly(make_hub: RulesHub) -> None:
    hub = await make_hub(
        on_go("    - scene: {entities: {light.kitchen_light: 'on', light.ghost: 'on'}}\n")
    )
    trace = await go(hub)
    assert trace["state"] == "error" and "light.ghost" in trace["error"]
    kitchen = hub.states.get("light.kitchen_light")
    assert kitchen is not None and kitchen.state == "on"  # the rest of the scene still applied


async def test_sandbox_refuses_python_internals(make_hub: RulesHub) -> None:
    hub = await make_hub(
        on_go(
            "    - event: leak\n      event_data: {x: \"{{ ''.__class__.__mro__[1].__subclasses__() }}\"}\n"
        ),
        demo=False,
    )
    leak = record(hub, "leak")
    trace = await go(hub)
    assert trace["state"] == "error" and leak == []
    assert "actions[0].event_data" in trace["error"]
