"""Real wyoming-satellite processes for tests and bench/satellites.py.

The package lives in a virtualenv of its own (test-artifacts/, installed once, hash-pinned);
each satellite binds 127.0.0.1 on a free port, announces itself over zeroconf on loopback,
hears tests/satellites/mic_feed.py and plays into tests/satellites/snd_sink.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
REQUIREMENTS = HERE / "wyoming-satellite.txt"
VERSION = "1.0.0"
ARTIFACTS = ROOT / "test-artifacts" / f"wyoming-satellite-{VERSION}"


def ensure_satellite() -> Path:
    """Install wyoming-satellite into its own virtualenv once (blocking); return its Python.

    Its 1.0.0 console script is broken (`__main__.run` is missing): run `python -m` instead.
    """
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    exe = ARTIFACTS / "bin" / "python"
    marker = ARTIFACTS / ".installed"
    ARTIFACTS.parent.mkdir(parents=True, exist_ok=True)
    with (ARTIFACTS.parent / f".wyoming-satellite-{VERSION}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs must not build it at once
        if marker.exists() and marker.read_text() == digest and exe.exists():
            return exe
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
        venv.create(ARTIFACTS, with_pip=True)
        pip = [str(ARTIFACTS / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "--require-hashes", "--no-deps", "-r", str(REQUIREMENTS)], check=True)
        marker.write_text(digest)
    return exe


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SatelliteProcess:
    """One wyoming-satellite; `say` drops a WAV into its microphone, `played` reads its speaker."""

    def __init__(
        self,
        exe: Path,
        folder: Path,
        name: str,
        area: str | None = None,
        *,
        port: int | None = None,
        zeroconf: bool = True,
        extra: tuple[str, ...] = (),
    ) -> None:
        self.exe = exe
        self.folder = folder
        self.name = name
        self.area = area
        self.port = port or free_port()
        self.zeroconf = zeroconf
        self.extra = extra
        self.zeroconf_name = f"hearth-test-{name}-{self.port}"
        self.proc: asyncio.subprocess.Process | None = None
        self._said = 0
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def args(self) -> list[str]:
        python = sys.executable
        args = [
            str(self.exe),
            "-m",
            "wyoming_satellite",
            "--uri",
            f"tcp://127.0.0.1:{self.port}",
            "--name",
            self.name,
            "--mic-command",
            f"{python} {HERE / 'mic_feed.py'} {self.folder}",
            "--snd-command",
            f"{python} {HERE / 'snd_sink.py'} {self.folder}",
            "--snd-command-rate",
            "16000",
            "--debug",
        ]
        if self.area:
            args += ["--area", self.area]
        if self.zeroconf:
            args += ["--zeroconf-name", self.zeroconf_name, "--zeroconf-host", "127.0.0.1"]
        else:
            args.append("--no-zeroconf")
        return args + list(self.extra)

    async def async_start(self) -> None:
        log = (self.folder / "satellite.log").open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            *self.args(), stdout=log, stderr=log, start_new_session=True
        )
        log.close()

    async def async_stop(self) -> None:
        """Stop it and its microphone and speaker programs (one process group)."""
        proc, self.proc = self.proc, None
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()

    def say(self, wav: Path) -> None:
        """Speak a 16 kHz mono WAV into the satellite's microphone (once, in real time)."""
        self._said += 1
        tmp = self.folder / f".say-{self._said}.tmp"
        shutil.copyfile(wav, tmp)
        tmp.rename(self.folder / f"say-{self._said:04d}.wav")

    def played(self) -> list[dict[str, Any]]:
        """One entry per reply the satellite played: first-byte time and byte count."""
        return _jsonl(self.folder / "snd.jsonl")

    def spoken(self) -> list[dict[str, Any]]:
        """One entry per clip its microphone spoke: start time and byte count."""
        return _jsonl(self.folder / "mic.jsonl")

    def log(self) -> str:
        path = self.folder / "satellite.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = path.read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]
