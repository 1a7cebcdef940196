"""Rule documents: rules.yaml (a list of rules, or `rules:` plus `scenes:`) and single rules
from the dashboard, validated into frozen configs. Errors name file, line, rule and field."""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .actions import ChooseAction, ParallelAction, RepeatAction, SceneAction, Step, parse_sequence
from .checker import Checker, Invalid
from .conditions import Condition, parse_conditions
from .errors import RuleIssue, RulesInvalid
from .modes import MODES
from .scene import Scene, parse_scene
from .source import SourceDict, line_of, parse_yaml, source_text
from .triggers import Trigger, parse_trigger

__all__ = ["Document", "RuleConfig", "parse_document", "parse_single_rule"]

RULE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
MAX_RUNS = 1000
_RULE_KEYS = (
    "id",
    "name",
    "description",
    "enabled",
    "mode",
    "max",
    "variables",
    "triggers",
    "trigger",
    "conditions",
    "condition",
    "actions",
    "action",
)


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """One validated rule. Equality ignores where it came from, so reload spots real edits."""

    id: str
    name: str
    triggers: tuple[Trigger, ...]
    conditions: tuple[Condition, ...]
    actions: tuple[Step, ...]
    description: str = ""
    enabled: bool = True
    mode: str = "single"
    max_runs: int = 10
    variables: Mapping[str, Any] = field(default_factory=dict)
    file: str = field(default="", compare=False)
    line: int | None = field(default=None, compare=False)
    source: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Document:
    """Everything one rule file defines."""

    rules: tuple[RuleConfig, ...]
    scenes: Mapping[str, Scene]


def parse_document(text: str, file: str, known_scenes: frozenset[str] = frozenset()) -> Document:
    """Parse and validate a whole rules file; any problem rejects it (RulesInvalid)."""
    with _gc_paused():
        try:
            return _parse_document(text, file, known_scenes)
        except RecursionError:
            raise RulesInvalid([RuleIssue(file, None, None, "", "nested too deeply")]) from None


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    # Parsing builds hundreds of thousands of small objects; the cyclic collector would rescan
    # them again and again (10,000 rules: 8.6 s instead of 2.2 s). Reference counting still
    # frees garbage meanwhile, and the pause ends with the parse.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _parse_document(text: str, file: str, known_scenes: frozenset[str]) -> Document:
    raw = parse_yaml(text, file)
    chk = Checker(file)
    scenes: dict[str, Scene] = {}
    rule_items: list[tuple[Any, tuple[Any, Any], str]] = []
    if raw is None:
        pass
    elif isinstance(raw, list):
        rule_items = [(item, (raw, i), f"[{i}]") for i, item in enumerate(raw)]
    elif isinstance(raw, Mapping):
        chk.only(raw, {"rules", "scenes"}, "")
        rules = raw.get("rules") or []
        if not isinstance(rules, list):
            raise RulesInvalid(
                [RuleIssue(file, line_of(raw, "rules"), None, "rules", "expected a list of rules")]
            )
        rule_items = [(item, (rules, i), f"rules[{i}]") for i, item in enumerate(rules)]
        scenes = _scenes(chk, raw)
    else:
        raise RulesInvalid(
            [RuleIssue(file, 1, None, "", "expected a list of rules (or rules: and scenes:)")]
        )
    configs = _rules(chk, text, rule_items, frozenset(scenes) | known_scenes)
    if chk.issues:
        raise RulesInvalid(chk.issues)
    return Document(tuple(configs), scenes)


def parse_single_rule(
    text: str, file: str, known_scenes: frozenset[str] = frozenset()
) -> RuleConfig:
    """Parse one rule written as a mapping (the dashboard's editor)."""
    try:
        return _parse_single_rule(text, file, known_scenes)
    except RecursionError:
        raise RulesInvalid([RuleIssue(file, None, None, "", "nested too deeply")]) from None


def _parse_single_rule(text: str, file: str, known_scenes: frozenset[str]) -> RuleConfig:
    raw = parse_yaml(text, file)
    if not isinstance(raw, Mapping):
        raise RulesInvalid(
            [
                RuleIssue(
                    file, 1, None, "", "expected one rule: a mapping with id, triggers, actions"
                )
            ]
        )
    chk = Checker(file)
    configs = _rules(chk, text, [(raw, (raw, None), "")], known_scenes)
    if chk.issues:
        raise RulesInvalid(chk.issues)
    return configs[0]


def _scenes(chk: Checker, raw: Mapping[str, Any]) -> dict[str, Scene]:
    value = raw.get("scenes") or {}
    out: dict[str, Scene] = {}
    try:
        scenes = chk.mapping(value, raw, "scenes", "scenes")
    except Invalid:
        return out
    for name, spec in scenes.items():
        try:
            out[name] = parse_scene(chk, name, spec, (scenes, name), f"scenes.{name}")
        except Invalid:
            continue
    return out


