"""The embedded broker as a supervised mosquitto subprocess, owned by the event loop.

Its config, accounts (the dynamic-security plugin's file, hashed passwords and per-account
ACLs) and persistence live in the config directory; its log lines go to our logger; it is
restarted with backoff when it dies and dies with the hub. Plaintext is served on loopback
only; the LAN gets a TLS listener when the owner turns it on. Under a root hub, mosquitto is
started as the unprivileged user 'mosquitto' (or 'nobody'), with everything it reads or writes
in a folder of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import glob
import hashlib
import json
import logging
import os
import pwd
import shutil
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .accounts import CONTROL_TOPIC, RELOAD_TOPIC, Account, dynsec_config

if TYPE_CHECKING:
    from .broker import BrokerCredentials
    from .tls import ServerTls

_LOGGER = logging.getLogger(__name__)

# Debian installs mosquitto in /usr/sbin, which is not on an ordinary user's PATH.
SBIN_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
RESTART_MIN = 0.5
RESTART_MAX = 30.0
STABLE_RUN = 60.0  # a run at least this long resets the restart backoff
LOG_TAIL = 20
LOG_LINE_LIMIT = 1 << 20
PR_SET_PDEATHSIG = 1
PLUGIN_GLOBS = (
    "/usr/lib/*/mosquitto_dynamic_security.so",
    "/usr/lib/mosquitto_dynamic_security.so",
    "/usr/local/lib/mosquitto_dynamic_security.so",
    "/usr/local/lib/*/mosquitto_dynamic_security.so",
)
DYNSEC_FILE = "dynamic-security.json"
# Unprivileged users mosquitto may run as when the hub runs as root, in order of preference.
RUN_AS = ("mosquitto", "nobody")
RUN_ROOT = "/var/lib/hearth/mosquitto"
CONTROL_TIMEOUT = 10.0


@dataclass(frozen=True)
class LanListener:
    """The TLS listener for appliances on the LAN."""

    host: str
    port: int
    tls: ServerTls


class MosquittoError(Exception):
    """mosquitto is missing or would not start."""


class MosquittoBroker:
    """mosquitto with per-account ACLs on loopback (+ TLS on the LAN); restarted if it dies."""

    kind = "mosquitto"

    def __init__(
        self,
        credentials: BrokerCredentials,
        host: str,
        port: int,
        state_dir: Path,
        *,
        accounts: tuple[Account, ...] = (),
        discovery_prefix: str = "homeassistant",
        lan: LanListener | None = None,
    ) -> None:
        self.binary = find_mosquitto()
        self.plugin = find_dynsec_plugin()
        self.credentials = credentials
        self.host = host
        self.port = port
        self.state_dir = state_dir
        self.run_as = run_as_user()
        self.data_dir = data_dir_for(state_dir, self.run_as)
        # Started as an unprivileged user, mosquitto must reach its config: with its data.
        self.config_path = (state_dir if self.run_as is None else self.data_dir) / "mosquitto.conf"
        self.dynsec_path = self.data_dir / DYNSEC_FILE
        self.accounts = accounts
        self.discovery_prefix = discovery_prefix
        self.lan = lan
        self.restarts = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._log_pump: asyncio.Task[None] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._stopping = False
        self._tail: deque[str] = deque(maxlen=LOG_TAIL)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc is not None else None

    async def async_start(self) -> None:
        """Write the config and password file, start mosquitto and wait until it accepts."""
        self._stopping = False
        await asyncio.to_thread(self._write_files)
        if await _accepting(self._probe_host(), self.port):
            raise MosquittoError(f"port {self.port} is already in use")
        try:
            await self._async_launch()
        except BaseException:
            await self.async_stop()
            raise
        self._supervisor = asyncio.create_task(self._async_supervise(), name="mosquitto")

    async def async_stop(self) -> None:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT; no restart after this."""
        self._stopping = True
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
        await self._async_terminate()

    # -- helpers ---------------------------------------------------------------------------

    async def async_control(self, commands: list[dict[str, Any]]) -> None:
        """Send dynamic-security commands over the hub's own loopback connection.

        mosquitto 2.0.11 does not answer on the response topic here, so callers check the
        effect (a CONNECT with the account) rather than trusting a reply.
        """
        await asyncio.to_thread(self._control, commands)

    async def async_check_login(self, username: str, password: str) -> bool:
        """True when the loopback listener accepts this login (soon: changes are asynchronous)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 2.0
        while True:
            host = self._probe_host()
            if await asyncio.to_thread(login_accepted, host, self.port, username, password):
                return True
            if loop.time() > deadline:
                return False
            await asyncio.sleep(0.1)

    # -- helpers ---------------------------------------------------------------------------

    def _write_files(self) -> None:
        user = self.run_as
        gid = user.pw_gid if user is not None else None
        self.state_dir.mkdir(mode=0o750, parents=True, exist_ok=True)
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Left by earlier versions: the hub's password, hashed, in a file no longer read.
        with contextlib.suppress(FileNotFoundError):
            (self.state_dir / "passwd").unlink()
        old_db = self.state_dir / "mosquitto.db"
        if old_db.exists() and not (self.data_dir / "mosquitto.db").exists():
            os.replace(old_db, self.data_dir / "mosquitto.db")
        config = dynsec_config(self.accounts, self.discovery_prefix)
        fd = os.open(self.dynsec_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(config, handle, indent=1)
        lines = [
            "# Written by Hearth at every start of the embedded broker; edits are lost.",
            "per_listener_settings false",
            # Plaintext on loopback only: the hub, and anything else on this computer.
            f"listener {self.port} {self.host}",
        ]
        if self.lan is not None:
            # mosquitto runs unprivileged and cannot read the hub's: copies in its own folder.
            tls = self.lan.tls
            copies = []
            for source in (tls.ca_path, tls.cert_path, tls.key_path):
                target = self.data_dir / f"tls-{source.name}"
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(source.read_bytes())
                copies.append(target)
            lines += [
                f"listener {self.lan.port} {self.lan.host}".rstrip(),
                f"cafile {copies[0]}",
                f"certfile {copies[1]}",
                f"keyfile {copies[2]}",
                "tls_version tlsv1.2",
            ]
        lines += [
            "allow_anonymous false",
            f"plugin {self.plugin}",
            f"plugin_opt_config_file {self.dynsec_path}",
            # Small command packets would otherwise wait ~40 ms for delayed ACKs.
            "set_tcp_nodelay true",
            "max_queued_messages 10000",
            # Retained discovery configs survive a restart of the broker or the hub.
            "persistence true",
            f"persistence_location {self.data_dir}/",
            # Every second (not every 300 s): a kill -9 loses at most a second of retained
            # configs and sessions. (Time-based: saving per change would thrash in a flood.)
            "autosave_interval 1",
            "log_dest stdout",
            "log_timestamp false",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        self.config_path.write_text("\n".join(lines) + "\n")
        os.chmod(self.config_path, 0o600)
        if user is not None and gid is not None:
            for root, _dirs, files in os.walk(self.data_dir):
                os.chown(root, user.pw_uid, gid)
                for name in files:
                    os.chown(os.path.join(root, name), user.pw_uid, gid)

    def _control(self, commands: list[dict[str, Any]]) -> None:
        send_control(self._probe_host(), self.port, self.credentials, commands)

    async def _async_launch(self) -> None:
        """Start one mosquitto process and wait until its port accepts connections."""
        self._tail.clear()
        argv, guard = _launch_plan(self.binary, self.run_as)
        proc = await _spawn(
            *argv,
            "-c",
            str(self.config_path),
            limit=LOG_LINE_LIMIT,
            # Its own session: a Ctrl-C meant for the hub must not kill it behind our back.
            start_new_session=True,
            **guard,
        )
        self._proc = proc
        assert proc.stdout is not None
        self._log_pump = asyncio.create_task(self._async_pump_log(proc.stdout))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT
        while proc.returncode is None:
            if await _accepting(self._probe_host(), self.port):
                return
            if loop.time() > deadline:
                await self._async_terminate()
                raise MosquittoError(f"mosquitto did not listen on {self.port}: {self.log_tail}")
            await asyncio.sleep(0.05)
        if self._log_pump is not None:
            await asyncio.wait([self._log_pump], timeout=1.0)
        raise MosquittoError(f"mosquitto exited with {proc.returncode}: {self.log_tail}")

    async def _async_supervise(self) -> None:
        loop = asyncio.get_running_loop()
        backoff = RESTART_MIN
        while not self._stopping:
            proc = self._proc
            if proc is not None:
                started = loop.time()
                code = await proc.wait()
                if self._stopping:
                    return
                if loop.time() - started >= STABLE_RUN:
                    backoff = RESTART_MIN
                _LOGGER.warning(
                    "mosquitto (pid %s) exited with %s; restarting in %.1f s. Last log: %s",
                    proc.pid,
                    code,
                    backoff,
                    self.log_tail or "(none)",
                )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, RESTART_MAX)
            try:
                await self._async_launch()
            except (MosquittoError, OSError) as err:
                _LOGGER.error("mosquitto restart failed: %s", err)
                await self._async_terminate()
                continue
            self.restarts += 1
            _LOGGER.info("mosquitto restarted (pid %s) on port %s", self.pid, self.port)

    async def _async_terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)
            except TimeoutError:
                _LOGGER.warning("mosquitto ignored SIGTERM for %.0f s; killing it", STOP_TIMEOUT)
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        pump, self._log_pump = self._log_pump, None
        if pump is not None:
            # The pipe closes with the process; the pump ends on its own at EOF.
            await asyncio.wait([pump], timeout=1.0)
            pump.cancel()

    async def _async_pump_log(self, stream: asyncio.StreamReader) -> None:
        """Route mosquitto's log lines to our logger; always drain, or mosquitto would block."""
        while True:
            try:
                raw = await stream.readline()
            except ValueError:
                continue  # a line over LOG_LINE_LIMIT (a huge client id): dropped
            if not raw:
                return
            line = raw.decode(errors="replace").rstrip()
            self._tail.append(line)
            if line.startswith("Error"):
                _LOGGER.error("mosquitto: %s", line)
            elif line.startswith("Warning"):
                _LOGGER.warning("mosquitto: %s", line)
            else:
                _LOGGER.debug("mosquitto: %s", line)

    @property
    def log_tail(self) -> str:
        return " | ".join(self._tail)

    def _probe_host(self) -> str:
        if self.host in ("", "0.0.0.0"):
            return "127.0.0.1"
        return "::1" if self.host == "::" else self.host


