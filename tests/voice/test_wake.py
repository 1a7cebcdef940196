"""The default wake word ships under a product licence; the non-commercial models need opt-in."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from voice.audio import silence
from voice.pipeline import VoicePipeline
from voice.settings import VoiceSettings
from voice.wake import WakeWordDetector, WakeWordModelError

from .spoken import REAL_DEV, REAL_TEST, Voice, read_pcm, real_recording, synthesize

VOICES = (Voice("espeak", "en-us"), Voice("flite", "slt"), Voice("festival", "kal_diphone"))


def _spoken(text: str, voice: Voice) -> bytes:
    return silence(0.5) + read_pcm(synthesize(text, voice)) + silence(0.5)


def test_default_is_micro_wake_word_under_apache() -> None:
    settings = VoiceSettings.from_config({})
    assert (settings.wake_engine, settings.wake_word) == ("micro", "okay_nabu")
    detector = WakeWordDetector(settings.wake_word, settings.wake_threshold)
    assert "Apache-2.0" in detector.licence
    detector.close()


@pytest.mark.parametrize("voice", VOICES, ids=lambda v: v.label)
def test_default_hears_okay_nabu(voice: Voice) -> None:
    detector = WakeWordDetector()
    found = detector.process(_spoken("okay nabu, turn on the kitchen light", voice))
    detector.close()
    assert found is not None and found.model == "okay_nabu"
    assert 0.5 < found.end_seconds < 3.0  # the wake word, not the end of the command


@pytest.mark.parametrize("voice", VOICES, ids=lambda v: v.label)
def test_default_ignores_the_command_alone(voice: Voice) -> None:
    detector = WakeWordDetector()
    assert detector.process(_spoken("turn on the kitchen light", voice)) is None
    detector.close()


def test_default_ignores_real_human_speech() -> None:
    """Minutes of real voices (codec2-examples, alsa-utils): the wake word never fires."""
    fired = []
    for name in (*REAL_DEV, *REAL_TEST):
        detector = WakeWordDetector()
        found = detector.process(real_recording(name))
        detector.close()
        if found is not None:
            fired.append(name)
    assert fired == []


def test_openwakeword_models_need_the_licence_accepted() -> None:
    with pytest.raises(WakeWordModelError, match="CC BY-NC-SA"):
        WakeWordDetector("hey_jarvis", engine="openwakeword")


def test_openwakeword_opt_in_is_logged_with_its_licence(caplog: pytest.LogCaptureFixture) -> None:
    settings = VoiceSettings.from_config(
        {"wake_engine": "openwakeword", "wake_word": "hey_jarvis", "wake_accept_licence": True}
    )
    with caplog.at_level(logging.WARNING, logger="voice.wake"):
        detector = WakeWordDetector(
            settings.wake_word,
            settings.wake_threshold,
            settings.wake_engine,
            settings.wake_accept_licence,
        )
    assert "non-commercial" in caplog.text and "CC BY-NC-SA" in caplog.text
    found = detector.process(_spoken("hey jarvis, turn on the kitchen light", VOICES[0]))
    detector.close()
    assert found is not None and found.model == "hey_jarvis"


async def test_pipeline_refuses_unaccepted_licence(demo_hub: Any, speech: Any) -> None:
    settings = VoiceSettings(wake_engine="openwakeword", wake_word="hey_jarvis")
    pipeline = VoicePipeline(demo_hub, settings, engines=[])
    result = await pipeline.async_process_audio(speech("hey jarvis"), wake="required")
    assert result.error is not None and "wake_accept_licence" in result.error
    assert result.actions == ()