def _rules(
    chk: Checker, text: str, items: list[tuple[Any, tuple[Any, Any], str]], scenes: frozenset[str]
) -> list[RuleConfig]:
    configs: list[RuleConfig] = []
    seen: dict[str, int | None] = {}
    for raw, where, path in items:
        chk.rule = None
        try:
            config = _rule(chk, text, raw, where, path, scenes)
        except Invalid:
            continue
        if config.id in seen:
            chk.rule = config.id
            chk.error(raw, "id", "id", f"duplicate rule id (first on line {seen[config.id]})")
            continue
        seen[config.id] = config.line
        configs.append(config)
    chk.rule = None
    return configs


def _rule(
    chk: Checker, text: str, raw: Any, where: tuple[Any, Any], path: str, scenes: frozenset[str]
) -> RuleConfig:
    node = chk.mapping(raw, where[0], where[1], path or "rule")
    rule_id = node.get("id")
    if (
        not isinstance(rule_id, str | int)
        or isinstance(rule_id, bool)
        or not RULE_ID.match(str(rule_id))
    ):
        raise chk.error(node, "id", "id", "required: letters, digits, _ . - (at most 100)")
    rule_id = str(rule_id)
    chk.rule = rule_id
    before = len(chk.issues)
    chk.only(node, _RULE_KEYS, "")
    for singular, plural in (
        ("trigger", "triggers"),
        ("condition", "conditions"),
        ("action", "actions"),
    ):
        if singular in node and plural in node:
            chk.error(node, singular, singular, f"use either {singular} or {plural}")
    tkey = "triggers" if "triggers" in node else "trigger"
    triggers: list[Trigger] = []
    for item, item_where, item_path in chk.items(node, tkey, tkey):
        try:
            triggers.append(parse_trigger(chk, item, item_where, item_path))
        except Invalid:
            continue
    ckey = "conditions" if "conditions" in node else "condition"
    conditions = parse_conditions(chk, node, ckey, "")
    akey = "actions" if "actions" in node else "action"
    if not node.get(akey):
        chk.error(node, None, "actions", "required: at least one action")
    actions = parse_sequence(chk, node, akey, "")
    for step_path, action in _scene_refs(actions, akey):
        if action.name is not None and action.name not in scenes:
            chk.error(node, akey, step_path, f"no scene named {action.name!r}")
    variables = node.get("variables") or {}
    if not isinstance(variables, Mapping):
        chk.error(node, "variables", "variables", "expected a mapping")
        variables = {}
    config = RuleConfig(
        id=rule_id,
        name=chk.text(node, "name", "") or rule_id,
        triggers=tuple(triggers),
        conditions=conditions,
        actions=actions,
        description=chk.text(node, "description", "") or "",
        enabled=_flag(chk, node),
        mode=_mode(chk, node),
        max_runs=_max(chk, node),
        variables=chk.value(variables, node, "variables", "variables"),
        file=chk.file,
        line=line_of(node) or line_of(where[0], where[1]),
        source=source_text(text, node) if isinstance(node, SourceDict) else "",
    )
    if len(chk.issues) > before:
        raise Invalid(rule_id)
    return config


def _flag(chk: Checker, node: Mapping[str, Any]) -> bool:
    try:
        return chk.flag(node, "enabled", "", True)
    except Invalid:
        return True


def _mode(chk: Checker, node: Mapping[str, Any]) -> str:
    try:
        return chk.choice(node, "mode", "", MODES, "single")
    except Invalid:
        return "single"


def _max(chk: Checker, node: Mapping[str, Any]) -> int:
    try:
        return chk.integer(node, "max", "", low=1, high=MAX_RUNS, default=10)
    except Invalid:
        return 10


def _scene_refs(steps: tuple[Step, ...], path: str) -> Iterator[tuple[str, SceneAction]]:
    for i, step in enumerate(steps):
        here = f"{path}[{i}]"
        action = step.action
        if isinstance(action, SceneAction):
            yield here, action
        elif isinstance(action, ChooseAction):
            for j, (_, seq) in enumerate(action.options):
                yield from _scene_refs(seq, f"{here}.choose[{j}].sequence")
            yield from _scene_refs(action.default, f"{here}.default")
        elif isinstance(action, RepeatAction):
            yield from _scene_refs(action.sequence, f"{here}.repeat.sequence")
        elif isinstance(action, ParallelAction):
            for j, branch in enumerate(action.branches):
                yield from _scene_refs(branch, f"{here}.parallel[{j}]")
