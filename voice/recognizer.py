"""Intent recognition: hassil templates (data files per language) matched against text."""

from __future__ import annotations

import itertools
import logging
import re
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from hassil import Intents, RecognizeResult, recognize_all
from hassil.expression import ListReference
from hassil.intents import SlotList, TextSlotList

from .vocabulary import INTENTS_DIR

_LOGGER = logging.getLogger(__name__)
_CJK = re.compile(r"[\u3400-\u9fff]")
LANGUAGES = ("en", "zh")
_MAX_CANDIDATES = 32


@dataclass(frozen=True)
class IntentMatch:
    """A recognised intent and its slot values (entity ids, area ids, numbers, words)."""

    intent: str
    slots: dict[str, Any] = field(default_factory=dict)
    language: str = "en"
    text: str = ""
    seconds: float = 0.0


def detect_language(text: str) -> str:
    """Chinese when the text has CJK characters, else English."""
    return "zh" if _CJK.search(text) else "en"


def normalize(text: str, language: str) -> str:
    """Spoken-form text: '%' as a word, no trailing punctuation, lower case."""
    text = text.replace("%", " percent " if language == "en" else "%")
    text = text.strip().rstrip("。.!?！？")
    return " ".join(text.lower().split())


@cache
def load_intents(language: str, directory: Path = INTENTS_DIR) -> Intents:
    """All template files of a language merged (cached: they are package data)."""
    files = sorted((directory / language).glob("*.yaml"))
    files = [f for f in files if f.name != "names.yaml" and f.name != "replies.yaml"]
    if not files:
        raise ValueError(f"no intent templates for language {language!r} in {directory}")
    return Intents.from_files(files)


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

    def __init__(self, language: str) -> None:
        self.language = language
        self.intents = load_intents(language)
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

    def recognize(self, text: str) -> IntentMatch | None:
        """Best match for `text`, or None when no template fits."""
        started = time.perf_counter()
        clean = normalize(text, self.language)
        if not clean:
            return None
        try:
            candidates = itertools.islice(
                recognize_all(
                    clean, self.intents, slot_lists=self.slot_lists, language=self.language
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
        return IntentMatch(
            result.intent.name, slots, self.language, clean, time.perf_counter() - started
        )


def _rank(result: RecognizeResult) -> tuple[int, int]:
    """Prefer a named entity over a room ("kitchen light" is that light, not every light in
    the kitchen), then the template that matched the most literal text."""
    named = sum(1 for name in result.entities if name == "name" or name.endswith("_name"))
    return (named, result.text_chunks_matched)
