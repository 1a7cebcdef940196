"""Every firmware/device file compiles with MicroPython's own compiler (mpy-cross)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import DEVICE_DIR

MPY_CROSS = shutil.which("mpy-cross") or str(Path(sys.executable).parent / "mpy-cross")
SOURCES = sorted(DEVICE_DIR.rglob("*.py"))


def compile_mpy(source: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MPY_CROSS, "-o", str(out), str(source)], capture_output=True, text=True, timeout=60
    )


def test_found_the_firmware() -> None:
    names = {p.name for p in SOURCES}
    assert {"bootloader.py", "ed25519.py", "main.py", "fridge.py", "cleaner.py"} <= names


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: str(p.relative_to(DEVICE_DIR)))
def test_compiles_for_micropython(source: Path, tmp_path: Path) -> None:
    result = compile_mpy(source, tmp_path / "out.mpy")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.mpy").read_bytes()[:1] == b"M"  # .mpy magic


@pytest.mark.parametrize(
    "snippet",
    [
        "x = [*range(3), 4]\n",  # PEP 448 unpacking in displays
        "match x:\n    case 1:\n        pass\n",  # structural pattern matching
        "def f[T](x: T) -> T:\n    return x\n",  # PEP 695 generics
    ],
)
def test_the_check_rejects_what_micropython_lacks(snippet: str, tmp_path: Path) -> None:
    source = tmp_path / "bad.py"
    source.write_text(snippet)
    assert compile_mpy(source, tmp_path / "bad.mpy").returncode != 0
