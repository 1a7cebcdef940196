"""Password hashing with argon2id (memory-hard); verification runs off the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["MIN_PASSWORD_LENGTH", "async_hash_password", "async_verify_password"]

MIN_PASSWORD_LENGTH = 8
# OWASP's argon2id baseline (19 MiB, 2 passes): memory-hard, and fast enough for a small hub.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the user does not exist, so a miss costs the same time as a hit.
_DUMMY_HASH = _HASHER.hash("not a real password, only for timing")


async def async_hash_password(password: str) -> str:
    """Return an argon2id hash of a password."""
    return await asyncio.get_running_loop().run_in_executor(None, _HASHER.hash, password)


async def async_verify_password(stored_hash: str | None, password: str) -> bool:
    """Check a password against a stored hash (or a dummy one when the user is unknown)."""
    return await asyncio.get_running_loop().run_in_executor(
        None, _verify, stored_hash or _DUMMY_HASH, password, stored_hash is not None
    )


def _verify(stored_hash: str, password: str, real: bool) -> bool:
    try:
        return _HASHER.verify(stored_hash, password) and real
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
