"""Replies from Home Assistant's own response templates, in the language of the request.

`home-assistant-intents` ships, for every language it supports, Jinja2 reply templates per
intent and response key (`responses.intents[HassTurnOn][lights_area]`) and error replies
(`responses.errors[no_intent]`). This module renders them in a sandbox with the context HA's
templates expect:

- `slots`: the recognised slots (entity, area and floor names in the request's language; numbers
  as they were said), plus `date`/`time` for the date and time intents;
- `state`: the first matched (else unmatched) entity, with `name`, `domain`, `entity_id`,
  `state` (in the request's language), `state_with_unit` and `attributes`;
- `query.matched` / `query.unmatched`: the entities that did / did not fit a question;
- `state_attr(entity_id, attribute)`.

The context is built by the planner from what it found and what it acts on; the pipeline uses
it only when every action succeeded. A template that is missing, fails or renders nothing
returns None, so the caller falls back to Hearth's own reply (logged once per template).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

import home_assistant_intents
from hassil.expression import Alternative, Expression, Group, TextChunk
from hassil.parse_expression import parse_sentence
from jinja2 import StrictUndefined, Template
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .library import canonical_language, load_library

_LOGGER = logging.getLogger(__name__)
# Languages Hearth writes its own replies in (voice/intents/en, and voice/intents/zh for zh-CN):
# they keep Hearth's state words and refusals; every other language takes HA's.
OWN_LANGUAGES = frozenset({"en", "zh-CN"})
# Which of HA's state lists names a domain's states in a language (first spoken form wins).
_STATE_LISTS: Mapping[str, tuple[str, ...]] = {
    "cover": ("cover_states",),
    "lock": ("lock_states",),
    "binary_sensor": ("bs_open_states", "bs_occupancy_states"),
}
_OCCUPANCY_CLASSES = frozenset({"occupancy", "motion", "presence"})
_NONE = re.compile(r"(?<![A-Za-z])None(?![A-Za-z])")
_failed: set[tuple[str, str, str]] = set()


@dataclass(frozen=True)
class TemplateState:
    """One entity as HA's reply templates see it (`state`, `query.matched[i]`)."""

    entity_id: str
    name: str
    state: str  # in the request's language where a translation is known
    attributes: Mapping[str, Any] = field(default_factory=dict)
    hass_state: str = ""  # the raw state ("on"), as HA's test harness also offers it

    @property
    def domain(self) -> str:
        return self.entity_id.split(".", 1)[0]

    @property
    def object_id(self) -> str:
        return self.entity_id.split(".", 1)[-1]

    @property
    def state_with_unit(self) -> str:
        unit = self.attributes.get("unit_of_measurement")
        return f"{self.state} {unit}" if unit else self.state

    def __str__(self) -> str:
        return self.state


@dataclass(frozen=True)
class Answer:
    """What a successful plan tells HA's template for its intent and response key."""

    intent: str
    response: str
    slots: Mapping[str, Any] = field(default_factory=dict)
    matched: tuple[TemplateState, ...] = ()
    unmatched: tuple[TemplateState, ...] = ()


@dataclass(frozen=True)
class ErrorAnswer:
    """One of HA's error replies (`no_entity`, `no_domain_in_area`, ...) and its values."""

    key: str
    values: Mapping[str, Any] = field(default_factory=dict)


# -- environment ------------------------------------------------------------------------------


@cache
def environment() -> ImmutableSandboxedEnvironment:
    """A sandbox with the filters and tests HA's reply templates use.

    A scan of every language's templates finds the filters length, list, join, sort,
    capitalize, int, string, map, select, count, replace, trim, lower, float, abs, default,
    selectattr, rejectattr, round, last, first, title and reject, the tests defined, none,
    number and in, and the globals namespace and state_attr (given per render). All but
    state_attr are Jinja2 built-ins, with the semantics HA's template tests render them with
    (`"五十" | int` is 0, which the Chinese templates rely on; `float(default)` returns the
    default). Undefined names raise, so a template needing what Hearth lacks falls back.
    """
    return ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


# -- rendering --------------------------------------------------------------------------------


def intent_template(language: str, intent: str, response: str) -> str | None:
    """HA's reply template for an intent and response key in `language`, if it ships one."""
    try:
        lib = load_library(canonical_language(language))
    except ValueError:
        return None
    template = lib.responses.get(intent, {}).get(response)
    return None if template is None else str(template)


def error_template(language: str, key: str) -> str | None:
    """HA's error reply template `key` in `language`, if it ships one."""
    try:
        lib = load_library(canonical_language(language))
    except ValueError:
        return None
    template = lib.errors.get(key)
    return None if template is None else str(template)


