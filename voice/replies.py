"""Reply sentences in the language of the request, from per-language data files."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cache
from typing import Any

import yaml

from .ha_responses import OWN_LANGUAGES, ErrorAnswer, render_error
from .library import canonical_language
from .vocabulary import INTENTS_DIR

_LOGGER = logging.getLogger(__name__)
# Hearth's replies that HA's library also has, as its error keys: in a language Hearth has no
# reply file of its own, HA's text in that language is said instead.
_HA_ERRORS = {"no_match": "no_intent"}


@cache
def _data(directory: str) -> dict[str, Any]:
    path = INTENTS_DIR / directory / "replies.yaml"
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    return dict(data)


def _templates(language: str) -> dict[str, str]:
    directory = _reply_dir(language)
    return {str(k): str(v) for k, v in _data(directory)["replies"].items()}


def _reply_dir(language: str) -> str:
    """Hearth's reply file for a language: Chinese variants share zh, the rest English."""
    lang = language.lower()
    return "zh" if lang == "zh" or lang.startswith("zh-") else "en"


def state_name(state: str, language: str) -> str:
    """A state in the request's language ("on" -> "开着"); unknown states stay as they are."""
    states = _data(_reply_dir(language)).get("states") or {}
    return str(states.get(state, state))


def reply(key: str, language: str, **values: Any) -> str:
    """Render the reply `key`; falls back to English if a language lacks the key."""
    ha_key = _HA_ERRORS.get(key)
    if ha_key is not None and canonical_language(language) not in OWN_LANGUAGES:
        text = render_error(ErrorAnswer(ha_key), language)
        if text:
            return text
    templates = _templates(language)
    template = templates.get(key) or _templates("en").get(key, key)
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        _LOGGER.warning("reply %r in %s missing values %s", key, language, sorted(values))
        return template


def join_names(names: Sequence[str], language: str) -> str:
    """'a, b and c' (or the Chinese equivalent)."""
    if len(names) <= 1:
        return "".join(names)
    sep, last = reply("join", language), reply("and", language)
    return sep.join(names[:-1]) + last + names[-1]


def duration(seconds: float, language: str) -> str:
    """A spoken duration: '1 hour 5 minutes', '1 minute', '30 seconds'."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(
            reply("one_hour", language) if hours == 1 else reply("hours", language, n=hours)
        )
    if minutes:
        parts.append(
            reply("one_minute", language) if minutes == 1 else reply("minutes", language, n=minutes)
        )
    if secs or not parts:
        parts.append(reply("seconds", language, n=secs))
    return ("" if _reply_dir(language) == "zh" else " ").join(parts)
