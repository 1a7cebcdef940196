"""Fault benchmark (issue #16, "Nothing lost when things break") against a real `hearth run`.

Every scenario starts its own hub process (`python -m hub --config DIR run`) on a fresh config
folder in a temporary directory, with the dashboard/API and the built-in mosquitto on free
loopback ports (no mDNS, no LAN listener), creates the owner through the onboarding API with the
setup code the hub wrote, and a token through `POST /api/tokens`. Appliances and sensors are
separate MQTT clients (paho) with their own broker accounts, made with `hearth mqtt-account add`.
The appliance announces Home Assistant discovery once (retained) and answers the hub's birth
message with its availability only, so the configs that survive a kill are the ones the broker
persisted or the hub kept.

Scenarios (each alone with `--only NAME[,NAME]`):

- broker:   kill -9 the hub's mosquitto child three times; in each gap issue QoS 1 commands
            through the REST API (number.set_value with a unique value each); count per round
            delivered / duplicated / lost / expired, how long the broker took to come back, and
            the retained discovery configs before and after.
- together: kill -9 the hub and its broker at once, restart the hub: time from the device's
            reconnect until every MQTT entity is available and a command to each commandable
            entity has arrived (threshold 10 s).
- flood:    one device floods garbage (bad JSON, binary, NaN, 5,000-deep brackets, 1 MB) on 20
            sensor topics from another process while 10 good sensors publish timestamps; REST
            latency before/during, the good sensors' lag, hub log growth, messages sent/s.
- power:    kill -9 hub and broker N times while ~200 state changes/s are recorded; after each,
            PRAGMA integrity_check of registry.db/history.db/auth.db and the history lost
            (last change sent - last change in history.db), then restart.
- soak:     steady sensor load with a websocket client subscribed; RSS start/end, events missed.

    .venv/bin/python bench/faults.py                       # all scenarios, default sizes
    .venv/bin/python bench/faults.py --only broker,flood   # some
    .venv/bin/python bench/faults.py --full                # the issue's long run: 30 s flood,
                                                           # 600 s soak

Other options: `--command-expiry S` (the hub's mqtt command_expiry; below the broker's restart
time it shows commands reported expired), `--flood-seconds`, `--flood-rate MSGS` (cap; default
as fast as the device process can send), `--power-rounds`, `--soak SECONDS`, `--asyncio-debug`
(hubs log event-loop stalls over 100 ms; counted during the flood), `--keep` (keep the work
directory with the hubs' logs). See `--help`.

Prints one table (figure, value, threshold, PASS/FAIL/info) and exits 1 if a threshold failed
or a scenario broke. Every process it started is ended on exit, Ctrl-C included. Figures are from
one shared 2-core machine: timings are noisy, run again before reading much into one number.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import paho.mqtt.client as paho
import psutil

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PREFIX = "homeassistant"
BIRTH_TOPIC = f"{PREFIX}/status"
READY_MARK = "Hearth ready"
START_TIMEOUT = 90.0
SCENARIOS = ("broker", "together", "flood", "power", "soak")
GARBAGE = (
    b"{oops",
    b"\xff\xfe\x00\x01binary",
    b'{"temperature": NaN}',
    b"[" * 5000 + b"]" * 5000,
    b'{"temperature": ' * 3000,
    b"x" * (1024 * 1024),
)
MB = 1024 * 1024


# -- results --------------------------------------------------------------------------------
@dataclass
class Figure:
    """One printed figure; ok is None for figures the issue gives no threshold for."""

    scenario: str
    name: str
    value: str
    threshold: str = ""
    ok: bool | None = None

    @property
    def verdict(self) -> str:
        return "info" if self.ok is None else ("PASS" if self.ok else "FAIL")


def print_table(figures: list[Figure]) -> None:
    rows = [("scenario", "figure", "value", "threshold", "result")]
    rows += [(f.scenario, f.name, f.value, f.threshold, f.verdict) for f in figures]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    line = "-+-".join("-" * w for w in widths)
    for n, row in enumerate(rows):
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print(line)


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of values; nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


# -- processes ------------------------------------------------------------------------------
class Reaper:
    """Every process this benchmark started, ended on exit (SIGTERM, then SIGKILL)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.procs: list[subprocess.Popen[Any]] = []
        self.closers: list[Callable[[], None]] = []

    def popen(self, argv: list[str], **kwargs: Any) -> subprocess.Popen[Any]:
        proc = subprocess.Popen(argv, **kwargs)
        self.procs.append(proc)
        return proc

    def terminate(self) -> None:
        """SIGTERM every process started here, without waiting (safe in a signal handler)."""
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()

    def cleanup(self) -> None:
        for close in reversed(self.closers):
            with contextlib.suppress(Exception):
                close()
        self.closers.clear()
        self.terminate()
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait(5)
        # Brokers the hubs started (they run in their own session, as another user): ours are
        # the ones whose command line names a file under this run's unique work directory.
        for proc in _processes_under(self.root):
            with contextlib.suppress(psutil.Error):
                proc.kill()


