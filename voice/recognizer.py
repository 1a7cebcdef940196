"""Intent recognition: hassil templates (data files per language) matched against text."""

from __future__ import annotations

import itertools
import logging
import re
import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from hassil import Intents, RecognizeResult, recognize_all
from hassil.expression import ListReference
from hassil.intents import SlotList, TextSlotList

from .library import canonical_language, load_library

_LOGGER = logging.getLogger(__name__)
_CJK = re.compile(r"[\u3400-\u9fff]")
# Recognisers built at start; any other language HA ships is loaded on first use.
LANGUAGES = ("en", "zh-CN", "zh-TW", "zh-HK")
_CHINESE = ("zh-CN", "zh-TW", "zh-HK")
_MAX_CANDIDATES = 64


@dataclass(frozen=True)
class IntentMatch:
    """A recognised intent and its slot values (entity ids, area ids, numbers, words)."""

    intent: str
    slots: dict[str, Any] = field(default_factory=dict)
    language: str = "en"
    text: str = ""
    seconds: float = 0.0
    texts: dict[str, str] = field(default_factory=dict)  # what was said for each slot
    response: str | None = None  # HA's reply template key for this sentence
    context_area: str | None = None  # the asking satellite's area, when known


def detect_language(text: str) -> str:
    """Chinese (zh-CN) when the text has CJK characters, else English."""
    return "zh-CN" if _CJK.search(text) else "en"


def candidate_languages(text: str) -> tuple[str, ...]:
    """Languages to try for text of unknown language, most likely first."""
    return _CHINESE if _CJK.search(text) else ("en",)


def normalize(text: str, language: str) -> str:
    """Text as the templates expect it: no trailing punctuation, single spaces, lower case."""
    text = text.strip().rstrip("。.!?！？")
    return " ".join(text.lower().split())


@cache
def load_intents(language: str) -> Intents:
    """HA's templates plus Hearth's own for a language (cached: they are package data)."""
    return load_library(canonical_language(language)).intents


def referenced_lists(intents: Intents) -> set[str]:
    """Names of every slot list the templates use."""
    names: set[str] = set()
    for intent in intents.intents.values():
        for data in intent.data:
            for sentence in data.sentences:
                names.update(_list_names(sentence.expression, intents))
    return names


def _list_names(expr: Any, intents: Intents) -> set[str]:
    if isinstance(expr, ListReference):
        return {expr.list_name}
    items = getattr(expr, "items", None)
    if items is not None:
        out: set[str] = set()
        for item in items:
            out |= _list_names(item, intents)
        return out
    rule_name = getattr(expr, "rule_name", None)
    if rule_name and rule_name in intents.expansion_rules:
        return _list_names(intents.expansion_rules[rule_name].expression, intents)
    return set()


class IntentRecognizer:
    """Matches text against one language's templates and the home's slot lists."""

    def __init__(self, language: str, intents: Intents | None = None) -> None:
        self.language = canonical_language(language)
        self.intents = intents or load_intents(language)
        self._needed = referenced_lists(self.intents)
        self.slot_lists: dict[str, SlotList] = {}
        self.set_slot_lists({})

    def set_slot_lists(self, slot_lists: dict[str, SlotList]) -> None:
        """Use the home's lists; lists the home has nothing for match nothing."""
        empty = {
            name: TextSlotList(name=name, values=[])
            for name in self._needed
            if name not in self.intents.slot_lists
        }
        self.slot_lists = {**empty, **slot_lists}

    def recognize(
        self, text: str, context_area: tuple[str, str] | None = None
    ) -> IntentMatch | None:
        """Best match for `text`, or None when no template fits.

        `context_area` is (area id, area name) of the asking satellite, for "in here".
        """
        started = time.perf_counter()
        clean = normalize(text, self.language)
        if not clean:
            return None
        context = None
        if context_area is not None:
            context = {"area": {"value": context_area[0], "text": context_area[1]}}
        try:
            candidates = itertools.islice(
                recognize_all(
                    clean,
                    self.intents,
                    slot_lists=self.slot_lists,
                    language=self.language,
                    intent_context=context,
                ),
                _MAX_CANDIDATES,
            )
            result = max(candidates, key=_rank, default=None)
        except Exception:  # hassil on odd input must not take the pipeline down
            _LOGGER.exception("intent matching failed for %r", clean)
            return None
        if result is None:
            return None
        slots = {name: ent.value for name, ent in result.entities.items()}
        texts = {name: str(ent.text).strip() for name, ent in result.entities.items()}
        return IntentMatch(
            result.intent.name,
            slots,
            self.language,
            clean,
            time.perf_counter() - started,
            texts,
            result.response,
            None if context_area is None else context_area[0],
        )


def _rank(result: RecognizeResult) -> tuple[int, int, int, int, int]:
    """Prefer the shopping list's own intents over the same words read as a to-do list's
    name, then a named entity over a room ("kitchen light" is that light, not every light in
    the kitchen), then the template that matched the most literal text, then fewer
    wildcard words (a list item should not swallow a name), then HA's own templates."""
    shopping = int(result.intent.name.startswith("HassShoppingList"))
    named = sum(
        1
        for name, ent in result.entities.items()
        if (name == "name" or name.endswith("_name")) and not ent.is_wildcard
    )
    wild = sum(len(str(e.text)) for e in result.entities.values() if e.is_wildcard)
    own = 0 if result.intent.name.startswith("Hearth") else 1
    return (shopping, named, result.text_chunks_matched, -wild, own)
