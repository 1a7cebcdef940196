"""Conversation memory: what was last talked about, and a risky plan waiting for a yes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from .actions import Plan
from .recognizer import IntentMatch


@dataclass
class Conversation:
    """Per speaker/satellite state; lives only in memory."""

    last_match: IntentMatch | None = None
    last_entity_ids: tuple[str, ...] = ()
    pending: Plan | None = None
    pending_language: str = "en"
    _expiry: asyncio.TimerHandle | None = field(default=None, repr=False)

    def await_confirmation(
        self, plan: Plan, language: str, timeout: float, on_timeout: Callable[[], None]
    ) -> None:
        """Hold `plan` until confirmed; after `timeout` seconds it is cancelled."""
        self.clear_pending()
        self.pending, self.pending_language = plan, language
        self._expiry = asyncio.get_running_loop().call_later(timeout, self._expire, on_timeout)

    def take_pending(self) -> Plan | None:
        plan = self.pending
        self.clear_pending()
        return plan

    def clear_pending(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        self._expiry = None
        self.pending = None

    def _expire(self, on_timeout: Callable[[], None]) -> None:
        if self.pending is not None:
            self.pending = None
            self._expiry = None
            on_timeout()


def follow_up_area(last: IntentMatch, area_id: str) -> IntentMatch | None:
    """'and the kitchen too': the last command again, aimed at another room."""
    slots = {k: v for k, v in last.slots.items() if k != "name" and not k.endswith("_name")}
    if "domain" not in slots:
        named = [v for k, v in last.slots.items() if k == "name" or k.endswith("_name")]
        if named:
            slots["domain"] = str(named[0]).split(".", 1)[0]
    slots["area"] = area_id
    slots.pop("everywhere", None)
    return IntentMatch(last.intent, slots, last.language, last.text)
