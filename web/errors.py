"""API errors with their HTTP status, and the status of every core error."""

from __future__ import annotations

from hub.errors import (
    ConfigError,
    DeviceUnavailable,
    EntityNotFound,
    HearthError,
    IntegrationError,
    InvalidEntityId,
    InvalidServiceData,
    NotSupported,
    PermissionDenied,
    UnknownService,
)

__all__ = [
    "ApiError",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "MisdirectedHost",
    "NotFound",
    "RateLimited",
    "Unauthorized",
    "Unavailable",
    "status_of",
]


class ApiError(HearthError):
    """An error raised by the web layer itself; `status` is its HTTP status."""

    status = 400


class BadRequest(ApiError):
    """The request body or parameters are malformed."""

    code = "bad_request"
    status = 400


class Unauthorized(ApiError):
    """No valid session or token."""

    code = "unauthorized"
    status = 401


class Forbidden(ApiError):
    """Authenticated, but the user's role or areas do not allow this."""

    code = "forbidden"
    status = 403


class MisdirectedHost(ApiError):
    """The Host header names someone else (DNS rebinding, or a name the owner has not added)."""

    code = "unknown_host"
    status = 421


class NotFound(ApiError):
    """No such resource."""

    code = "not_found"
    status = 404


class Conflict(ApiError):
    """The request conflicts with the current state (already onboarded, last admin, ...)."""

    code = "conflict"
    status = 409


class RateLimited(ApiError):
    """Too many failed attempts; `retry_after` says when to try again."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after + 0.999))

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "retry_after": self.retry_after}


class Unavailable(ApiError):
    """A component the request needs (voice, rules, pairing) is not running."""

    code = "unavailable"
    status = 503


_STATUS: tuple[tuple[type[HearthError], int], ...] = (
    (PermissionDenied, 403),
    (InvalidServiceData, 400),
    (InvalidEntityId, 400),
    (ConfigError, 400),
    (UnknownService, 404),
    (EntityNotFound, 404),
    (NotSupported, 409),
    (DeviceUnavailable, 503),
    (IntegrationError, 503),
)


def status_of(err: HearthError) -> int:
    """The HTTP status for an error raised anywhere in the hub."""
    if isinstance(err, ApiError):
        return err.status
    for cls, status in _STATUS:
        if isinstance(err, cls):
            return status
    return 400 if err.code != "storage_error" else 503
