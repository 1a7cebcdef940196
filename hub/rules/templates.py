"""Safe expressions: jinja2's sandbox, compiled once at load, rendered per run (never eval)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import jinja2
from jinja2.nativetypes import NativeCodeGenerator, NativeTemplate, native_concat
from jinja2.sandbox import SandboxedEnvironment

from .timespec import local_zone

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = ["Template", "TemplateError", "is_template", "render_value", "template_globals"]

MAX_RESULT_CHARS = 100_000


class TemplateError(Exception):
    """A template failed to compile or render."""


class _TextSandbox(SandboxedEnvironment):
    """Renders to text (messages, spoken replies)."""


class _NativeSandbox(SandboxedEnvironment):
    """Renders to Python values, so '{{ 20 + 1 }}' gives the number 21."""

    code_generator_class = NativeCodeGenerator
    concat = staticmethod(native_concat)  # type: ignore[assignment]
    template_class = NativeTemplate


def _as_timestamp(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()
    try:
        return datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        return None


def _environment(cls: type[SandboxedEnvironment]) -> SandboxedEnvironment:
    env = cls(undefined=jinja2.StrictUndefined, autoescape=False)
    env.filters["as_timestamp"] = _as_timestamp
    return env


_TEXT = _environment(_TextSandbox)
# Rules often repeat the same template; compiled code is shared (only used on the loop thread).
_COMPILED: dict[tuple[str, bool], jinja2.Template] = {}
_MAX_COMPILED = 4096
_NATIVE = _environment(_NativeSandbox)


def is_template(value: Any) -> bool:
    """True for text that contains template syntax."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


class Template:
    """A compiled template; `render(variables)` runs it in the sandbox."""

    __slots__ = ("_compiled", "native", "source")

    def __init__(self, source: str, *, native: bool = True) -> None:
        self.source = source
        self.native = native
        self._compiled: jinja2.Template | None = None
        env = _NATIVE if native else _TEXT
        try:
            # Parsing finds syntax errors at load; code generation waits for the first render,
            # which makes loading 10,000 rules about four times faster.
            env.parse(source)
        except jinja2.TemplateSyntaxError as err:
            raise TemplateError(
                f"template syntax error: {err.message} (line {err.lineno})"
            ) from None

    def render(self, variables: Mapping[str, Any]) -> Any:
        """Render with the given variables; failures raise TemplateError."""
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = _compile(self.source, self.native)
        try:
            result = compiled.render(variables)
        except jinja2.UndefinedError as err:
            raise TemplateError(f"undefined: {err.message}") from None
        except jinja2.exceptions.SecurityError as err:
            raise TemplateError(f"not allowed in a template: {err}") from None
        except Exception as err:
            raise TemplateError(f"{type(err).__name__}: {err}") from None
        if isinstance(result, str) and len(result) > MAX_RESULT_CHARS:
            raise TemplateError(f"result longer than {MAX_RESULT_CHARS} characters")
        return result

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Template) and (self.source, self.native) == (
            other.source,
            other.native,
        )

    def __hash__(self) -> int:
        return hash((self.source, self.native))

    def __repr__(self) -> str:
        return f"Template({self.source!r})"


def _compile(source: str, native: bool) -> jinja2.Template:
    key = (source, native)
    compiled = _COMPILED.get(key)
    if compiled is None:
        compiled = (_NATIVE if native else _TEXT).from_string(source)
        if len(_COMPILED) >= _MAX_COMPILED:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[key] = compiled
    return compiled


def render_value(value: Any, variables: Mapping[str, Any]) -> Any:
    """Render templates anywhere inside a value built of dicts, lists and scalars."""
    if isinstance(value, Template):
        return value.render(variables)
    if isinstance(value, Mapping):
        return {k: render_value(v, variables) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [render_value(v, variables) for v in value]
    return value


def template_globals(hub: Hub) -> dict[str, Callable[..., Any]]:
    """Functions templates may call: read-only views of states and time."""
    states = hub.states
    zone = local_zone(hub.config.location.time_zone)

    def state_of(entity_id: str) -> str:
        state = states.get(str(entity_id))
        return "unknown" if state is None else state.state

    def is_state(entity_id: str, value: Any) -> bool:
        return state_of(entity_id) == str(value)

    def state_attr(entity_id: str, name: str) -> Any:
        state = states.get(str(entity_id))
        return None if state is None else state.attributes.get(str(name))

    def now() -> datetime:
        return hub.clock.now().astimezone(zone)

    return {"states": state_of, "is_state": is_state, "state_attr": state_attr, "now": now}
