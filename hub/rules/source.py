"""YAML rule source with line numbers: mappings and lists remember where they came from."""

from __future__ import annotations

import textwrap
from typing import Any

import yaml

from hub.config import LineDict, reader_error

from .errors import RuleIssue, RulesInvalid

__all__ = ["SourceDict", "SourceList", "line_of", "parse_yaml", "source_text"]

_BaseLoader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Rule files are small, but 10,000 dashboard rules are not: refuse absurd inputs early.
MAX_SOURCE_BYTES = 20_000_000


class SourceDict(LineDict):
    """A mapping with the line of each key and the span of its source text."""

    start: int = 0
    end: int = 0
    column: int = 0


class SourceList(list[Any]):
    """A list with its own line and the line of each item."""

    line: int = 0
    lines: list[int]

    def line_at(self, index: int) -> int:
        """Line of item `index`, else of the list."""
        return self.lines[index] if 0 <= index < len(self.lines) else self.line


class _Loader(_BaseLoader):  # type: ignore[misc]
    """SafeLoader building SourceDict/SourceList; duplicate keys and aliases are errors."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # Without aliases every node is built once; a second request is an alias. Refusing
        # them keeps a small file from expanding into an exponential amount of checking work.
        if node in self.constructed_objects:
            raise _AliasUsed(node.start_mark.line + 1)
        return super().construct_object(node, deep)


class _AliasUsed(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class _DuplicateKey(Exception):
    def __init__(self, key: str, line: int, first: int) -> None:
        super().__init__(key)
        self.key, self.line, self.first = key, line, first


def _mapping(loader: _Loader, node: yaml.MappingNode) -> SourceDict:
    loader.flatten_mapping(node)
    out = SourceDict()
    out.line = node.start_mark.line + 1
    out.start, out.end, out.column = (
        node.start_mark.index,
        node.end_mark.index,
        node.start_mark.column,
    )
    out.lines = {}
    for key_node, value_node in node.value:
        key = str(loader.construct_object(key_node, deep=True))
        line = key_node.start_mark.line + 1
        if key in out:
            raise _DuplicateKey(key, line, out.lines[key])
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = line
    return out


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> SourceList:
    out = SourceList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.lines = [child.start_mark.line + 1 for child in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def parse_yaml(text: str, file: str) -> Any:
    """Parse YAML text; syntax errors raise RulesInvalid naming file and line."""
    if len(text) > MAX_SOURCE_BYTES:
        raise RulesInvalid([RuleIssue(file, None, None, "", "file is too large")])
    try:
        return yaml.load(text, Loader=_Loader)
    except _DuplicateKey as err:
        message = f"duplicate key {err.key!r} (first on line {err.first})"
        raise RulesInvalid([RuleIssue(file, err.line, None, err.key, message)]) from None
    except _AliasUsed as err:
        message = (
            "this anchored value is reused by an alias; YAML anchors and aliases "
            "(&name, *name, <<) are not supported in rule files"
        )
        raise RulesInvalid([RuleIssue(file, err.line, None, "", message)]) from None
    except RecursionError:
        raise RulesInvalid([RuleIssue(file, None, None, "", "nested too deeply")]) from None
    except yaml.reader.ReaderError as err:
        problem, at = reader_error(text, err)
        raise RulesInvalid([RuleIssue(file, at, None, "", problem)]) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        problem = err.problem or err.context or "invalid YAML"
        if "nesting depth" in problem:  # PyYAML >= 6.0.4 limits depth itself
            raise RulesInvalid([RuleIssue(file, line, None, "", "nested too deeply")]) from None
        raise RulesInvalid([RuleIssue(file, line, None, "", f"invalid YAML: {problem}")]) from None
    except (yaml.YAMLError, ValueError) as err:
        raise RulesInvalid([RuleIssue(file, None, None, "", f"invalid YAML: {err}")]) from None


def line_of(node: Any, key: str | int | None = None) -> int | None:
    """Best line for a key or index of a parsed node (None when unknown)."""
    if isinstance(node, LineDict):
        return node.line_of(key) if isinstance(key, str) else node.line
    if isinstance(node, SourceList):
        return node.line_at(key) if isinstance(key, int) else node.line
    return None


def source_text(text: str, node: Any) -> str:
    """The YAML text of one mapping inside a larger document, dedented."""
    if not isinstance(node, SourceDict) or node.end <= node.start:
        return ""
    snippet = " " * node.column + text[node.start : node.end]
    return textwrap.dedent(snippet).strip("\n") + "\n"
