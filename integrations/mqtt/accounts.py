"""Broker accounts of the embedded broker: one per appliance, each with its own ACL.

The hub keeps only salted PBKDF2-SHA512 hashes (the format mosquitto's dynamic-security plugin
reads); an appliance's password goes to the appliance at pairing and nowhere else, a manually
made account's password is printed once. The ACLs are rendered as dynamic-security roles:
an appliance may publish and subscribe under ``hearth/<id>/#``, announce discovery only under
``<prefix>/<component>/<id>/<object>/config`` and read ``<prefix>/status``; nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .topic import filter_matches, valid_filter

_LOGGER = logging.getLogger(__name__)

ACCOUNTS_FILE = "mqtt_accounts.json"
# The passwords are 32 random bytes: iterations add nothing against guessing them, and every
# CONNECT pays for them (mosquitto's own default is 101).
ITERATIONS = 101
ROLE_HUB = "hub"
ROLE_STREAM = "stream"
ROLE_APPLIANCE = "appliance"
ROLE_CLIENT = "client"
ROLES = (ROLE_HUB, ROLE_STREAM, ROLE_APPLIANCE, ROLE_CLIENT)
APPLIANCE_BASE = "hearth"
CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
# `hearth mqtt-account` tells a running hub to re-read the accounts here (hub account only:
# appliances are fenced into hearth/<id>/#); the hub answers on RELOAD_TOPIC + "/loaded".
RELOAD_TOPIC = "hearth-hub/accounts"
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class AccountError(ValueError):
    """An account that cannot be made as asked."""


@dataclass(frozen=True)
class Account:
    """One broker login and what it may touch."""

    username: str
    role: str
    salt: str = field(repr=False)  # base64
    password_hash: str = field(repr=False)  # base64 PBKDF2-SHA512
    iterations: int = ITERATIONS
    topics: tuple[str, ...] = ()  # filters it may publish to and subscribe to
    read_topics: tuple[str, ...] = ()  # filters it may only subscribe to
    discovery_ids: tuple[str, ...] = ()  # node ids it may announce; "+" = any (a bridge)
    device_id: str | None = None
    created: float = 0.0

    def verify(self, password: str) -> bool:
        digest = _pbkdf2(password, base64.b64decode(self.salt), self.iterations)
        return hmac.compare_digest(base64.b64encode(digest).decode(), self.password_hash)

    def owns_topic(self, topic: str) -> bool:
        """True when this account may publish to `topic` (a full topic name, no wildcards)."""
        return self.role == ROLE_HUB or any(filter_matches(f, topic) for f in self.topics)


def new_password() -> str:
    return secrets.token_urlsafe(32)


def make_account(
    username: str,
    role: str,
    password: str,
    *,
    topics: Iterable[str] = (),
    read_topics: Iterable[str] = (),
    discovery_ids: Iterable[str] = (),
    device_id: str | None = None,
) -> Account:
    """A new account with `password` hashed; AccountError for a bad name or filter."""
    if not _NAME_RE.match(username):
        raise AccountError(f"account name {username!r}: 1-64 letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    for topic in (*topics, *read_topics):
        if not valid_filter(topic) or topic.startswith("$") or topic in ("#", "+/#"):
            raise AccountError(f"topic filter {topic!r} is invalid or covers everything")
    for node in discovery_ids:
        if node != "+" and not _ID_RE.match(node):
            raise AccountError(f"discovery id {node!r}: letters, digits, '_' or '-'")
    salt = os.urandom(12)
    return Account(
        username=username,
        role=role,
        salt=base64.b64encode(salt).decode(),
        password_hash=base64.b64encode(_pbkdf2(password, salt, ITERATIONS)).decode(),
        topics=tuple(topics),
        read_topics=tuple(read_topics),
        discovery_ids=tuple(discovery_ids),
        device_id=device_id,
        created=time.time(),
    )


def appliance_account(device_id: str, password: str) -> Account:
    """The account of a Hearth appliance: its own base topic and its own discovery node id."""
    if not _ID_RE.match(device_id):
        raise AccountError(f"device id {device_id!r} cannot name topics")
    return make_account(
        f"appliance-{device_id}",
        ROLE_APPLIANCE,
        password,
        topics=(f"{APPLIANCE_BASE}/{device_id}/#",),
        discovery_ids=(device_id,),
        device_id=device_id,
    )


def dynsec_config(accounts: Iterable[Account], discovery_prefix: str) -> dict[str, Any]:
    """The dynamic-security plugin's JSON: deny by default, one role per account."""
    clients = []
    roles = []
    for account in accounts:
        clients.append(_dynsec_client(account))
        roles.append({"rolename": account.username, "acls": acls(account, discovery_prefix)})
    return {
        "defaultACLAccess": {
            "publishClientSend": False,
            # Delivery is gated by what a client may subscribe to.
            "publishClientReceive": True,
            "subscribe": False,
            "unsubscribe": True,
        },
        "clients": clients,
        "groups": [],
        "roles": roles,
    }


