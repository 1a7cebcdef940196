"""Value and command templates from discovery configs, rendered in jinja2's sandbox.

Templates come from devices on the LAN, so they are untrusted: the sandbox blocks attribute
tricks, ``range`` and string repetition are capped, and the source and output are bounded.
"""

from __future__ import annotations

import json
import logging
import math
import operator
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

_LOGGER = logging.getLogger(__name__)

MAX_SOURCE = 4096
MAX_OUTPUT = 16 * 1024
MAX_RANGE = 256
MAX_JSON_INPUT = 256 * 1024

_MISSING = object()


class TemplateRenderError(Exception):
    """A template failed to compile or render; the message is safe to log."""


class _Environment(ImmutableSandboxedEnvironment):
    """The sandbox, with the arithmetic that can allocate without bound intercepted."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > 64:
                raise SecurityError("exponent too large")
            return operator.pow(left, right)
        if isinstance(left, str | list | tuple) or isinstance(right, str | list | tuple):
            size = len(left) if isinstance(left, str | list | tuple) else len(right)
            times = right if isinstance(left, str | list | tuple) else left
            if isinstance(times, int) and size * max(times, 0) > MAX_OUTPUT:
                raise SecurityError("repetition too large")
        return operator.mul(left, right)


def _safe_range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise SecurityError(f"range longer than {MAX_RANGE}")
    return result


def _to_float(value: Any, default: Any = _MISSING) -> float:
    try:
        result = float(value)
    except (TypeError, ValueError):
        if default is _MISSING:
            raise TemplateRenderError(f"cannot convert {value!r} to a number") from None
        return default  # type: ignore[no-any-return]
    return result


def _to_int(value: Any, default: Any = _MISSING, base: int = 10) -> int:
    try:
        if isinstance(value, str) and base != 10:
            return int(value, base)
        return int(float(value)) if not isinstance(value, int) else value
    except (TypeError, ValueError, OverflowError):
        if default is _MISSING:
            raise TemplateRenderError(f"cannot convert {value!r} to an integer") from None
        return default  # type: ignore[no-any-return]


def _round(value: Any, precision: int = 0, method: str = "common", default: Any = _MISSING) -> Any:
    try:
        number = float(value)
    except (TypeError, ValueError):
        if default is _MISSING:
            raise TemplateRenderError(f"cannot round {value!r}") from None
        return default
    if method == "ceil":
        return math.ceil(number * 10**precision) / 10**precision
    if method == "floor":
        return math.floor(number * 10**precision) / 10**precision
    result = round(number, precision)
    return int(result) if precision == 0 else result


def _is_defined(value: Any) -> Any:
    # Strict undefined values raise when used, which is exactly what HA's filter does.
    str(value)
    return value


def _iif(value: Any, if_true: Any = True, if_false: Any = False, if_none: Any = _MISSING) -> Any:
    if value is None and if_none is not _MISSING:
        return if_none
    return if_true if value else if_false


def _from_json(value: Any) -> Any:
    if not isinstance(value, str | bytes) or len(value) > MAX_JSON_INPUT:
        raise TemplateRenderError("from_json expects a short JSON string")
    return json.loads(value)


def _to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _make_environment() -> _Environment:
    env = _Environment(undefined=StrictUndefined, autoescape=False)
    env.globals.update(
        range=_safe_range,
        float=_to_float,
        int=_to_int,
        iif=_iif,
        min=min,
        max=max,
    )
    env.filters.update(
        float=_to_float,
        int=_to_int,
        round=_round,
        is_defined=_is_defined,
        iif=_iif,
        from_json=_from_json,
        to_json=_to_json,
        bool=lambda v: str(v).strip().lower() in ("1", "true", "on", "yes"),
    )
    return env


_ENV = _make_environment()


class Template:
    """One compiled template, rendered to text."""

    def __init__(self, source: str) -> None:
        if not isinstance(source, str):
            raise TemplateRenderError("template must be text")
        if len(source) > MAX_SOURCE:
            raise TemplateRenderError(f"template longer than {MAX_SOURCE} characters")
        self.source = source
        try:
            self._template = _ENV.from_string(source)
        except TemplateError as err:
            raise TemplateRenderError(f"bad template {source[:80]!r}: {err}") from None

    def render(self, variables: Mapping[str, Any]) -> str:
        """Render to text, or raise TemplateRenderError."""
        try:
            text = self._template.render(variables)
        except TemplateRenderError:
            raise
        except (TemplateError, SecurityError) as err:
            raise TemplateRenderError(f"{type(err).__name__}: {err}") from None
        except (
            ArithmeticError,
            TypeError,
            ValueError,
            KeyError,
            IndexError,
            RecursionError,
        ) as err:
            raise TemplateRenderError(f"{type(err).__name__}: {err}") from None
        if len(text) > MAX_OUTPUT:
            raise TemplateRenderError(f"template output longer than {MAX_OUTPUT} characters")
        return text.strip()

    def render_payload(self, payload: bytes) -> str:
        """Render a value template against a received payload (``value``, ``value_json``)."""
        return self.render(payload_variables(payload))

    def __repr__(self) -> str:
        return f"Template({self.source!r})"


def payload_variables(payload: bytes) -> dict[str, Any]:
    """The variables a value template sees: the raw text and, if it parses, its JSON."""
    value = payload.decode("utf-8", "replace")
    variables: dict[str, Any] = {"value": value}
    if len(payload) <= MAX_JSON_INPUT:
        try:
            variables["value_json"] = json.loads(value)
        except (ValueError, RecursionError):
            # 5,000 nested brackets overflow the C parser's stack guard: not JSON to us.
            pass
    return variables


def render_optional(template: Template | None, payload: bytes) -> str:
    """The payload as text, through the template if there is one."""
    if template is None:
        return payload.decode("utf-8", "replace").strip()
    return template.render_payload(payload)