def find_mosquitto() -> str:
    """Path of mosquitto (Debian package 'mosquitto'), or MosquittoError."""
    search = os.pathsep.join([os.environ.get("PATH", os.defpath), *SBIN_DIRS])
    binary = shutil.which("mosquitto", path=search)
    if binary is None:
        raise MosquittoError("mosquitto is not installed (Debian package 'mosquitto')")
    return binary


def find_dynsec_plugin() -> str:
    """Path of mosquitto's dynamic-security plugin (accounts and ACLs), or MosquittoError."""
    for pattern in PLUGIN_GLOBS:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    raise MosquittoError("mosquitto's dynamic-security plugin (mosquitto_dynamic_security.so) "
                         "is missing; it ships with mosquitto 2.0")  # fmt: skip


def data_dir_for(state_dir: Path, user: pwd.struct_passwd | None) -> Path:
    """Where mosquitto keeps what it writes (persistence, accounts) and reads after start.

    Run as the hub's own user, that is inside the config directory. Dropped to an
    unprivileged user, mosquitto could not even traverse a private config directory, so its
    data lives under RUN_ROOT, one folder per config directory, owned by that user.
    """
    if user is None:
        return state_dir / "data"
    digest = hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:16]
    root = Path(os.environ.get("HEARTH_BROKER_DATA", RUN_ROOT))
    root.mkdir(mode=0o755, parents=True, exist_ok=True)
    return root / digest


