"""Validation helpers: read typed fields from parsed YAML, collecting located errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import time
from typing import Any

from hub.states import valid_entity_id

from .errors import RuleIssue
from .source import line_of
from .templates import Template, TemplateError, is_template
from .timespec import parse_duration, parse_time_of_day

__all__ = ["Checker", "Invalid", "join_path", "state_text"]


class Invalid(Exception):
    """Raised after an error is recorded, to abandon the item being parsed."""


class Checker:
    """Collects every problem of a document; `rule` names the rule being read."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.rule: str | None = None
        self.issues: list[RuleIssue] = []

    # -- recording ----------------------------------------------------------------------
    def error(self, node: Any, key: str | int | None, path: str, message: str) -> Invalid:
        """Record a problem at node[key] and return an Invalid to raise."""
        self.issues.append(RuleIssue(self.file, line_of(node, key), self.rule, path, message))
        return Invalid(message)

    # -- structure ----------------------------------------------------------------------
    def mapping(
        self, value: Any, parent: Any, key: str | int | None, path: str
    ) -> Mapping[str, Any]:
        """The value as a mapping, else an error."""
        if not isinstance(value, Mapping):
            raise self.error(parent, key, path, f"expected a mapping, got {_kind(value)}")
        return value

    def items(self, node: Mapping[str, Any], key: str, path: str) -> list[tuple[Any, Any, str]]:
        """A list field (a single item is accepted as a list of one), with each item's path."""
        value = node.get(key)
        if value is None:
            return []
        if isinstance(value, list):
            return [(item, (value, i), f"{path}[{i}]") for i, item in enumerate(value)]
        return [(value, (node, key), path)]

    def only(self, node: Mapping[str, Any], allowed: Iterable[str], path: str) -> None:
        """Error on keys outside `allowed`."""
        allowed = set(allowed)
        for key in node:
            if key not in allowed:
                hint = ", ".join(sorted(allowed))
                self.error(node, key, _join(path, key), f"unknown option (expected one of {hint})")

    def kind(
        self,
        node: Mapping[str, Any],
        key: str,
        table: Mapping[str, tuple[tuple[str, ...], Any]],
        path: str,
        extra: tuple[str, ...] = (),
    ) -> Any:
        """The parser `table[node[key]]` for a kind-tagged item, after checking its other keys."""
        kind = node.get(key)
        entry = table.get(kind) if isinstance(kind, str) else None
        if entry is None:
            known = ", ".join(table)
            raise self.error(node, key, _join(path, key), f"expected one of {known}, got {kind!r}")
        allowed, parse = entry
        self.only(node, {key, *extra, *allowed}, path)
        return parse

    def required(self, node: Mapping[str, Any], key: str, path: str) -> Any:
        """node[key], which must be present and not empty."""
        value = node.get(key)
        if value is None or value == "" or value == []:
            raise self.error(node, None, _join(path, key), "required")
        return value

    # -- scalars ------------------------------------------------------------------------
    def text(
        self, node: Mapping[str, Any], key: str, path: str, *, required: bool = False
    ) -> str | None:
        """A text field; numbers are accepted and turned into text."""
        value = self.required(node, key, path) if required else node.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.error(node, key, _join(path, key), f"expected text, got {_kind(value)}")
        return str(value)

    def texts(
        self, node: Mapping[str, Any], key: str, path: str, *, required: bool = False
    ) -> tuple[str, ...]:
        """One text or a list of texts."""
        value = self.required(node, key, path) if required else node.get(key)
        if value is None:
            return ()
        values = value if isinstance(value, list) else [value]
        out: list[str] = []
        for item in values:
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                raise self.error(node, key, _join(path, key), f"expected text, got {_kind(item)}")
            out.append(str(item))
        return tuple(out)

    def state_values(self, node: Mapping[str, Any], key: str, path: str) -> tuple[str, ...] | None:
        """State strings to match; YAML's true/false read as on/off. None when absent."""
        if key not in node:
            return None
        value = node[key]
        values = value if isinstance(value, list) else [value]
        out: list[str] = []
        for item in values:
            if isinstance(item, bool):
                out.append("on" if item else "off")
            elif item is None:
                continue
            elif isinstance(item, str | int | float):
                out.append(str(item))
            else:
                raise self.error(
                    node, key, _join(path, key), f"expected a state, got {_kind(item)}"
                )
        return tuple(out) if out or value is not None else None

    def entity_ids(
        self, node: Mapping[str, Any], key: str, path: str, *, required: bool = True
    ) -> tuple[str, ...]:
        """Entity ids (text, comma list or list); each must look like domain.object_id."""
        values = self.texts(node, key, path, required=required)
        ids: list[str] = []
        for value in values:
            for part in value.split(","):
                eid = part.strip().lower()
                if not valid_entity_id(eid):
                    raise self.error(
                        node, key, _join(path, key), f"{part.strip()!r} is not an entity id"
                    )
                ids.append(eid)
        return tuple(ids)

    def number(
        self, node: Mapping[str, Any], key: str, path: str, *, required: bool = False
    ) -> float | None:
        """A number."""
        value = self.required(node, key, path) if required else node.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(node, key, _join(path, key), f"expected a number, got {_kind(value)}")
        return float(value)

    def integer(
        self, node: Mapping[str, Any], key: str, path: str, *, low: int, high: int, default: int
    ) -> int:
        """A whole number in [low, high]."""
        value = node.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.error(
                node, key, _join(path, key), f"expected a whole number from {low} to {high}"
            )
        return value

    def flag(self, node: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
        """A true/false field."""
        value = node.get(key, default)
        if not isinstance(value, bool):
            raise self.error(
                node, key, _join(path, key), f"expected true or false, got {_kind(value)}"
            )
        return value

    def choice(
        self,
        node: Mapping[str, Any],
        key: str,
        path: str,
        choices: tuple[str, ...],
        default: str | None = None,
    ) -> str:
        """One of fixed words."""
        value = node.get(key, default)
        if value not in choices:
            raise self.error(
                node, key, _join(path, key), f"expected one of {', '.join(choices)}, got {value!r}"
            )
        return str(value)

    def duration(
        self, node: Mapping[str, Any], key: str, path: str, *, signed: bool = False
    ) -> float | None:
        """A duration in seconds (see timespec.parse_duration)."""
        if node.get(key) is None:
            return None
        try:
            return parse_duration(node[key], signed=signed)
        except ValueError as err:
            raise self.error(node, key, _join(path, key), str(err)) from None

    def time_of_day(self, node: Mapping[str, Any], key: str, path: str) -> tuple[time, ...]:
        """Times of day ('07:30'), one or a list."""
        value = node.get(key)
        if value is None:
            return ()
        out: list[time] = []
        for item in value if isinstance(value, list) else [value]:
            try:
                out.append(parse_time_of_day(item))
            except ValueError as err:
                raise self.error(node, key, _join(path, key), str(err)) from None
        return tuple(out)

    def template(
        self,
        node: Mapping[str, Any],
        key: str,
        path: str,
        *,
        native: bool = True,
        required: bool = False,
    ) -> Template | None:
        """A template field, compiled now so syntax errors surface at load."""
        value = self.required(node, key, path) if required else node.get(key)
        if value is None:
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise self.error(
                node, key, _join(path, key), f"expected a template, got {_kind(value)}"
            )
        return self.compile(str(value), node, key, _join(path, key), native=native)

    def compile(
        self, source: str, node: Any, key: str | int | None, path: str, *, native: bool = True
    ) -> Template:
        """Compile template text, recording syntax errors."""
        try:
            return Template(source, native=native)
        except TemplateError as err:
            raise self.error(node, key, path, str(err)) from None

    def value(self, value: Any, node: Any, key: str | int | None, path: str) -> Any:
        """A data value whose text parts may be templates; returns plain values or Templates."""
        if is_template(value):
            return self.compile(value, node, key, path)
        if isinstance(value, Mapping):
            return {
                str(k): self.value(v, value, str(k), _join(path, str(k))) for k, v in value.items()
            }
        if isinstance(value, list):
            return tuple(self.value(v, value, i, f"{path}[{i}]") for i, v in enumerate(value))
        return value


def state_text(value: Any) -> str | None:
    """A state or attribute value as the text rules compare (booleans as on/off)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {value!r}"
    return type(value).__name__


join_path = _join
