"""Users, roles and what each role may see and do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hub.permissions import ROLES, Principal, Role, role_at_least

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = ["ROLES", "Role", "User"]


@dataclass(frozen=True, slots=True)
class User:
    """A person who can sign in. Guests see and control only the entities in their areas."""

    id: str
    username: str
    name: str
    role: Role
    areas: tuple[str, ...] = ()
    is_owner: bool = False
    created_at: float = 0.0

    @property
    def is_admin(self) -> bool:
        """Admins manage users, areas, rules and pairing."""
        return self.role == "admin"

    def has_role(self, role: Role) -> bool:
        """True if this user's role is at least `role`."""
        return role_at_least(self.role, role)

    def can_see(self, hub: Hub, entity_id: str) -> bool:
        """Whether this user may see (and control) an entity."""
        if self.role != "guest":
            return True
        return hub.registry.entity_area_id(entity_id) in self.areas

    def principal(self) -> Principal:
        """The rights service calls made for this user run with."""
        return Principal(self.id, self.role, self.areas)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (never includes the password hash)."""
        return {
            "id": self.id,
            "username": self.username,
            "name": self.name,
            "role": self.role,
            "areas": list(self.areas),
            "is_owner": self.is_owner,
            "created_at": self.created_at,
        }
