"""What running rules share: the hub, the trigger index, the home's zone and named scenes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .index import TriggerIndex
from .templates import template_globals
from .timespec import local_zone

if TYPE_CHECKING:
    from hub.core import Hub

    from .modes import RunController
    from .scene import Scene

__all__ = ["Env"]


class Env:
    """Shared by every rule of one manager."""

    def __init__(self, hub: Hub, index: TriggerIndex) -> None:
        self.hub = hub
        self.index = index
        self.location = hub.config.location
        self.zone = local_zone(self.location.time_zone)
        self.globals: dict[str, Callable[..., Any]] = template_globals(hub)
        self.scenes: Mapping[str, Scene] = {}
        self.active_runs: set[RunController] = set()

    def now(self) -> datetime:
        """The current local time."""
        return self.hub.clock.now().astimezone(self.zone)

    def variables(self, extra: Mapping[str, Any]) -> dict[str, Any]:
        """Template variables: the helper functions plus run variables."""
        return {**self.globals, **extra}
