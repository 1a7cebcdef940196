"""Whisper weights split across packages are joined once, checked by size, and never half-built."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from voice.stt import whisper_models
from voice.stt.whisper_models import WhisperModelSource, model_dir

PARTS = (b"first half " * 1000, b"second half " * 700)


@pytest.fixture
def split_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WhisperModelSource:
    """A model shipped as two importable packages, each holding one part under data/."""
    site = tmp_path / "site"
    modules = ("hearth_test_weights_part1", "hearth_test_weights_part2")
    for number, (module, blob) in enumerate(zip(modules, PARTS, strict=True)):
        data = site / module / "data"
        data.mkdir(parents=True)
        (site / module / "__init__.py").write_text("")
        (data / f"model.bin.part{number + 1}").write_bytes(blob)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (site / modules[0] / "data" / name).write_text(f"{name} contents")
    monkeypatch.syspath_prepend(str(site))
    for module in modules:
        monkeypatch.delitem(sys.modules, module, raising=False)
    source = WhisperModelSource(
        "split", "test weights", ("weights-part1", "weights-part2"), modules, multilingual=True
    )
    monkeypatch.setitem(whisper_models.MODELS, "split", source)
    return source


def test_parts_are_joined_into_one_model_with_its_side_files(
    split_model: WhisperModelSource, tmp_path: Path
) -> None:
    folder = model_dir("split", tmp_path / "cache")
    assert (folder / "model.bin").read_bytes() == PARTS[0] + PARTS[1]
    assert (folder / "config.json").read_text() == "config.json contents"
    assert sorted(p.name for p in folder.parent.iterdir()) == ["whisper-split"]  # no leftovers


def test_a_joined_model_is_reused(split_model: WhisperModelSource, tmp_path: Path) -> None:
    folder = model_dir("split", tmp_path / "cache")
    stamp = (folder / "model.bin").stat().st_mtime_ns
    assert model_dir("split", tmp_path / "cache") == folder
    assert (folder / "model.bin").stat().st_mtime_ns == stamp


def test_a_truncated_model_is_rebuilt(split_model: WhisperModelSource, tmp_path: Path) -> None:
    folder = model_dir("split", tmp_path / "cache")
    with (folder / "model.bin").open("r+b") as handle:  # a join cut short by power loss
        handle.truncate(100)
    assert (model_dir("split", tmp_path / "cache") / "model.bin").read_bytes() == b"".join(PARTS)


def test_missing_weights_name_the_packages(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(
        whisper_models.MODELS,
        "absent",
        WhisperModelSource("absent", "x", ("no-such-pkg",), ("no_such_module_xyz",), True),
    )
    with pytest.raises(LookupError, match="no-such-pkg"):
        model_dir("absent", tmp_path)
    with pytest.raises(LookupError, match="unknown Whisper model"):
        model_dir("no-such-model", tmp_path)
