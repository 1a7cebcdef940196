"""The voice plugin inside a hub: services and CLI."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from voice.audio import read_wav


async def test_process_text_and_say_services(hub_factory: Any) -> None:
    hub = await hub_factory(demo={"delay": 0, "tick": 3600}, voice={"confirm_timeout": 5})
    assert "voice" in hub.integrations
    response = await hub.services.async_call(
        "voice", "process_text", {"text": "turn on the kitchen light"}
    )
    assert response["intent"] == "HassTurnOn"
    assert response["actions"] == [
        {"service": "light.turn_on", "entity_ids": ["light.kitchen_light"], "data": {}}
    ]
    assert response["reply"] == "Turned on the light"  # HA's English HassTurnOn reply
    assert hub.states.get("light.kitchen_light").state == "on"
    said = await hub.services.async_call("voice", "say", {"text": "hello"})
    assert read_wav(base64.b64decode(said["wav"])).seconds > 0.2


async def test_bad_vosk_model_is_a_clear_setup_error(hub_factory: Any, tmp_path: Path) -> None:
    missing = tmp_path / "vosk-model-cn"
    (missing / "conf").mkdir(parents=True)
    hub = await hub_factory(voice={"stt_engine": "vosk", "vosk_model_path": str(missing)})
    assert "voice" not in hub.integrations
    reason = hub.failed_integrations["voice"]
    assert str(missing) in reason and "am/final.mdl" in reason and "graph/HCLG.fst" in reason


def _hearth(tmp_path: Path, *args: str) -> list[dict[str, Any]]:
    """Run `hearth voice ...` as a user would; one JSON object per output line."""
    out = subprocess.run(
        [sys.executable, "-m", "hub", "--config", str(tmp_path / "none"), "voice", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_cli_process_json(speech_file: Any, tmp_path: Path) -> None:
    # Whisper tiny.en hears espeak's "clean the kitchen" as "clean vacation": refused
    # (bench/voice.py counts such refusals); this test is about the CLI's output.
    clip = speech_file("okay nabu, clean the living room")
    quiet = speech_file("set the bedroom thermostat to twenty two degrees", "en-us+m3", 150)
    lines = _hearth(tmp_path, "process", str(clip), str(quiet), "--json")
    assert [set(line) for line in lines] == [
        {"file", "transcript", "intent", "slots", "actions", "reply"}
    ] * 2
    assert lines[0]["intent"] == "HearthVacuumCleanArea"
    assert lines[0]["actions"] == [
        {
            "service": "vacuum.clean_area",
            "entity_ids": ["vacuum.robot_cleaner"],
            "data": {"area": "living_room"},
        }
    ]
    assert lines[1]["slots"]["temperature"] == 22


def test_cli_say_text(tmp_path: Path) -> None:
    (result,) = _hearth(tmp_path, "say", "what's in the fridge", "--json")
    assert result["intent"] == "HearthFridgeContents" and "milk" in result["reply"]
