"""Pairing sessions across integrations; progress goes out on the bus as pairing_progress."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .const import EVENT_PAIRING_PROGRESS
from .errors import EntityNotFound, NotSupported
from .integration import STAGE_DONE, STAGE_FAILED, PairingProgress, PairingRequest

if TYPE_CHECKING:
    from .core import Hub
    from .integration import Integration

__all__ = ["PairingManager", "PairingSession"]

_LOGGER = logging.getLogger(__name__)


@dataclass(slots=True)
class PairingSession:
    """A running search or pairing, with everything it reported so far."""

    id: str
    protocols: tuple[str, ...]
    progress: list[PairingProgress] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "protocols": list(self.protocols),
            "done": self.done.is_set(),
            "progress": [p.as_dict() for p in self.progress],
        }


class PairingManager:
    """Starts pairing on the integrations that can pair the requested protocols."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self.sessions: dict[str, PairingSession] = {}

    def protocols(self) -> dict[str, str]:
        """Protocol -> integration domain, for integrations that are running."""
        out: dict[str, str] = {}
        for domain, integration in self._hub.integrations.items():
            for protocol in integration.manifest.pairing:
                out.setdefault(protocol, domain)
        return out

    def async_start(
        self,
        protocols: list[str] | None = None,
        duration: float = 60.0,
        candidate_id: str | None = None,
        options: dict[str, object] | None = None,
    ) -> PairingSession:
        """Start a session on the given protocols (all when None)."""
        available = self.protocols()
        wanted = tuple(protocols or available)
        if not wanted:
            raise NotSupported("no running integration can pair devices")
        for protocol in wanted:
            if protocol not in available:
                raise NotSupported(f"no running integration pairs {protocol!r} devices")
        session = PairingSession(uuid.uuid4().hex[:12], wanted)
        self.sessions[session.id] = session
        for protocol in wanted:
            integration = self._hub.integrations[available[protocol]]
            request = PairingRequest(protocol, duration, candidate_id, dict(options or {}))
            task = self._hub.async_create_task(
                self._run(session, integration, request), f"pair-{protocol}"
            )
            session.tasks.append(task)
        self._hub.async_create_task(self._finish(session), "pair-finish")
        return session

    def get(self, session_id: str) -> PairingSession:
        """Return a session or raise EntityNotFound."""
        session = self.sessions.get(session_id)
        if session is None:
            raise EntityNotFound(f"unknown pairing session {session_id!r}")
        return session

    async def async_stop(self, session_id: str) -> None:
        """Cancel a session."""
        session = self.get(session_id)
        for task in session.tasks:
            task.cancel()
        await asyncio.gather(*session.tasks, return_exceptions=True)

    async def async_iterate(self, session: PairingSession) -> AsyncIterator[PairingProgress]:
        """Yield a session's progress as it happens (past steps first)."""
        seen = 0
        while True:
            while seen < len(session.progress):
                seen += 1
                yield session.progress[seen - 1]
            if session.done.is_set():
                return
            waiter = asyncio.ensure_future(
                self._hub.bus.async_wait_for(
                    EVENT_PAIRING_PROGRESS, lambda e: e.data.get("session_id") == session.id
                )
            )
            done_waiter = asyncio.ensure_future(session.done.wait())
            await asyncio.wait({waiter, done_waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            done_waiter.cancel()

    async def _run(
        self, session: PairingSession, integration: Integration, request: PairingRequest
    ) -> None:
        try:
            async for step in integration.async_pair(request):
                self._report(session, step)
        except asyncio.CancelledError:
            self._report(session, PairingProgress(STAGE_DONE, request.protocol or "", "stopped"))
            raise
        except Exception as err:
            _LOGGER.exception("Pairing with %s failed", integration.domain)
            self._report(session, PairingProgress(STAGE_FAILED, request.protocol or "", str(err)))

    async def _finish(self, session: PairingSession) -> None:
        await asyncio.gather(*session.tasks, return_exceptions=True)
        session.done.set()
        self._hub.bus.async_fire(
            EVENT_PAIRING_PROGRESS,
            {"session_id": session.id, "stage": STAGE_DONE, "finished": True},
        )

    def _report(self, session: PairingSession, step: PairingProgress) -> None:
        session.progress.append(step)
        self._hub.bus.async_fire(
            EVENT_PAIRING_PROGRESS, {"session_id": session.id, **step.as_dict()}
        )
