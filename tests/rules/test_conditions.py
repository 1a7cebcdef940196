"""Every condition kind, evaluated as a rule's `conditions` on a real hub."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.clock import FakeClock
from hub.core import Hub
from hub.rules.sun import sun_event_on

from .conftest import RulesHub, manager, record


def gated(conditions: str) -> str:
    return (
        "- id: r\n  mode: parallel\n  triggers: [{platform: event, event_type: go}]\n"
        f"  conditions:\n{conditions}  actions: [{{event: passed}}]\n"
    )


async def passes(hub: Hub, passed: list[dict[str, Any]]) -> bool:
    before = len(passed)
    hub.bus.async_fire("go", {"who": "test"})
    await manager(hub).async_wait_idle()
    return len(passed) > before


async def test_state_condition_with_for(make_hub: RulesHub, fake_clock: FakeClock) -> None:
    hub = await make_hub(
        gated(
            "    - {condition: state, entity_id: [light.a, light.b], state: ['on', dim]}\n"
            "    - {condition: state, entity_id: light.a, state: 'on', for: 60}\n"
        ),
        demo=False,
    )
    passed = record(hub, "passed")
    hub.states.async_set("light.a", "on")
    hub.states.async_set("light.b", "dim")
    assert not await passes(hub, passed)  # not on for a minute yet
    await fake_clock.async_advance(61)
    assert await passes(hub, passed)
    hub.states.async_set("light.b", "off")
    assert not await passes(hub, passed)
    (trace, *_) = await manager(hub).async_traces("r")
    assert trace["state"] == "stopped" and trace["conditions"] == [
        {"path": "conditions[0]", "result": False, "error": None}
    ]


async def test_numeric_condition(make_hub: RulesHub) -> None:
    hub = await make_hub(
        gated("    - {condition: numeric_state, entity_id: sensor.t, above: 18, below: 24}\n"),
        demo=False,
    )
    passed = record(hub, "passed")
    results = []
    for value in ("17", "18.5", "24", "warm"):
        hub.states.async_set("sensor.t", value)
        results.append(await passes(hub, passed))
    assert results == [False, True, False, False]


async def test_numeric_condition_on_attribute(make_hub: RulesHub) -> None:
    hub = await make_hub(
        gated(
            "    - {condition: numeric_state, entity_id: climate.c, attribute: current, below: 19}\n"
        ),
        demo=False,
    )
    passed = record(hub, "passed")
    hub.states.async_set("climate.c", "heat", {"current": 18})
    assert await passes(hub, passed)
    hub.states.async_set("climate.c", "heat", {"current": 21})
    assert not await passes(hub, passed)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 11, 23, 23, 0, tzinfo=UTC), True),  # Monday night
        (datetime(2026, 11, 24, 5, 59, tzinfo=UTC), True),  # Tuesday early: window wraps
        (datetime(2026, 11, 24, 6, 0, tzinfo=UTC), False),
        (datetime(2026, 11, 28, 23, 0, tzinfo=UTC), False),  # Saturday
        (datetime(2026, 11, 23, 12, 0, tzinfo=UTC), False),
    ],
)
async def test_time_window_and_weekday(make_hub: RulesHub, now: datetime, expected: bool) -> None:
    clock = FakeClock(now)
    hub = await make_hub(
        gated(
            "    - {condition: time, after: '22:00', before: '06:00'}\n"
            "    - {condition: time, weekday: [mon, tue, wed, thu, fri]}\n"
        ),
        demo=False,
        clock=clock,
    )
    assert await passes(hub, record(hub, "passed")) is expected


async def test_sun_condition(make_hub: RulesHub) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    hub = await make_hub(
        gated("    - {condition: sun, after: sunset, before: sunrise}\n")
        + "- id: day\n  triggers: [{platform: event, event_type: go}]\n"
        "  conditions: [{condition: sun, after: sunrise, after_offset: 1h, before: sunset}]\n"
        "  actions: [{event: daytime}]\n",
        demo=False,
        clock=clock,
    )
    night, day = record(hub, "passed"), record(hub, "daytime")
    sunset = sun_event_on("sunset", clock.now(), hub.config.location)
    assert sunset is not None
    assert not await passes(hub, night) and len(day) == 1
    await clock.async_set(sunset + timedelta(minutes=1))
    assert await passes(hub, night) and len(day) == 1


async def test_and_or_not_template_and_trigger_id(make_hub: RulesHub) -> None:
    hub = await make_hub(
        gated(
            "    - condition: or\n      conditions:\n"
            "        - {condition: state, entity_id: input.mode, state: away}\n"
            "        - condition: and\n          conditions:\n"
            "            - {condition: state, entity_id: input.mode, state: home}\n"
            "            - condition: not\n              conditions:\n"
            "                - {condition: state, entity_id: input.guest, state: 'on'}\n"
            "    - \"{{ trigger.data.who == 'test' and states('input.mode') != 'off' }}\"\n"
            "    - {condition: template, value_template: '{{ 1 < 2 }}'}\n"
        ),
        demo=False,
    )
    passed = record(hub, "passed")
    outcomes = []
    for mode, guest in (("away", "on"), ("home", "off"), ("home", "on"), ("off", "off")):
        hub.states.async_set("input.mode", mode)
        hub.states.async_set("input.guest", guest)
        outcomes.append(await passes(hub, passed))
    assert outcomes == [True, True, False, False]


async def test_trigger_condition_picks_by_trigger_id(make_hub: RulesHub) -> None:
    hub = await make_hub(
        "- id: r\n  triggers:\n    - {platform: event, event_type: a, id: first}\n"
        "    - {platform: event, event_type: b, id: second}\n"
        "  conditions: [{condition: trigger, id: second}]\n  actions: [{event: passed}]\n",
        demo=False,
    )
    passed = record(hub, "passed")
    hub.bus.async_fire("a")
    hub.bus.async_fire("b")
    await manager(hub).async_wait_idle()
    assert len(passed) == 1


async def test_failing_template_condition_is_a_traced_error(make_hub: RulesHub) -> None:
    hub = await make_hub(gated("    - '{{ trigger.data.missing.deeper }}'\n"), demo=False)
    passed = record(hub, "passed")
    assert not await passes(hub, passed)
    (trace,) = await manager(hub).async_traces("r")
    assert trace["state"] == "error"
    assert trace["error"].startswith("conditions[0]: undefined:")
