"""A real Debian mosquitto broker on a free loopback port, for tests that need one.

Use from any ``tests/<area>/conftest.py``::

    from tests.mosquitto import mosquitto  # noqa: F401

The fixture yields a :class:`Mosquitto` with ``.host``, ``.port``, ``.stop()`` and ``.start()``
(and ``async_stop``/``async_start`` for use inside a running event loop). ``stop()`` kills the
process; ``start()`` brings it back on the same port, with its persistence file, so a fault test
can take the broker away mid-run. ``mosquitto_factory`` makes more brokers, optionally with a
generated password file (``auth=True``; credentials in ``.username``/``.password``).
"""

from __future__ import annotations

import asyncio
import getpass
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

MOSQUITTO_CANDIDATES = ("/usr/sbin/mosquitto", "/usr/bin/mosquitto")
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


def find_mosquitto() -> str | None:
    """Path of the mosquitto binary, or None when the Debian package is not installed."""
    for candidate in MOSQUITTO_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("mosquitto")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class Mosquitto:
    """One mosquitto process bound to a fixed loopback port, restartable on that port."""

    def __init__(
        self,
        workdir: Path,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        auth: bool = False,
        persistence: bool = True,
        binary: str | None = None,
    ) -> None:
        found = binary or find_mosquitto()
        if found is None:
            raise RuntimeError("mosquitto is not installed (Debian package 'mosquitto')")
        self.binary = found
        self.workdir = workdir
        self.host = host
        self.port = port or free_port(host)
        self.auth = auth
        self.username: str | None = None
        self.password: str | None = None
        self.log_path = workdir / "mosquitto.log"
        self.config_path = workdir / "mosquitto.conf"
        self._proc: subprocess.Popen[bytes] | None = None
        self._write_config(persistence)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        """Start the broker (again, on the same port) and wait until it accepts connections."""
        if self.running:
            return
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            self._proc = subprocess.Popen(
                [self.binary, "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if self._wait_accepting(deadline):
                return
            # The port can linger for a moment after a kill; try again until the deadline.
            self._terminate(signal.SIGKILL)
            if time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not start on {self.port}: {self.log_tail()}")
            time.sleep(0.2)

    def stop(self, *, graceful: bool = False) -> None:
        """Take the broker away: SIGKILL by default (a crash), SIGTERM when graceful."""
        self._terminate(signal.SIGTERM if graceful else signal.SIGKILL)

    async def async_start(self) -> None:
        """``start()`` without blocking the running event loop."""
        await asyncio.to_thread(self.start)

    async def async_stop(self, *, graceful: bool = False) -> None:
        """``stop()`` without blocking the running event loop."""
        await asyncio.to_thread(self.stop, graceful=graceful)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _write_config(self, persistence: bool) -> None:
        lines = [
            f"listener {self.port} {self.host}",
            # Small command packets would otherwise wait for delayed ACKs (~40 ms each).
            "set_tcp_nodelay true",
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "max_queued_messages 100000",
            # Started as root, mosquitto drops to user 'mosquitto' and then cannot read the
            # private temp dir; run it as whoever runs the tests.
            f"user {getpass.getuser()}",
        ]
        if persistence:
            lines += [
                "persistence true",
                f"persistence_location {self.workdir}/",
                "autosave_interval 1",
            ]
        if self.auth:
            self.username = "hearth-test"
            self.password = secrets.token_urlsafe(18)
            passwd = self.workdir / "passwd"
            passwd.write_text("")
            subprocess.run(
                ["mosquitto_passwd", "-b", str(passwd), self.username, self.password],
                check=True,
                capture_output=True,
            )
            passwd.chmod(0o600)
            lines += ["allow_anonymous false", f"password_file {passwd}"]
        else:
            lines.append("allow_anonymous true")
        self.config_path.write_text("\n".join(lines) + "\n")

    def _wait_accepting(self, deadline: float) -> bool:
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                return False
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def _terminate(self, sig: signal.Signals) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)


MosquittoFactory = Callable[..., Mosquitto]


@contextmanager
def running_brokers() -> Iterator[MosquittoFactory]:
    """Yield a factory of started brokers; every one is killed and its files removed on exit."""
    if find_mosquitto() is None:
        pytest.skip("mosquitto is not installed; `make system-deps` installs it")
    brokers: list[Mosquitto] = []
    with tempfile.TemporaryDirectory(prefix="hearth-mosquitto-") as root:

        def make(**kwargs: Any) -> Mosquitto:
            workdir = Path(tempfile.mkdtemp(dir=root))
            broker = Mosquitto(workdir, **kwargs)
            brokers.append(broker)
            broker.start()
            return broker

        try:
            yield make
        finally:
            for broker in brokers:
                broker.stop()


@pytest.fixture
def mosquitto_factory() -> Iterator[MosquittoFactory]:
    """Start any number of brokers (keyword arguments go to :class:`Mosquitto`)."""
    with running_brokers() as make:
        yield make


@pytest.fixture
def mosquitto() -> Iterator[Mosquitto]:
    """A running anonymous mosquitto on 127.0.0.1 and a free port."""
    with running_brokers() as make:
        yield make()
