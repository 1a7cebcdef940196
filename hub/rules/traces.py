"""Traces: what one run of a rule did, step by step, with results and timing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

__all__ = ["MAX_STEPS", "Trace", "TraceStep", "compact", "trace_json"]

# A runaway repeat must not grow a trace without bound; later steps are counted, not kept.
MAX_STEPS = 500
_MAX_RESULT_CHARS = 2000
_MAX_TEXT = 300
_MAX_ITEMS = 50


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One finished step: where it is in the rule, what it did and how long it took."""

    path: str
    kind: str
    started: float
    seconds: float
    result: Mapping[str, Any] | None = None
    error: str | None = None


@dataclass(slots=True)
class Trace:
    """A run being recorded; `as_dict` is what the store keeps and the dashboard shows."""

    run_id: str
    rule_id: str
    trigger: Mapping[str, Any]
    started: float
    context_id: str
    state: str = "running"  # running, finished, stopped, error, cancelled
    finished: float | None = None
    error: str | None = None
    reason: str | None = None
    conditions: list[dict[str, Any]] = field(default_factory=list)
    steps: list[TraceStep] = field(default_factory=list)
    dropped_steps: int = 0

    def add_step(self, step: TraceStep) -> None:
        """Record a finished step (beyond MAX_STEPS they are only counted)."""
        if len(self.steps) >= MAX_STEPS:
            self.dropped_steps += 1
            return
        self.steps.append(step)

    def add_condition(self, path: str, result: bool, error: str | None = None) -> None:
        """Record a condition check of the rule's `conditions`."""
        self.conditions.append({"path": path, "result": result, "error": error})

    def finish(
        self, state: str, when: float, error: str | None = None, reason: str | None = None
    ) -> None:
        """Mark the run as over (error: what failed; reason: why it stopped early)."""
        self.state = state
        self.finished = when
        self.error = error
        self.reason = reason

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form; steps in the order they started."""
        steps = sorted(self.steps, key=lambda s: (s.started, s.path.count(".")))
        return {
            "run_id": self.run_id,
            "rule_id": self.rule_id,
            "trigger": compact(self.trigger),
            "started": self.started,
            "finished": self.finished,
            "seconds": None if self.finished is None else round(self.finished - self.started, 6),
            "state": self.state,
            "error": self.error,
            "reason": self.reason,
            "context_id": self.context_id,
            "conditions": list(self.conditions),
            "steps": [asdict(s) for s in steps],
            "dropped_steps": self.dropped_steps,
        }


def compact(value: Any, depth: int = 0) -> Any:
    """Keep traces small: long texts, big collections and deep nesting are cut short
    (voice.say answers with a whole WAV file; events may carry large payloads)."""
    if isinstance(value, str):
        return value if len(value) <= _MAX_TEXT else f"<{len(value)} characters>"
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if depth > 6 and isinstance(value, Mapping | list | tuple):
        return "<nested too deeply>"
    if isinstance(value, Mapping):
        return {str(k): compact(v, depth + 1) for k, v in list(value.items())[:_MAX_ITEMS]}
    if isinstance(value, list | tuple):
        return [compact(v, depth + 1) for v in value[:_MAX_ITEMS]]
    return value


def trace_json(trace: Mapping[str, Any]) -> str:
    """Serialise a trace dict; anything unusual in results becomes short text."""
    return orjson.dumps(trace, default=_default, option=orjson.OPT_NON_STR_KEYS).decode()


def _default(obj: Any) -> Any:
    as_dict = getattr(obj, "as_dict", None)
    if callable(as_dict):
        return as_dict()
    if isinstance(obj, Mapping):
        return dict(obj)
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    if isinstance(obj, bytes):
        return f"<{len(obj)} bytes>"
    return repr(obj)[:_MAX_RESULT_CHARS]
