"""Runs scripts under real MicroPython (the WebAssembly port from npm, on node).

That port has no socket, network or machine modules, so it runs the firmware's pure parts:
crypto, image handling, files, the bootloader and OTA state machine (over a fake `machine`,
the edge of the board), and the appliance models.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

NODE_DIR = Path(__file__).resolve().parent / "node"  # package.json + package-lock.json (pinned)
CACHE = Path(__file__).resolve().parents[2] / "test-artifacts" / "node"
ENTRY = (
    CACHE / "node_modules" / "@micropython" / "micropython-webassembly-pyscript" / "micropython.mjs"
)
RESULT_MARK = "@@RESULT@@"


def ensure_micropython() -> Path | str:
    """Path of micropython.mjs (`make test` installs it with npm ci); a str says why not."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return "node and npm are needed to run MicroPython (`make node-deps` installs them)"
    if not ENTRY.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(NODE_DIR / name, CACHE / name)
        proc = subprocess.run(
            [npm, "ci", "--silent", "--no-audit", "--no-fund", "--prefix", str(CACHE)],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if proc.returncode != 0 or not ENTRY.exists():
            return f"npm ci could not install the pinned MicroPython: {proc.stderr[-500:]}"
    return ENTRY


def bundle(files: dict[str, str], body: str) -> str:
    """A script that writes files into MicroPython's in-memory filesystem, then runs body."""
    lines = [
        "import os, sys",
        "def _mkdirs(path):",
        "    cur = ''",
        "    for part in path.split('/'):",
        "        if not part:",
        "            continue",
        "        cur = cur + '/' + part",
        "        try:",
        "            os.mkdir(cur)",
        "        except OSError:",
        "            pass",
    ]
    for path, content in sorted(files.items()):
        lines.append(f"_mkdirs({path.rsplit('/', 1)[0]!r})")
        lines.append(f"_f = open({path!r}, 'w')")
        lines.append(f"_f.write({content!r})")
        lines.append("_f.close()")
    lines.append("sys.path.insert(0, '/lib')")
    return "\n".join(lines) + "\n" + body


def run(entry: Path, script: str, tmp: Path, timeout: float = 300) -> Any:
    """Run a script; it must print RESULT_MARK followed by JSON on its last line."""
    path = tmp / "script.py"
    path.write_text(script)
    proc = subprocess.run(
        ["node", str(entry), "-X", "heapsize=32m", str(path)],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    for line in reversed(out.splitlines()):
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK) :])
    raise AssertionError(f"MicroPython script failed (exit {proc.returncode}):\n{out[-4000:]}")


def sources(root: Path, package: str, prefix: str = "/lib") -> dict[str, str]:
    """The .py files of a package under root, keyed by their path in the MicroPython FS."""
    return {
        f"{prefix}/{p.relative_to(root).as_posix()}": p.read_text()
        for p in sorted((root / package).rglob("*.py"))
        if "__pycache__" not in p.parts
    }
