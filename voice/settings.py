"""Voice configuration (the `voice:` section of the hub config)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.schema import Field, Schema

from .remote.config import ServiceSpec, parse_service
from .vad import VadSettings
from .wake import DEFAULT_ENGINE, DEFAULT_MODEL, LICENCES, WakeEngine

CONFIG_SCHEMA = Schema(
    {
        "language": Field("str", default="en", description="language of spoken commands"),
        "wake_word": Field(
            "str", default=DEFAULT_MODEL, description="built-in model, or a model file"
        ),
        "wake_engine": Field(
            "enum",
            choices=("micro", "openwakeword"),
            default=DEFAULT_ENGINE,
            description=f"micro: {LICENCES['micro']}; openwakeword: {LICENCES['openwakeword']}, "
            "used only with wake_accept_licence",
        ),
        "wake_accept_licence": Field(
            "bool",
            default=False,
            description="the owner accepts the openWakeWord models' non-commercial licence",
        ),
        "wake_threshold": Field(
            "float", min=0.05, max=0.99, description="default: the model's own cutoff"
        ),
        "stt_engine": Field("enum", choices=("pocketsphinx", "vosk"), default="pocketsphinx"),
        "vosk_model_path": Field("str", default="", description="directory of a vosk model"),
        "vosk_language": Field("str", default="zh", description="language of the vosk model"),
        "stt_verify": Field(
            "enum",
            choices=("agree", "unsure", "whisper", "off"),
            default="agree",
            description="open-vocabulary check by Whisper tiny.en (MIT): agree = act only when "
            "Whisper and the grammar agree (see bench/voice.py --designs)",
        ),
        "reject_below": Field(
            "float", description="pocketsphinx confidence floor; default: measured per mode"
        ),
        "confirm_timeout": Field("float", min=1, max=120, default=10.0),
        "end_silence": Field("float", min=0.1, max=3, default=0.5),
        "satellite_role": Field(
            "enum",
            choices=("admin", "member", "guest"),
            default="member",
            description="rights of whoever speaks to a microphone or satellite (unknown speaker)",
        ),
        "satellite_areas": Field(
            "str_list", default=[], description="rooms a guest-role satellite may control"
        ),
        "wyoming_port": Field("int", min=0, max=65535, default=0, description="0 = off"),
        "wyoming_host": Field("str", default="127.0.0.1"),
        "tts_speed": Field("int", min=80, max=400, default=165),
        # External Wyoming services (voice/remote/config.py): {wyoming: "host:port", ...}
        "stt": Field("any", description="external speech-to-text: {wyoming: host:port}"),
        "wake": Field("any", description="external wake-word service: {wyoming: host:port}"),
        "tts": Field("any", description="external text-to-speech: {wyoming: host:port}"),
        "stream_decode": Field(
            "bool",
            default=False,
            description="decode while speaking: ~5 ms instead of ~200 ms after the end of "
            "speech, but results depend on earlier utterances (see bench/voice.py)",
        ),
    }
)


@dataclass(frozen=True)
class VoiceSettings:
    """Validated voice settings."""

    language: str = "en"
    wake_word: str = DEFAULT_MODEL
    wake_engine: WakeEngine = DEFAULT_ENGINE
    wake_accept_licence: bool = False
    wake_threshold: float | None = None
    stt_engine: str = "pocketsphinx"
    vosk_model_path: str = ""
    vosk_language: str = "zh"
    stt_verify: str = "agree"
    reject_below: float | None = None
    confirm_timeout: float = 10.0
    end_silence: float = 0.5
    wyoming_port: int = 0
    wyoming_host: str = "127.0.0.1"
    tts_speed: int = 165
    stream_decode: bool = False
    satellite_role: str = "member"
    satellite_areas: tuple[str, ...] = ()
    stt: ServiceSpec | None = None  # None: the local engines
    wake: ServiceSpec | None = None
    tts: ServiceSpec | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> VoiceSettings:
        valid = CONFIG_SCHEMA.validate(dict(config))
        for kind in ("stt", "wake", "tts"):
            valid[kind] = parse_service(kind, valid.get(kind))
        return cls(**{k: v for k, v in valid.items() if k in cls.__dataclass_fields__})

    @property
    def vad(self) -> VadSettings:
        return VadSettings(end_silence_seconds=self.end_silence)
