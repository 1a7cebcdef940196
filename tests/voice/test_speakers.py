"""voice.announce across every plugin's speakers: one service, whichever plugin started first."""

from __future__ import annotations

import pytest

from hub.errors import DeviceUnavailable, InvalidServiceData
from voice.audio import Audio
from voice.speakers import Speakers


class Room:
    """A plugin's speakers: named devices in rooms, some of which fail to play."""

    def __init__(self, devices: dict[str, str], broken: frozenset[str] = frozenset()) -> None:
        self.devices = devices  # name -> area
        self.broken = broken
        self.played: list[tuple[str, str | None]] = []

    def _match(self, name: str | None, area: str | None) -> list[str]:
        return [
            n
            for n, a in self.devices.items()
            if (name is None or n == name) and (area is None or a == area)
        ]

    def has_targets(self, name: str | None, area: str | None) -> bool:
        return bool(self._match(name, area))

    async def async_play_on(
        self, name: str | None, area: str | None, audio: Audio, text: str | None
    ) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for n in self._match(name, area):
            out[n] = "speaker unplugged" if n in self.broken else None
            if n not in self.broken:
                self.played.append((n, text))
        return out


@pytest.fixture
def said() -> list[str]:
    return []


@pytest.fixture
def speakers(said: list[str]) -> Speakers:
    async def say(text: str, language: str | None) -> Audio:
        said.append(text)
        return Audio(b"\0\0" * 16000)

    return Speakers(say)


async def test_every_plugin_plays_and_failures_are_reported(speakers: Speakers) -> None:
    wyoming = Room({"kitchen satellite": "kitchen", "bedroom satellite": "bedroom"})
    esphome = Room({"voice pe": "kitchen", "hall pe": "hall"}, broken=frozenset({"hall pe"}))
    speakers.register(wyoming)
    speakers.register(esphome)
    result = await speakers.async_announce({"text": "dinner is ready", "area": "kitchen"})
    assert sorted(result["played"]) == ["kitchen satellite", "voice pe"]
    assert result["failed"] == {} and result["seconds"] == 1.0
    result = await speakers.async_announce({"text": "leaving now"})
    assert len(result["played"]) == 3 and result["failed"] == {"hall pe": "speaker unplugged"}
    with pytest.raises(DeviceUnavailable, match="not played"):
        await speakers.async_announce({"text": "hello", "satellite": "hall pe"})


async def test_nothing_to_play_on_is_refused_before_speech(
    speakers: Speakers, said: list[str]
) -> None:
    remove = speakers.register(Room({"kitchen satellite": "kitchen"}))
    with pytest.raises(DeviceUnavailable, match="garage"):
        await speakers.async_announce({"text": "hello", "area": "garage"})
    remove()
    with pytest.raises(DeviceUnavailable, match="any room"):
        await speakers.async_announce({"text": "hello"})
    assert said == []
    with pytest.raises(InvalidServiceData):
        await speakers.async_announce({"text": "a", "wav": "b"})
    with pytest.raises(InvalidServiceData, match="unreadable"):
        speakers.register(Room({"x": "kitchen"}))
        await speakers.async_announce({"wav": "bm90IGEgd2F2"})


async def test_only_limits_an_announcement_to_one_plugin(speakers: Speakers) -> None:
    wyoming, esphome = Room({"a": "kitchen"}), Room({"b": "kitchen"})
    speakers.register(wyoming)
    speakers.register(esphome)
    result = await speakers.async_announce({"text": "hi"}, only=esphome)
    assert result["played"] == ["b"] and wyoming.played == []
