"""The closed grammar comes from the templates and the home's names; engines check their inputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from hassil.intents import TextSlotList

from voice.grammar import compile_jsgf, number_words, tokenize
from voice.recognizer import IntentRecognizer, load_intents
from voice.stt.vosk_engine import VoskEngine, VoskModelError, missing_model_files
from voice.vocabulary import SpokenArea, SpokenEntity, build_vocabulary


def test_numbers_are_spelled_as_spoken() -> None:
    assert number_words(21, "en") == "twenty one"
    assert tokenize("Kitchen-Light, please!") == ["kitchen", "light", "please"]


def test_grammar_holds_home_names_and_drops_unpronounceable_ones() -> None:
    vocab = build_vocabulary(
        [
            SpokenEntity("light.a", "light", ("Kitchen light",), "kitchen"),
            SpokenEntity("light.b", "light", ("Zyxqv lamp",)),
            SpokenEntity("lock.c", "lock", ("Front door lock",)),
        ],
        [SpokenArea("kitchen", ("Kitchen",))],
    )
    known = {"zyxqv"}
    grammar = compile_jsgf(
        load_intents("en"), vocab.slot_lists("en"), "en", lambda w: w not in known
    )
    assert "kitchen light" in grammar.jsgf
    assert "front door" in grammar.jsgf  # "lock" dropped from "front door lock" as an alias
    assert "zyxqv" not in grammar.words and grammar.missing_words == {"zyxqv"}
    assert "twenty one" in grammar.jsgf


def test_empty_home_still_compiles() -> None:
    grammar = compile_jsgf(load_intents("en"), {}, "en")
    assert "public <command>" in grammar.jsgf and "set a timer" in grammar.jsgf


def test_chinese_names_from_the_word_table() -> None:
    vocab = build_vocabulary([SpokenEntity("light.a", "light", ("Kitchen light", "灶台灯"))], [])
    lists = vocab.slot_lists("zh")
    names = lists["name"]
    assert isinstance(names, TextSlotList)
    spoken = sorted(str(v.text_in.text) for v in names.values)  # type: ignore[attr-defined]
    assert spoken == ["厨房灯", "灶台灯"]
    recognizer = IntentRecognizer("zh")
    recognizer.set_slot_lists(lists)
    match = recognizer.recognize("打开灶台灯")
    assert match is not None and match.slots == {"name": "light.a"}


def test_vosk_names_the_missing_files(tmp_path: Path) -> None:
    assert missing_model_files(tmp_path / "absent") == [str(tmp_path / "absent")]
    (tmp_path / "am").mkdir()
    (tmp_path / "am" / "final.mdl").write_bytes(b"")
    with pytest.raises(VoskModelError) as err:
        VoskEngine(tmp_path, "zh")
    message = str(err.value)
    assert str(tmp_path) in message
    assert "conf/model.conf" in message and "graph/HCLG.fst" in message
    assert "am/final.mdl" not in message.split("missing:")[1]
