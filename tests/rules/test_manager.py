"""The manager: reload, dashboard rules, enable/disable, manual runs, traces, the index."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hub.clock import FakeClock
from hub.errors import ConfigError, EntityNotFound, NotSupported
from hub.rules import RuleNotFound, RuleReadOnly, RulesInvalid

from .conftest import RulesHub, manager, record, traces

DOOR = """\
- id: door_open
  triggers:
    - platform: state
      entity_id: binary_sensor.door
      to: "on"
      for: 60
  actions:
    - event: door_alert
- id: ping
  triggers: [{platform: event, event_type: ping}]
  actions: [{event: pong}]
"""


async def test_broken_file_is_rejected_whole_and_rules_keep_running(
    make_hub: RulesHub, fake_clock: FakeClock
) -> None:
    hub = await make_hub(DOOR, demo=False)
    alerts, pongs = record(hub, "door_alert"), record(hub, "pong")
    hub.states.async_set("binary_sensor.door", "on")  # a `for` wait is now pending
    path = hub.config_dir / "rules.yaml"
    path.write_text(
        DOOR.replace("event_type: ping", "event_type: ping2")
        + "- id: broken\n  triggers: [{platform: state, entity_id: sensor.x, for: often}]\n"
        "  actions: [{event: x}]\n",
        encoding="utf-8",
    )
    with pytest.raises(RulesInvalid) as caught:
        await hub.services.async_call("rules", "reload")
    (issue,) = caught.value.issues
    assert (issue.file, issue.line, issue.rule, issue.field) == (
        str(path),
        13,
        "broken",
        "triggers[0].for",
    )
    assert "rules.yaml, line 13: rule 'broken': triggers[0].for:" in str(caught.value)
    assert manager(hub).file_error is caught.value
    assert any("running rules were kept" in (n.title or "") for n in hub.notifications.all())
    # The old rules are untouched: the old trigger still works and the pending wait completes.
    hub.bus.async_fire("ping")
    hub.bus.async_fire("ping2")
    await fake_clock.async_advance(61)
    await manager(hub).async_wait_idle()
    assert len(pongs) == 1 and len(alerts) == 1
    assert [r.id for r in manager(hub).rules()] == ["door_open", "ping"]


async def test_reload_applies_differences(make_hub: RulesHub, fake_clock: FakeClock) -> None:
    hub = await make_hub(DOOR, demo=False)
    alerts, pongs = record(hub, "door_alert"), record(hub, "pong")
    hub.states.async_set("binary_sensor.door", "on")
    await fake_clock.async_advance(30)
    changed = DOOR.replace(
        "actions: [{event: pong}]", "actions: [{event: pong, event_data: {v: 2}}]"
    )
    (hub.config_dir / "rules.yaml").write_text(
        "# a comment moves every line\n"
        + changed
        + "- id: new\n  triggers: [{platform: event, event_type: ping}]\n  actions: [{event: new}]\n",
        encoding="utf-8",
    )
    result = await hub.services.async_call("rules", "reload")
    assert result == {"added": ["new"], "removed": [], "changed": ["ping"], "unchanged": 1}
    await fake_clock.async_advance(31)  # the unchanged rule kept its pending `for` wait
    news = record(hub, "new")
    hub.bus.async_fire("ping")
    await manager(hub).async_wait_idle()
    assert len(alerts) == 1 and pongs == [{"v": 2}] and len(news) == 1
    assert manager(hub).get("door_open").info.line == 2
    (hub.config_dir / "rules.yaml").write_text("", encoding="utf-8")
    result = await manager(hub).async_reload()
    assert set(result.removed) == {"door_open", "ping", "new"}
    hub.bus.async_fire("ping")
    await manager(hub).async_wait_idle()
    assert len(news) == 1 and manager(hub).rules() == []


async def test_broken_file_at_start_does_not_stop_the_hub(make_hub: RulesHub) -> None:
    hub = await make_hub("- id: x\n  actions: [{delay: never}]\n", demo=False)
    assert hub.state == "running" and manager(hub).rules() == []
    error = manager(hub).file_error
    assert error is not None and error.issues[0].field == "actions[0].delay"


async def test_dashboard_rules(make_hub: RulesHub, tmp_path: Path) -> None:
    hub = await make_hub(DOOR, demo=False)
    rules = manager(hub)
    text = "id: greet\nname: Greeter\ntriggers: [{platform: event, event_type: hi}]\nactions:\n  - event: hello\n"
    info = await rules.async_create(text)
    assert (info.source, info.name) == ("dashboard", "Greeter")
    detail = rules.get("greet")
    assert detail.editable and detail.yaml == text
    assert rules.get_rule("door_open")["editable"] is False
    assert rules.get_rule("door_open")["yaml"].startswith("id: door_open\ntriggers:")
    hello = record(hub, "hello")
    hub.bus.async_fire("hi")
    await rules.async_wait_idle()
    assert len(hello) == 1

    with pytest.raises(RulesInvalid) as caught:
        await rules.async_create(text)
    assert "already exists" in str(caught.value)
    with pytest.raises(RulesInvalid) as caught:
        await rules.async_update("greet", text.replace("event: hello", "delay: whenever"))
    (issue,) = caught.value.issues
    assert (issue.file, issue.line, issue.field) == ("dashboard:greet", 5, "actions[0].delay")
    with pytest.raises(RulesInvalid):
        await rules.async_update("greet", text.replace("id: greet", "id: other"))
    with pytest.raises(RuleReadOnly) as read_only:
        await rules.async_update("door_open", DOOR)
    assert isinstance(read_only.value, NotSupported)  # the API answers 409
    with pytest.raises(RuleNotFound) as missing:
        rules.get("nope")
    assert isinstance(missing.value, EntityNotFound)  # the API answers 404

    await rules.async_update_rule("greet", text.replace("event: hello", "event: bonjour"))
    bonjour = record(hub, "bonjour")
    hub.bus.async_fire("hi")
    await rules.async_wait_idle()
    assert len(bonjour) == 1 and len(hello) == 1

    # A file rule may not take a dashboard rule's id.
    (hub.config_dir / "rules.yaml").write_text(
        DOOR + textwrap.indent(text, "  ").replace("  id:", "- id:", 1), encoding="utf-8"
    )
    with pytest.raises(RulesInvalid) as caught:
        await rules.async_reload()
    assert "already used by a dashboard rule" in str(caught.value)

    with pytest.raises(RuleReadOnly):
        await rules.async_delete("ping")
    await rules.async_delete("greet")
    assert [r["id"] for r in rules.list_rules()] == ["door_open", "ping"]


async def test_dashboard_rules_and_flags_survive_a_restart(
    make_hub: RulesHub, hub_factory: object, tmp_path: Path
) -> None:
    hub = await make_hub(DOOR, demo=False)
    config_dir = hub.config_dir
    await manager(hub).async_create(
        "id: kept\ntriggers: [{platform: event, event_type: hi}]\nactions: [{event: hello}]\n"
    )
    await hub.services.async_call("rules", "turn_off", {"rule_id": "ping"})
    pongs = record(hub, "pong")
    hub.bus.async_fire("ping")
    await manager(hub).async_wait_idle()
    assert pongs == [] and manager(hub).get("ping").info.enabled is False
    hub.bus.async_fire("hi")
    await manager(hub).async_wait_idle()
    await hub.async_stop()

    again = await make_hub(config_dir=config_dir, demo=False)
    infos = {r.id: r for r in manager(again).rules()}
    assert set(infos) == {"door_open", "ping", "kept"}
    assert infos["ping"].enabled is False and infos["kept"].source == "dashboard"
    assert len(await manager(again).async_traces("kept")) == 1  # traces persisted too
    await again.services.async_call("rules", "turn_on", {"rule_id": "ping"})
    pongs = record(again, "pong")
    again.bus.async_fire("ping")
    await manager(again).async_wait_idle()
    assert len(pongs) == 1


async def test_manual_trigger_service(make_hub: RulesHub) -> None:
    hub = await make_hub(
        "- id: guarded\n  conditions: [{condition: state, entity_id: input.x, state: 'on'}]\n"
        "  actions: [{event: ran, event_data: {how: '{{ trigger.platform }}'}}]\n",
        demo=False,
    )
    ran = record(hub, "ran")
    result = await hub.services.async_call("rules", "trigger", {"rule_id": "guarded"})
    assert result["run_id"]
    await hub.services.async_call(
        "rules", "trigger", {"rule_id": "guarded", "skip_conditions": False}
    )
    await manager(hub).async_wait_idle()
    assert ran == [{"how": "manual"}]
    trace = await manager(hub).async_trace(result["run_id"])
    assert trace is not None and trace["state"] == "finished"
    with pytest.raises(RuleNotFound):
        await hub.services.async_call("rules", "trigger", {"rule_id": "nope"})


async def test_only_the_last_traces_are_kept(make_hub: RulesHub) -> None:
    hub = await make_hub(
        "- id: r\n  mode: queued\n  triggers: [{platform: event, event_type: go}]\n"
        "  actions: [{event: done, event_data: {n: '{{ trigger.data.n }}'}}]\n",
        demo=False,
        rules={"keep_traces": 3},
    )
    for n in range(7):
        hub.bus.async_fire("go", {"n": n})
        await manager(hub).async_wait_idle()
    kept = await traces(hub, "r")
    assert [t["trigger"]["data"]["n"] for t in kept] == [6, 5, 4]
    step = kept[0]["steps"][0]
    assert (
        step["path"] == "actions[0]"
        and step["seconds"] >= 0
        and step["started"] >= kept[0]["started"]
    )


async def test_running_traces_are_visible(make_hub: RulesHub, fake_clock: FakeClock) -> None:
    hub = await make_hub(
        "- id: r\n  triggers: [{platform: event, event_type: go}]\n"
        "  actions: [{event: a}, {delay: 100}, {event: b}]\n",
        demo=False,
    )
    hub.bus.async_fire("go")
    await fake_clock.async_advance(1)
    (running,) = await manager(hub).async_traces("r")
    assert running["state"] == "running" and [s["kind"] for s in running["steps"]] == ["event"]
    await fake_clock.async_advance(100)
    (done,) = await traces(hub, "r")
    assert done["state"] == "finished" and [s["kind"] for s in done["steps"]] == [
        "event",
        "delay",
        "event",
    ]


async def test_rules_file_must_stay_in_the_config_dir(make_hub: RulesHub) -> None:
    with pytest.raises(ConfigError):
        await make_hub(demo=False, rules={"file": "../elsewhere.yaml"})


async def test_index_costs_one_listener_however_many_rules(make_hub: RulesHub) -> None:
    hub = await make_hub(demo=False)
    base = hub.bus.listener_counts()
    many = "".join(
        f"- id: r{i}\n  triggers:\n    - {{platform: state, entity_id: sensor.s{i}, to: 'on'}}\n"
        f"    - {{platform: event, event_type: type{i % 3}}}\n"
        f"    - {{platform: time, at: '0{i % 10}:00'}}\n"
        f"  actions: [{{event: fired, event_data: {{i: {i}}}}}]\n"
        for i in range(300)
    )
    (hub.config_dir / "rules.yaml").write_text(many, encoding="utf-8")
    await manager(hub).async_reload()
    counts = hub.bus.listener_counts()
    assert counts.get("state_changed", 0) == base.get("state_changed", 0)  # one, from the start
    assert all(counts.get(f"type{k}") == 1 for k in range(3))
    assert len(manager(hub).index.scheduler) == 300
    fired = record(hub, "fired")
    hub.states.async_set("sensor.s123", "on")
    hub.states.async_set("sensor.unwatched", "on")
    await manager(hub).async_wait_idle()
    assert fired == [{"i": 123}]
    (hub.config_dir / "rules.yaml").write_text("", encoding="utf-8")
    await manager(hub).async_reload()
    assert all(f"type{k}" not in hub.bus.listener_counts() for k in range(3))
    assert len(manager(hub).index.scheduler) == 0
