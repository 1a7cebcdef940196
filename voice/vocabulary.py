"""What the home's entities and rooms are called: the slot lists a closed grammar is built from."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hassil.intents import SlotList, TextSlotList

INTENTS_DIR = Path(__file__).parent / "intents"
_CJK = re.compile(r"[\u3400-\u9fff]")
# "the front door" means the lock; "the kitchen" would not mean the kitchen light.
_REDUNDANT_SUFFIX = ("lock",)

# Which slot list an entity appears in, by domain. {name} holds what can be switched on/off.
DOMAIN_LISTS: Mapping[str, tuple[str, ...]] = {
    "light": ("name", "light_name"),
    "switch": ("name",),
    "fan": ("name",),
    "climate": ("climate_name",),
    "lock": ("lock_name",),
    "cover": ("cover_name",),
    "vacuum": ("vacuum_name",),
    "sensor": ("sensor_name",),
    "binary_sensor": ("sensor_name",),
}


@dataclass(frozen=True)
class SpokenEntity:
    """An entity as a speaker refers to it."""

    entity_id: str
    domain: str
    names: tuple[str, ...]
    area_id: str | None = None


@dataclass(frozen=True)
class SpokenArea:
    """A room and the names it goes by."""

    area_id: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class HomeVocabulary:
    """Entities and areas of one home, plus the revision it was read at."""

    entities: tuple[SpokenEntity, ...] = ()
    areas: tuple[SpokenArea, ...] = ()
    revision: int = 0
    _zh_words: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    # Sentences rules listen for ("movie time"): heard as themselves, acted on by the rules.
    phrases: tuple[str, ...] = ()

    def slot_lists(self, language: str) -> dict[str, SlotList]:
        """hassil slot lists for `language`: names map to entity ids, rooms to area ids."""
        pairs: dict[str, list[tuple[str, str]]] = {}
        for ent in self.entities:
            for list_name in DOMAIN_LISTS.get(ent.domain, ()):
                for name in self._spoken(_with_short_forms(ent), language):
                    pairs.setdefault(list_name, []).append((name, ent.entity_id))
        for area in self.areas:
            for name in self._spoken(area.names, language):
                pairs.setdefault("area", []).append((name, area.area_id))
        for phrase in self.phrases:
            if bool(_CJK.search(phrase)) == (language == "zh"):
                spoken = phrase.replace(" ", "") if language == "zh" else phrase
                pairs.setdefault("rule_phrase", []).append((spoken, phrase))
        return {
            key: TextSlotList.from_tuples(sorted(set(values)), allow_template=False, name=key)
            for key, values in pairs.items()
        }

    def entity(self, entity_id: str) -> SpokenEntity | None:
        return next((e for e in self.entities if e.entity_id == entity_id), None)

    def area(self, area_id: str) -> SpokenArea | None:
        return next((a for a in self.areas if a.area_id == area_id), None)

    def display_name(self, item_id: str, language: str) -> str:
        """The first name of an entity or area in `language` (for replies)."""
        item: SpokenEntity | SpokenArea | None = self.entity(item_id) or self.area(item_id)
        if item is None:
            return item_id.split(".", 1)[-1].replace("_", " ")
        spoken = self._spoken(item.names, language)
        return spoken[0] if spoken else item.names[0]

    def _spoken(self, names: Iterable[str], language: str) -> list[str]:
        out: list[str] = []
        for raw in names:
            name = " ".join(raw.lower().replace("_", " ").split())
            is_zh = bool(_CJK.search(name))
            if language == "zh":
                if is_zh:
                    out.append(name.replace(" ", ""))
                elif (translated := translate_zh(name, self._zh_words)) is not None:
                    out.append(translated)
            elif not is_zh and name:
                out.append(name)
        return list(dict.fromkeys(out))


def _with_short_forms(ent: SpokenEntity) -> tuple[str, ...]:
    """Add "front door" for "Front door lock": people do not say the domain twice."""
    short = []
    for name in ent.names:
        words = name.split()
        if ent.domain in _REDUNDANT_SUFFIX and len(words) > 1 and words[-1].lower() == ent.domain:
            short.append(" ".join(words[:-1]))
    return (*ent.names, *short)


def translate_zh(name: str, words: Mapping[str, str]) -> str | None:
    """Word-by-word Chinese for an English name when every word is known ("kitchen light")."""
    parts = name.split()
    if not parts:
        return None
    # Longest known phrase first, so "living room" beats "living".
    out: list[str] = []
    i = 0
    while i < len(parts):
        for j in range(len(parts), i, -1):
            phrase = " ".join(parts[i:j])
            if phrase in words:
                out.append(words[phrase])
                i = j
                break
        else:
            return None
    return "".join(out)


def load_zh_words() -> dict[str, str]:
    """The English→Chinese word table used to give English device names a Chinese form."""
    path = INTENTS_DIR / "zh" / "names.yaml"
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return {str(k).lower(): str(v) for k, v in (data or {}).get("words", {}).items()}


def build_vocabulary(
    entities: Iterable[SpokenEntity],
    areas: Iterable[SpokenArea],
    revision: int = 0,
    phrases: Iterable[str] = (),
) -> HomeVocabulary:
    """Assemble a vocabulary (with the Chinese word table loaded)."""
    return HomeVocabulary(
        tuple(entities), tuple(areas), revision, load_zh_words(), tuple(sorted(set(phrases)))
    )
