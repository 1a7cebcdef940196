"""Whole-utterance decoding (the default) and decoding while the person speaks (opt-in)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from voice.pipeline import VoicePipeline


async def test_whole_decoding_does_not_depend_on_the_previous_utterance(
    voice_hub: VoicePipeline, speech: Any
) -> None:
    command = speech("turn off the kitchen light", "en-us+m3", 165)
    other = speech("what a beautiful day for a picnic", "en-us+f3", 140)
    first = await voice_hub.async_process_audio(command, speak=False)
    await voice_hub.async_process_audio(other, speak=False)
    again = await voice_hub.async_process_audio(command, speak=False)
    assert first.transcript == again.transcript
    # The score still drifts a little (decoder state pocketsphinx keeps between utterances
    # beyond the feature means, which are reset); far less than the rejection margins.
    assert first.confidence is not None and again.confidence is not None
    assert abs(first.confidence - again.confidence) < 0.25
    assert [a.service for a in first.actions] == ["light.turn_off"]


async def test_streamed_decoding_keeps_up_with_the_speaker(
    voice_hub: VoicePipeline, speech: Any
) -> None:
    whole = await voice_hub.async_process_audio(speech("turn on the kitchen light"))
    assert [a.service for a in whole.actions] == ["light.turn_on"]
    assert whole.timings["stt_finish"] >= whole.timings["stt"]  # all decoded after the end
    voice_hub.settings = replace(voice_hub.settings, stream_decode=True)
    streamed = await voice_hub.async_process_audio(speech("turn off the kitchen light"))
    assert [a.service for a in streamed.actions] == ["light.turn_off"]
    # The decoder kept up with the audio: little of its work was left for the end of speech.
    assert streamed.timings["stt_finish"] < streamed.timings["stt"] / 2
