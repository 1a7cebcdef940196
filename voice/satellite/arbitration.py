"""One wake word, one answer: of the satellites that heard it together, the best one replies."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

DEFAULT_WINDOW = 0.4  # seconds within which detections count as the same wake word
DEFAULT_HOLDOFF = 1.5  # after a decision, late detections of the same utterance lose


@dataclass(frozen=True, order=True)
class WakeScore:
    """How well a satellite heard the wake word: loudness (nearness) first, then the model's
    probability. Every detection already passed the threshold, and probabilities of the same
    utterance differ by chance more than by distance."""

    energy: float
    probability: float


@dataclass
class _Round:
    closes: float
    decided_at: float | None = None
    claims: dict[str, WakeScore] = field(default_factory=dict)
    winner: asyncio.Future[str] | None = None


class WakeArbiter:
    """Collects claims for `window` seconds, then picks the best; later claims of the round lose."""

    def __init__(self, window: float = DEFAULT_WINDOW, holdoff: float = DEFAULT_HOLDOFF) -> None:
        self.window = window
        self.holdoff = holdoff
        self._round: _Round | None = None

    async def async_claim(self, satellite: str, score: WakeScore) -> bool:
        """True if this satellite should answer; resolves once the window has closed."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        current = self._round
        if current is not None and current.decided_at is not None:
            if now - current.decided_at < self.holdoff and satellite not in current.claims:
                return False  # the same utterance, heard late elsewhere: already answered
            current = None
        if current is None or now > current.closes:
            current = _Round(closes=now + self.window, winner=loop.create_future())
            self._round = current
            loop.call_later(self.window, self._decide, current)
        best = current.claims.get(satellite)
        current.claims[satellite] = score if best is None else max(best, score)
        assert current.winner is not None
        return await asyncio.shield(current.winner) == satellite

    def _decide(self, current: _Round) -> None:
        current.decided_at = asyncio.get_running_loop().time()
        # Ties go to the name first in order, so the outcome never depends on timing.
        winner = max(sorted(current.claims), key=lambda s: current.claims[s])
        if current.winner is not None and not current.winner.done():
            current.winner.set_result(winner)