def _processes_under(root: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info.get("cmdline") or []
        if proc.pid != os.getpid() and any(str(root) in part for part in cmdline):
            found.append(proc)
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


def rss_mb(pid: int | None) -> tuple[float, float]:
    """Resident and peak resident memory (MB) of a process, from /proc."""
    if pid is None:
        return float("nan"), float("nan")
    try:
        fields = dict(
            line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        )
    except OSError:
        return float("nan"), float("nan")
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


class Home:
    """One config folder and the `hearth run` process on it."""

    def __init__(self, ctx: Context, name: str) -> None:
        self.ctx = ctx
        self.name = name
        self.dir = ctx.root / name
        self.dir.mkdir()
        self.web_port = free_port()
        self.mqtt_port = free_port()
        self.log_path = ctx.root / f"{name}.log"
        self.log_path.touch()
        # Root runs mosquitto as an unprivileged user, with its data under this folder.
        self.broker_data = ctx.root / "broker-data"
        self.broker_data.mkdir(mode=0o755, exist_ok=True)
        os.chmod(self.broker_data, 0o755)
        (self.dir / "configuration.yaml").write_text(
            f"name: Faults bench {name}\n"
            "recorder:\n  keep_days: 1\n"
            f"web:\n  host: {HOST}\n  port: {self.web_port}\n  mdns: false\n"
            f"mqtt:\n  embedded: mosquitto\n  embedded_host: {HOST}\n"
            f"  embedded_port: {self.mqtt_port}\n"
            + (
                f"  command_expiry: {ctx.args.command_expiry}\n"
                if ctx.args.command_expiry is not None
                else ""
            ),
            encoding="utf-8",
        )
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "HEARTH_WEB_PORT": str(self.web_port),
            "HEARTH_MQTT_PORT": str(self.mqtt_port),
            "HEARTH_BROKER_DATA": str(self.broker_data),
        }
        if ctx.args.asyncio_debug:
            # asyncio then logs every callback that held the loop over 100 ms.
            self.env["PYTHONASYNCIODEBUG"] = "1"
        self.proc: subprocess.Popen[bytes] | None = None
        self.api: Api | None = None
        self.starts = 0
        # Log lines with the monotonic time this process saw them (read every 20 ms).
        self.lines: list[tuple[float, str]] = []
        self._log_offset = 0
        self._tail: asyncio.Task[None] | None = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.web_port}"

    def account(
        self,
        username: str,
        *,
        topics: Iterable[str] = (),
        read: Iterable[str] = (),
        ids: Iterable[str] = (),
    ) -> str:
        """A broker account made with `hearth mqtt-account add`; returns its password."""
        argv = [sys.executable, "-m", "hub", "--config", str(self.dir), "mqtt-account", "add"]
        argv.append(username)
        for flag, values in (("--topic", topics), ("--read", read), ("--discovery-id", ids)):
            for value in values:
                argv += [flag, value]
        out = subprocess.run(
            argv, capture_output=True, text=True, env=self.env, cwd=ROOT, timeout=120
        )
        found = re.search(r"^password: (\S+)$", out.stdout, re.MULTILINE)
        if out.returncode != 0 or found is None:
            raise RuntimeError(f"mqtt-account add {username} failed: {out.stdout}{out.stderr}")
        return found.group(1)

    def line_after(self, since: float, text: str) -> float | None:
        """When a log line containing text was first seen after `since` (monotonic)."""
        return next((at for at, line in self.lines if at > since and text in line), None)

    async def async_wait_line(self, since: float, text: str, timeout: float) -> float | None:
        """Wait (polling the tail) for a log line containing text after `since`."""
        await wait_for(lambda: self.line_after(since, text) is not None, timeout)
        return self.line_after(since, text)

    async def _async_tail(self) -> None:
        while True:
            with self.log_path.open("rb") as file:
                file.seek(self._log_offset)
                chunk = file.read()
            end = chunk.rfind(b"\n") + 1
            if end:
                self._log_offset += end
                now = time.monotonic()
                for line in chunk[:end].decode(errors="replace").splitlines():
                    self.lines.append((now, line))
            await asyncio.sleep(0.02)

    async def async_start(self) -> float:
        """Spawn `hearth run` and wait for its ready line; returns seconds to ready."""
        if self._tail is None:
            self._tail = asyncio.create_task(self._async_tail())
            self.ctx.closers.append(self._async_stop_tail)
        offset = self.log_path.stat().st_size
        started = time.monotonic()
        with self.log_path.open("ab") as log:
            self.proc = self.ctx.reaper.popen(
                [sys.executable, "-m", "hub", "--config", str(self.dir), "run"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=ROOT,
            )
        self.starts += 1
        deadline = started + START_TIMEOUT
        while time.monotonic() < deadline:
            with self.log_path.open("rb") as file:
                file.seek(offset)
                text = file.read().decode(errors="replace")
            if READY_MARK in text:
                return time.monotonic() - started
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"hub {self.name} exited ({self.proc.returncode}):\n{text[-3000:]}"
                )
            await asyncio.sleep(0.02)
        raise RuntimeError(f"hub {self.name} not ready after {START_TIMEOUT:.0f} s")

    async def async_onboard(self) -> Api:
        """Create the owner with the setup code, then a long-lived token for the API."""
        code = (self.dir / "onboarding_code").read_text().strip()
        jar = aiohttp.CookieJar(unsafe=True)  # cookies for an IP address host
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            body = {"code": code, "username": "bench", "password": "bench password 16"}
            async with session.post(f"{self.base}/api/onboarding", json=body) as resp:
                answer = await resp.json()
                if resp.status != 200:
                    raise RuntimeError(f"onboarding failed: {resp.status} {answer}")
            headers = {"X-CSRF-Token": answer["csrf_token"]}
            async with session.post(
                f"{self.base}/api/tokens", json={"name": "faults bench"}, headers=headers
            ) as resp:
                created = await resp.json()
                if resp.status != 201:
                    raise RuntimeError(f"token not created: {resp.status} {created}")
        self.api = Api(self.base, created["token"])
        self.ctx.closers.append(self.api.async_close)
        return self.api

    async def _async_stop_tail(self) -> None:
        if self._tail is not None:
            self._tail.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tail

    @property
    def hub_pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def broker_pid(self) -> int | None:
        """The hub's mosquitto child, if it runs."""
        if self.hub_pid is None:
            return None
        with contextlib.suppress(psutil.Error):
            for child in psutil.Process(self.hub_pid).children():
                if child.name() == "mosquitto":
                    return child.pid
        return None

    async def async_broker_pid(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid = self.broker_pid()
            if pid is not None:
                return pid
            await asyncio.sleep(0.05)
        raise RuntimeError("the hub's mosquitto is not running")

    def kill(self, *, hub: bool, broker: bool) -> None:
        """SIGKILL the broker and/or the hub, back to back (broker first)."""
        broker_pid = self.broker_pid() if broker else None
        if broker and broker_pid is None:
            raise RuntimeError("no broker to kill")
        if broker_pid is not None:
            os.kill(broker_pid, signal.SIGKILL)
        if hub and self.proc is not None:
            self.proc.kill()

    async def async_wait_dead(self) -> None:
        if self.proc is not None:
            await asyncio.to_thread(self.proc.wait, 30)

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    async def async_stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                await asyncio.to_thread(self.proc.wait, 30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


# -- REST and websocket -------------------------------------------------------------------------
class Api:
    """The hub's REST API with a bearer token."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.token = token
        self.session = aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {token}"},
            timeout=aiohttp.ClientTimeout(total=30),
        )

    async def async_close(self) -> None:
        await self.session.close()

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async with self.session.request(method, self.base + path, json=body) as resp:
            text = await resp.text()
            return resp.status, (json.loads(text) if text else None)

    async def get(self, path: str) -> Any:
        status, data = await self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {data}")
        return data

    async def call(self, service: str, entity_id: str, **data: Any) -> str:
        """Call a service on one entity; returns the delivery the hub reported."""
        domain, _, name = service.partition(".")
        body = {"data": data, "target": {"entity_id": [entity_id]}}
        status, answer = await self.request("POST", f"/api/services/{domain}/{name}", body)
        if status != 200:
            return f"http {status}"
        entities = ((answer or {}).get("response") or {}).get("entities") or {}
        return str((entities.get(entity_id) or {}).get("delivery", "none"))

    async def wait_entities(self, unique_ids: Iterable[str], timeout: float = 60) -> dict[str, str]:
        """Entity ids of the MQTT entities with these unique ids, once all are registered."""
        wanted = set(unique_ids)
        deadline = time.monotonic() + timeout
        while True:
            entries = await self.get("/api/entities")
            found = {e["unique_id"]: e["entity_id"] for e in entries if e["unique_id"] in wanted}
            if len(found) == len(wanted):
                return found
            if time.monotonic() > deadline:
                raise RuntimeError(f"entities not adopted: {sorted(wanted - set(found))}")
            await asyncio.sleep(0.1)

    async def unavailable(self, entity_ids: Iterable[str]) -> list[str]:
        states = {s["entity_id"]: s["state"] for s in await self.get("/api/states")}
        return [e for e in entity_ids if states.get(e) in (None, "unavailable")]

    async def wait_available(self, entity_ids: Iterable[str], timeout: float = 60) -> None:
        ids = list(entity_ids)
        deadline = time.monotonic() + timeout
        while missing := await self.unavailable(ids):
            if time.monotonic() > deadline:
                raise RuntimeError(f"entities not available: {missing}")
            await asyncio.sleep(0.05)


class Watcher:
    """A websocket client: chosen entities' state changes, and lost-command events."""

    def __init__(self, api: Api, entity_ids: Iterable[str], *, lost_events: bool = False) -> None:
        self.api = api
        self.entity_ids = sorted(entity_ids)
        self.lost_events = lost_events
        self.changes: dict[str, list[tuple[str, float]]] = {e: [] for e in self.entity_ids}
        self.lost: list[tuple[float, dict[str, Any]]] = []
        self.closed_early = False
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def async_start(self) -> None:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._subscribed.wait(), 30)

    async def async_stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def received(self, entity_id: str) -> set[str]:
        return {state for state, _ in self.changes[entity_id]}

    async def _run(self) -> None:
        url = self.api.base.replace("http://", "ws://") + "/api/websocket"
        async with self.api.session.ws_connect(url, max_msg_size=0, heartbeat=None) as ws:
            # The session's bearer header authenticates the upgrade; else the token message.
            answer = await ws.receive_json()
            if answer.get("type") == "auth_required":
                await ws.send_json({"type": "auth", "access_token": self.api.token})
                answer = await ws.receive_json()
            if answer.get("type") != "auth_ok":
                raise RuntimeError(f"websocket auth failed: {answer}")
            pending = {1}
            if self.entity_ids:
                await ws.send_json(
                    {"id": 1, "type": "subscribe_states", "entity_ids": self.entity_ids}
                )
            else:
                pending.clear()
            if self.lost_events:
                await ws.send_json(
                    {"id": 2, "type": "subscribe_events", "event_type": "mqtt_command_lost"}
                )
                pending.add(2)
            if not pending:
                self._subscribed.set()
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                now = time.time()
                data = json.loads(msg.data)
                for item in data if isinstance(data, list) else (data,):
                    if item.get("type") == "result":
                        if not item.get("success"):
                            raise RuntimeError(f"websocket subscription failed: {item}")
                        pending.discard(item.get("id"))
                        if not pending:
                            self._subscribed.set()
                    elif item.get("type") == "event" and item.get("id") == 1:
                        event = item["event"]
                        new = event.get("new_state") or {}
                        self.changes[event["entity_id"]].append((str(new.get("state")), now))
                    elif item.get("type") == "event" and item.get("id") == 2:
                        self.lost.append((time.monotonic(), item["event"]["data"]))
        self.closed_early = True


# -- simulated MQTT devices ---------------------------------------------------------------------
def _client(client_id: str, username: str, password: str) -> paho.Client:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    client.username_pw_set(username, password)
    # Like ESPHome: back within a second (paho's stubs say int; its loop takes floats).
    client.reconnect_delay_set(0.1, 0.5)  # type: ignore[arg-type]
    return client


def _connect(client: paho.Client, port: int, timeout: float = 30) -> None:
    connected = threading.Event()
    previous: Any = client.on_connect

    def on_connect(c: paho.Client, u: Any, f: Any, rc: Any, p: Any = None) -> None:
        if previous is not None:
            previous(c, u, f, rc, p)
        if not rc.is_failure:
            connected.set()

    client.on_connect = on_connect
    client.connect(HOST, port, keepalive=30)
    client.loop_start()
    if not connected.wait(timeout):
        raise RuntimeError(f"{client._client_id!r} could not connect to the broker")
    client.on_connect = previous


def _wait_published(infos: Iterable[paho.MQTTMessageInfo], timeout: float = 30) -> None:
    for info in infos:
        info.wait_for_publish(timeout)


class Appliance:
    """A Wi-Fi appliance like ESPHome: a number, a switch, a sensor and a binary sensor.

    Availability topic with a retained last will; "online" (retained) after every connect and
    after the hub's birth message; records each command with its arrival time and echoes it as
    the new state.
    """

    def __init__(self, port: int, username: str, password: str, node: str = "benchdev") -> None:
        self.port = port
        self.node = node
        self.base = f"bench/{node}"
        self.status_topic = f"{self.base}/status"
        self.commands: list[tuple[str, str, float]] = []  # (entity, payload, monotonic)
        self.connects: list[float] = []
        self.births: list[float] = []
        self.client = _client(f"bench-{node}", username, password)
        self.client.will_set(self.status_topic, "offline", qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message

    def configs(self) -> dict[str, dict[str, Any]]:
        """object id -> discovery config (component, payload)."""
        dev = {"ids": [self.node], "name": "Bench appliance", "mf": "Hearth bench"}
        common = {"avty_t": self.status_topic, "dev": dev}
        return {
            "number/level": {
                **common,
                "name": "Level",
                "cmd_t": f"{self.base}/level/set",
                "stat_t": f"{self.base}/level",
                "min": 0,
                "max": 1_000_000,
                "uniq_id": f"{self.node}_level",
            },
            "switch/relay": {
                **common,
                "name": "Relay",
                "cmd_t": f"{self.base}/relay/set",
                "stat_t": f"{self.base}/relay",
                "uniq_id": f"{self.node}_relay",
            },
            "sensor/power": {
                **common,
                "name": "Power",
                "stat_t": f"{self.base}/power",
                "unit_of_meas": "W",
                "uniq_id": f"{self.node}_power",
            },
            "binary_sensor/door": {
                **common,
                "name": "Door",
                "stat_t": f"{self.base}/door",
                "uniq_id": f"{self.node}_door",
            },
        }

    def unique_ids(self) -> dict[str, str]:
        """object id (e.g. 'number/level') -> unique id."""
        return {key: str(cfg["uniq_id"]) for key, cfg in self.configs().items()}

    def config_topic(self, key: str) -> str:
        component, obj = key.split("/")
        return f"{PREFIX}/{component}/{self.node}/{obj}/config"

    def start(self) -> None:
        """Connect, then announce once: configs and states, retained."""
        _connect(self.client, self.port)
        infos = [
            self.client.publish(self.config_topic(key), json.dumps(cfg), qos=1, retain=True)
            for key, cfg in self.configs().items()
        ]
        for topic, value in (("level", "0"), ("relay", "OFF"), ("power", "12.5"), ("door", "OFF")):
            infos.append(self.client.publish(f"{self.base}/{topic}", value, qos=1, retain=True))
        _wait_published(infos)

    def stop(self) -> None:
        self.client.loop_stop()
        with contextlib.suppress(Exception):
            self.client.disconnect()

    def received(self, entity: str) -> list[str]:
        return [payload for name, payload, _ in self.commands if name == entity]

    def arrival(self, entity: str, payload: str) -> float | None:
        for name, got, at in self.commands:
            if name == entity and got == payload:
                return at
        return None

    def _on_connect(self, client: paho.Client, _u: Any, _f: Any, rc: Any, _p: Any = None) -> None:
        if rc.is_failure:
            return
        self.connects.append(time.monotonic())
        client.subscribe([(f"{self.base}/level/set", 1), (f"{self.base}/relay/set", 1)])
        client.subscribe(BIRTH_TOPIC, 1)
        client.publish(self.status_topic, "online", qos=1, retain=True)

    def _on_message(self, client: paho.Client, _u: Any, message: paho.MQTTMessage) -> None:
        now = time.monotonic()
        payload = message.payload.decode(errors="replace")
        if message.topic == BIRTH_TOPIC:
            if payload == "online":
                # The hub is back: say "online" again, live (ESPHome re-sends its status and
                # discovery; the configs are not re-sent here, so their survival is measured).
                self.births.append(now)
                client.publish(self.status_topic, "online", qos=1, retain=True)
            return
        entity = message.topic.split("/")[-2]
        self.commands.append((entity, payload, now))
        client.publish(message.topic[: -len("/set")], payload, qos=1, retain=True)


def count_retained(port: int, username: str, password: str, topic_filter: str) -> int:
    """How many retained messages the broker holds under a filter (blocking)."""
    seen: dict[str, bool] = {}
    client = _client(f"bench-observer-{os.getpid()}-{time.monotonic_ns()}", username, password)
    subscribed = threading.Event()
    client.on_subscribe = lambda *_args: subscribed.set()
    client.on_message = lambda _c, _u, m: seen.__setitem__(m.topic, bool(m.retain and m.payload))
    try:
        _connect(client, port)
        client.subscribe(topic_filter, 1)
        subscribed.wait(10)
        time.sleep(1.0)  # retained messages follow the SUBACK at once; this is ample
    finally:
        client.loop_stop()
        client.disconnect()
    return sum(seen.values())


class SensorFleet:
    """Sensors, each its own device, publishing the time of sending as their state."""

    def __init__(
        self, port: int, username: str, password: str, kind: str, count: int, qos: int
    ) -> None:
        self.port = port
        self.kind = kind
        self.nodes = [f"{kind}{i}" for i in range(count)]
        self.qos = qos
        self.client = _client(f"bench-{kind}-fleet", username, password)
        self.sent: dict[str, list[tuple[str, float]]] = {n: [] for n in self.nodes}
        self.failed = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def state_topic(self, node: str) -> str:
        return f"bench/{self.kind}/{node}/state"

    def unique_id(self, node: str) -> str:
        return f"{node}_value"

    def start(self) -> None:
        _connect(self.client, self.port)
        infos = []
        for node in self.nodes:
            config = {
                "name": "Value",
                "stat_t": self.state_topic(node),
                "uniq_id": self.unique_id(node),
                "qos": self.qos,
                "dev": {"ids": [node], "name": f"Bench {node}"},
            }
            topic = f"{PREFIX}/sensor/{node}/value/config"
            infos.append(self.client.publish(topic, json.dumps(config), qos=1, retain=True))
        _wait_published(infos)

    def start_publishing(self, rate_each: float) -> None:
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._publish_loop, args=(rate_each,), name=f"{self.kind}-fleet", daemon=True
        )
        self._thread.start()

    def stop_publishing(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def stop(self) -> None:
        self.stop_publishing()
        self.client.loop_stop()
        with contextlib.suppress(Exception):
            self.client.disconnect()

    def sent_between(self, start: float, end: float) -> Iterator[tuple[str, str, float]]:
        """(node, value, sent epoch) of what was published between two epoch times."""
        for node, items in self.sent.items():
            for value, at in items:
                if start <= at < end:
                    yield node, value, at

    def last_sent_before(self, epoch: float) -> float | None:
        times = [at for items in self.sent.values() for _, at in items if at <= epoch]
        return max(times) if times else None

    def _publish_loop(self, rate_each: float) -> None:
        interval = 1.0 / (rate_each * len(self.nodes))
        due = time.monotonic()
        n = 0
        while not self._stop.is_set():
            node = self.nodes[n % len(self.nodes)]
            n += 1
            now = time.time()
            value = f"{now:.3f}"
            info = self.client.publish(self.state_topic(node), value, qos=self.qos)
            if info.rc == paho.MQTT_ERR_SUCCESS:
                self.sent[node].append((value, now))
            else:
                self.failed += 1
            due += interval
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -1.0:
                due = time.monotonic()  # fell far behind (GIL, CPU): do not burst to catch up


def run_flooder(args: argparse.Namespace) -> None:
    """The flooding device (its own process): announce, wait for 'go', flood, report."""
    client = _client("bench-flooder", args.username, args.password)
    _connect(client, args.port)
    infos = []
    for i in range(args.sensors):
        config = {
            "name": f"Temperature {i}",
            "stat_t": f"bench/flood/s{i}/state",
            "val_tpl": "{{ value_json.temperature }}",
            "uniq_id": f"flood_s{i}",
            "dev": {"ids": ["flood"], "name": "Flooding device"},
        }
        topic = f"{PREFIX}/sensor/flood/s{i}/config"
        infos.append(client.publish(topic, json.dumps(config), qos=1, retain=True))
    _wait_published(infos)
    print("announced", flush=True)
    if sys.stdin.readline().strip() != "go":
        return
    sent = 0
    sent_bytes = 0
    window: list[paho.MQTTMessageInfo] = []
    started = time.monotonic()
    stop = started + args.seconds
    interval = 1.0 / args.rate if args.rate > 0 else 0.0
    while time.monotonic() < stop:
        payload = GARBAGE[sent % len(GARBAGE)]
        info = client.publish(f"bench/flood/s{sent % args.sensors}/state", payload, qos=0)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            time.sleep(0.01)
            continue
        sent += 1
        sent_bytes += len(payload)
        # Backpressure: at most 64 messages not yet written to the socket.
        window.append(info)
        if len(window) >= 64:
            window.pop(0).wait_for_publish(5)
        if interval:
            time.sleep(max(0.0, started + sent * interval - time.monotonic()))
    _wait_published(window, 10)
    elapsed = time.monotonic() - started
    print(json.dumps({"sent": sent, "bytes": sent_bytes, "seconds": elapsed}), flush=True)
    client.loop_stop()
    client.disconnect()


# -- scenarios ------------------------------------------------------------------------------
@dataclass
class Context:
    """What the scenarios share: options, the work directory, and what to clean up."""

    args: argparse.Namespace
    root: Path
    reaper: Reaper
    # Async clean-ups of the running scenario (websockets, HTTP sessions), run after it.
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def home(self, name: str) -> Home:
        return Home(self, name)

    def device(self, device: Any) -> Any:
        self.reaper.closers.append(device.stop)
        return device


async def wait_for(
    check: Callable[[], bool], timeout: float, interval: float = 0.02
) -> float | None:
    """Poll until check() is true; returns the monotonic time it became true, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return time.monotonic()
        await asyncio.sleep(interval)
    return time.monotonic() if check() else None


async def scenario_broker(ctx: Context) -> list[Figure]:
    """Broker killed three times; QoS 1 commands in each gap."""
    s = "broker"
    home = ctx.home(s)
    dev_pw = home.account("benchdev", topics=["bench/benchdev/#"], ids=["benchdev"])
    obs_pw = home.account("benchobs", read=[f"{PREFIX}/#"])
    await home.async_start()
    api = await home.async_onboard()
    dev = ctx.device(Appliance(home.mqtt_port, "benchdev", dev_pw))
    await asyncio.to_thread(dev.start)
    uids = dev.unique_ids()
    eids = await api.wait_entities(uids.values())
    await api.wait_available(eids.values())
    number = eids[uids["number/level"]]
    watcher = Watcher(api, [], lost_events=True)
    await watcher.async_start()
    ctx.closers.append(watcher.async_stop)

    figures: list[Figure] = []
    seq = 0
    issued: list[str] = []
    first = await api.call("number.set_value", number, value=seq)
    issued.append(str(seq))
    if await wait_for(lambda: dev.received("level") == ["0"], 30) is None:
        raise RuntimeError(f"first command never arrived (hub said {first})")
    await asyncio.sleep(1.5)  # the broker saves retained messages once a second
    config_filter = f"{PREFIX}/+/benchdev/+/config"
    retained_before = await asyncio.to_thread(
        count_retained, home.mqtt_port, "benchobs", obs_pw, config_filter
    )
    per_round = ctx.args.commands
    # How long the hub holds a command (its default unless --command-expiry set it).
    expiry = ctx.args.command_expiry or 30.0
    for round_no in range(1, 4):
        await asyncio.sleep(1.5)
        lost_before = len(watcher.lost)
        killed = time.monotonic()
        home.kill(hub=False, broker=True)
        # The commands of this gap: each its own value, issued 50 ms apart.
        values = [str(seq + i + 1) for i in range(per_round)]
        seq += per_round
        issued.extend(values)
        calls = []
        for value in values:
            calls.append(asyncio.create_task(api.call("number.set_value", number, value=value)))
            await asyncio.sleep(0.05)
        back_at = await wait_for(lambda: port_open(home.mqtt_port), 60, 0.01)
        answers = Counter(await asyncio.gather(*calls))
        issued_by = time.monotonic()
        settled = await wait_for(
            lambda values=values, lost_before=lost_before: (  # type: ignore[misc]
                all(dev.received("level").count(v) for v in values)
                or len(watcher.lost) - lost_before >= per_round
            ),
            expiry + 20,
            0.05,
        )
        if settled is None:
            # Some commands neither arrived nor were reported: wait out the expiry to be sure.
            await asyncio.sleep(2.0)
        # The hub's own reconnect (its client's backoff is not told its broker is back).
        await home.async_wait_line(killed, "Connected to MQTT broker", 60)
        retained_now = await asyncio.to_thread(
            count_retained, home.mqtt_port, "benchobs", obs_pw, config_filter
        )
        got = Counter(v for v in dev.received("level") if v in values)
        delivered = sum(1 for v in values if got[v] >= 1)
        duplicated = sum(max(0, got[v] - 1) for v in values)
        expired = sum(
            1 for _, data in watcher.lost[lost_before:] if data.get("reason") == "expired"
        )
        lost = per_round - delivered - min(expired, per_round - delivered)
        dev_back = next((t for t in dev.connects if t > killed), None)
        hub_back = home.line_after(killed, "Connected to MQTT broker")
        arrivals = [a for v in values if (a := dev.arrival("level", v)) is not None]
        after_dev = (max(arrivals) - dev_back) if arrivals and dev_back else float("nan")
        gap = f"round {round_no}"
        figures.append(
            Figure(
                s,
                f"{gap}: broker back (port open) after kill",
                f"{back_at - killed:.2f} s" if back_at else "never",
                "",
                None if back_at else False,
            )
        )
        figures.append(
            Figure(
                s,
                f"{gap}: hub / device reconnected; retained configs",
                f"{_secs(hub_back, killed)} / {_secs(dev_back, killed)} after kill;"
                f" {retained_now}/{len(uids)}",
            )
        )
        figures.append(
            Figure(
                s,
                f"{gap}: {per_round} commands: delivered/dup/lost/expired",
                f"{delivered}/{duplicated}/{lost}/{expired}"
                f" (REST said {_counts(answers)}; last arrived {after_dev:.2f} s after device back;"
                f" calls done {issued_by - killed:.2f} s after kill)",
                "each once or expired; 0 dup, 0 lost",
                duplicated == 0 and lost == 0,
            )
        )
    # Exactly once, over every command issued: nothing more arrives once everything is out.
    await asyncio.sleep(2.0)
    totals = Counter(dev.received("level"))
    extra = sum(c - 1 for c in totals.values() if c > 1)
    strays = sorted(set(totals) - set(issued))
    figures.append(
        Figure(
            s,
            "all rounds: duplicates 2 s after the last round",
            f"{extra} (received {sum(totals.values())} commands, {len(issued)} issued"
            + (f"; unknown {strays}" if strays else "")
            + ")",
            "0",
            extra == 0 and not strays,
        )
    )
    retained_after = await asyncio.to_thread(
        count_retained, home.mqtt_port, "benchobs", obs_pw, config_filter
    )
    figures.append(
        Figure(
            s,
            "retained discovery configs before/after",
            f"{retained_before}/{retained_after} (of {len(uids)} announced)",
            "after = before",
            retained_after == retained_before == len(uids),
        )
    )
    missing = await api.unavailable(eids.values())
    state = (await api.get(f"/api/states/{number}"))["state"]
    # The state follows the device: the last command it got (expired ones never arrive).
    last_delivered = next((v for v in reversed(issued) if v in totals), "none")
    figures.append(
        Figure(
            s,
            "hub entities available after; number state",
            f"{len(eids) - len(missing)}/{len(eids)}; {state} (last delivered {last_delivered},"
            f" last issued {issued[-1]})",
            "all; = last delivered",
            not missing and _same_number(state, last_delivered),
        )
    )
    await watcher.async_stop()
    await home.async_stop()
    return figures


async def scenario_together(ctx: Context) -> list[Figure]:
    """Hub and broker killed together; the hub restarted."""
    s = "together"
    home = ctx.home(s)
    dev_pw = home.account("benchdev", topics=["bench/benchdev/#"], ids=["benchdev"])
    await home.async_start()
    api = await home.async_onboard()
    dev = ctx.device(Appliance(home.mqtt_port, "benchdev", dev_pw))
    await asyncio.to_thread(dev.start)
    uids = dev.unique_ids()
    eids = await api.wait_entities(uids.values())
    await api.wait_available(eids.values())
    number, relay = eids[uids["number/level"]], eids[uids["switch/relay"]]
    await api.call("number.set_value", number, value=1)
    await wait_for(lambda: "1" in dev.received("level"), 30)
    await asyncio.sleep(2.0)  # the hub's discovery copy and the broker save within a second
    figures: list[Figure] = []
    for round_no in range(1, ctx.args.together_rounds + 1):
        value = str(100 + round_no)
        home.kill(hub=True, broker=True)
        await home.async_wait_dead()
        restarted = time.monotonic()
        ready_s = await home.async_start()
        # Commands go out as soon as the API answers; the hub holds them until the device is back.
        calls = [
            asyncio.create_task(api.call("number.set_value", number, value=value)),
            asyncio.create_task(api.call("switch.turn_on", relay)),
        ]
        available_at = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if not await api.unavailable(eids.values()):
                available_at = time.monotonic()
                break
            await asyncio.sleep(0.05)
        answers = Counter(await asyncio.gather(*calls))
        commanded_at = await wait_for(
            lambda value=value, restarted=restarted: (  # type: ignore[misc]
                dev.arrival("level", value) is not None
                and any(t > restarted for n, p, t in dev.commands if n == "relay" and p == "ON")
            ),
            60,
        )
        dev_back = next((t for t in dev.connects if t > restarted), None)
        if commanded_at is not None:
            arrivals = [t for n, _, t in dev.commands if t > restarted]
            commanded_at = max(arrivals)
        if dev_back is None or available_at is None or commanded_at is None:
            figures.append(
                Figure(
                    s,
                    f"round {round_no}: entities back and commandable after device reconnect",
                    f"never (device back {dev_back is not None}, entities available "
                    f"{available_at is not None}, commands arrived {commanded_at is not None})",
                    "<= 10 s",
                    False,
                )
            )
            continue
        total = max(available_at, commanded_at) - dev_back
        once = dev.received("level").count(value) == 1
        # A broker killed with the device connected fires no will: its retained "online"
        # comes back from persistence, so the entities may be available before the device.
        avail = available_at - dev_back
        avail_note = f"+{avail:.2f} s" if avail >= 0 else f"{avail:.2f} s, retained 'online'"
        figures.append(
            Figure(
                s,
                f"round {round_no}: hub restart -> ready; device reconnected",
                f"{ready_s:.2f} s; {dev_back - restarted:.2f} s after restart",
            )
        )
        figures.append(
            Figure(
                s,
                f"round {round_no}: entities back and commandable after device reconnect",
                f"{total:.2f} s (all {len(eids)} available {avail_note}; both commands"
                f" arrived +{commanded_at - dev_back:.2f} s, {'once' if once else 'NOT once'};"
                f" REST said {_counts(answers)})",
                "<= 10 s, once",
                total <= 10.0 and once,
            )
        )
        await asyncio.sleep(2.0)
    await home.async_stop()
    return figures


async def scenario_flood(ctx: Context) -> list[Figure]:
    """One device floods garbage while good sensors publish timestamps."""
    s = "flood"
    args = ctx.args
    home = ctx.home(s)
    good_ids = [f"good{i}" for i in range(args.good_sensors)]
    good_pw = home.account("benchgood", topics=["bench/good/#"], ids=good_ids)
    flood_pw = home.account("benchflood", topics=["bench/flood/#"], ids=["flood"])
    await home.async_start()
    api = await home.async_onboard()
    good = ctx.device(SensorFleet(home.mqtt_port, "benchgood", good_pw, "good", len(good_ids), 1))
    await asyncio.to_thread(good.start)
    flooder = ctx.reaper.popen(
        [sys.executable, __file__, "--role", "flooder", "--port", str(home.mqtt_port),
         "--username", "benchflood", "--password", flood_pw, "--seconds", str(args.flood_seconds),
         "--sensors", str(args.flood_sensors), "--rate", str(args.flood_rate)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    assert flooder.stdin is not None and flooder.stdout is not None
    if (await asyncio.to_thread(flooder.stdout.readline)).strip() != "announced":
        raise RuntimeError("the flooding device did not start")
    good_eids = await api.wait_entities(good.unique_id(n) for n in good.nodes)
    flood_eids = await api.wait_entities(f"flood_s{i}" for i in range(args.flood_sensors))
    node_of = {good_eids[good.unique_id(n)]: n for n in good.nodes}
    watcher = Watcher(api, node_of)
    await watcher.async_start()
    probe_eid = next(iter(node_of))
    latencies: dict[str, list[float]] = {"before": [], "during": [], "other": []}
    phase = ["other"]
    stop_probes = asyncio.Event()

    async def probe() -> None:
        while not stop_probes.is_set():
            t = time.perf_counter()
            await api.get(f"/api/states/{probe_eid}")
            latencies[phase[0]].append((time.perf_counter() - t) * 1000)
            await asyncio.sleep(0.02)

    good.start_publishing(args.good_rate)
    await asyncio.sleep(1.0)
    prober = asyncio.create_task(probe())
    phase[0] = "before"
    before_start = time.time()
    await asyncio.sleep(args.baseline)
    phase[0] = "other"
    log_before = home.log_size()
    cpu_pids = {
        "hub": home.hub_pid,
        "broker": home.broker_pid(),
        "flooder": flooder.pid,
        "bench": os.getpid(),
    }
    cpu_before = {name: _cpu_seconds(pid) for name, pid in cpu_pids.items()}
    flood_start = time.time()
    flood_mono = time.monotonic()
    phase[0] = "during"
    flooder.stdin.write("go\n")
    flooder.stdin.flush()
    result_line = await asyncio.to_thread(flooder.stdout.readline)
    flood_end = time.time()
    phase[0] = "other"
    cpu_used = {
        name: (_cpu_seconds(pid) - cpu_before[name]) / (flood_end - flood_start)
        for name, pid in cpu_pids.items()
    }
    await asyncio.sleep(2.0)
    good.stop_publishing()
    stop_probes.set()
    await prober
    # Late arrivals count as lag, not as missed: wait up to 20 s for the backlog to drain.
    seen = {node: eid for eid, node in node_of.items()}
    await wait_for(
        lambda: all(
            value in watcher.received(seen[node])
            for node, value, _ in good.sent_between(flood_start, flood_end)
        ),
        20,
        0.2,
    )
    log_growth = home.log_size() - log_before
    stalls = [
        line
        for at, line in home.lines
        if at >= flood_mono and "Executing <" in line and " took " in line
    ]
    result = json.loads(result_line) if result_line.strip() else {"sent": 0, "bytes": 0}
    flooder.wait(30)
    bad_state = (await api.get(f"/api/states/{next(iter(flood_eids.values()))}"))["attributes"]

    def lags(start: float, end: float) -> tuple[list[float], int, int]:
        recv = {
            node: {value: at for value, at in watcher.changes[eid]} for eid, node in node_of.items()
        }
        out, missed, total = [], 0, 0
        for node, value, sent_at in good.sent_between(start, end):
            total += 1
            at = recv[node].get(value)
            if at is None:
                missed += 1
            else:
                out.append(at - sent_at)
        return out, missed, total

    before_lag, before_missed, before_total = lags(before_start, before_start + args.baseline)
    during_lag, during_missed, during_total = lags(flood_start, flood_end)
    b, d = latencies["before"], latencies["during"]
    sent_rate = result["sent"] / max(1e-9, result.get("seconds", args.flood_seconds))
    figures = [
        Figure(
            s,
            "REST GET state latency before flood p50/p99",
            f"{pct(b, 50):.1f}/{pct(b, 99):.1f} ms ({len(b)} requests)",
        ),
        Figure(
            s,
            "REST GET state latency during flood p50/p99",
            f"{pct(d, 50):.1f}/{pct(d, 99):.1f} ms ({len(d)} requests, max {max(d, default=0):.1f})",
            "p99 <= 100 ms",
            bool(d) and pct(d, 99) <= 100.0,
        ),
        Figure(
            s,
            "good sensors lag before flood max/p99",
            f"{max(before_lag, default=float('nan')):.3f}/{pct(before_lag, 99):.3f} s"
            f" ({before_total - before_missed}/{before_total} seen)",
        ),
        Figure(
            s,
            "good sensors lag during flood max/p99",
            f"{max(during_lag, default=float('nan')):.3f}/{pct(during_lag, 99):.3f} s"
            f" ({len(during_lag)} updates)",
            "<= 1 s",
            bool(during_lag) and max(during_lag) <= 1.0,
        ),
        Figure(
            s,
            "good sensors updates missed during flood",
            f"{during_missed} of {during_total} (not seen 20 s after the flood)",
            "0",
            during_missed == 0 and during_total > 0,
        ),
        Figure(
            s,
            "hub log growth during flood",
            f"{log_growth:,} bytes",
            "< 1 MB",
            log_growth < MB,
        ),
        Figure(
            s,
            "flood messages sent/s",
            f"{sent_rate:,.0f}/s ({result['sent']:,} msgs, {result['bytes'] / MB:,.0f} MB in"
            f" {result.get('seconds', 0):.1f} s to {args.flood_sensors} topics)",
        ),
        Figure(
            s,
            "CPU during flood (% of one core)",
            ", ".join(f"{name} {100 * used:.0f}%" for name, used in cpu_used.items())
            + f" (of {100 * (os.cpu_count() or 1)}%)",
        ),
        *(
            [
                Figure(
                    s,
                    "hub loop stalls > 100 ms during flood (asyncio debug)",
                    f"{len(stalls)}"
                    + (f"; longest seen: {_longest_stall(stalls)}" if stalls else ""),
                )
            ]
            if ctx.args.asyncio_debug
            else []
        ),
        Figure(
            s,
            "hub's view of the flooding device",
            f"over_budget={bad_state.get('over_budget')}, dropped {bad_state.get('dropped_messages')},"
            f" bad {bad_state.get('bad_messages')}",
        ),
    ]
    await watcher.async_stop()
    await home.async_stop()
    return figures


async def scenario_power(ctx: Context) -> list[Figure]:
    """Hub and broker killed N times while ~200 state changes/s are recorded."""
    s = "power"
    args = ctx.args
    rng = random.Random(16)
    home = ctx.home(s)
    nodes = [f"load{i}" for i in range(args.power_sensors)]
    load_pw = home.account("benchload", topics=["bench/load/#"], ids=nodes)
    await home.async_start()
    api = await home.async_onboard()
    fleet = ctx.device(SensorFleet(home.mqtt_port, "benchload", load_pw, "load", len(nodes), 0))
    await asyncio.to_thread(fleet.start)
    eids = await api.wait_entities(fleet.unique_id(n) for n in nodes)
    load_eids = sorted(eids.values())
    fleet.start_publishing(args.power_rate / len(nodes))
    figures: list[Figure] = []
    rates: list[float] = []
    losses: list[float] = []
    integrity_failures = 0
    for round_no in range(1, args.power_rounds + 1):
        # Recording is under way: a state the hub took after this round began.
        began = time.time()
        flowing = await _wait_recent(api, load_eids[0], began, 60)
        if not flowing:
            raise RuntimeError("the hub is not taking sensor states")
        await asyncio.sleep(rng.uniform(1.5, 3.5))
        killed = time.time()
        home.kill(hub=True, broker=True)
        last_sent = fleet.last_sent_before(killed)
        rates.append(sum(1 for _ in fleet.sent_between(began, killed)) / (killed - began))
        await home.async_wait_dead()
        checks = await asyncio.to_thread(_check_databases, home.dir, load_eids)
        bad = {name: r for name, r in checks["integrity"].items() if r != "ok"}
        integrity_failures += len(bad)
        last_recorded = checks["last_recorded"]
        loss = (last_sent - last_recorded) if last_sent and last_recorded else float("nan")
        losses.append(loss)
        ready_s = await home.async_start()
        damaged = sorted(p.name for p in home.dir.glob("*.damaged-*"))
        figures.append(
            Figure(
                s,
                f"round {round_no}: integrity_check registry/history/auth",
                "/".join(checks["integrity"].get(n, "missing") for n in _DATABASES),
                "ok",
                not bad,
            )
        )
        figures.append(
            Figure(
                s,
                f"round {round_no}: history lost (last sent - last recorded)",
                f"{loss:.2f} s ({checks['rows']:,} rows kept; restart ready in {ready_s:.2f} s)",
            )
        )
        figures.append(
            Figure(
                s,
                f"round {round_no}: files set aside as damaged after restart",
                ", ".join(damaged) or "none",
                "none",
                not damaged,
            )
        )
    finite = [x for x in losses if x == x]
    figures.append(
        Figure(
            s,
            f"history lost over {len(losses)} cuts max/median",
            f"{max(finite, default=float('nan')):.2f}/{statistics.median(finite) if finite else float('nan'):.2f} s"
            f" at {statistics.median(rates):.0f} changes/s sent (asked {args.power_rate:.0f});"
            " the recorder commits every 0.5 s",
        )
    )
    await home.async_stop()
    fleet.stop()
    return figures


_DATABASES = ("registry.db", "history.db", "auth.db")


def _check_databases(config_dir: Path, load_eids: list[str]) -> dict[str, Any]:
    """PRAGMA integrity_check of each database (as the next open would see it), and the
    newest sensor value history.db holds (blocking)."""
    integrity: dict[str, str] = {}
    last_recorded: float | None = None
    rows = 0
    for name in _DATABASES:
        path = config_dir / name
        if not path.exists():
            continue
        conn = sqlite3.connect(path, timeout=30)
        try:
            result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            integrity[name] = "ok" if result == ["ok"] else "; ".join(map(str, result))[:200]
            if name == "history.db":
                marks = ",".join("?" * len(load_eids))
                row = conn.execute(
                    f"SELECT MAX(CAST(state AS REAL)), COUNT(*) FROM states"
                    f" WHERE entity_id IN ({marks})",
                    load_eids,
                ).fetchone()
                last_recorded, rows = row[0], row[1]
        except sqlite3.DatabaseError as err:
            integrity[name] = f"error: {err}"
        finally:
            conn.close()
    return {"integrity": integrity, "last_recorded": last_recorded, "rows": rows}


async def _wait_recent(api: Api, entity_id: str, since: float, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(aiohttp.ClientError, RuntimeError, ValueError):
            state = (await api.get(f"/api/states/{entity_id}"))["state"]
            if float(state) >= since:
                return True
        await asyncio.sleep(0.1)
    return False


async def scenario_soak(ctx: Context) -> list[Figure]:
    """Steady sensor load with a websocket client subscribed."""
    s = "soak"
    args = ctx.args
    home = ctx.home(s)
    nodes = [f"soak{i}" for i in range(args.soak_sensors)]
    pw = home.account("benchsoak", topics=["bench/soak/#"], ids=nodes)
    await home.async_start()
    api = await home.async_onboard()
    fleet = ctx.device(SensorFleet(home.mqtt_port, "benchsoak", pw, "soak", len(nodes), 1))
    await asyncio.to_thread(fleet.start)
    eids = await api.wait_entities(fleet.unique_id(n) for n in nodes)
    node_of = {eids[fleet.unique_id(n)]: n for n in nodes}
    watcher = Watcher(api, node_of)
    await watcher.async_start()
    publish_start = time.time()
    fleet.start_publishing(args.soak_rate / len(nodes))
    await asyncio.sleep(5.0)  # warm-up: caches, first history batches
    hub0, broker0 = rss_mb(home.hub_pid), rss_mb(home.broker_pid())
    t0 = time.monotonic()
    pings: list[float] = []
    while time.monotonic() - t0 < args.soak:
        t = time.perf_counter()
        await api.get("/api/config")
        pings.append((time.perf_counter() - t) * 1000)
        await asyncio.sleep(1.0)
    fleet.stop_publishing()
    publish_end = time.time()
    await asyncio.sleep(3.0)  # the tail
    hub1, broker1 = rss_mb(home.hub_pid), rss_mb(home.broker_pid())
    total = missed = 0
    received = {eid: watcher.received(eid) for eid in node_of}
    by_node = {n: eid for eid, n in node_of.items()}
    for node, value, _ in fleet.sent_between(publish_start, publish_end):
        total += 1
        missed += value not in received[by_node[node]]
    figures = [
        Figure(
            s,
            "hub RSS start/end (peak)",
            f"{hub0[0]:.1f}/{hub1[0]:.1f} MB ({hub1[1]:.1f}) over {args.soak:.0f} s",
        ),
        Figure(s, "broker RSS start/end", f"{broker0[0]:.1f}/{broker1[0]:.1f} MB"),
        Figure(
            s,
            "websocket events missed",
            f"{missed} of {total} ({total / (publish_end - publish_start):.0f} changes/s;"
            f" socket closed early: {watcher.closed_early})",
            "0",
            missed == 0 and total > 0 and not watcher.closed_early,
        ),
        Figure(
            s,
            "REST GET /api/config during soak p50/max",
            f"{pct(pings, 50):.1f}/{max(pings, default=0):.1f} ms ({len(pings)} requests)",
        ),
    ]
    await watcher.async_stop()
    await home.async_stop()
    fleet.stop()
    return figures


def _longest_stall(lines: list[str]) -> str:
    """The asyncio debug line with the longest 'took N seconds', shortened."""

    def took(line: str) -> float:
        found = re.search(r" took ([0-9.]+) seconds", line)
        return float(found.group(1)) if found else 0.0

    line = max(lines, key=took)
    what = re.search(r"Executing <(\S+ \S+)", line)
    return f"{took(line):.3f} s in {what.group(1) if what else '?'}"


def _cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a process so far (0 when it is gone)."""
    if pid is None:
        return 0.0
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return float(times.user + times.system)


def _secs(at: float | None, since: float) -> str:
    return "never" if at is None else f"{at - since:.2f} s"


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{n} {k}" for k, n in sorted(counter.items()))


def _same_number(state: str, value: str) -> bool:
    try:
        return float(state) == float(value)
    except ValueError:
        return False


RUNNERS: dict[str, Callable[[Context], Awaitable[list[Figure]]]] = {
    "broker": scenario_broker,
    "together": scenario_together,
    "flood": scenario_flood,
    "power": scenario_power,
    "soak": scenario_soak,
}


async def run(args: argparse.Namespace, ctx: Context) -> list[Figure]:
    figures: list[Figure] = []
    for name in args.only:
        started = time.monotonic()
        print(f"-- {name} ...", flush=True)
        try:
            found = await RUNNERS[name](ctx)
        except Exception as err:  # one broken scenario must not hide the others' figures
            found = [Figure(name, "scenario ran to the end", f"error: {err!r}"[:300], "", False)]
        finally:
            for aclose in reversed(ctx.closers):
                with contextlib.suppress(Exception):
                    await aclose()
            ctx.closers.clear()
            for close in ctx.reaper.closers:
                with contextlib.suppress(Exception):
                    close()
            ctx.reaper.closers.clear()
            await _stop_hubs(ctx)
            for orphan in _processes_under(ctx.root):  # a broker whose hub was killed
                with contextlib.suppress(psutil.Error):
                    orphan.kill()
        for figure in found:
            print(f"   {figure.name}: {figure.value} [{figure.verdict}]", flush=True)
        print(f"   ({time.monotonic() - started:.0f} s)", flush=True)
        figures += found
    return figures


async def _stop_hubs(ctx: Context) -> None:
    for proc in ctx.reaper.procs:
        if proc.poll() is None:
            proc.terminate()
            try:
                await asyncio.to_thread(proc.wait, 30)
            except subprocess.TimeoutExpired:
                proc.kill()
    await asyncio.sleep(0.2)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios")
    parser.add_argument("--full", action="store_true", help="30 s flood and 600 s soak")
    parser.add_argument("--commands", type=int, default=3, help="commands per broker gap")
    parser.add_argument(
        "--command-expiry",
        type=float,
        help="set the hub's mqtt command_expiry (default: the hub's own, 30 s); a value below"
        " the broker's restart time shows commands reported expired instead of delivered",
    )
    parser.add_argument("--together-rounds", type=int, default=1)
    parser.add_argument("--flood-seconds", type=float, default=15.0)
    parser.add_argument("--flood-rate", type=float, default=0.0, help="msg/s cap (0 = no cap)")
    parser.add_argument("--flood-sensors", type=int, default=20)
    parser.add_argument("--good-sensors", type=int, default=10)
    parser.add_argument("--good-rate", type=float, default=5.0, help="per good sensor, msg/s")
    parser.add_argument("--baseline", type=float, default=5.0, help="seconds before the flood")
    parser.add_argument("--power-rounds", type=int, default=5)
    parser.add_argument("--power-rate", type=float, default=200.0, help="state changes/s")
    parser.add_argument("--power-sensors", type=int, default=20)
    parser.add_argument("--soak", type=float, default=60.0, help="soak seconds")
    parser.add_argument("--soak-rate", type=float, default=100.0, help="state changes/s")
    parser.add_argument("--soak-sensors", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument(
        "--asyncio-debug",
        action="store_true",
        help="run the hubs with PYTHONASYNCIODEBUG=1 and count loop stalls over 100 ms",
    )
    # The flooding device's own process.
    parser.add_argument("--role", choices=("bench", "flooder"), default="bench")
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--username", help=argparse.SUPPRESS)
    parser.add_argument("--password", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--sensors", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.full:
        args.flood_seconds = max(args.flood_seconds, 30.0)
        args.soak = max(args.soak, 600.0)
    args.only = [name.strip() for name in str(args.only).split(",") if name.strip()]
    unknown = sorted(set(args.only) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; choose from {', '.join(SCENARIOS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.role == "flooder":
        run_flooder(args)
        return 0
    root = Path(tempfile.mkdtemp(prefix="hearth-faults-"))
    os.chmod(root, 0o755)  # the broker runs as another user and must reach broker-data/
    reaper = Reaper(root)
    ctx = Context(args, root, reaper)

    def interrupted(signum: int, _frame: Any) -> None:
        # Children first, so nothing (a thread reading the flooder's output, a hub's stop)
        # keeps the event loop's shutdown waiting; then unwind through the clean-up below.
        reaper.terminate()
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    print(
        f"faults bench: {', '.join(args.only)}; work dir {root}; {os.cpu_count()} cores"
        " (shared machine: timings are noisy)",
        flush=True,
    )
    figures: list[Figure] = []
    try:
        figures = asyncio.run(run(args, ctx))
    except KeyboardInterrupt:
        print("interrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        reaper.cleanup()
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print()
    print_table(figures)
    failed = [f for f in figures if f.ok is False]
    print()
    print(f"{len(failed)} of {sum(f.ok is not None for f in figures)} thresholds failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