def run_as_user() -> pwd.struct_passwd | None:
    """The unprivileged user mosquitto runs as when we are root; None when we are not."""
    if os.geteuid() != 0:
        return None
    for name in RUN_AS:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise MosquittoError("no unprivileged user for mosquitto (tried: " + ", ".join(RUN_AS) + ")")


def send_control(
    host: str, port: int, credentials: BrokerCredentials, commands: list[dict[str, Any]]
) -> None:
    """Publish dynamic-security commands with the hub's account (blocking)."""
    import paho.mqtt.client as paho

    client = paho.Client(
        paho.CallbackAPIVersion.VERSION2,
        client_id=f"hearth-control-{os.getpid()}-{time.monotonic_ns()}",
        protocol=paho.MQTTv5,
    )
    client.username_pw_set(credentials.username, credentials.password)
    try:
        client.connect(host, port, 30)
        client.loop_start()
        info = client.publish(CONTROL_TOPIC, json.dumps({"commands": commands}), qos=1)
        info.wait_for_publish(CONTROL_TIMEOUT)
        if not info.is_published():
            raise MosquittoError("the broker did not take the account change")
    except OSError as err:
        raise MosquittoError(f"cannot reach the broker to change accounts: {err}") from err
    finally:
        client.disconnect()
        client.loop_stop()


