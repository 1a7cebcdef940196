"""Reply sentences in the language of the request, from per-language data files."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cache
from typing import Any

import yaml

from .vocabulary import INTENTS_DIR

_LOGGER = logging.getLogger(__name__)


@cache
def _templates(language: str) -> dict[str, str]:
    path = INTENTS_DIR / language / "replies.yaml"
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data["replies"].items()}


def reply(key: str, language: str, **values: Any) -> str:
    """Render the reply `key`; falls back to English if a language lacks the key."""
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
    """A spoken duration: '5 minutes', '1 minute', '30 seconds'."""
    whole = round(seconds)
    if whole >= 60 and whole % 60 == 0:
        n = whole // 60
        return reply("one_minute", language) if n == 1 else reply("minutes", language, n=n)
    if whole >= 60:
        return reply("minutes", language, n=round(whole / 60))
    return reply("seconds", language, n=whole)
