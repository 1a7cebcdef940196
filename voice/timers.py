"""Spoken timers: several per conversation, named or by length or room; pause, resume, add
or remove time; finishing fires a bus event (and runs a delayed command if it carries one)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from .ha_responses import OWN_LANGUAGES, Answer, ErrorAnswer, render_answer, render_error
from .library import canonical_language

if TYPE_CHECKING:
    from hub.context import Context

    from .actions import TimerRequest


@dataclass
class Timer:
    """One running (or paused) timer."""

    id: int
    conversation_id: str
    seconds: float  # length it was started with
    name: str | None = None
    area_id: str | None = None
    command: str | None = None
    # Whose rights the delayed command runs with: the asker's, never the satellite's default.
    context: Context | None = field(default=None, repr=False)
    ends_at: float = 0.0  # loop time; meaningless while paused
    left_when_paused: float | None = None
    handle: asyncio.TimerHandle | None = field(default=None, repr=False)

    def remaining(self, now: float) -> float:
        if self.left_when_paused is not None:
            return self.left_when_paused
        return max(0.0, self.ends_at - now)


TimerChange = Literal["started", "updated", "cancelled", "finished"]
TimerListener = Callable[[TimerChange, "Timer"], None]


class Timers:
    """Timers on the event loop's clock; finished timers call `on_finished(timer)`."""

    def __init__(self, on_finished: Callable[[Timer], None]) -> None:
        self._timers: dict[int, Timer] = {}
        self._ids = itertools.count(1)
        self._on_finished = on_finished
        self._listeners: list[TimerListener] = []

    def listen(self, listener: TimerListener) -> Callable[[], None]:
        """Hear every start, cancel and finish (satellites show timers); returns an unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def start(
        self,
        conversation_id: str,
        seconds: float,
        *,
        name: str | None = None,
        area_id: str | None = None,
        command: str | None = None,
        context: Context | None = None,
    ) -> Timer:
        timer = Timer(next(self._ids), conversation_id, seconds, name, area_id, command, context)
        self._timers[timer.id] = timer
        self._schedule(timer, seconds)
        self._tell("started", timer)
        return timer

    def find(
        self,
        conversation_id: str,
        *,
        name: str | None = None,
        area_id: str | None = None,
        start_seconds: float | None = None,
    ) -> list[Timer]:
        """Timers a request means: by name, room or starting length; else this conversation's."""
        found = list(self._timers.values())
        if name is not None:
            found = [t for t in found if t.name and t.name.lower() == name.lower()]
        if area_id is not None:
            found = [t for t in found if t.area_id == area_id]
        if start_seconds is not None:
            found = [t for t in found if abs(t.seconds - start_seconds) < 1]
        if name is None and area_id is None and start_seconds is None:
            found = [t for t in found if t.conversation_id == conversation_id] or found
        return sorted(found, key=lambda t: t.id)

    def cancel(self, timer: Timer) -> None:
        if timer.handle is not None:
            timer.handle.cancel()
        if self._timers.pop(timer.id, None) is not None:
            self._tell("cancelled", timer)

    def pause(self, timer: Timer) -> None:
        if timer.left_when_paused is None:
            timer.left_when_paused = timer.remaining(self._now())
            if timer.handle is not None:
                timer.handle.cancel()
                timer.handle = None
            self._tell("updated", timer)

    def unpause(self, timer: Timer) -> None:
        if timer.left_when_paused is not None:
            left, timer.left_when_paused = timer.left_when_paused, None
            self._schedule(timer, left)
            self._tell("updated", timer)

    def add(self, timer: Timer, seconds: float) -> None:
        """Add (or with a negative number remove) time."""
        left = max(0.0, timer.remaining(self._now()) + seconds)
        if timer.left_when_paused is not None:
            timer.left_when_paused = left
        else:
            if timer.handle is not None:
                timer.handle.cancel()
            self._schedule(timer, left)
        self._tell("updated", timer)

    def remaining(self, timer: Timer) -> float:
        return timer.remaining(self._now())

    def cancel_all(self) -> None:
        for timer in list(self._timers.values()):
            self.cancel(timer)

    def _schedule(self, timer: Timer, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        timer.ends_at = loop.time() + seconds
        timer.handle = loop.call_later(seconds, self._finish, timer.id)

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _finish(self, timer_id: int) -> None:
        timer = self._timers.pop(timer_id, None)
        if timer is not None:
            self._on_finished(timer)
            self._tell("finished", timer)

    def _tell(self, change: TimerChange, timer: Timer) -> None:
        for listener in list(self._listeners):
            listener(change, timer)


def async_apply_request(
    timers: Timers,
    conversation_id: str,
    request: TimerRequest,
    language: str,
    *,
    context: Context | None = None,
    answer: Answer | None = None,
) -> str:
    """`async_apply` for the planner's TimerRequest."""
    return async_apply(
        timers,
        conversation_id,
        request.op,
        language,
        seconds=request.seconds,
        name=request.name,
        area_id=request.area_id,
        start_seconds=request.start_seconds,
        command=request.command,
        context=context,
        answer=answer,
    )


def async_apply(
    timers: Timers,
    conversation_id: str,
    op: str,
    language: str,
    *,
    seconds: float | None = None,
    name: str | None = None,
    area_id: str | None = None,
    start_seconds: float | None = None,
    command: str | None = None,
    context: Context | None = None,
    answer: Answer | None = None,
) -> str:
    """Carry out a spoken timer request and return the reply.

    With `answer` (HA's template context for the request), a request that was carried out
    is answered with HA's reply template in the request's language; a request that found no
    timer (or several) with HA's error reply where Hearth has no reply file of that language.
    Hearth's own replies stay the fallback.
    """
    from .replies import duration, reply

    def done(fallback: str, **extra: Any) -> str:
        if answer is not None:
            text = render_answer(replace(answer, slots={**answer.slots, **extra}), language)
            if text:
                return text
        return fallback

    def refused(fallback: str, error: str) -> str:
        if answer is not None and canonical_language(language) not in OWN_LANGUAGES:
            text = render_error(ErrorAnswer(error), language)
            if text:
                return text
        return fallback

    if op == "start" and seconds:
        timers.start(
            conversation_id, seconds, name=name, area_id=area_id, command=command, context=context
        )
        key = "timer_started_command" if command else "timer_started"
        return done(
            reply(key, language, duration=duration(seconds, language), command=command or "")
        )
    found = timers.find(conversation_id, name=name, area_id=area_id, start_seconds=start_seconds)
    if not found:
        if op == "cancel_all":
            return done(reply("no_timer", language), timers=[], canceled=0)
        if op == "status":
            return done(reply("no_timer", language), timers=[])
        return refused(reply("no_timer", language), "timer_not_found")
    if op == "cancel_all":
        for timer in found:
            timers.cancel(timer)
        return done(reply("timers_cancelled", language, n=len(found)), canceled=len(found))
    if op == "status":
        parts = [duration(timers.remaining(t), language) for t in found]
        return done(
            reply("timer_left", language, duration=reply("join", language).join(parts)),
            timers=[_template_timer(timers, t) for t in found],
        )
    if len(found) > 1 and (name or area_id or start_seconds):
        return refused(reply("timer_ambiguous", language, n=len(found)), "multiple_timers_matched")
    timer = found[-1]
    if op == "cancel":
        timers.cancel(timer)
        return done(reply("timer_cancelled", language))
    if op == "pause":
        timers.pause(timer)
        return done(reply("timer_paused", language))
    if op == "unpause":
        timers.unpause(timer)
        return done(reply("timer_resumed", language))
    if op == "add" and seconds:
        timers.add(timer, seconds)
        key = "timer_added" if seconds > 0 else "timer_removed"
        return done(reply(key, language, duration=duration(abs(seconds), language)))
    return reply("no_match", language)


def _template_timer(timers: Timers, timer: Timer) -> dict[str, Any]:
    """A timer as HA's HassTimerStatus template reads it."""
    left = round(timers.remaining(timer))
    hours, rest = divmod(left, 3600)
    minutes, secs = divmod(rest, 60)
    start_h, start_rest = divmod(round(timer.seconds), 3600)
    start_m, start_s = divmod(start_rest, 60)
    return {
        "is_active": timer.left_when_paused is None,
        "start_hours": start_h,
        "start_minutes": start_m,
        "start_seconds": start_s,
        "rounded_hours_left": hours,
        "rounded_minutes_left": minutes,
        "rounded_seconds_left": 0 if hours else secs,
        "total_seconds_left": left,
        "name": timer.name or "",
        "area": timer.area_id or "",
    }
