"""JSON encoding for hub objects (states, events, contexts) using orjson."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

__all__ = ["json_bytes", "json_dumps", "json_loads"]

_OPTIONS = orjson.OPT_NON_STR_KEYS


def _default(obj: Any) -> Any:
    as_dict = getattr(obj, "as_dict", None)
    if as_dict is not None:
        return as_dict()
    if isinstance(obj, Mapping):
        return dict(obj)
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    if isinstance(obj, bytes):
        return obj.hex()
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def json_bytes(obj: Any) -> bytes:
    """Serialise to UTF-8 JSON bytes."""
    return orjson.dumps(obj, default=_default, option=_OPTIONS)


def json_dumps(obj: Any, *, indent: bool = False) -> str:
    """Serialise to a JSON string (indented for people when asked)."""
    if indent:
        return orjson.dumps(obj, default=_default, option=_OPTIONS | orjson.OPT_INDENT_2).decode()
    return json_bytes(obj).decode()


def json_loads(data: str | bytes) -> Any:
    """Parse JSON."""
    return orjson.loads(data)
