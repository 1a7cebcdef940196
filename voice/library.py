"""Sentence templates per language: Home Assistant's library as the floor, Hearth's own on top.

HA's `home-assistant-intents` package ships templates, lists, rules and reply templates for
every language it supports. Hearth keeps its own templates (voice/intents/<dir>) only for
what HA lacks (fridge, appliance inventory, vacuum by room, purchases, dialogue); they are
merged in with their rule and list names prefixed so they never clash with HA's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import home_assistant_intents
import yaml
from hassil import Intents

from .vocabulary import INTENTS_DIR

# HA intents Hearth acts on; the rest (media, weather, broadcast, ...) would only steal matches.
SUPPORTED_INTENTS = frozenset(
    {
        "HassTurnOn",
        "HassTurnOff",
        "HassLightSet",
        "HassClimateSetTemperature",
        "HassClimateGetTemperature",
        "HassGetState",
        "HassSetPosition",
        "HassFanSetSpeed",
        "HassVacuumStart",
        "HassVacuumReturnToBase",
        "HassVacuumCleanArea",
        "HassStartTimer",
        "HassCancelTimer",
        "HassCancelAllTimers",
        "HassTimerStatus",
        "HassPauseTimer",
        "HassUnpauseTimer",
        "HassIncreaseTimer",
        "HassDecreaseTimer",
        "HassShoppingListAddItem",
        "HassShoppingListCompleteItem",
        "HassListAddItem",
        "HassListCompleteItem",
        "HassListRemoveItem",
        "HassNevermind",
        "HassGetCurrentTime",
        "HassGetCurrentDate",
    }
)
# Hearth's older intent names for what HA expresses as HassTurnOn/HassTurnOff on a domain.
_REPLACED_BY_HA = frozenset(
    {"HassLockLock", "HassLockUnlock", "HassOpenCover", "HassCloseCover", "HearthShoppingListAdd"}
)
# HA intents for which Hearth's own phrasings are kept as extra sentences ("how much time is
# left" is not in HA's English timer templates); their slots follow HA's.
_EXTRA_PHRASINGS = frozenset(
    {
        "HassStartTimer",
        "HassCancelTimer",
        "HassTimerStatus",
        "HassVacuumStart",
        "HassVacuumReturnToBase",
    }
)
# Hearth's own template directory per language (its Chinese templates are Simplified).
_OWN_DIRS = {"en": "en", "zh-CN": "zh"}
_ALIASES = {
    "zh": "zh-CN",
    "zh-hans": "zh-CN",
    "zh-hant": "zh-TW",
    "zh-cn": "zh-CN",
    "zh-tw": "zh-TW",
    "zh-hk": "zh-HK",
}
_RULE_REF = re.compile(r"<([^<>]+)>")
_LIST_REF = re.compile(r"\{([^{}:]+)(?::([^{}]+))?\}")
_PREFIX = "hearth_"


@dataclass(frozen=True)
class Library:
    """One language's merged templates and HA's reply templates for it."""

    language: str
    intents: Intents
    responses: dict[str, dict[str, str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    own_dir: str | None = None


def languages() -> tuple[str, ...]:
    """Every language HA's library ships (Hearth speaks all of them)."""
    return tuple(home_assistant_intents.get_languages())


def canonical_language(language: str) -> str:
    """HA's code for a language tag ("zh" -> "zh-CN", "EN" -> "en")."""
    key = language.strip()
    alias = _ALIASES.get(key.lower())
    if alias:
        return alias
    known = {lang.lower(): lang for lang in languages()}
    return known.get(key.lower(), key)


def own_dir(language: str) -> str | None:
    """Hearth's own template/reply directory for a language, if it has one."""
    return _OWN_DIRS.get(canonical_language(language))


@cache
def load_library(language: str) -> Library:
    """HA's templates for `language` (supported intents only) merged with Hearth's own."""
    lang = canonical_language(language)
    data = home_assistant_intents.get_intents(lang)
    if data is None:
        raise ValueError(f"no sentence library for language {language!r}")
    merged: dict[str, Any] = {
        "language": lang,
        "settings": data.get("settings", {}),
        "skip_words": data.get("skip_words", []),
        "expansion_rules": dict(data.get("expansion_rules", {})),
        "lists": dict(data.get("lists", {})),
        "intents": {k: v for k, v in data["intents"].items() if k in SUPPORTED_INTENTS},
    }
    directory = _OWN_DIRS.get(lang)
    if directory is not None:
        _layer(merged, _own_templates(INTENTS_DIR / directory))
    responses = data.get("responses", {})
    return Library(
        lang,
        Intents.from_dict(merged),
        dict(responses.get("intents", {})),
        dict(responses.get("errors", {})),
        directory,
    )


def _own_templates(directory: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"intents": {}, "expansion_rules": {}, "lists": {}, "settings": {}}
    for path in sorted(directory.glob("*.yaml")):
        if path.name in ("names.yaml", "replies.yaml"):
            continue
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key in ("intents", "expansion_rules", "lists", "settings"):
            out[key].update(doc.get(key) or {})
    return out


def _layer(merged: dict[str, Any], own: dict[str, Any]) -> None:
    """Add Hearth's intents that HA lacks, renaming its rules and lists to avoid clashes."""
    rules = set(own["expansion_rules"])
    lists = set(own["lists"])

    def rename(text: str) -> str:
        text = _RULE_REF.sub(lambda m: f"<{_PREFIX}{m[1]}>" if m[1] in rules else m[0], text)
        return _LIST_REF.sub(
            lambda m: f"{{{_PREFIX}{m[1]}:{m[2] or m[1]}}}" if m[1] in lists else m[0], text
        )

    for name, body in own["expansion_rules"].items():
        merged["expansion_rules"][_PREFIX + name] = rename(str(body))
    for name, body in own["lists"].items():
        merged["lists"][_PREFIX + name] = body
    for name, intent in own["intents"].items():
        if name in _REPLACED_BY_HA or (name in merged["intents"] and name not in _EXTRA_PHRASINGS):
            continue
        data = []
        for block in intent.get("data", []):
            block = dict(block)
            block["sentences"] = [rename(s) for s in block.get("sentences", [])]
            data.append(block)
        if name in merged["intents"]:
            merged["intents"][name] = {"data": [*merged["intents"][name]["data"], *data]}
        else:
            merged["intents"][name] = {"data": data}
    # Hearth's Chinese templates rely on whitespace-insensitive matching, as HA's do.
    for key, value in (own.get("settings") or {}).items():
        merged["settings"].setdefault(key, value)


def dump(language: str) -> str:
    """The merged template set as JSON (for debugging `hearth voice` issues)."""
    lib = load_library(language)
    return json.dumps(sorted(lib.intents.intents), ensure_ascii=False)


@cache
def load_speech_templates(language: str) -> Intents | None:
    """Hearth's own template set alone, for the speech grammar and its transcripts.

    HA's full English set made the closed grammar decode espeak speech worse (17 spoken test
    commands failed), so speech keeps Hearth's smaller set until the grammar is pruned.
    """
    directory = _OWN_DIRS.get(canonical_language(language))
    if directory is None:
        return None
    files = [
        f
        for f in sorted((INTENTS_DIR / directory).glob("*.yaml"))
        if f.name not in ("names.yaml", "replies.yaml")
    ]
    return Intents.from_files(files)
