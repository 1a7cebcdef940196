"""The embedded broker as a supervised mosquitto subprocess, owned by the event loop.

Its config, hashed password file and persistence live in the config directory; its log lines
go to our logger; it is restarted with backoff when it dies and dies with the hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import pwd
import shutil
import signal
import sys
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .broker import BrokerCredentials

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


class MosquittoError(Exception):
    """mosquitto is missing or would not start."""


class MosquittoBroker:
    """mosquitto with one account on the given address; restarted with backoff if it dies."""

    kind = "mosquitto"

    def __init__(
        self, credentials: BrokerCredentials, host: str, port: int, state_dir: Path
    ) -> None:
        self.binary, self.passwd_tool = find_mosquitto()
        self.credentials = credentials
        self.host = host
        self.port = port
        self.state_dir = state_dir
        self.config_path = state_dir / "mosquitto.conf"
        self.passwd_path = state_dir / "passwd"
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
        await self._async_hash_passwords()
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

    def _write_files(self) -> None:
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Plain text for a moment (0600, like mqtt_broker.json); mosquitto_passwd -U hashes it.
        fd = os.open(self.passwd_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"{self.credentials.username}:{self.credentials.password}\n")
        listener = f"listener {self.port} {self.host}".rstrip()
        lines = [
            "# Written by Hearth at every start of the embedded broker; edits are lost.",
            listener,
            "allow_anonymous false",
            f"password_file {self.passwd_path}",
            # Small command packets would otherwise wait ~40 ms for delayed ACKs.
            "set_tcp_nodelay true",
            "max_queued_messages 10000",
            # Retained discovery configs survive a restart of the broker or the hub.
            "persistence true",
            f"persistence_location {self.state_dir}/",
            # Every second (not every 300 s): a kill -9 loses at most a second of retained
            # configs and sessions. (Time-based: saving per change would thrash in a flood.)
            "autosave_interval 1",
            "log_dest stdout",
            "log_timestamp false",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        if os.geteuid() == 0:
            # Started as root, mosquitto would switch to user 'mosquitto' and lose access to
            # the config directory; it keeps the hub's own user instead.
            lines.append(f"user {pwd.getpwuid(0).pw_name}")
        self.config_path.write_text("\n".join(lines) + "\n")

    async def _async_hash_passwords(self) -> None:
        proc = await _spawn(self.passwd_tool, "-U", str(self.passwd_path))
        output, _ = await proc.communicate()
        if proc.returncode != 0:
            raise MosquittoError(
                f"mosquitto_passwd failed ({proc.returncode}): {output.decode(errors='replace')}"
            )

    async def _async_launch(self) -> None:
        """Start one mosquitto process and wait until its port accepts connections."""
        self._tail.clear()
        proc = await _spawn(
            self.binary,
            "-c",
            str(self.config_path),
            limit=LOG_LINE_LIMIT,
            # Its own session: a Ctrl-C meant for the hub must not kill it behind our back.
            start_new_session=True,
            preexec_fn=_die_with_parent(),
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
            # (run as root only when the hub itself is: its user is our choice, not news)
            elif line.startswith("Warning") and "run as root" not in line:
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


def find_mosquitto() -> tuple[str, str]:
    """Paths of mosquitto and mosquitto_passwd (Debian package 'mosquitto'), or MosquittoError."""
    search = os.pathsep.join([os.environ.get("PATH", os.defpath), *SBIN_DIRS])
    binary = shutil.which("mosquitto", path=search)
    passwd_tool = shutil.which("mosquitto_passwd", path=search)
    if binary is None or passwd_tool is None:
        missing = "mosquitto" if binary is None else "mosquitto_passwd"
        raise MosquittoError(f"{missing} is not installed (Debian package 'mosquitto')")
    return binary, passwd_tool


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
