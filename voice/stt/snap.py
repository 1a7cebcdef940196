"""Snap a free transcript onto the grammar: spell it like the grammar, find the nearest sentence.

Sentences come from `voice.grammar.sample_phrases` (the same templates and home the grammar is
compiled from), so the snap follows the grammar as it grows. Distances are over words: each
word of the vocabulary becomes one character, and rapidfuzz's C Levenshtein compares them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from ..grammar import number_words, tokenize

_NUMBER = re.compile(r"(?<![\w.])(-?)(\d+(?:\.\d+)?)(\s*%|\s*°)?")
_HYPHEN = re.compile(r"(?<=[^\W\d_])-(?=[^\W\d_])")
_UNIT = {"%": " percent", "°": " degrees"}


@dataclass(frozen=True)
class Snap:
    """The nearest grammar sentence and how many words differ."""

    sentence: str
    distance: int
    words: int

    @property
    def rate(self) -> float:
        """Word edits per word of the snapped sentence."""
        return self.distance / max(self.words, 1)


def spell(text: str, language: str = "en") -> str:
    """Whisper's text as the grammar spells it: '22°' -> 'twenty two degrees'."""

    def number(match: re.Match[str]) -> str:
        sign, digits, unit = match.group(1), match.group(2), (match.group(3) or "").strip()
        value = float(digits) if "." in digits else int(digits)
        words = number_words(value, language)
        return ("minus " if sign else "") + words + _UNIT.get(unit, "")

    words = _HYPHEN.sub(" ", text)  # "twenty-two" -> "twenty two"; "-20" stays a sign
    return " ".join(tokenize(_NUMBER.sub(number, words)))


_NUMBER_WORDS = frozenset(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty "
    "ninety hundred thousand minus point half quarter".split()
)


def numbers(text: str) -> list[str]:
    """The number words of a spelled sentence, in order."""
    return [w for w in text.split() if w in _NUMBER_WORDS]


def char_rate(a: str, b: str) -> float:
    """Character edits per character of the longer text (0 same, 1 nothing alike)."""
    return float(Levenshtein.normalized_distance(a, b))


def word_distance(a: str, b: str) -> int:
    """Levenshtein distance over words."""
    codes: dict[str, str] = {}
    return Levenshtein.distance(_encode(a.split(), codes), _encode(b.split(), codes))


class Snapper:
    """Nearest-sentence lookup over a fixed set of grammar sentences."""

    def __init__(self, sentences: Iterable[str]) -> None:
        self._codes: dict[str, str] = {}
        self.sentences = list(dict.fromkeys(s for s in sentences if s))
        self._encoded = [_encode(s.split(), self._codes) for s in self.sentences]
        # The same sentences with each run of number words as one '#': a sample holds "set the
        # freezer to minus five degrees" but rarely the number that was said, so the shape is
        # found first and the heard numbers are put back (`candidates`).
        self._shapes = list(dict.fromkeys(_shape(s)[0] for s in self.sentences))
        self._shape_codes: dict[str, str] = {}
        self._shape_encoded = [_encode(s.split(), self._shape_codes) for s in self._shapes]

    def __len__(self) -> int:
        return len(self.sentences)

    def nearest(self, text: str) -> Snap | None:
        """The closest sentence to `text` (already spelled), or None for an empty grammar."""
        if not self._encoded:
            return None
        query = _encode(text.split(), self._codes, grow=False)
        found = process.extractOne(query, self._encoded, scorer=Levenshtein.distance)
        if found is None:
            return None
        _choice, distance, index = found
        sentence = self.sentences[index]
        return Snap(sentence, int(distance), len(sentence.split()))

    def candidates(self, text: str, limit: int = 2) -> list[str]:
        """Up to `limit` nearest sentences in words, `limit` in letters ("and lock the front
        door" is one word from "lock the front door" but fewer letters from "unlock the front
        door"), then up to `limit` nearest sentence shapes filled with the numbers heard in
        `text` (not checked against the grammar: the caller does)."""
        found: list[str] = []
        if not self._encoded or not text:
            return found
        query = _encode(text.split(), self._codes, grow=False)
        for _choice, _distance, index in process.extract(
            query, self._encoded, scorer=Levenshtein.distance, limit=limit
        ):
            found.append(self.sentences[index])
        for _choice, _distance, index in process.extract(
            text, self.sentences, scorer=Levenshtein.distance, limit=limit
        ):
            found.append(self.sentences[index])
        shape, runs = _shape(text)
        query = _encode(shape.split(), self._shape_codes, grow=False)
        for _choice, _distance, index in process.extract(
            query, self._shape_encoded, scorer=Levenshtein.distance, limit=limit
        ):
            words = self._shapes[index].split()
            if words.count(_NUMBER_RUN) == len(runs):
                heard = iter(runs)
                found.append(" ".join(next(heard) if w == _NUMBER_RUN else w for w in words))
        return list(dict.fromkeys(found))


_NUMBER_RUN = "#"


def _shape(text: str) -> tuple[str, list[str]]:
    """'set it to twenty one degrees' -> ('set it to # degrees', ['twenty one'])."""
    words: list[str] = []
    runs: list[list[str]] = []
    for word in text.split():
        if word in _NUMBER_WORDS:
            if not words or words[-1] != _NUMBER_RUN:
                words.append(_NUMBER_RUN)
                runs.append([])
            runs[-1].append(word)
        else:
            words.append(word)
    return " ".join(words), [" ".join(run) for run in runs]


def _encode(words: list[str], codes: dict[str, str], grow: bool = True) -> str:
    """One private-use character per word (unknown query words map to a shared 'other')."""
    out = []
    for word in words:
        code = codes.get(word)
        if code is None:
            if not grow:
                out.append("\uf8ff")
                continue
            code = chr(0xF0000 + len(codes))
            codes[word] = code
        out.append(code)
    return "".join(out)
