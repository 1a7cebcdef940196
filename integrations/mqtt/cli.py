"""`hearth mqtt-account`: accounts on the embedded broker for devices Hearth did not pair.

A Tasmota plug, a Zigbee2MQTT bridge or a dashboard gets its own login with an ACL to the
topics it names; the password is printed once and only its hash is kept. The running broker
takes the change at once; a stopped one at its next start.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the `mqtt-account` subcommand (entry point group `hearth.cli`)."""
    parser = subparsers.add_parser(
        "mqtt-account", help="broker accounts for devices Hearth did not pair"
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="make an account and print its password once")
    add.add_argument("name", help="the login name, e.g. tasmota-kitchen")
    add.add_argument(
        "--topic", action="append", default=[], help="filter it may publish and subscribe to"
    )
    add.add_argument("--read", action="append", default=[], help="filter it may only read")
    add.add_argument(
        "--discovery-id",
        action="append",
        default=[],
        help="node id it may announce discovery under ('+' for a bridge announcing many)",
    )
    add.set_defaults(func=_add)
    listing = sub.add_parser("list", help="list accounts and what they may touch")
    listing.set_defaults(func=_list)
    remove = sub.add_parser("remove", help="delete an account (its devices are disconnected)")
    remove.add_argument("name")
    remove.set_defaults(func=_remove)


def _add(args: argparse.Namespace) -> int:
    from .accounts import ROLE_CLIENT, AccountError, make_account, new_password

    if not (args.topic or args.read or args.discovery_id):
        print("error: give at least one --topic, --read or --discovery-id", file=sys.stderr)
        return 2
    store, prefix, port = _open(args)
    if args.name in store.accounts or args.name == "hearth":
        print(f"error: {args.name} exists; remove it first", file=sys.stderr)
        return 1
    password = new_password()
    try:
        account = make_account(
            args.name,
            ROLE_CLIENT,
            password,
            topics=args.topic,
            read_topics=args.read,
            discovery_ids=args.discovery_id,
        )
    except AccountError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    store.put(account)
    live = asyncio.run(_async_apply(args, port, prefix, account, password))
    print(f"username: {account.username}")
    print(f"password: {password}")
    print("(shown once: Hearth keeps only a hash)")
    print("live on the running broker" if live else "applies when the hub next starts")
    return 0


def _list(args: argparse.Namespace) -> int:
    store, _prefix, _port = _open(args)
    for account in sorted(store.accounts.values(), key=lambda a: a.username):
        rights = {
            "role": account.role,
            "topics": list(account.topics),
            "read": list(account.read_topics),
            "discovery_ids": list(account.discovery_ids),
        }
        print(f"{account.username:<32} {json.dumps(rights)}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    store, prefix, port = _open(args)
    if not store.delete(args.name):
        print(f"error: no account {args.name}", file=sys.stderr)
        return 1
    live = asyncio.run(_async_apply(args, port, prefix, None, args.name))
    print(f"removed {args.name}" + ("" if live else " (applies when the hub next starts)"))
    return 0


def _open(args: argparse.Namespace) -> tuple[Any, str, int]:
    from hub.config import load_config

    from .accounts import AccountStore
    from .discovery import DEFAULT_PREFIX

    config = load_config(args.config)
    section = config.integrations.get("mqtt") or {}
    store = AccountStore(config.config_dir)
    store.load()
    prefix = str(section.get("discovery_prefix") or DEFAULT_PREFIX)
    return store, prefix, int(section.get("embedded_port") or 1883)


async def _async_apply(
    args: argparse.Namespace, port: int, prefix: str, account: Any, secret: str
) -> bool:
    """Change the running embedded broker, if there is one; False when it is not running."""
    from .accounts import delete_commands, dynsec_commands
    from .broker import load_or_create_credentials
    from .mosquitto_broker import MosquittoError, ask_hub_to_reload, login_accepted, send_control

    hub = load_or_create_credentials(args.config)
    loopback = "127.0.0.1"
    if not await asyncio.to_thread(login_accepted, loopback, port, hub.username, hub.password):
        return False
    commands = (
        delete_commands(secret) if account is None else dynsec_commands(account, secret, prefix)
    )
    try:
        await asyncio.to_thread(send_control, loopback, port, hub, commands)
    except MosquittoError:
        return False
    # The hub checks discovery against the accounts: it must know this one before it is used.
    if not await asyncio.to_thread(ask_hub_to_reload, loopback, port, hub):
        return False
    if account is None:
        return True
    return await asyncio.to_thread(login_accepted, loopback, port, account.username, secret)
