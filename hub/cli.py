"""The `hearth` command: run the hub, read states, call services; plugins add subcommands."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from .config import DEFAULT_CONFIG_DIR, load_config
from .const import __version__
from .errors import HearthError
from .json import json_dumps

__all__ = ["async_open_hub", "main"]

CLI_ENTRY_POINT_GROUP = "hearth.cli"
# Subcommands of the core parser; for these the plugin subcommands are not imported.
_CORE_COMMANDS = frozenset({"run", "states", "call"})
_LOGGER = logging.getLogger("hearth")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args_in = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(plugins=not _core_command(args_in))
    args = parser.parse_args(args_in)
    setup_logging(args.verbose)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except HearthError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def build_parser(plugins: bool = True) -> argparse.ArgumentParser:
    """The argument parser, with subcommands from plugins (entry points `hearth.cli`)."""
    parser = argparse.ArgumentParser(prog="hearth", description="Hearth home hub")
    parser.add_argument("--version", action="version", version=f"hearth {__version__}")
    parser.add_argument(
        "--config",
        "-c",
        type=Path,
        default=Path(os.environ.get("HEARTH_CONFIG", DEFAULT_CONFIG_DIR)),
        help="config directory (default ./hearth-data, created with a demo home if missing)",
    )
    parser.add_argument("--verbose", "-v", action="count", default=0)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="start the hub")
    run.set_defaults(func=cmd_run)

    states = sub.add_parser("states", help="print entity states")
    _add_remote_args(states)
    states.add_argument("--domain", help="only this domain")
    states.add_argument("--json", action="store_true", help="one JSON object per line")
    states.set_defaults(func=cmd_states)

    call = sub.add_parser("call", help="call a service, e.g. light.turn_on")
    _add_remote_args(call)
    call.add_argument("service", help="DOMAIN.SERVICE")
    call.add_argument(
        "--target",
        "-t",
        action="append",
        default=[],
        help="entity id, area:ID or device:ID (repeatable)",
    )
    call.add_argument(
        "--data", "-d", action="append", default=[], help="JSON object, or key=value (repeatable)"
    )
    call.set_defaults(func=cmd_call)

    for ep in entry_points(group=CLI_ENTRY_POINT_GROUP) if plugins else ():
        try:
            ep.load()(sub)
        except Exception as err:  # a broken plugin must not break the whole CLI
            print(f"warning: CLI plugin {ep.name} failed to load: {err}", file=sys.stderr)
    return parser


def _core_command(argv: list[str]) -> bool:
    """`run`, `states` or `call`: plugin subcommands are not imported (zigpy alone costs ~1 s)."""
    words = iter(argv)
    for word in words:
        if word in ("--config", "-c"):
            next(words, None)
        elif not word.startswith("-"):
            return word in _CORE_COMMANDS
    return False


def setup_logging(verbose: int = 0) -> None:
    """Readable one-line logs on stderr."""
    level = logging.DEBUG if verbose > 1 else logging.INFO
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    if verbose < 2:
        for noisy in ("aiohttp.access", "zigpy", "bleak", "amqtt", "transitions", "hpack"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


# -- commands ---------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    """Run until Ctrl-C or SIGTERM."""
    # Databases, keys and secrets the hub creates are the owner's alone (0600, folders 0700).
    os.umask(0o077)
    return asyncio.run(_async_run(args.config))


def cmd_states(args: argparse.Namespace) -> int:
    """Print states from a running hub (--url) or by starting the config dir's home."""
    states = asyncio.run(_async_states(args))
    if args.domain:
        states = [s for s in states if s["entity_id"].split(".", 1)[0] == args.domain]
    for state in sorted(states, key=lambda s: s["entity_id"]):
        if args.json:
            print(json_dumps(state))
        else:
            unit = state.get("attributes", {}).get("unit_of_measurement", "")
            print(f"{state['entity_id']:<40} {state['state']} {unit}".rstrip())
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    """Call a service and print its response and the states it changed."""
    domain, _, service = args.service.partition(".")
    if not domain or not service:
        raise HearthError(f"expected DOMAIN.SERVICE, got {args.service!r}")
    target = parse_targets(args.target)
    data = parse_data(args.data)
    result = asyncio.run(_async_call(args, domain, service, data, target))
    print(json_dumps(result, indent=True))
    return 0


# -- helpers ----------------------------------------------------------------------------
async def async_open_hub(config_dir: Path, *, only: Sequence[str] | None = None) -> Any:
    """Start a hub on a config dir (optionally with only some integrations) and return it."""
    from .core import Hub

    config = load_config(config_dir)
    if only is not None:
        config = dataclasses.replace(
            config, integrations={k: v for k, v in config.integrations.items() if k in only}
        )
    hub = Hub(config)
    try:
        await hub.async_start()
    except BaseException:
        await hub.async_stop()
        raise
    return hub


async def _async_run(config_dir: Path) -> int:
    from .core import Hub

    config = load_config(config_dir)
    _apply_log_levels(config.logging)
    hub = Hub(config)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await hub.async_start()
        await stop.wait()
        _LOGGER.info("Stopping")
    finally:
        await hub.async_stop()
    return 0


async def _async_states(args: argparse.Namespace) -> list[dict[str, Any]]:
    if args.url:
        async with _RemoteHub(args) as remote:
            return await remote.async_states()
    hub = await async_open_hub(args.config, only=_local_integrations(args.config))
    try:
        return [s.as_dict() for s in hub.states.all()]
    finally:
        await hub.async_stop()


