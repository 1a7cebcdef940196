"""Where a pipeline's external Wyoming services are: the `stt:`, `wake:` and `tts:` sections.

```yaml
voice:
  stt: {wyoming: "bigbox:10300"}                      # wyoming-faster-whisper
  wake: {wyoming: "bigbox:10400"}                     # wyoming-openwakeword; detects wake_word
  tts: {wyoming: "tcp://bigbox:10200", voice: en_US-lessac-medium}   # wyoming-piper
```

A section that is absent keeps the pipeline's own local engine. `wyoming` is "host:port",
"tcp://host:port" or "unix:///path".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlparse

from hub.errors import InvalidServiceData
from hub.schema import Field, Schema, ValidationErrors

ServiceKind = Literal["stt", "wake", "tts"]
KINDS: tuple[ServiceKind, ...] = ("stt", "wake", "tts")
# What each kind of service is, for log lines and error messages.
ROLES: dict[ServiceKind, str] = {
    "stt": "speech-to-text",
    "wake": "wake-word",
    "tts": "text-to-speech",
}

_COMMON = {
    "wyoming": Field(
        "str",
        required=True,
        max_length=300,
        description="the service: host:port, tcp://host:port or unix:///path",
    ),
    "connect_timeout": Field("float", min=0.1, max=60, default=3.0),
}
SCHEMAS: dict[ServiceKind, Schema] = {
    "stt": Schema(
        {
            **_COMMON,
            "model": Field("str", description="model name from the service's info"),
            "language": Field("str", description="default: the voice language"),
            "rate": Field("int", min=8000, max=48000, default=16000, description="audio sent"),
            "timeout": Field(
                "float", min=0.5, max=300, default=20.0, description="seconds for the transcript"
            ),
        }
    ),
    "wake": Schema(
        {
            **_COMMON,
            "model": Field("str", description="default: the voice wake_word"),
            "rate": Field("int", min=8000, max=48000, default=16000, description="audio sent"),
            "timeout": Field(
                "float", min=0.5, max=60, default=3.0, description="seconds for the last answer"
            ),
            "retry": Field(
                "float", min=0.5, max=600, default=5.0, description="seconds between reconnects"
            ),
        }
    ),
    "tts": Schema(
        {
            **_COMMON,
            "voice": Field("str", description="voice name from the service's info"),
            "speaker": Field("str"),
            "language": Field("str", description="default: the reply's language"),
            "timeout": Field(
                "float", min=0.5, max=300, default=20.0, description="seconds for the audio"
            ),
            "fallback": Field(
                "bool", default=True, description="speak with espeak-ng when the service fails"
            ),
        }
    ),
}


@dataclass(frozen=True)
class ServiceSpec:
    """One external Wyoming service a pipeline uses."""

    kind: ServiceKind
    uri: str  # tcp://host:port or unix:///path
    connect_timeout: float = 3.0
    timeout: float = 20.0
    model: str | None = None  # STT model, wake word model, or TTS voice
    speaker: str | None = None
    language: str | None = None
    rate: int = 16000
    retry: float = 5.0
    fallback: bool = True

    @property
    def role(self) -> str:
        return ROLES[self.kind]

    @property
    def where(self) -> str:
        """host:port (or the socket path) for messages."""
        parsed = urlparse(self.uri)
        return parsed.path if parsed.scheme == "unix" else f"{parsed.hostname}:{parsed.port}"


def service_uri(text: str) -> str:
    """'host:port' → 'tcp://host:port'; tcp:// and unix:// URIs are checked and kept."""
    original = text
    text = text.strip()
    if "://" not in text:
        text = f"tcp://{text}"
    parsed = urlparse(text)
    if parsed.scheme == "unix":
        if not parsed.path:
            raise ValueError(f"no socket path in {text!r}")
        return text
    if parsed.scheme != "tcp":
        raise ValueError(f"expected host:port, tcp://host:port or unix:///path, not {original!r}")
    try:
        port = parsed.port
    except ValueError:
        port = None
    if not parsed.hostname or port is None or not 0 < port < 65536:
        raise ValueError(f"expected host:port, not {original!r}")
    host = parsed.hostname
    return f"tcp://[{host}]:{port}" if ":" in host else f"tcp://{host}:{port}"


def parse_service(kind: ServiceKind, value: Any) -> ServiceSpec | None:
    """A validated `stt:`/`wake:`/`tts:` section; None when it is absent or empty.

    A bare string is taken as the `wyoming:` address.
    """
    if value is None or value == {} or value == "":
        return None
    if isinstance(value, str):
        value = {"wyoming": value}
    if not isinstance(value, Mapping):
        raise InvalidServiceData(f"invalid voice {kind} config", {kind: "expected a mapping"})
    try:
        data = SCHEMAS[kind].check(value)
        uri = service_uri(str(data["wyoming"]))
    except ValidationErrors as err:
        raise InvalidServiceData(
            f"invalid voice {kind} config", {f"{kind}.{k}": v for k, v in err.errors.items()}
        ) from None
    except ValueError as err:
        raise InvalidServiceData(
            f"invalid voice {kind} config", {f"{kind}.wyoming": str(err)}
        ) from None
    return ServiceSpec(
        kind=kind,
        uri=uri,
        connect_timeout=float(data["connect_timeout"]),
        timeout=float(data.get("timeout", 20.0)),
        model=data.get("model") or data.get("voice") or None,
        speaker=data.get("speaker") or None,
        language=data.get("language") or None,
        rate=int(data.get("rate", 16000)),
        retry=float(data.get("retry", 5.0)),
        fallback=bool(data.get("fallback", True)),
    )
