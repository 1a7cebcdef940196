"""A loaded rule: its triggers attached, its runs governed by the run mode, traced."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from hub.context import Context, new_context_id

from .conditions import ConditionError
from .env import Env
from .index import TriggerUnavailable
from .modes import RunController
from .schema import RuleConfig
from .script import ScriptRun, StepFailed, Stopped
from .templates import TemplateError, render_value
from .traces import Trace

__all__ = ["EVENT_RULE_TRIGGERED", "Rule"]

_LOGGER = logging.getLogger(__name__)
EVENT_RULE_TRIGGERED = "rule_triggered"
SaveTrace = Callable[[Trace], None]


class Rule:
    """Runtime state of one rule."""

    def __init__(
        self,
        config: RuleConfig,
        env: Env,
        source: str,
        save_trace: SaveTrace,
        author: str | None = None,
    ) -> None:
        self.config = config
        self.env = env
        self.source = source  # "file" or "dashboard"
        # Who wrote it (dashboard rules): its runs act with that user's current rights.
        self.author = author
        self.enabled = config.enabled
        self.errors: list[str] = []
        self.last_triggered: float | None = None
        self.running_traces: dict[str, Trace] = {}
        self._save_trace = save_trace
        self._detaches: list[Callable[[], None]] = []
        self.controller = RunController(
            config.mode, config.max_runs, config.id, env.hub.async_create_task, env.active_runs
        )

    @property
    def id(self) -> str:
        """The rule id."""
        return self.config.id

    # -- lifecycle ----------------------------------------------------------------------------
    def attach(self) -> None:
        """Start listening to the triggers; one that cannot attach is reported, others work."""
        self.detach()
        self.errors = []
        if not self.enabled:
            return
        for i, trigger in enumerate(self.config.triggers):
            try:
                self._detaches.append(trigger.attach(self.env, self._on_fire))
            except TriggerUnavailable as err:
                message = f"triggers[{i}] ({trigger.platform}): {err}"
                self.errors.append(message)
                _LOGGER.error("Rule %s: %s", self.id, message)

    def detach(self) -> None:
        """Stop listening."""
        for detach in self._detaches:
            detach()
        self._detaches = []

    def stop(self) -> None:
        """Stop listening and cancel runs."""
        self.detach()
        self.controller.cancel_all()

    # -- running ------------------------------------------------------------------------------
    def _on_fire(self, trigger: dict[str, Any], context: Context | None) -> None:
        if self.enabled:
            self.start_run(trigger, context, check_conditions=True)

    def start_run(
        self, trigger: Mapping[str, Any], context: Context | None, *, check_conditions: bool
    ) -> str | None:
        """Check conditions and hand the run to the run mode; returns the run id (None if not run)."""
        clock = self.env.hub.clock
        # Runs act with the author's rights, not the rights of whoever tripped the trigger.
        # Only admins write rules (the file is the owner's); the core lowers this to the
        # author's current role on every call, and refuses a deleted author.
        run_context = Context(
            user_id=self.author,
            parent_id=context.id if context else None,
            origin=f"rule:{self.id}",
            role="admin",
        )
        trace = Trace(new_context_id(), self.id, dict(trigger), clock.time(), run_context.id)
        self.last_triggered = trace.started
        variables: dict[str, Any] = {
            "trigger": dict(trigger),
            "this": {"id": self.id, "name": self.config.name},
        }
        try:
            if self.config.variables:
                variables.update(render_value(self.config.variables, self.env.variables(variables)))
            if check_conditions and not self._conditions_hold(trace, variables):
                trace.finish("stopped", clock.time(), reason="conditions did not hold")
                self._save_trace(trace)
                return None
        except (TemplateError, ConditionError) as err:
            trace.finish("error", clock.time(), error=str(err))
            self._save_trace(trace)
            _LOGGER.warning("Rule %s: %s", self.id, err)
            return None

        def factory() -> Awaitable[None]:
            return self._async_run(trace, variables, run_context)

        outcome = self.controller.submit(factory)  # type: ignore[arg-type]
        if outcome == "dropped":
            return None
        self.env.hub.bus.async_fire(
            EVENT_RULE_TRIGGERED,
            {
                "rule_id": self.id,
                "name": self.config.name,
                "run_id": trace.run_id,
                "platform": trigger.get("platform"),
            },
            context=run_context,
        )
        return trace.run_id

    def _conditions_hold(self, trace: Trace, variables: Mapping[str, Any]) -> bool:
        for i, condition in enumerate(self.config.conditions):
            path = f"conditions[{i}]"
            try:
                result = condition.check(self.env, variables)
            except ConditionError as err:
                trace.add_condition(path, False, str(err))
                raise ConditionError(f"{path}: {err}") from None
            trace.add_condition(path, result)
            if not result:
                return False
        return True

    async def _async_run(self, trace: Trace, variables: dict[str, Any], context: Context) -> None:
        clock = self.env.hub.clock
        self.running_traces[trace.run_id] = trace
        try:
            await ScriptRun(self.env, trace, variables, context).async_run(self.config.actions)
            trace.finish("finished", clock.time())
        except Stopped as stop:
            trace.finish("stopped", clock.time(), reason=str(stop))
        except StepFailed as err:
            trace.finish("error", clock.time(), error=str(err))
            _LOGGER.warning("Rule %s failed: %s", self.id, err)
        except asyncio.CancelledError:
            trace.finish("cancelled", clock.time(), reason="cancelled (restart, reload or stop)")
            raise
        except Exception as err:
            trace.finish("error", clock.time(), error=f"{type(err).__name__}: {err}")
            _LOGGER.exception("Rule %s failed unexpectedly", self.id)
        finally:
            self.running_traces.pop(trace.run_id, None)
            self._save_trace(trace)