def render_answer(answer: Answer, language: str) -> str | None:
    """HA's reply for a successful plan, or None (no template, render error, empty text)."""
    template = intent_template(language, answer.intent, answer.response)
    if template is None:
        return None
    states = (*answer.matched, *answer.unmatched)
    first = states[0] if states else None
    context = {
        "slots": dict(answer.slots),
        "state": first,
        "query": {
            "matched": list(answer.matched),
            "unmatched": list(answer.unmatched),
            "total_results": len(states),
        },
        "state_attr": _state_attr(states),
    }
    return _render(template, context, (language, answer.intent, answer.response))


def render_error(error: ErrorAnswer, language: str) -> str | None:
    """HA's error reply in `language`, or None when it has none or it does not render."""
    template = error_template(language, error.key)
    if template is None:
        return None
    return _render(template, dict(error.values), (language, "errors", error.key))


def _render(template: str, context: dict[str, Any], key: tuple[str, str, str]) -> str | None:
    try:
        text = _compiled(template).render(context)
    except Exception as err:  # any template error: Hearth's own reply instead
        _log_once(key, f"{type(err).__name__}: {err}")
        return None
    text = " ".join(str(text).split())
    if not text:
        # HA answers some intents (HassNevermind) with silence; a voice hub says its own "OK".
        _log_once(key, "renders no text", logging.DEBUG)
        return None
    if _NONE.search(text):
        # A lookup missed (`translations.get(state.domain)`): never say "Turned on None".
        _log_once(key, f"rendered a missing value: {text!r}")
        return None
    return text


@lru_cache(maxsize=1024)
def _compiled(template: str) -> Template:
    return environment().from_string(template)


def _log_once(key: tuple[str, str, str], why: str, level: int = logging.WARNING) -> None:
    if key in _failed:
        return
    _failed.add(key)
    _LOGGER.log(level, "HA reply template %s/%s/%s not used (%s)", *key, why)


def _state_attr(states: Sequence[TemplateState]) -> Callable[[str, str], Any]:
    def state_attr(entity_id: str, attribute: str) -> Any:
        for state in states:
            if state.entity_id == entity_id:
                return state.attributes.get(attribute)
        return None

    return state_attr


# -- state words ------------------------------------------------------------------------------


def state_word(
    raw: str, domain: str, device_class: str | None, language: str, own: Callable[[str], str]
) -> str:
    """A state as a word of the request's language.

    English and Simplified Chinese keep Hearth's own words (`own`); every other language
    takes the first spoken form HA's sentence library gives for that state ("on" -> "an" in
    German, "開啟" in Traditional Chinese). States no list names stay as they are (numbers).
    """
    lang = canonical_language(language)
    if lang in OWN_LANGUAGES:
        return own(raw)
    words = _state_words(lang)
    for list_name in _lists_for(domain, device_class):
        word = words.get(list_name, {}).get(raw)
        if word:
            return word
    return raw


def _lists_for(domain: str, device_class: str | None) -> tuple[str, ...]:
    if domain == "binary_sensor":
        if device_class in _OCCUPANCY_CLASSES:
            return ("bs_occupancy_states", "bs_open_states")
        return _STATE_LISTS["binary_sensor"]
    return (*_STATE_LISTS.get(domain, ()), "on_off_states")


@cache
def _state_words(language: str) -> dict[str, dict[str, str]]:
    """{list name: {state: first spoken form}} for the state lists of HA's library."""
    data = home_assistant_intents.get_intents(language) or {}
    out: dict[str, dict[str, str]] = {}
    for name, body in (data.get("lists") or {}).items():
        if not name.endswith("_states") or not isinstance(body, dict):
            continue
        words: dict[str, str] = {}
        for value in body.get("values") or []:
            if not isinstance(value, dict) or "in" not in value or "out" not in value:
                continue
            spoken = _first_form(str(value["in"]))
            if spoken and str(value["out"]) not in words:
                words[str(value["out"])] = spoken
        out[name] = words
    return out


def _first_form(template: str) -> str:
    """The plainest text a template stands for: first alternatives, optional parts left out."""
    try:
        expression = parse_sentence(template).expression
    except Exception:  # a malformed list entry only costs a translation
        return ""
    return " ".join(_walk(expression).split())


def _walk(expression: Expression) -> str:
    if isinstance(expression, TextChunk):
        return expression.text
    if isinstance(expression, Alternative):
        if expression.is_optional or not expression.items:
            return ""
        return _walk(expression.items[0])
    if isinstance(expression, Group):
        return "".join(_walk(item) for item in expression.items)
    return ""
