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

# Hearth's own templates' per-domain lists; HA's templates use {name} for every entity and
# tell domains apart through the list value's context.
DOMAIN_LISTS: Mapping[str, tuple[str, ...]] = {
    "light": ("light_name",),
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
    device_class: str | None = None


@dataclass(frozen=True)
class SpokenArea:
    """A room and the names it goes by."""

    area_id: str
    names: tuple[str, ...]
    floor_id: str | None = None


@dataclass(frozen=True)
class SpokenFloor:
    """A storey and the names it goes by."""

    floor_id: str
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
    floors: tuple[SpokenFloor, ...] = ()

    def slot_lists(self, language: str) -> dict[str, SlotList]:
        """hassil slot lists for `language`: names map to entity ids (with the entity's domain
        as context, which HA's templates filter on), rooms to area ids, storeys to floor ids."""
        pairs: dict[str, list[tuple[str, str]]] = {}
        named: list[tuple[str, str, dict[str, Any]]] = []
        for ent in self.entities:
            spoken = self._spoken(_with_short_forms(ent), language)
            for list_name in DOMAIN_LISTS.get(ent.domain, ()):
                for name in spoken:
                    pairs.setdefault(list_name, []).append((name, ent.entity_id))
            named += [(name, ent.entity_id, {"domain": ent.domain}) for name in spoken]
        for area in self.areas:
            for name in self._spoken(area.names, language):
                pairs.setdefault("area", []).append((name, area.area_id))
        for floor in self.floors:
            for name in self._spoken(floor.names, language):
                pairs.setdefault("floor", []).append((name, floor.floor_id))
        chinese = _is_chinese(language)
        for phrase in self.phrases:
            if bool(_CJK.search(phrase)) == chinese:
                spoken_phrase = phrase.replace(" ", "") if chinese else phrase
                pairs.setdefault("rule_phrase", []).append((spoken_phrase, phrase))
        lists: dict[str, SlotList] = {
            key: TextSlotList.from_tuples(sorted(set(values)), allow_template=False, name=key)
            for key, values in pairs.items()
        }
        if named:
            unique = sorted({(n, e, d["domain"]) for n, e, d in named})
            lists["name"] = TextSlotList.from_tuples(
                [(n, e, {"domain": d}) for n, e, d in unique], allow_template=False, name="name"
            )
        return lists

    def floor(self, floor_id: str) -> SpokenFloor | None:
        return next((f for f in self.floors if f.floor_id == floor_id), None)

    def same_name(self, entity_id: str) -> tuple[str, ...]:
        """Every entity going by one of this entity's names ("light" in two rooms)."""
        ent = self.entity(entity_id)
        if ent is None:
            return (entity_id,)
        names = {n.lower() for n in ent.names}
        return tuple(
            e.entity_id for e in self.entities if names & {n.lower() for n in e.names}
        ) or (entity_id,)

    def entity(self, entity_id: str) -> SpokenEntity | None:
        return next((e for e in self.entities if e.entity_id == entity_id), None)

    def area(self, area_id: str) -> SpokenArea | None:
        return next((a for a in self.areas if a.area_id == area_id), None)

    def display_name(self, item_id: str, language: str) -> str:
        """The first name of an entity or area in `language` (for replies)."""
        item: SpokenEntity | SpokenArea | SpokenFloor | None = (
            self.entity(item_id) or self.area(item_id) or self.floor(item_id)
        )
        if item is None:
            return item_id.split(".", 1)[-1].replace("_", " ")
        spoken = self._spoken(item.names, language)
        return spoken[0] if spoken else item.names[0]

    def _spoken(self, names: Iterable[str], language: str) -> list[str]:
        out: list[str] = []
        for raw in names:
            name = " ".join(raw.lower().replace("_", " ").split())
            is_zh = bool(_CJK.search(name))
            if language == "zh-CN" or language == "zh":
                if is_zh:
                    out.append(name.replace(" ", ""))
                elif (translated := translate_zh(name, self._zh_words)) is not None:
                    out.append(translated)
            elif _is_chinese(language):
                out.append(name.replace(" ", "") if is_zh else name)
            elif not is_zh and name:
                out.append(name)
        return list(dict.fromkeys(out))


def _is_chinese(language: str) -> bool:
    return language == "zh" or language.startswith("zh-")


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
    floors: Iterable[SpokenFloor] = (),
) -> HomeVocabulary:
    """Assemble a vocabulary (with the Chinese word table loaded)."""
    return HomeVocabulary(
        tuple(entities),
        tuple(areas),
        revision,
        load_zh_words(),
        tuple(sorted(set(phrases))),
        tuple(floors),
    )
