"""The plugin interface every integration implements: set up, tear down, entities, pairing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from .errors import NotSupported
from .schema import Schema

if TYPE_CHECKING:
    from .core import Hub
    from .entity import Entity

__all__ = ["Integration", "Manifest", "PairingCandidate", "PairingProgress", "PairingRequest"]

# Pairing stages, in the order a device goes through them.
STAGE_SEARCHING = "searching"
STAGE_FOUND = "found"
STAGE_JOINED = "joined"
STAGE_INTERVIEWING = "interviewing"
STAGE_CONFIGURED = "configured"
STAGE_READY = "ready"
STAGE_FAILED = "failed"
STAGE_DONE = "done"


@dataclass(frozen=True, slots=True)
class Manifest:
    """What an integration is and needs."""

    domain: str
    name: str
    dependencies: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    pairing: tuple[str, ...] = ()  # protocols it can pair: "zigbee", "ble", "wifi"
    description: str = ""


@dataclass(frozen=True, slots=True)
class PairingRequest:
    """Start a pairing session, or pair one candidate found by an earlier session."""

    protocol: str | None = None
    duration: float = 60.0
    candidate_id: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PairingCandidate:
    """A device found nearby that could be added."""

    id: str
    protocol: str
    name: str
    model: str | None = None
    manufacturer: str | None = None
    needs: tuple[str, ...] = ()  # options the user must supply, e.g. ("bind_key",)
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PairingProgress:
    """One step of pairing, reported on the bus as pairing_progress."""

    stage: str
    protocol: str
    message: str = ""
    device_id: str | None = None
    candidate: PairingCandidate | None = None
    entity_ids: tuple[str, ...] = ()
    progress: float | None = None
    suggested_name: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out: dict[str, Any] = {
            "stage": self.stage,
            "protocol": self.protocol,
            "message": self.message,
            "device_id": self.device_id,
            "entity_ids": list(self.entity_ids),
            "progress": self.progress,
            "suggested_name": self.suggested_name,
        }
        if self.candidate is not None:
            c = self.candidate
            out["candidate"] = {
                "id": c.id,
                "protocol": c.protocol,
                "name": c.name,
                "model": c.model,
                "manufacturer": c.manufacturer,
                "needs": list(c.needs),
                "details": dict(c.details),
            }
        return out


class Integration:
    """Base class of integrations. A package sets `INTEGRATION = MyIntegration`."""

    manifest: ClassVar[Manifest]
    config_schema: ClassVar[Schema | None] = None

    def __init__(self, hub: Hub, config: Mapping[str, Any]) -> None:
        self.hub = hub
        self.config = config

    @property
    def domain(self) -> str:
        """The integration's domain."""
        return self.manifest.domain

    async def async_setup(self) -> None:
        """Start: connect to devices, add entities, register services."""

    async def async_teardown(self) -> None:
        """Stop: disconnect and release resources."""

    def entities(self) -> list[Entity]:
        """The entities this integration owns."""
        return self.hub.entities.for_integration(self.domain)

    async def async_pair(self, request: PairingRequest) -> AsyncIterator[PairingProgress]:
        """Run a pairing session, yielding progress. Integrations that pair override this."""
        raise NotSupported(f"{self.domain} does not pair devices")
        yield  # pragma: no cover - makes this an async generator

    async def async_remove_device(self, device_id: str) -> None:
        """Remove a device from the network (unpair). Default: only forget it."""
