"""Topic matching agrees with paho's; templates render what devices need and nothing more."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from paho.mqtt.client import topic_matches_sub

from integrations.mqtt.template import Template, TemplateRenderError
from integrations.mqtt.topic import TopicRouter, filter_matches, valid_filter, valid_topic

_level = st.sampled_from(["a", "b", "", "$SYS", "+", "#", "x y", "ü"])


@given(filter_levels=st.lists(_level, min_size=1, max_size=5),
       topic_levels=st.lists(_level.filter(lambda s: s not in "+#"), min_size=1, max_size=5))  # fmt: skip
def test_matching_agrees_with_paho(filter_levels: list[str], topic_levels: list[str]) -> None:
    topic_filter, topic = "/".join(filter_levels), "/".join(topic_levels)
    if not valid_filter(topic_filter) or not valid_topic(topic):
        return
    assert filter_matches(topic_filter, topic) == topic_matches_sub(topic_filter, topic)


def test_filter_validation() -> None:
    assert valid_filter("a/+/c") and valid_filter("#") and valid_filter("a/#")
    assert not valid_filter("a/#/c") and not valid_filter("a+/b") and not valid_filter("")
    assert valid_topic("a/b") and not valid_topic("a/+") and not valid_topic("a\0b")


def test_router_counts_handlers_per_filter() -> None:
    router: TopicRouter[str] = TopicRouter()
    first, remove_one = router.add("a/b", "one")
    second, remove_two = router.add("a/b", "two")
    _, remove_wild = router.add("a/+", "wild")
    assert first and not second
    assert sorted(router.match("a/b")) == ["one", "two", "wild"]
    assert remove_one() is False and remove_one() is False
    assert remove_two() is True
    assert router.match("a/b") == ["wild"]
    assert remove_wild() is True and router.filters() == []


@pytest.mark.parametrize(
    ("source", "payload", "expected"),
    [
        ("{{ value_json.temperature }}", b'{"temperature": 21.5}', "21.5"),
        ("{{ value_json.POWER1 }}", b'{"POWER1": "ON"}', "ON"),
        ("{{ (value_json.brightness / 254 * 255) | round(0) }}", b'{"brightness": 127}', "128"),
        ("{{ value | float(0) * 2 }}", b"abc", "0"),
        ("{{ value | float(0) * 2 }}", b"2.5", "5.0"),
        ("{{ value_json.contact | iif('closed', 'open') }}", b'{"contact": true}', "closed"),
        ("{% if value_json.state == 'ON' %}on{% else %}off{% endif %}", b'{"state":"ON"}', "on"),
        ("{{ value_json.x | is_defined }}", b'{"x": 5}', "5"),
    ],
)
def test_templates_render(source: str, payload: bytes, expected: str) -> None:
    assert Template(source).render_payload(payload) == expected


@pytest.mark.parametrize(
    "source",
    [
        "{{ ().__class__.__bases__[0].__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ 'x' * 100000000 }}",
        "{{ 10 ** 100000 }}",
        "{{ range(100000000) | list }}",
        "{{ value_json.missing }}",
        "{{ value_json.x | is_defined }}",
        "{{ value | float }}",
        "{{ value_json.items | list }}{% for i in range(200) %}{{ 'y' * 200 }}{% endfor %}",
    ],
)
def test_hostile_or_broken_templates_fail_cleanly(source: str) -> None:
    with pytest.raises(TemplateRenderError):
        Template(source).render_payload(b'{"t": "abc"}')


def test_template_syntax_and_size_are_checked_when_compiled() -> None:
    with pytest.raises(TemplateRenderError):
        Template("{{ value_json.x ")
    with pytest.raises(TemplateRenderError):
        Template("{{ value }}" + " " * 5000)
