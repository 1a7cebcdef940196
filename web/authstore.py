"""Auth data in a versioned SQLite file: users, browser sessions and long-lived tokens."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import sqlite_utils

from hub.storage import Database

from .errors import BadRequest, Conflict, NotFound
from .passwords import MIN_PASSWORD_LENGTH, async_hash_password, async_verify_password
from .users import ROLES, Role, User

__all__ = ["AccessToken", "AuthChange", "AuthStore", "Session"]

SESSION_LIFETIME = 30 * 86400.0
TOKEN_PREFIX = "hth_"
# Last-used times are written at most this often, so reads do not turn into disk writes.
_TOUCH_INTERVAL = 300.0


def _v1_initial(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE users (id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE COLLATE NOCASE,"
        " name TEXT NOT NULL, password_hash TEXT NOT NULL, role TEXT NOT NULL,"
        " areas TEXT NOT NULL, is_owner INTEGER NOT NULL, created_at REAL NOT NULL)"
    )
    db.execute(
        "CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id)"
        " ON DELETE CASCADE, csrf TEXT NOT NULL, created_at REAL NOT NULL,"
        " expires_at REAL NOT NULL, last_seen REAL NOT NULL, client TEXT)"
    )
    db.execute(
        "CREATE TABLE tokens (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id)"
        " ON DELETE CASCADE, name TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,"
        " created_at REAL NOT NULL, last_used REAL)"
    )


def _v2_last_login(db: sqlite_utils.Database) -> None:
    db.execute("ALTER TABLE users ADD COLUMN last_login REAL")


MIGRATIONS = (_v1_initial, _v2_last_login)


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser. The cookie holds a secret; only its SHA-256 is stored."""

    id: str
    user_id: str
    csrf: str
    created_at: float
    expires_at: float
    last_seen: float
    client: str = ""


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A long-lived token for scripts and apps; only its SHA-256 is stored."""

    id: str
    user_id: str
    name: str
    token_hash: str
    created_at: float
    last_used: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (without the hash)."""
        return {
            "id": self.id,
            "user_id": self.user_id,
            "name": self.name,
            "created_at": self.created_at,
            "last_used": self.last_used,
        }


# -- permissions: who must lose access at once (open websockets listen) --------------------
@dataclass(frozen=True, slots=True)
class AuthChange:
    """A change that takes rights away: a user deleted or re-roled, a token or session revoked."""

    kind: Literal["user_deleted", "user_changed", "token_revoked", "session_revoked"]
    user_id: str
    token_id: str | None = None
    session_id: str | None = None  # None with session_revoked: every session of the user


AuthListener = Callable[[AuthChange], None]


