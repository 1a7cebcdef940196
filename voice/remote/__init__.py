"""External Wyoming services a voice pipeline can use instead of its local engines.

In the Wyoming ecosystem speech services are servers (wyoming-faster-whisper,
wyoming-openwakeword, wyoming-piper, often on a bigger machine) and the hub is their client.
Configured per pipeline in the `voice:` section (see `config.py`); absent sections keep the
local engines.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from .client import ServiceUnavailable, async_describe, languages, model_names, offers
from .config import KINDS, ServiceSpec, parse_service
from .stt import WyomingStt
from .tts import WyomingTts
from .wake import WyomingWake, resolve_model

__all__ = [
    "KINDS",
    "RemoteServices",
    "ServiceSpec",
    "ServiceUnavailable",
    "WyomingStt",
    "WyomingTts",
    "WyomingWake",
    "parse_service",
]

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class RemoteServices:
    """The external services of one pipeline; None where the local engine is used."""

    stt: WyomingStt | None = None
    wake: WyomingWake | None = None
    tts: WyomingTts | None = None
    language: str = "en"

    @classmethod
    def create(
        cls,
        stt: ServiceSpec | None,
        wake: ServiceSpec | None,
        tts: ServiceSpec | None,
        *,
        wake_word: str,
        language: str,
    ) -> RemoteServices:
        return cls(
            stt=WyomingStt(stt) if stt is not None else None,
            wake=WyomingWake(wake, wake_word) if wake is not None else None,
            tts=WyomingTts(tts) if tts is not None else None,
            language=language,
        )

    @property
    def any(self) -> bool:
        return any(s is not None for s in (self.stt, self.wake, self.tts))

    async def async_probe(self) -> dict[str, str | None]:
        """`describe` each service once; log what it offers, warn when it is offline or lacks
        the configured model. Never raises: the hub starts either way. Returns kind → error."""
        checks = []
        if self.stt is not None:
            checks.append(self._async_probe_one(self.stt.spec, self.stt.spec.model))
        if self.wake is not None:
            checks.append(self._async_probe_one(self.wake.spec, self.wake.model))
        if self.tts is not None:
            checks.append(self._async_probe_one(self.tts.spec, self.tts.spec.model))
        results = await asyncio.gather(*checks)
        return dict(results)

    async def _async_probe_one(
        self, spec: ServiceSpec, model: str | None
    ) -> tuple[str, str | None]:
        try:
            info = await async_describe(spec)
        except ServiceUnavailable as err:
            _LOGGER.warning(
                "voice %s: %s; requests will be refused until it answers", spec.kind, err
            )
            return spec.kind, str(err)
        offered = offers(spec, info)
        if not offered:
            problem = f"{spec.role} service at {spec.where} offers no {spec.kind} program"
            _LOGGER.warning("voice %s: %s", spec.kind, problem)
            return spec.kind, problem
        _LOGGER.info(
            "voice %s: %s service at %s offers %s",
            spec.kind,
            spec.role,
            spec.where,
            "; ".join(offered),
        )
        names = model_names(spec, info)
        if model and resolve_model(model, names) is None:
            problem = f"{spec.role} service at {spec.where} has no model {model!r}"
            _LOGGER.warning("voice %s: %s (it offers %s)", spec.kind, problem, ", ".join(names))
            return spec.kind, problem
        langs = languages(spec, info)
        want = (spec.language or self.language).split("-")[0]
        if (
            spec.kind != "wake"
            and langs
            and not any(lang.split("-")[0].split("_")[0] == want for lang in langs)
        ):
            _LOGGER.warning(
                "voice %s: %s service at %s lists no %r model",
                spec.kind,
                spec.role,
                spec.where,
                want,
            )
        return spec.kind, None
