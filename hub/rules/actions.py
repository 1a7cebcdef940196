"""Actions: what a rule does. Each kind is a frozen config read from YAML; script.py runs them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .checker import Checker, Invalid, join_path
from .conditions import Condition, parse_condition, parse_conditions
from .scene import Scene, parse_scene
from .templates import Template
from .triggers import Trigger, parse_trigger

__all__ = ["ACTION_KEYS", "Action", "Step", "parse_sequence"]

MAX_REPEAT = 100_000


class Action:
    """Base of action configs."""

    kind = ""


@dataclass(frozen=True, slots=True)
class Step:
    """An action in a sequence, with how to treat its failure."""

    action: Action
    continue_on_error: bool = False
    alias: str | None = None


Sequence = tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class ServiceAction(Action):
    """Call domain.service with data and a target (values may be templates)."""

    domain: str
    service: str
    data: Mapping[str, Any]
    target: Mapping[str, Any]
    kind = "service"


@dataclass(frozen=True, slots=True)
class DelayAction(Action):
    """Wait a fixed or computed time."""

    seconds: float | None
    template: Template | None = None
    kind = "delay"


@dataclass(frozen=True, slots=True)
class WaitTriggerAction(Action):
    """Wait until one of the triggers fires, or the timeout passes."""

    triggers: tuple[Trigger, ...]
    timeout: float | None = None
    continue_on_timeout: bool = True
    kind = "wait_for_trigger"


@dataclass(frozen=True, slots=True)
class ConditionAction(Action):
    """Stop the run here unless the condition holds."""

    condition: Condition
    kind = "condition"


@dataclass(frozen=True, slots=True)
class ChooseAction(Action):
    """Run the first option whose conditions hold, else the default (if/elif/else)."""

    options: tuple[tuple[tuple[Condition, ...], Sequence], ...]
    default: Sequence = ()
    kind = "choose"


@dataclass(frozen=True, slots=True)
class RepeatAction(Action):
    """Run a sequence a number of times, while conditions hold, or until they do."""

    sequence: Sequence
    count: int | Template | None = None
    while_: tuple[Condition, ...] = ()
    until: tuple[Condition, ...] = ()
    kind = "repeat"


@dataclass(frozen=True, slots=True)
class ParallelAction(Action):
    """Run branches at the same time; done when all are."""

    branches: tuple[Sequence, ...]
    kind = "parallel"


@dataclass(frozen=True, slots=True)
class EventAction(Action):
    """Fire a bus event."""

    event_type: str
    data: Mapping[str, Any]
    kind = "event"


@dataclass(frozen=True, slots=True)
class NotifyAction(Action):
    """Show a dashboard notification."""

    message: Template
    title: Template | None = None
    kind = "notify"


@dataclass(frozen=True, slots=True)
class SpeakAction(Action):
    """Say text through the voice pipeline (voice.say), optionally on one satellite."""

    text: Template
    satellite: Template | None = None
    language: str | None = None
    kind = "speak"


@dataclass(frozen=True, slots=True)
class SceneAction(Action):
    """Apply a named scene or one written inline."""

    name: str | None
    scene: Scene | None = None
    kind = "scene"


@dataclass(frozen=True, slots=True)
class VariablesAction(Action):
    """Set run variables (values may be templates)."""

    variables: Mapping[str, Any]
    kind = "variables"


# -- parsing ------------------------------------------------------------------------------------
def parse_sequence(chk: Checker, node: Mapping[str, Any], key: str, path: str) -> Sequence:
    """The actions under node[key]; every bad step is recorded, good ones returned."""
    steps = []
    for raw, where, item_path in chk.items(node, key, join_path(path, key)):
        try:
            steps.append(parse_step(chk, raw, where, item_path))
        except Invalid:
            continue
    return tuple(steps)


def parse_step(chk: Checker, raw: Any, where: tuple[Any, Any], path: str) -> Step:
    """Read one action; its kind is the key it has (service, delay, choose, ...)."""
    node = chk.mapping(raw, where[0], where[1], path)
    kinds = [k for k in ACTION_KEYS if k in node]
    if not kinds:
        raise chk.error(
            node, None, path, f"unknown action: expected one of {', '.join(ACTION_KEYS)}"
        )
    if len(kinds) > 1:
        raise chk.error(
            node, kinds[1], join_path(path, kinds[1]), f"one action per step (also has {kinds[0]})"
        )
    kind = kinds[0]
    allowed, parse = ACTION_KEYS[kind]
    if kind == "condition":
        action: Action = ConditionAction(parse_condition(chk, raw, where, path))
    else:
        chk.only(node, {kind, "continue_on_error", "alias", *allowed}, path)
        action = parse(chk, node, path)
    return Step(
        action,
        chk.flag(node, "continue_on_error", path, False) if kind != "condition" else False,
        chk.text(node, "alias", path) if kind != "condition" else None,
    )


def _service(chk: Checker, node: Mapping[str, Any], path: str) -> Action:
    name = chk.text(node, "service", path, required=True) or ""
    domain, _, service = name.partition(".")
    if not domain or not service or "." in service:
        raise chk.error(
            node,
            "service",
            join_path(path, "service"),
            "expected domain.service, e.g. light.turn_on",
        )
    data = chk.mapping(node.get("data", {}), node, "data", join_path(path, "data"))
    target = chk.mapping(node.get("target", {}), node, "target", join_path(path, "target"))
    for key in target:
        if key not in ("entity_id", "device_id", "area_id"):
            raise chk.error(
                target,
                key,
                join_path(join_path(path, "target"), key),
                "expected entity_id, device_id or area_id",
            )
    return ServiceAction(
        domain,
        service,
        chk.value(data, node, "data", join_path(path, "data")),
        chk.value(target, node, "target", join_path(path, "target")),
    )


def _delay(chk: Checker, node: Mapping[str, Any], path: str) -> Action:
    value = node.get("delay")
    if isinstance(value, str) and ("{{" in value or "{%" in value):
        return DelayAction(None, chk.template(node, "delay", path))
    return DelayAction(chk.duration(node, "delay", path))


def _wait(chk: Checker, node: Mapping[str, Any], path: str) -> Action:
    chk.required(node, "wait_for_trigger", path)
    triggers = []
    for raw, where, item_path in chk.items(
        node, "wait_for_trigger", join_path(path, "wait_for_trigger")
    ):
        triggers.append(parse_trigger(chk, raw, where, item_path))
    return WaitTriggerAction(
        tuple(triggers),
        chk.duration(node, "timeout", path),
        chk.flag(node, "continue_on_timeout", path, True),
    )


def _choose(chk: Checker, node: Mapping[str, Any], path: str) -> Action:
    options = []
    for raw, where, item_path in chk.items(node, "choose", join_path(path, "choose")):
        option = chk.mapping(raw, where[0], where[1], item_path)
        chk.only(option, {"conditions", "sequence"}, item_path)
        chk.required(option, "sequence", item_path)
        options.append(
            (
                parse_conditions(chk, option, "conditions", item_path),
                parse_sequence(chk, option, "sequence", item_path),
            )
        )
    if not options:
        raise chk.error(node, "choose", join_path(path, "choose"), "needs at least one option")
    return ChooseAction(tuple(options), parse_sequence(chk, node, "default", path))


def _if(chk: Checker, node: Mapping[str, Any], path: str) -> Action:
    chk.required(node, "then", path)
    conditions = parse_conditions(chk, node, "if", path)
    options = [(conditions, parse_sequence(chk, node, "then", path))]
    for raw, where, item_path in chk.items(node, "elif", join_path(path, "elif")):
        branch = chk.mapping(raw, where[0], where[1], item_path)
        chk.only(branch, {"if", "then"}, item_path)
        chk.required(branch, "then", item_path)
        options.append(
            (
                parse_conditions(chk, branch, "if", item_path),
                parse_sequence(chk, branch, "then", item_path),
            )
        )
    return ChooseAction(tuple(options), parse_sequence(chk, node, "else", path))


def _repeat(chk: Checker, node: Mapping[str, Any], path: str) -> Action:
    rpath = join_path(path, "repeat")
    spec = chk.mapping(node["repeat"], node, "repeat", rpath)
    chk.only(spec, {"count", "while", "until", "sequence"}, rpath)
    chk.required(spec, "sequence", rpath)
    modes = [k for k in ("count", "while", "until") if k in spec]
    if len(modes) != 1:
        raise chk.error(spec, None, rpath, "needs exactly one of count, while or until")
    count: int | Template | None = None
    if "count" in spec:
        raw = spec["count"]
        if isinstance(raw, str):
            count = chk.template(spec, "count", rpath)
        else:
            count = chk.integer(spec, "count", rpath, low=0, high=MAX_REPEAT, default=0)
    return RepeatAction(
        parse_sequence(chk, spec, "sequence", rpath),
        count,
        parse_conditions(chk, spec, "while", rpath),
        parse_conditions(chk, spec, "until", rpath),
    )


def _parallel(chk: Checker, node: Mapping[str, Any], path: str) -> Action:
    branches = []
    for raw, where, item_path in chk.items(node, "parallel", join_path(path, "parallel")):
        if isinstance(raw, Mapping) and "sequence" in raw:
            branches.append(parse_sequence(chk, raw, "sequence", item_path))
        else:
            try:
                branches.append((parse_step(chk, raw, where, item_path),))
            except Invalid:
                continue
    if not branches:
        raise chk.error(node, "parallel", join_path(path, "parallel"), "needs at least one branch")
    return ParallelAction(tuple(branches))


def _event(chk: Checker, node: Mapping[str, Any], path: str) -> Action:
    event_type = chk.text(node, "event", path, required=True) or ""
    data = chk.mapping(
        node.get("event_data", {}), node, "event_data", join_path(path, "event_data")
    )
    return EventAction(
        event_type, chk.value(data, node, "event_data", join_path(path, "event_data"))
    )


def _notify(chk: Checker, node: Mapping[str, Any], path: str) -> Action:
    value = node.get("notify")
    if isinstance(value, Mapping):
        spec = chk.mapping(value, node, "notify", join_path(path, "notify"))
        npath = join_path(path, "notify")
        chk.only(spec, {"message", "title"}, npath)
        message = chk.template(spec, "message", npath, native=False, required=True)
        title = chk.template(spec, "title", npath, native=False)
    else:
        message = chk.template(node, "notify", path, native=False, required=True)
        title = chk.template(node, "title", path, native=False)
    assert message is not None
    return NotifyAction(message, title)


def _speak(chk: Checker, node: Mapping[str, Any], path: str) -> Action:
    value = node.get("speak")
    spec, spath = (value, join_path(path, "speak")) if isinstance(value, Mapping) else (node, path)
    if spec is node:
        text = chk.template(node, "speak", path, native=False, required=True)
    else:
        chk.only(spec, {"text", "satellite", "language"}, spath)
        text = chk.template(spec, "text", spath, native=False, required=True)
    assert text is not None
    return SpeakAction(
        text,
        chk.template(spec, "satellite", spath, native=False),
        chk.text(spec, "language", spath),
    )


def _scene(chk: Checker, node: Mapping[str, Any], path: str) -> Action:
    value = node.get("scene")
    if isinstance(value, str):
        return SceneAction(value)
    return SceneAction(
        None, parse_scene(chk, "inline", value, (node, "scene"), join_path(path, "scene"))
    )


def _variables(chk: Checker, node: Mapping[str, Any], path: str) -> Action:
    spec = chk.mapping(node["variables"], node, "variables", join_path(path, "variables"))
    return VariablesAction(chk.value(spec, node, "variables", join_path(path, "variables")))


def _never(chk: Checker, node: Mapping[str, Any], path: str) -> Action:
    raise AssertionError("condition steps are parsed by parse_condition")


_Parser = Callable[[Checker, Mapping[str, Any], str], Action]
# Keys that name an action kind, the other keys each allows, and its parser.
ACTION_KEYS: dict[str, tuple[tuple[str, ...], _Parser]] = {
    "service": (("data", "target"), _service),
    "delay": ((), _delay),
    "wait_for_trigger": (("timeout", "continue_on_timeout"), _wait),
    "condition": ((), _never),
    "choose": (("default",), _choose),
    "if": (("then", "elif", "else"), _if),
    "repeat": ((), _repeat),
    "parallel": ((), _parallel),
    "event": (("event_data",), _event),
    "notify": (("title",), _notify),
    "speak": (("satellite", "language"), _speak),
    "scene": ((), _scene),
    "variables": ((), _variables),
}
