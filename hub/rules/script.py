"""Runs a rule's actions, recording each step (result, error, timing) in the trace."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from hub.context import Context
from hub.errors import HearthError, UnknownService

from .actions import (
    MAX_REPEAT,
    Action,
    ChooseAction,
    ConditionAction,
    DelayAction,
    EventAction,
    NotifyAction,
    ParallelAction,
    RepeatAction,
    SceneAction,
    ServiceAction,
    SpeakAction,
    Step,
    VariablesAction,
    WaitTriggerAction,
)
from .conditions import Condition, ConditionError
from .env import Env
from .scene import async_apply_scene
from .templates import Template, TemplateError, render_value
from .timespec import parse_duration
from .traces import Trace, TraceStep, compact

__all__ = ["ScriptRun", "StepFailed", "Stopped"]


class Stopped(Exception):
    """The run ended early on purpose (a condition step, a wait that timed out)."""


class StepFailed(Exception):
    """A step failed; the message names the step's path."""


class ScriptRun:
    """One execution of an action sequence for a rule."""

    def __init__(self, env: Env, trace: Trace, variables: dict[str, Any], context: Context) -> None:
        self.env = env
        self.trace = trace
        self.variables = variables
        self.context = context
        self._iterations = 0

    async def async_run(self, steps: tuple[Step, ...]) -> None:
        """Run the sequence; raises Stopped, StepFailed or CancelledError."""
        await self._sequence(steps, "actions", self.variables)

    # -- structure ----------------------------------------------------------------------------
    async def _sequence(
        self, steps: tuple[Step, ...], path: str, variables: dict[str, Any]
    ) -> None:
        for i, step in enumerate(steps):
            await self._step(step, f"{path}[{i}]", variables)

    async def _step(self, step: Step, path: str, variables: dict[str, Any]) -> None:
        clock = self.env.hub.clock
        started = clock.time()
        action = step.action
        result: Mapping[str, Any] | None = None
        error: str | None = None
        try:
            result = await self._run_action(action, path, variables)
        except Stopped as stop:
            result = {"stopped": str(stop)}
            raise
        except asyncio.CancelledError:
            error = "cancelled"
            raise
        except StepFailed as err:
            error = str(err)
            if not step.continue_on_error:
                raise
        except (HearthError, TemplateError, ConditionError, ValueError, TypeError, OSError) as err:
            error = _describe(err)
            if not step.continue_on_error:
                raise StepFailed(f"{path}: {error}") from None
        finally:
            self.trace.add_step(
                TraceStep(
                    path, action.kind, started, round(clock.time() - started, 6), result, error
                )
            )

    async def _run_action(
        self, action: Action, path: str, variables: dict[str, Any]
    ) -> Mapping[str, Any] | None:
        handler = getattr(self, f"_do_{action.kind}")
        return await handler(action, path, variables)  # type: ignore[no-any-return]

    def _vars(self, variables: Mapping[str, Any]) -> dict[str, Any]:
        return self.env.variables(variables)

    def _render(self, value: Any, variables: Mapping[str, Any], field: str) -> Any:
        try:
            return render_value(value, self._vars(variables))
        except TemplateError as err:
            raise StepFailed(f"{field}: {err}") from None

    def _check(
        self, conditions: tuple[Condition, ...], variables: Mapping[str, Any], path: str
    ) -> bool:
        try:
            return all(c.check(self.env, variables) for c in conditions)
        except ConditionError as err:
            raise StepFailed(f"{path}: {err}") from None

    # -- kinds ------------------------------------------------------------------------------------
    async def _do_service(
        self, action: ServiceAction, path: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        data = self._render(action.data, variables, f"{path}.data")
        target = self._render(action.target, variables, f"{path}.target")
        response = await self.env.hub.services.async_call(
            action.domain, action.service, data, target=target or None, context=self.context
        )
        out: dict[str, Any] = {
            "service": f"{action.domain}.{action.service}",
            "data": data,
            "target": target,
        }
        if response is not None:
            out["response"] = compact(response)
        return out

    async def _do_delay(
        self, action: DelayAction, path: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        seconds = action.seconds
        if action.template is not None:
            rendered = self._render(action.template, variables, f"{path}.delay")
            try:
                seconds = parse_duration(rendered)
            except ValueError as err:
                raise StepFailed(f"{path}.delay: {err}") from None
        await self.env.hub.clock.async_sleep(seconds or 0.0)
        return {"seconds": seconds}

    async def _do_wait_for_trigger(
        self, action: WaitTriggerAction, path: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[dict[str, Any] | None] = loop.create_future()

        def fired(trigger_vars: dict[str, Any], _context: Context | None) -> None:
            if not done.done():
                done.set_result(trigger_vars)

        def fired_none() -> None:
            if not done.done():
                done.set_result(None)

        detaches = []
        try:
            for trigger in action.triggers:
                detaches.append(trigger.attach(self.env, fired))
            if action.timeout is not None:
                detaches.append(self.env.index.scheduler.async_later(action.timeout, fired_none))
            got = await done
        finally:
            for detach in detaches:
                detach()
        variables["wait"] = {"trigger": got, "timed_out": got is None}
        if got is None and not action.continue_on_timeout:
            raise Stopped("timed out waiting for a trigger")
        return {"timed_out": got is None, "trigger": got}

    async def _do_condition(
        self, action: ConditionAction, path: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        if not self._check((action.condition,), variables, path):
            raise Stopped(f"condition {action.condition.kind} did not hold")
        return {"result": True}

    async def _do_choose(
        self, action: ChooseAction, path: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        for i, (conditions, sequence) in enumerate(action.options):
            if self._check(conditions, variables, f"{path}.choose[{i}]"):
                await self._sequence(sequence, f"{path}.choose[{i}].sequence", variables)
                return {"choice": i}
        if action.default:
            await self._sequence(action.default, f"{path}.default", variables)
            return {"choice": "default"}
        return {"choice": None}

    async def _do_repeat(
        self, action: RepeatAction, path: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        count = action.count
        if isinstance(count, Template):
            rendered = self._render(count, variables, f"{path}.repeat.count")
            try:
                count = int(rendered)
            except (TypeError, ValueError):
                raise StepFailed(
                    f"{path}.repeat.count: expected a whole number, got {rendered!r}"
                ) from None
            if not 0 <= count <= MAX_REPEAT:
                raise StepFailed(f"{path}.repeat.count: {count} is outside 0-{MAX_REPEAT}")
        index = 0
        while True:
            if count is not None and index >= count:
                break
            if action.while_ and not self._check(action.while_, variables, f"{path}.repeat.while"):
                break
            if index >= MAX_REPEAT:
                raise StepFailed(f"{path}.repeat: stopped after {MAX_REPEAT} iterations")
            index += 1
            variables["repeat"] = {"index": index, "first": index == 1}
            await self._sequence(action.sequence, f"{path}.repeat.sequence", variables)
            if action.until and self._check(action.until, variables, f"{path}.repeat.until"):
                break
            await asyncio.sleep(0)  # a tight loop must not starve the hub
        return {"iterations": index}

    async def _do_parallel(
        self, action: ParallelAction, path: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        results = await asyncio.gather(
            *(
                self._sequence(branch, f"{path}.parallel[{i}]", dict(variables))
                for i, branch in enumerate(action.branches)
            ),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, asyncio.CancelledError):
                raise result
            if isinstance(result, BaseException):
                raise result
        return {"branches": len(action.branches)}

    async def _do_event(
        self, action: EventAction, path: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        data = self._render(action.data, variables, f"{path}.event_data")
        self.env.hub.bus.async_fire(action.event_type, data, context=self.context)
        return {"event_type": action.event_type, "data": data}

    async def _do_notify(
        self, action: NotifyAction, path: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        message = str(self._render(action.message, variables, f"{path}.message"))
        data: dict[str, Any] = {"message": message}
        if action.title is not None:
            data["title"] = str(self._render(action.title, variables, f"{path}.title"))
        response = await self.env.hub.services.async_call(
            "notify", "send", data, context=self.context
        )
        return {**data, "notification": compact(response)}

    async def _do_speak(
        self, action: SpeakAction, path: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        text = str(self._render(action.text, variables, f"{path}.text"))
        data: dict[str, Any] = {"text": text}
        if action.language:
            data["language"] = action.language
        if action.satellite is not None:
            satellite = self._render(action.satellite, variables, f"{path}.satellite")
            if satellite not in (None, "", "None"):
                data["satellite"] = str(satellite)
        if not self.env.hub.services.has_service("voice", "say"):
            raise StepFailed(
                f"{path}: cannot speak: service voice.say is not available (is voice set up?)"
            )
        try:
            response = await self.env.hub.services.async_call(
                "voice", "say", data, context=self.context
            )
        except UnknownService:
            raise StepFailed(f"{path}: cannot speak: service voice.say is not available") from None
        out = dict(data)
        if isinstance(response, Mapping) and "seconds" in response:
            out["seconds"] = response["seconds"]
        return out

    async def _do_scene(
        self, action: SceneAction, path: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        scene = action.scene
        if scene is None:
            scene = self.env.scenes.get(action.name or "")
            if scene is None:
                raise StepFailed(f"{path}.scene: no scene named {action.name!r}")
        results = await async_apply_scene(self.env.hub, scene, self.context)
        failed = {eid: r for eid, r in results.items() if str(r).startswith("error")}
        if failed:
            raise StepFailed(
                f"{path}: scene {scene.name!r} failed for "
                + "; ".join(f"{k}: {v}" for k, v in failed.items())
            )
        return {"scene": scene.name, "entities": results}

    async def _do_variables(
        self, action: VariablesAction, path: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        values = self._render(action.variables, variables, f"{path}.variables")
        variables.update(values)
        return {"variables": values}


def _describe(err: BaseException) -> str:
    return str(err) or type(err).__name__
