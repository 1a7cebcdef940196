"""Compile hassil intent templates plus the home's slot lists into a closed-vocabulary grammar.

The same templates drive intent recognition, so the recogniser can only hear sentences that
the intent matcher understands. JSGF feeds pocketsphinx; a phrase list feeds vosk.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hassil import Intents
from hassil.expression import (
    Alternative,
    Expression,
    Group,
    ListReference,
    Permutation,
    RuleReference,
    Sentence,
    TextChunk,
)
from hassil.intents import RangeSlotList, SlotList, TextSlotList, WildcardSlotList
from hassil.numbers import get_rbnf_engine
from hassil.sample import sample_intents

_LOGGER = logging.getLogger(__name__)
_NON_WORD = re.compile(r"[^\w']+")
_MAX_PERMUTATION = 4
_MAX_PHRASES = 20000


@dataclass(frozen=True)
class Grammar:
    """A compiled grammar: JSGF text, its vocabulary, and words that had to be dropped."""

    language: str
    jsgf: str
    words: frozenset[str]
    missing_words: frozenset[str]


def tokenize(text: str) -> list[str]:
    """Lower-case words as the recogniser spells them ("Kitchen-Light!" -> kitchen light)."""
    return [w.strip("'") for w in _NON_WORD.split(text.lower()) if w.strip("'")]


def number_words(value: int | float, language: str) -> str:
    """Spell a number the way a speaker says it ("twenty one")."""
    text = get_rbnf_engine(language).format_number(value).text
    return " ".join(tokenize(text.replace("-", " "))) if language == "en" else text


def compile_jsgf(
    intents: Intents,
    slot_lists: dict[str, SlotList],
    language: str = "en",
    is_known_word: Callable[[str], bool] | None = None,
) -> Grammar:
    """Build one JSGF grammar accepting every sentence of every intent."""
    compiler = _JsgfCompiler(intents, slot_lists, language, is_known_word)
    return compiler.compile()


def sample_phrases(
    intents: Intents, slot_lists: dict[str, SlotList], language: str, limit: int = _MAX_PHRASES
) -> list[str]:
    """Enumerate sentences of the grammar (for engines that take a phrase list, e.g. vosk)."""
    phrases: list[str] = []
    seen: set[str] = set()
    sampled = sample_intents(intents, slot_lists=slot_lists, language=language)
    for _intent, text in itertools.islice(sampled, limit * 4):
        phrase = " ".join(tokenize(text)) if language == "en" else text.strip()
        if phrase and phrase not in seen:
            seen.add(phrase)
            phrases.append(phrase)
            if len(phrases) >= limit:
                _LOGGER.warning("phrase list capped at %d sentences", limit)
                break
    return phrases


class _JsgfCompiler:
    def __init__(
        self,
        intents: Intents,
        slot_lists: dict[str, SlotList],
        language: str,
        is_known_word: Callable[[str], bool] | None,
    ) -> None:
        self.intents = intents
        self.lists = {**intents.slot_lists, **slot_lists}
        self.rules = intents.expansion_rules
        self.language = language
        self.is_known = is_known_word or (lambda _w: True)
        self.words: set[str] = set()
        self.missing: set[str] = set()
        self.defs: dict[str, str | None] = {}

    def compile(self) -> Grammar:
        bodies: list[str] = []
        for intent in self.intents.intents.values():
            for data in intent.data:
                for sentence in data.sentences:
                    body = self.expr(sentence.expression)
                    if body:
                        bodies.append(body)
        unique = sorted(set(bodies))
        lines = ["#JSGF V1.0;", "grammar hearth;"]
        lines += [f"<{name}> = {body};" for name, body in sorted(self.defs.items()) if body]
        lines.append("public <command> = " + " | ".join(f"( {b} )" for b in unique) + ";")
        if self.missing:
            _LOGGER.warning("words without a pronunciation left out: %s", sorted(self.missing))
        return Grammar(
            self.language, "\n".join(lines) + "\n", frozenset(self.words), frozenset(self.missing)
        )

    def expr(self, e: Expression) -> str | None:
        """JSGF for an expression; '' means 'matches nothing spoken', None means impossible."""
        if isinstance(e, TextChunk):
            return self.text(e.text)
        if isinstance(e, ListReference):
            return self.list_ref(e.list_name)
        if isinstance(e, RuleReference):
            return self.rule_ref(e.rule_name)
        if isinstance(e, Permutation):
            return self.alternatives(
                _permute(e.items) if len(e.items) <= _MAX_PERMUTATION else [e.items]
            )
        if isinstance(e, Alternative):
            return self.alternatives([[item] for item in e.items])
        if isinstance(e, Group):
            return self.sequence(e.items)
        raise TypeError(f"unknown template expression {e!r}")

    def text(self, text: str) -> str | None:
        words = tokenize(text)
        for word in words:
            if not self.is_known(word):
                self.missing.add(word)
                return None
        self.words.update(words)
        return " ".join(words)

    def sequence(self, items: Iterable[Expression]) -> str | None:
        parts = []
        for item in items:
            part = self.expr(item)
            if part is None:
                return None
            if part:
                parts.append(part)
        return " ".join(parts)

    def alternatives(self, options: Iterable[Iterable[Expression]]) -> str | None:
        compiled = [self.sequence(items) for items in options]
        possible = sorted({c for c in compiled if c is not None})
        if not possible:
            return None
        spoken = [c for c in possible if c]
        if not spoken:
            return ""
        body = " | ".join(spoken)
        return f"[ {body} ]" if len(spoken) < len(possible) else f"( {body} )"

    def rule_ref(self, name: str) -> str | None:
        key = "r_" + _safe(name)
        if key not in self.defs:
            self.defs[key] = None  # guards against recursive rules
            rule = self.rules.get(name)
            if rule is None:
                _LOGGER.warning("template uses unknown rule <%s>", name)
                return None
            self.defs[key] = self.expr(rule.expression)
        body = self.defs[key]
        if body is None:
            return None
        return f"<{key}>" if body else ""

    def list_ref(self, name: str) -> str | None:
        key = "l_" + _safe(name)
        if key not in self.defs:
            self.defs[key] = self.slot_list(name)
        body = self.defs[key]
        return f"<{key}>" if body else None

    def slot_list(self, name: str) -> str | None:
        slot_list = self.lists.get(name)
        if slot_list is None:
            return None  # an empty home: templates naming e.g. a lock simply drop out
        options: list[str | None] = []
        if isinstance(slot_list, TextSlotList):
            for value in slot_list.values:
                text_in = value.text_in
                if isinstance(text_in, Sentence):
                    options.append(self.expr(text_in.expression))
                else:
                    options.append(self.expr(text_in))
        elif isinstance(slot_list, RangeSlotList):
            for number in slot_list.get_numbers():
                options.append(self.text(number_words(number, self.language)))
        elif isinstance(slot_list, WildcardSlotList):
            _LOGGER.warning("wildcard list {%s} cannot be spoken in a closed grammar", name)
            return None
        spoken = sorted({o for o in options if o})
        return " | ".join(spoken) if spoken else None


def _permute(items: list[Expression]) -> list[list[Expression]]:
    return [list(p) for p in itertools.permutations(items)]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)