def ask_hub_to_reload(host: str, port: int, credentials: BrokerCredentials) -> bool:
    """Tell a running hub its accounts file changed; True once it answered (blocking)."""
    import paho.mqtt.client as paho

    nonce = os.urandom(8).hex()
    answered = threading.Event()
    client = paho.Client(
        paho.CallbackAPIVersion.VERSION2,
        client_id=f"hearth-reload-{os.getpid()}-{time.monotonic_ns()}",
        protocol=paho.MQTTv311,
    )
    client.username_pw_set(credentials.username, credentials.password)

    def on_message(_c: Any, _u: Any, message: Any) -> None:
        if bytes(message.payload).decode(errors="replace") == nonce:
            answered.set()

    client.on_message = on_message
    try:
        client.connect(host, port, 30)
        client.loop_start()
        client.subscribe(f"{RELOAD_TOPIC}/loaded", 1)
        client.publish(RELOAD_TOPIC, nonce, qos=1).wait_for_publish(CONTROL_TIMEOUT)
        return answered.wait(CONTROL_TIMEOUT)
    except OSError:
        return False
    finally:
        client.disconnect()
        client.loop_stop()


def login_accepted(host: str, port: int, username: str, password: str) -> bool:
    """True when the broker accepts this login (blocking)."""
    import paho.mqtt.client as paho

    result: list[bool] = []
    client = paho.Client(
        paho.CallbackAPIVersion.VERSION2,
        client_id=f"hearth-check-{os.getpid()}-{time.monotonic_ns()}",
        protocol=paho.MQTTv311,
    )
    client.username_pw_set(username, password)
    client.on_connect = lambda c, u, f, rc, p=None: result.append(not rc.is_failure)
    try:
        client.connect(host, port, 30)
    except OSError:
        return False
    deadline = time.monotonic() + CONTROL_TIMEOUT
    while not result and time.monotonic() < deadline:
        client.loop(0.05)
    client.disconnect()
    return bool(result and result[0])


async def _spawn(*argv: str, **options: Any) -> asyncio.subprocess.Process:
    """A child with no stdin and stdout+stderr on one pipe."""
    return await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        **options,
    )


async def _accepting(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1.0)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


def _launch_plan(binary: str, run_as: pwd.struct_passwd | None) -> tuple[list[str], dict[str, Any]]:
    """How to start `binary` as `run_as` so that the kernel SIGTERMs it when the hub dies.

    util-linux's setpriv changes the uid and then sets the parent-death signal (the kernel
    clears it on a uid change, so the order matters) in the child. Doing that in a preexec_fn
    (the fallback) forbids vfork: a full fork of a 1 GB hub held the loop 60 ms. setpriv
    cannot see a hub that died between fork and prctl; the preexec_fn could.
    """
    setpriv = shutil.which("setpriv") if sys.platform.startswith("linux") else None
    if setpriv is not None:
        argv = [setpriv]
        if run_as is not None:
            argv += ["--reuid", str(run_as.pw_uid), "--regid", str(run_as.pw_gid)]
            argv += ["--clear-groups"]
        return [*argv, "--pdeathsig", "TERM", "--", binary], {}
    options: dict[str, Any] = {"preexec_fn": _die_with_parent()}
    if run_as is not None:
        # Started as that user rather than dropping to it with mosquitto's `user`: the
        # kernel clears the parent-death signal when a process changes its uid.
        options |= {"user": run_as.pw_uid, "group": run_as.pw_gid, "extra_groups": []}
    return [binary], options


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn that has the kernel SIGTERM the child when the hub dies (Linux only).

    The signal follows the thread that forked, which is the event loop's thread: it lives as
    long as the hub does.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))
        if os.getppid() != parent:  # the hub died before prctl took effect
            os._exit(1)

    return preexec
