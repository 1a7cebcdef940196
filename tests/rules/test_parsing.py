"""Rule files: valid documents parse; every problem names file, line, rule and field."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.rules.cron import parse_cron
from hub.rules.errors import RulesInvalid
from hub.rules.schema import parse_document, parse_single_rule
from hub.rules.timespec import next_time_of_day, parse_duration, parse_time_of_day
from hub.rules.triggers import StateTrigger

FILE = "rules.yaml"


def issues(text: str) -> list[tuple[int | None, str | None, str, str]]:
    with pytest.raises(RulesInvalid) as caught:
        parse_document(textwrap.dedent(text), FILE)
    for issue in caught.value.issues:
        assert issue.file == FILE
    return [(i.line, i.rule, i.field, i.message) for i in caught.value.issues]


def test_a_full_rule_parses_with_its_source_and_line() -> None:
    doc = parse_document(
        textwrap.dedent(
            """\
            # comment
            - id: porch
              name: Porch light
              mode: queued
              max: 3
              triggers:
                - platform: state
                  entity_id: binary_sensor.front_door, binary_sensor.back_door
                  to: on
                  for: 2m
              actions:
                - service: light.turn_on
                  target: {entity_id: light.porch}
            """
        ),
        FILE,
    )
    (rule,) = doc.rules
    assert (rule.id, rule.name, rule.mode, rule.max_runs, rule.line) == (
        "porch",
        "Porch light",
        "queued",
        3,
        2,
    )
    trigger = rule.triggers[0]
    assert isinstance(trigger, StateTrigger)
    assert trigger.entity_ids == ("binary_sensor.front_door", "binary_sensor.back_door")
    assert trigger.to == ("on",)  # YAML's bare `on` is true; read back as the state "on"
    assert trigger.for_ == 120
    assert rule.source.startswith("id: porch\nname: Porch light\n")
    assert "  - service: light.turn_on" in rule.source


def test_errors_name_line_rule_and_field() -> None:
    found = issues(
        """\
        - id: a
          triggers:
            - platform: state
              entity_id: not an id
          actions:
            - delay: soon
        - id: b
          triggers:
            - platform: teleport
          actions:
            - service: light.turn_on
              colour: red
        """
    )
    assert (4, "a", "triggers[0].entity_id", "'not an id' is not an entity id") in found
    assert any(
        line == 6 and rule == "a" and field == "actions[0].delay" for line, rule, field, _ in found
    )
    assert any(
        line == 9 and rule == "b" and field == "triggers[0].platform"
        for line, rule, field, _ in found
    )
    assert any(
        line == 12 and rule == "b" and field == "actions[0].colour"
        for line, rule, field, _ in found
    )


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("- id: x\n  actions: []\n", 1, "actions", "required"),
        ("- name: no id\n  actions: [{delay: 1}]\n", 1, "id", "required"),
        ("- id: x\n  mode: sometimes\n  actions: [{delay: 1}]\n", 2, "mode", "single, restart"),
        ("- id: x\n  max: 0\n  actions: [{delay: 1}]\n", 2, "max", "from 1 to 1000"),
        ("- id: x\n  actions:\n    - notify: '{{ oops'\n", 3, "actions[0].notify", "syntax"),
        ("- id: x\n  actions:\n    - {delay: 1, event: e}\n", 3, "actions[0].event", "one action"),
        (
            "- id: x\n  triggers:\n    - {platform: numeric_state, entity_id: sensor.t}\n"
            "  actions: [{delay: 1}]\n",
            3,
            "triggers[0]",
            "above and/or below",
        ),
        (
            "- id: x\n  triggers:\n    - {platform: schedule, cron: '0 25 * * *'}\n"
            "  actions: [{delay: 1}]\n",
            3,
            "triggers[0].cron",
            "hour: 25",
        ),
        (
            "- id: x\n  triggers:\n    - {platform: schedule, cron: '0 0 31 2 *'}\n"
            "  actions: [{delay: 1}]\n",
            3,
            "triggers[0].cron",
            "never runs",
        ),
        (
            "- id: x\n  triggers:\n    - {platform: mqtt, topic: 'a/#/b'}\n  actions: [{delay: 1}]\n",
            3,
            "triggers[0].topic",
            "not a valid topic filter",
        ),
        (
            "- id: x\n  conditions:\n    - {condition: time, weekday: funday}\n"
            "  actions: [{delay: 1}]\n",
            3,
            "conditions[0].weekday",
            "mon",
        ),
        ("- id: x\n  actions:\n    - scene: nowhere\n", 2, "actions[0]", "no scene named"),
        (
            "- id: x\n  actions:\n    - repeat: {count: 2, while: [], sequence: [{delay: 1}]}\n",
            3,
            "actions[0].repeat",
            "exactly one of",
        ),
    ],
)
def test_each_problem_is_located(text: str, line: int, field: str, words: str) -> None:
    found = issues(text)
    assert any(
        i_line == line and i_field == field and words in message
        for i_line, _, i_field, message in found
    ), found


def test_yaml_syntax_errors_and_duplicates_are_located() -> None:
    assert issues("- id: x\n  actions: [\n")[0][0] is not None
    ((line, _, field, message),) = issues("- id: x\n  id: y\n  actions: [{delay: 1}]\n")
    assert (line, field) == (2, "id") and "duplicate key" in message
    found = issues("- id: x\n  actions: [{delay: 1}]\n- id: x\n  actions: [{delay: 1}]\n")
    assert found == [(3, "x", "id", "duplicate rule id (first on line 1)")]


def test_a_file_with_any_bad_rule_is_rejected_whole() -> None:
    with pytest.raises(RulesInvalid) as caught:
        parse_document(
            "- id: good\n  actions: [{delay: 1}]\n- id: bad\n  actions: [{delay: x}]\n", FILE
        )
    assert [i.rule for i in caught.value.issues] == ["bad"]
    assert "rules.yaml, line 4: rule 'bad': actions[0].delay:" in str(caught.value)


def test_scenes_and_rules_sections() -> None:
    doc = parse_document(
        "scenes:\n  calm:\n    entities:\n      light.a: {state: on, brightness: 10}\n"
        "rules:\n  - id: r\n    actions: [{scene: calm}]\n",
        FILE,
    )
    assert doc.scenes["calm"].targets[0].attributes == (("brightness", 10),)
    assert doc.rules[0].id == "r"
    assert parse_document("", FILE).rules == ()


def test_dashboard_rule_is_one_mapping() -> None:
    config = parse_single_rule("id: d\nactions:\n  - event: hello\n", "dashboard")
    assert config.id == "d"
    with pytest.raises(RulesInvalid) as caught:
        parse_single_rule("- id: d\n", "dashboard")
    assert caught.value.issues[0].file == "dashboard"


def test_equal_rules_compare_equal_regardless_of_position() -> None:
    one = parse_document("- id: a\n  actions: [{event: e, event_data: {n: '{{ 1 }}'}}]\n", FILE)
    two = parse_document("\n\n- id: a\n  actions: [{event: e, event_data: {n: '{{ 1 }}'}}]\n", FILE)
    assert one.rules[0] == two.rules[0] and one.rules[0].line != two.rules[0].line
    three = parse_document("- id: a\n  actions: [{event: e, event_data: {n: '{{ 2 }}'}}]\n", FILE)
    assert one.rules[0] != three.rules[0]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (90, 90),
        ("90s", 90),
        ("2m", 120),
        ("1h30m", 5400),
        ("00:02:00", 120),
        ("1:30", 5400),
        ({"minutes": 2, "seconds": 5}, 125),
        ("250ms", 0.25),
        ("2 minutes", 120),
    ],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "bad", ["soon", "-5", True, None, [], {"weeks": 1}, "2 fortnights", "9999d"]
)
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_signed_duration_for_offsets() -> None:
    assert parse_duration("-00:30:00", signed=True) == -1800


@settings(deadline=None)  # timing varies on a loaded machine; behaviour is what counts
@given(st.integers(min_value=0, max_value=86399))
def test_clock_durations_round_trip(seconds: int) -> None:
    hours, rest = divmod(seconds, 3600)
    assert parse_duration(f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}") == seconds


def test_time_of_day_and_next_occurrence() -> None:
    assert parse_time_of_day("07:30") == time(7, 30)
    assert parse_time_of_day(450) == time(7, 30)  # YAML 1.1 reads a bare 07:30 as 450
    with pytest.raises(ValueError):
        parse_time_of_day("25:00")
    berlin = ZoneInfo("Europe/Berlin")
    after = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    nxt = next_time_of_day(time(2, 30), after, berlin)
    # 02:30 does not exist on 29 March 2026 in Berlin (clocks jump 02:00 -> 03:00).
    assert nxt > after and nxt.astimezone(berlin).hour == 3


@settings(deadline=None)  # timing varies on a loaded machine; behaviour is what counts
@given(
    st.sampled_from(
        ["*/15 * * * *", "0 8-10 * * mon-fri", "30 6 1,15 * *", "@daily", "5 4 * 2 sun"]
    ),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)),
)
def test_cron_next_is_after_and_matches(source: str, naive: datetime) -> None:
    zone = ZoneInfo("Europe/Berlin")
    after = naive.replace(tzinfo=UTC)
    spec = parse_cron(source)
    nxt = spec.next_after(after, zone)
    assert nxt is not None and nxt > after
    assert nxt.minute in spec.minutes and spec.matches_day(nxt.date())
    # Nothing matching lies in between (checked minute by minute over the gap, capped).
    probe = after.astimezone(zone).replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _ in range(min(2000, int((nxt - after).total_seconds() // 60))):
        if probe >= nxt:
            break
        assert (
            not (
                probe.minute in spec.minutes
                and probe.hour in spec.hours
                and spec.matches_day(probe.date())
            )
            or probe <= after
        )
        probe += timedelta(minutes=1)


def test_aliases_are_refused() -> None:
    ((line, _, _, message),) = issues(
        "- id: a\n  actions: &acts [{delay: 1}]\n- id: b\n  actions: *acts\n"
    )
    assert line == 2 and "aliases" in message  # the anchor's line


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    deep = "- id: a\n  actions: [{delay: 1}]\n  variables: {v: " + "[" * 5000 + "]" * 5000 + "}\n"
    assert issues(deep)[0][3] == "nested too deeply"


_YAMLISH = st.text(
    alphabet=st.sampled_from(list("- :{}[]\n'\"#&*!|>%@`abcdeiotnplfrs01234.,{{}}")), max_size=300
)


@settings(deadline=None)  # timing varies on a loaded machine; behaviour is what counts
@given(_YAMLISH)
def test_any_text_is_rules_or_located_errors(text: str) -> None:
    try:
        parse_document(text, FILE)
    except RulesInvalid as err:
        assert err.issues and all(i.file == FILE for i in err.issues)


@settings(deadline=None)  # timing varies on a loaded machine; behaviour is what counts
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "id",
                        "triggers",
                        "actions",
                        "platform",
                        "entity_id",
                        "to",
                        "for",
                        "delay",
                        "service",
                        "condition",
                        "choose",
                        "repeat",
                        "sequence",
                    ]
                ),
                inner,
                max_size=4,
            )
        ),
        max_leaves=20,
    )
)
def test_any_structure_is_rules_or_located_errors(value: object) -> None:
    import yaml

    text = yaml.safe_dump([value])
    try:
        parse_document(text, FILE)
    except RulesInvalid as err:
        assert err.issues
