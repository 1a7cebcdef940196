"""Waiting on hub state in BLE tests: generous timeouts, no timing assertions."""

from __future__ import annotations

from collections.abc import Callable

from hub.core import Hub
from hub.entity import Entity
from hub.states import State
from tests.waiting import wait_until

WAIT = 30.0


async def wait_for(check: Callable[[], bool], what: str, limit: float = WAIT) -> None:
    """Poll `check` until it is true; fail with `what` after `limit` seconds."""
    await wait_until(check, limit, what)


def ble_entity(hub: Hub, address: str, key: str) -> Entity | None:
    """The live BLE entity for one reading of one device (unique id = address + key)."""
    unique = f"{address.replace(':', '').lower()}_{key}"
    for entity in hub.entities.for_integration("ble"):
        if entity.unique_id == unique:
            return entity
    return None


def state_of(hub: Hub, address: str, key: str) -> State | None:
    entity = ble_entity(hub, address, key)
    if entity is None or entity.entity_id is None:
        return None
    return hub.states.get(entity.entity_id)


async def wait_state(hub: Hub, address: str, key: str, expected: str, limit: float = WAIT) -> State:
    """Wait until the entity for (address, key) has state `expected`; return the State."""

    def check() -> bool:
        state = state_of(hub, address, key)
        return state is not None and state.state == expected

    await wait_for(
        check, f"{address}/{key} == {expected!r} (now {state_of(hub, address, key)})", limit
    )
    state = state_of(hub, address, key)
    assert state is not None
    return state