async def _async_call(
    args: argparse.Namespace,
    domain: str,
    service: str,
    data: dict[str, Any],
    target: dict[str, list[str]],
) -> Any:
    if args.url:
        async with _RemoteHub(args) as remote:
            before = await remote.async_states()
            body = {"data": data, "target": target}
            answer = await remote.async_request("POST", f"/api/services/{domain}/{service}", body)
            await asyncio.sleep(args.wait)
            after = await remote.async_states()
        response = answer.get("response") if isinstance(answer, dict) else answer
        return {"response": response, "changed_states": _changed(before, after)}
    from .services import Target

    hub = await async_open_hub(args.config, only=_local_integrations(args.config))
    try:
        before = [s.as_dict() for s in hub.states.all()]
        response = await hub.services.async_call(
            domain, service, data, target=Target.from_dict(target)
        )
        # Devices answer after a realistic delay; give them a moment before reporting.
        await asyncio.sleep(args.wait)
        after = [s.as_dict() for s in hub.states.all()]
        return {"response": response, "changed_states": _changed(before, after)}
    finally:
        await hub.async_stop()


def _changed(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    old = {s["entity_id"]: s for s in before}
    return [s for s in after if old.get(s["entity_id"]) != s]


def _local_integrations(config_dir: Path) -> list[str]:
    # A one-shot command must not open the dashboard port a running hub may hold.
    config = load_config(config_dir)
    return [d for d in config.integrations if d not in {"web", "voice", "mqtt", "zeroconf"}]


def _add_remote_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url", default=os.environ.get("HEARTH_URL"), help="a running hub, e.g. http://hub:8123"
    )
    parser.add_argument(
        "--token", default=os.environ.get("HEARTH_TOKEN"), help="access token (or $HEARTH_TOKEN)"
    )
    parser.add_argument("--wait", type=float, default=1.0, help=argparse.SUPPRESS)


class _RemoteHub:
    """The REST API of a running hub, with the user's access token."""

    def __init__(self, args: argparse.Namespace) -> None:
        if not args.token:
            raise HearthError("a running hub needs an access token: --token or $HEARTH_TOKEN")
        self.url = str(args.url).rstrip("/")
        if not self.url.startswith(("http://", "https://")):
            raise HearthError(f"--url must start with http:// or https://, got {args.url!r}")
        self._headers = {"Authorization": f"Bearer {args.token}"}
        self._session: Any = None

    async def __aenter__(self) -> _RemoteHub:
        import aiohttp

        self._session = aiohttp.ClientSession(
            headers=self._headers, timeout=aiohttp.ClientTimeout(total=30)
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._session.close()

    async def async_states(self) -> list[dict[str, Any]]:
        """Every state the token may see."""
        states = await self.async_request("GET", "/api/states")
        if not isinstance(states, list):
            raise HearthError(f"{self.url} did not answer with a list of states")
        return states

    async def async_request(self, method: str, path: str, body: Any = None) -> Any:
        """One request; network trouble and error answers become a HearthError."""
        import aiohttp

        try:
            async with self._session.request(method, self.url + path, json=body) as resp:
                text = await resp.text()
        except (aiohttp.ClientError, TimeoutError) as err:
            reason = str(err) or type(err).__name__
            raise HearthError(f"cannot reach the hub at {self.url}: {reason}") from None
        try:
            payload = json.loads(text) if text else None
        except json.JSONDecodeError:
            payload = None
        if resp.status >= 400:
            message = payload.get("message") if isinstance(payload, dict) else text[:200]
            raise HearthError(f"hub answered {resp.status}: {message}")
        if payload is None and text:
            raise HearthError(f"{self.url}{path} did not answer JSON; is it a Hearth hub?")
        return payload


def parse_targets(items: Sequence[str]) -> dict[str, list[str]]:
    """Turn ['light.kitchen', 'area:bedroom'] into a target dict."""
    target: dict[str, list[str]] = {}
    for item in items:
        for part in item.split(","):
            part = part.strip()
            if not part:
                continue
            if part.startswith("area:"):
                target.setdefault("area_id", []).append(part[5:])
            elif part.startswith("device:"):
                target.setdefault("device_id", []).append(part[7:])
            else:
                target.setdefault("entity_id", []).append(part)
    return target


def parse_data(items: Sequence[str]) -> dict[str, Any]:
    """Merge JSON objects and key=value pairs (values parsed as JSON where they parse)."""
    data: dict[str, Any] = {}
    for item in items:
        text = item.strip()
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as err:
                raise HearthError(f"--data is not valid JSON: {err}") from None
            if not isinstance(value, dict):
                raise HearthError("--data JSON must be an object")
            data.update(value)
            continue
        key, sep, raw = text.partition("=")
        if not sep or not key:
            raise HearthError(f"--data expects key=value or a JSON object, got {item!r}")
        try:
            data[key] = json.loads(raw)
        except json.JSONDecodeError:
            data[key] = raw
    return data


def _apply_log_levels(config: Any) -> None:
    level = str(config.get("level", "info")).upper()
    logging.getLogger().setLevel(level)
    for name, lvl in dict(config.get("loggers", {})).items():
        logging.getLogger(name).setLevel(str(lvl).upper())