class AuthStore:
    """Keeps auth data in memory for fast checks and writes every change through to SQLite."""

    def __init__(self, path: Path) -> None:
        self.database = Database(path, MIGRATIONS, backups=True)
        self._users: dict[str, User] = {}
        self._hashes: dict[str, str] = {}
        self._sessions: dict[str, Session] = {}
        self._tokens: dict[str, AccessToken] = {}
        self._listeners: list[AuthListener] = []

    def add_listener(self, listener: AuthListener) -> Callable[[], None]:
        """Call `listener` after every change that takes rights away; returns the remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def session_alive(self, session_id: str) -> bool:
        """Whether a session (by id) is still signed in."""
        session = self._sessions.get(session_id)
        return session is not None and session.expires_at > time.time()

    def _changed(self, change: AuthChange) -> None:
        for listener in list(self._listeners):
            listener(change)

    async def async_open(self) -> None:
        """Open, migrate and load."""
        await self.database.async_open()
        users, sessions, tokens = await self.database.async_run(_load_all)
        now = time.time()
        for row in users:
            user = _user_from_row(row)
            self._users[user.id] = user
            self._hashes[user.id] = row["password_hash"]
        for row in sessions:
            if row["expires_at"] > now and row["user_id"] in self._users:
                self._sessions[row["id"]] = Session(**row)
        for row in tokens:
            if row["user_id"] in self._users:
                self._tokens[row["token_hash"]] = AccessToken(**row)

    async def async_close(self) -> None:
        """Close the database."""
        await self.database.async_close()

    # -- users --------------------------------------------------------------------------
    @property
    def onboarded(self) -> bool:
        """True once the owner account exists."""
        return bool(self._users)

    def users(self) -> list[User]:
        """Every user, oldest first."""
        return sorted(self._users.values(), key=lambda u: u.created_at)

    def get_user(self, user_id: str) -> User | None:
        """A user by id."""
        return self._users.get(user_id)

    def find_user(self, username: str) -> User | None:
        """A user by user name, ignoring case."""
        wanted = username.strip().lower()
        return next((u for u in self._users.values() if u.username.lower() == wanted), None)

    async def async_create_user(
        self,
        username: str,
        password: str,
        *,
        name: str = "",
        role: Role = "member",
        areas: tuple[str, ...] = (),
        is_owner: bool = False,
    ) -> User:
        """Create a user; the user name must be free and the password long enough."""
        username = _clean_username(username)
        _check_password(password)
        if role not in ROLES:
            raise BadRequest(f"unknown role {role!r}")
        if self.find_user(username) is not None:
            raise Conflict(f"user name {username!r} is taken")
        user = User(
            uuid.uuid4().hex,
            username,
            name.strip() or username,
            role,
            tuple(areas),
            is_owner,
            time.time(),
        )
        password_hash = await async_hash_password(password)
        await self.database.async_run(_insert_user, user, password_hash)
        self._users[user.id] = user
        self._hashes[user.id] = password_hash
        return user

    async def async_update_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        role: Role | None = None,
        areas: tuple[str, ...] | None = None,
        password: str | None = None,
    ) -> User:
        """Change a user's name, role, areas or password."""
        user = self._require_user(user_id)
        changes: dict[str, Any] = {}
        if name is not None and name.strip():
            changes["name"] = name.strip()
        if role is not None:
            if role not in ROLES:
                raise BadRequest(f"unknown role {role!r}")
            if user.role == "admin" and role != "admin" and self._admin_count() <= 1:
                raise Conflict("the last admin cannot lose the admin role")
            if user.is_owner and role != "admin":
                raise Conflict("the owner stays an admin")
            changes["role"] = role
        if areas is not None:
            changes["areas"] = tuple(areas)
        user = dataclasses.replace(user, **changes)
        password_hash = self._hashes[user_id]
        if password is not None:
            _check_password(password)
            password_hash = await async_hash_password(password)
        await self.database.async_run(_insert_user, user, password_hash)
        old = self._users[user_id]
        self._users[user_id] = user
        self._hashes[user_id] = password_hash
        if (old.role, old.areas) != (user.role, user.areas):
            self._changed(AuthChange("user_changed", user_id))
        if password is not None:
            # A new password signs the user out everywhere else.
            await self.async_remove_sessions(user_id)
        return user

    async def async_delete_user(self, user_id: str) -> None:
        """Delete a user with their sessions and tokens; the owner cannot be deleted."""
        user = self._require_user(user_id)
        if user.is_owner:
            raise Conflict("the owner cannot be deleted")
        if user.role == "admin" and self._admin_count() <= 1:
            raise Conflict("the last admin cannot be deleted")
        await self.database.async_run(_delete_where, "users", "id", user_id)
        del self._users[user_id]
        self._hashes.pop(user_id, None)
        for key in [k for k, s in self._sessions.items() if s.user_id == user_id]:
            del self._sessions[key]
        for key in [k for k, t in self._tokens.items() if t.user_id == user_id]:
            del self._tokens[key]
        self._changed(AuthChange("user_deleted", user_id))

    async def async_check_password(self, username: str, password: str) -> User | None:
        """Return the user if the password is right (constant work when the user is unknown)."""
        user = self.find_user(username)
        stored = self._hashes.get(user.id) if user is not None else None
        ok = await async_verify_password(stored, password)
        if user is None or not ok:
            return None
        await self.database.async_run(_touch, "users", "last_login", "id", user.id, time.time())
        return user

    # -- sessions -----------------------------------------------------------------------
    async def async_create_session(self, user: User, client: str = "") -> tuple[str, Session]:
        """Start a session; returns the cookie secret (shown once) and the session."""
        secret = secrets.token_urlsafe(32)
        now = time.time()
        session = Session(
            _digest(secret),
            user.id,
            secrets.token_urlsafe(24),
            now,
            now + SESSION_LIFETIME,
            now,
            client[:200],
        )
        await self.database.async_run(_insert, "sessions", dataclasses.asdict(session))
        self._sessions[session.id] = session
        return secret, session

    def session_for(self, secret: str) -> Session | None:
        """The live session behind a cookie secret."""
        session = self._sessions.get(_digest(secret))
        if session is None:
            return None
        now = time.time()
        if session.expires_at <= now:
            self._sessions.pop(session.id, None)
            return None
        return session

    async def async_remove_session(self, session_id: str) -> None:
        """Sign a session out."""
        session = self._sessions.pop(session_id, None)
        await self.database.async_run(_delete_where, "sessions", "id", session_id)
        if session is not None:
            self._changed(AuthChange("session_revoked", session.user_id, session_id=session_id))

    async def async_remove_sessions(self, user_id: str) -> None:
        """Sign a user out everywhere."""
        for key in [k for k, s in self._sessions.items() if s.user_id == user_id]:
            del self._sessions[key]
        await self.database.async_run(_delete_where, "sessions", "user_id", user_id)
        self._changed(AuthChange("session_revoked", user_id))

    # -- tokens -------------------------------------------------------------------------
    async def async_create_token(self, user: User, name: str) -> tuple[str, AccessToken]:
        """Create a long-lived token; returns the token text (shown once) and its record."""
        name = name.strip()
        if not name:
            raise BadRequest("a token needs a name")
        text = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = AccessToken(uuid.uuid4().hex[:16], user.id, name[:100], _digest(text), time.time())
        await self.database.async_run(_insert, "tokens", dataclasses.asdict(token))
        self._tokens[token.token_hash] = token
        return text, token

    def token_for(self, text: str) -> AccessToken | None:
        """The token record behind a bearer token."""
        return self._tokens.get(_digest(text))

    def tokens(self, user_id: str | None = None) -> list[AccessToken]:
        """Tokens of one user, or of everyone."""
        found = [t for t in self._tokens.values() if user_id is None or t.user_id == user_id]
        return sorted(found, key=lambda t: t.created_at)

    def get_token(self, token_id: str) -> AccessToken | None:
        """A token record by id."""
        return next((t for t in self._tokens.values() if t.id == token_id), None)

    async def async_delete_token(self, token_id: str) -> None:
        """Revoke a token."""
        token = self.get_token(token_id)
        if token is None:
            raise NotFound(f"unknown token {token_id!r}")
        del self._tokens[token.token_hash]
        await self.database.async_run(_delete_where, "tokens", "id", token_id)
        self._changed(AuthChange("token_revoked", token.user_id, token_id=token_id))

    async def async_touch_token(self, token: AccessToken) -> None:
        """Record that a token was used (at most every few minutes)."""
        now = time.time()
        if token.last_used is not None and now - token.last_used < _TOUCH_INTERVAL:
            return
        self._tokens[token.token_hash] = dataclasses.replace(token, last_used=now)
        await self.database.async_run(_touch, "tokens", "last_used", "id", token.id, now)

    # -- internals ----------------------------------------------------------------------
    def _require_user(self, user_id: str) -> User:
        user = self._users.get(user_id)
        if user is None:
            raise NotFound(f"unknown user {user_id!r}")
        return user

    def _admin_count(self) -> int:
        return sum(1 for u in self._users.values() if u.role == "admin")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _clean_username(username: str) -> str:
    username = username.strip()
    if not 1 <= len(username) <= 64 or any(c.isspace() or not c.isprintable() for c in username):
        raise BadRequest("a user name is 1-64 characters without spaces")
    return username


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadRequest(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 1024:
        raise BadRequest("a password may have at most 1024 characters")


def _user_from_row(row: dict[str, Any]) -> User:
    return User(
        row["id"],
        row["username"],
        row["name"],
        row["role"],
        tuple(json.loads(row["areas"])),
        bool(row["is_owner"]),
        row["created_at"],
    )


def _load_all(
    db: sqlite_utils.Database,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    return (
        [dict(r) for r in db.query("SELECT * FROM users")],
        [dict(r) for r in db.query("SELECT * FROM sessions")],
        [dict(r) for r in db.query("SELECT * FROM tokens")],
    )


def _insert_user(db: sqlite_utils.Database, user: User, password_hash: str) -> None:
    db.execute(
        "INSERT INTO users (id, username, name, password_hash, role, areas, is_owner, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name=excluded.name,"
        " password_hash=excluded.password_hash, role=excluded.role, areas=excluded.areas",
        [
            user.id,
            user.username,
            user.name,
            password_hash,
            user.role,
            json.dumps(list(user.areas)),
            int(user.is_owner),
            user.created_at,
        ],
    )


def _insert(db: sqlite_utils.Database, table: str, row: dict[str, Any]) -> None:
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))


def _delete_where(db: sqlite_utils.Database, table: str, column: str, value: str) -> None:
    db.execute(f"DELETE FROM {table} WHERE {column} = ?", [value])


def _touch(
    db: sqlite_utils.Database, table: str, column: str, key: str, value: str, when: float
) -> None:
    db.execute(f"UPDATE {table} SET {column} = ? WHERE {key} = ?", [when, value])
