"""Speakers: every place in the home that can play the hub's audio, behind one `voice.announce`.

Plugins (Wyoming satellites, ESPHome voice devices, later music players) register a Speaker
with the pipeline's `Speakers`; the voice plugin owns the service, so no plugin replaces
another's handler and each one's devices stay reachable whichever starts first.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from hub.errors import DeviceUnavailable, InvalidServiceData
from hub.schema import Field, Schema

from .audio import Audio, AudioFormatError, read_wav

__all__ = ["ANNOUNCE_SCHEMA", "Speaker", "Speakers"]

ANNOUNCE_SCHEMA = Schema(
    {
        "text": Field("str", max_length=1000, description="spoken with the hub's voice"),
        "wav": Field("str", max_length=4_000_000, description="a recording, base64 WAV"),
        "satellite": Field("str", max_length=100, description="name, device or entity id"),
        "area": Field("str", max_length=100, description="every satellite in this room"),
        "language": Field("str"),
    }
)


class Speaker(Protocol):
    """A plugin's set of devices that can play audio, chosen by name or room."""

    def has_targets(self, name: str | None, area: str | None) -> bool:
        """Whether any connected device answers to `name`, or is in `area` (both None: any)."""
        ...

    async def async_play_on(
        self, name: str | None, area: str | None, audio: Audio, text: str | None
    ) -> dict[str, str | None]:
        """Play on every matching device at once; per device name None, or why it failed."""
        ...


class Speakers:
    """The speakers plugins registered, and announcements across them."""

    def __init__(self, say: Callable[[str, str | None], Awaitable[Audio]]) -> None:
        self._say = say
        self._speakers: list[Speaker] = []

    def register(self, speaker: Speaker) -> Callable[[], None]:
        """Add a speaker; returns its remover (call it on teardown)."""
        self._speakers.append(speaker)
        return lambda: self._speakers.remove(speaker)

    async def async_announce(
        self, data: Mapping[str, Any], only: Speaker | None = None
    ) -> dict[str, Any]:
        """Say `text` (or play `wav`) on the named device, a room, or everywhere."""
        text, wav = data.get("text"), data.get("wav")
        if bool(text) == bool(wav):
            raise InvalidServiceData("give text or wav", {"text": "exactly one of text, wav"})
        name, area = data.get("satellite"), data.get("area")
        speakers = [
            s for s in ([only] if only is not None else self._speakers) if s.has_targets(name, area)
        ]
        if not speakers:  # checked before spending time on speech
            raise DeviceUnavailable(f"no connected satellite for {name or area or 'any room'}")
        if wav:
            try:
                audio = read_wav(base64.b64decode(wav, validate=True))
            except (binascii.Error, AudioFormatError) as err:
                raise InvalidServiceData("unreadable recording", {"wav": str(err)}) from err
        else:
            audio = await self._say(str(text), data.get("language"))
        outcomes = await asyncio.gather(
            *(s.async_play_on(name, area, audio, text) for s in speakers)
        )
        results = {n: err for outcome in outcomes for n, err in outcome.items()}
        played = [n for n, err in results.items() if err is None]
        failed = {n: err for n, err in results.items() if err}
        if not played:
            raise DeviceUnavailable(f"announcement not played: {failed}")
        return {"played": played, "failed": failed, "seconds": round(audio.seconds, 3)}