def acls(account: Account, discovery_prefix: str) -> list[dict[str, Any]]:
    """Dynamic-security ACL entries for one account."""
    out: list[dict[str, Any]] = []

    def allow(kind: str, topic: str) -> None:
        out.append({"acltype": kind, "topic": topic, "priority": 0, "allow": True})

    if account.role == ROLE_HUB:
        for topic in ("#", f"{CONTROL_TOPIC}/#", CONTROL_TOPIC):
            allow("publishClientSend", topic)
            allow("subscribePattern", topic)
        return out
    for topic in account.topics:
        allow("publishClientSend", topic)
        allow("subscribePattern", topic)
    for topic in account.read_topics:
        allow("subscribePattern", topic)
    for node in account.discovery_ids:
        allow("publishClientSend", f"{discovery_prefix}/+/{node}/+/config")
    if account.discovery_ids:
        # Birth of the hub: devices announce again when it comes back.
        allow("subscribeLiteral", f"{discovery_prefix}/status")
    return out


def dynsec_commands(account: Account, password: str, discovery_prefix: str) -> list[dict[str, Any]]:
    """Control-API commands that (re)create `account` on a running broker.

    createClient takes the clear password (it travels over the hub's own loopback
    connection); the broker stores its own salted hash.
    """
    return [
        {"command": "deleteClient", "username": account.username},
        {"command": "deleteRole", "rolename": account.username},
        {
            "command": "createRole",
            "rolename": account.username,
            "acls": acls(account, discovery_prefix),
        },
        {
            "command": "createClient",
            "username": account.username,
            "password": password,
            "roles": [{"rolename": account.username}],
        },
    ]


def delete_commands(username: str) -> list[dict[str, Any]]:
    return [
        {"command": "deleteClient", "username": username},
        {"command": "deleteRole", "rolename": username},
    ]


def check_discovery(
    account: Account | None, node_id: str | None, data: Mapping[str, Any]
) -> str | None:
    """Why a device's discovery config must be refused, or None when it may stand.

    The broker only lets an account write discovery under its own node ids; this keeps that
    config from pointing the hub at anyone else's topics (or, for an appliance, device).
    """
    if account is None or account.role not in (ROLE_APPLIANCE, ROLE_CLIENT):
        return None
    topics = [(k, v) for k, v in data.items() if k.endswith("_topic")]
    availability = data.get("availability")
    if isinstance(availability, list):
        topics += [("availability", a.get("topic")) for a in availability if isinstance(a, Mapping)]
    for key, value in topics:
        if isinstance(value, str) and value and not account.owns_topic(value):
            return f"{key} {value!r} is outside {node_id}'s own topics"
    if account.role != ROLE_APPLIANCE:
        return None  # other firmware (Tasmota, Zigbee2MQTT) has its own id formats
    unique_id = data.get("unique_id")
    if unique_id is not None and not str(unique_id).startswith(f"{account.device_id}_"):
        return f"unique_id {unique_id!r} does not belong to device {account.device_id}"
    device = data.get("device")
    if isinstance(device, Mapping):
        identifiers = device.get("identifiers")
        ids = identifiers if isinstance(identifiers, list) else [identifiers]
        if any(i is not None and str(i) != account.device_id for i in ids):
            return f"device identifiers {identifiers!r} name another device"
        if device.get("connections"):
            return "an appliance cannot claim device connections"
    return None


class AccountStore:
    """The accounts, kept in <config>/mqtt_accounts.json (0600). Blocking; run in the executor."""

    def __init__(self, config_dir: Path) -> None:
        self.path = config_dir / ACCOUNTS_FILE
        self.accounts: dict[str, Account] = {}

    def load(self) -> None:
        try:
            data = json.loads(self.path.read_text())
            entries = data["accounts"]
            loaded = {}
            for entry in entries:
                entry = dict(entry)
                for key in ("topics", "read_topics", "discovery_ids"):
                    entry[key] = tuple(entry.get(key, ()))
                account = Account(**entry)
                loaded[account.username] = account
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError) as err:
            # Refusing to start is safer than silently dropping everyone's ACLs.
            raise AccountError(f"cannot read {self.path}: {err}") from err
        self.accounts = loaded

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        entries = [asdict(a) for a in sorted(self.accounts.values(), key=lambda a: a.username)]
        with os.fdopen(fd, "w") as handle:
            json.dump({"version": 1, "accounts": entries}, handle, indent=1)
        os.replace(tmp, self.path)

    def put(self, account: Account) -> None:
        """Add or replace one account, re-reading the file first (the CLI may have changed it)."""
        self.load()
        self.accounts[account.username] = account
        self.save()

    def delete(self, username: str) -> bool:
        self.load()
        found = self.accounts.pop(username, None) is not None
        if found:
            self.save()
        return found

    def for_node(self, node_id: str | None) -> Account | None:
        """The account that owns a discovery node id by name, if any (bridges with '+' do not:
        any of them may have written it)."""
        if node_id is None:
            return None
        for account in self.accounts.values():
            if node_id in account.discovery_ids:
                return account
        return None


def _dynsec_client(account: Account) -> dict[str, Any]:
    return {
        "username": account.username,
        "textname": account.role,
        "password": account.password_hash,
        "salt": account.salt,
        "iterations": account.iterations,
        "roles": [{"rolename": account.username}],
    }


def _pbkdf2(password: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
