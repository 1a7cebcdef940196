"""Try the newest releases allowed by setup.cfg in a scratch venv and report what breaks.

Prints every package whose newest version differs from the lock, then runs the test suite in
the scratch venv. Exit status: 0 when the suite passes on the newest versions, 1 when it does
not (the lock stays as it is either way), 2 when the scratch venv could not be built.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)(?:\s*;\s*([^\\]+?))?\s*\\?$")


def pins(text: str) -> dict[str, str]:
    """name -> version of a compiled requirements file (first pin for names split by marker)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        match = _PIN.match(line.strip())
        if match:
            out.setdefault(match.group(1).lower(), match.group(2))
    return out


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, text=True, cwd=ROOT, **kwargs)  # type: ignore[call-overload,no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--uv", required=True, help="path of the uv executable")
    parser.add_argument("--lock", default="requirements/test.txt")
    parser.add_argument("pytest_args", nargs="*", help="arguments for pytest (default: -q)")
    args = parser.parse_args()
    locked = pins((ROOT / args.lock).read_text())
    with tempfile.TemporaryDirectory(prefix="hearth-outdated-") as tmp:
        newest_file = Path(tmp) / "newest.txt"
        proc = run([args.uv, "pip", "compile", "setup.cfg", "requirements/build.in", "--extra",
                    "test", "--python-version", "3.11", "--upgrade", "-q", "-o", str(newest_file)])  # fmt: skip
        if proc.returncode != 0:
            print("could not resolve the newest versions", file=sys.stderr)
            return 2
        newest = pins(newest_file.read_text())
        changed = sorted(n for n in newest if locked.get(n) != newest[n])
        print(f"\n{len(changed)} of {len(newest)} packages have newer releases than the lock:")
        for name in changed:
            print(f"  {name:32} {locked.get(name, '(new)'):>14} -> {newest[name]}")
        if not changed:
            print("the lock is current; nothing to try")
            return 0
        venv = Path(tmp) / "venv"
        py = str(venv / "bin" / "python")
        steps = [
            [sys.executable, "-m", "venv", str(venv)],
            [args.uv, "pip", "install", "-q", "--python", py, "-r", str(newest_file)],
            [args.uv, "pip", "install", "-q", "--python", py, "--no-deps", "--no-build-isolation",
             "-e", "."],
        ]  # fmt: skip
        for step in steps:
            if run(step).returncode != 0:
                print("could not build the scratch venv", file=sys.stderr)
                return 2
        env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
        tests = run([py, "-m", "pytest", "-p", "no:cacheprovider", *(args.pytest_args or ["-q"])],
                    env=env)  # fmt: skip
        # The editable install in the scratch venv rewrote the egg-info; the real venv's stays valid.
        if tests.returncode == 0:
            print(
                "\nthe suite passes on the newest versions: `make lock UPGRADE=--upgrade` is safe"
            )
            return 0
        print("\nthe suite FAILS on the newest versions (above); keep the lock and fix first")
        return 1


if __name__ == "__main__":
    sys.exit(main())
