"""Typed errors that reach the caller of a service or API."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "ConfigError",
    "DeviceUnavailable",
    "EntityNotFound",
    "HearthError",
    "IntegrationError",
    "InvalidEntityId",
    "InvalidServiceData",
    "NotSupported",
    "PermissionDenied",
    "UnknownService",
]


class HearthError(Exception):
    """Base of every error Hearth reports to a caller. `code` is stable for APIs."""

    code = "error"

    def as_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict for API answers."""
        return {"code": self.code, "message": str(self)}


class UnknownService(HearthError):
    """No such domain.service."""

    code = "unknown_service"

    def __init__(self, domain: str, service: str) -> None:
        super().__init__(f"unknown service {domain}.{service}")
        self.domain = domain
        self.service = service


class InvalidServiceData(HearthError):
    """Service data or target failed validation; `errors` maps field to problem."""

    code = "invalid_data"

    def __init__(self, message: str, errors: Mapping[str, str] | None = None) -> None:
        self.errors = dict(errors or {})
        detail = "; ".join(f"{k}: {v}" for k, v in self.errors.items())
        super().__init__(f"{message}: {detail}" if detail else message)

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "errors": self.errors}


class EntityNotFound(HearthError):
    """A target names an entity, device or area that does not exist."""

    code = "not_found"


class InvalidEntityId(HearthError):
    """An entity id is not of the form domain.object_id."""

    code = "invalid_entity_id"

    def __init__(self, entity_id: str) -> None:
        super().__init__(f"invalid entity id {entity_id!r}: expected domain.object_id")


class DeviceUnavailable(HearthError):
    """The device behind an entity cannot be reached right now."""

    code = "unavailable"


class NotSupported(HearthError):
    """The entity or integration does not support what was asked."""

    code = "not_supported"


class PermissionDenied(HearthError):
    """The caller's role (or rooms) does not allow this service call."""

    code = "forbidden"


class IntegrationError(HearthError):
    """An integration failed to load or set up."""

    code = "integration_error"


class ConfigError(HearthError):
    """A configuration problem, located by file and line."""

    code = "config_error"

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        where = file or "<config>"
        if line is not None:
            where = f"{where}, line {line}"
        super().__init__(f"{where}: {message}")
