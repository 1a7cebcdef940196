"""`hearth pair zigbee`: open joining on the configured radio and print pairing progress."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the `pair` subcommand (entry point group `hearth.cli`)."""
    parser = subparsers.add_parser("pair", help="pair devices: hearth pair zigbee")
    parser.add_argument("protocol", choices=["zigbee"], help="protocol to pair")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds to permit joins")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the hub with only the zigbee integration and pair for --duration seconds."""
    return asyncio.run(_async_run(args))


async def _async_run(args: argparse.Namespace) -> int:
    from hub.cli import async_open_hub
    from hub.integration import PairingRequest

    hub = await async_open_hub(args.config, only=["zigbee"])
    try:
        integration = hub.integrations.get("zigbee")
        if integration is None:
            print("error: the zigbee integration did not start (see log)")
            return 1
        ready = 0
        async for step in integration.async_pair(PairingRequest("zigbee", args.duration)):
            who = step.suggested_name or ""
            print(f"{step.stage:<13} {who:<20} {step.message}".rstrip())
            ready += step.stage == "ready"
        print(f"{ready} device(s) paired")
        return 0
    finally:
        await hub.async_stop()
