"""Who may call what: roles, the principal a call runs as, and the check every service call passes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from .errors import PermissionDenied

__all__ = [
    "ROLES",
    "Principal",
    "Role",
    "UserLookup",
    "check_role",
    "check_targets",
    "lower_role",
    "needed_role",
    "role_at_least",
    "warn_undeclared",
]

_LOGGER = logging.getLogger(__name__)

Role = Literal["admin", "member", "guest"]
ROLES: tuple[Role, ...] = ("admin", "member", "guest")
_RANK: dict[str, int] = {"guest": 0, "member": 1, "admin": 2}
# Risky services (unlock, disarm, open the garage, purchases, firmware) never run for guests.
RISKY_MINIMUM: Role = "member"
_warned: set[str] = set()


def role_at_least(role: str, needed: str) -> bool:
    """True if `role` ranks at least as high as `needed` (unknown roles rank below guest)."""
    return _RANK.get(role, -1) >= _RANK[needed]


def lower_role(a: Role, b: Role) -> Role:
    """The lesser of two roles."""
    return a if _RANK[a] <= _RANK[b] else b


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a call runs as: a user (or a satellite, a rule's author) with a role; guests have rooms."""

    user_id: str | None
    role: Role
    areas: tuple[str, ...] = ()

    @property
    def limited_to_areas(self) -> bool:
        """Guests act only on entities in their areas."""
        return self.role == "guest"


# The web component registers the user directory: user id -> current principal (None: unknown).
UserLookup = Callable[[str], Principal | None]


def needed_role(access: Role, risky: bool) -> Role:
    """The least role a service needs: its declared access, at least member when risky."""
    if risky and not role_at_least(access, RISKY_MINIMUM):
        return RISKY_MINIMUM
    return access


def check_role(name: str, access: Role, risky: bool, principal: Principal) -> None:
    """Raise PermissionDenied unless `principal`'s role may call service `name` at all."""
    needed = needed_role(access, risky)
    if not role_at_least(principal.role, needed):
        raise PermissionDenied(f"{name} needs the {needed} role (you are {principal.role})")


def check_targets(
    name: str,
    principal: Principal,
    entity_ids: Iterable[str],
    area_of: Callable[[str], str | None],
    entity_risky: Callable[[str, str], bool],
) -> None:
    """Raise PermissionDenied unless `principal` may act on these entities (rooms, risk)."""
    service = name.split(".", 1)[1]
    entity_ids = tuple(entity_ids)
    if any(entity_risky(eid, service) for eid in entity_ids):
        check_role(name, "guest", True, principal)
    if principal.limited_to_areas:
        outside = [eid for eid in entity_ids if area_of(eid) not in principal.areas]
        if outside or not entity_ids:
            raise PermissionDenied("guests may only control devices in their rooms")


def warn_undeclared(name: str) -> None:
    """Log once that a service declared no access level and is therefore admin-only."""
    if name in _warned:
        return
    _warned.add(name)
    _LOGGER.warning(
        "Service %s declares no access level; only admins may call it (pass access=...)", name
    )
