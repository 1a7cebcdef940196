"""A satellite speaking the newer Wyoming satellite protocol (what wyoming-satellite 1.1-1.4.1
added and PyPI's 1.0.0 lacks: ping/pong, pause-satellite, played, timers, snd_format,
restart_on_end), written with the wyoming library the hub uses. It records what the hub sends."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event, async_read_event, async_write_event
from wyoming.info import Attribution, Describe, Info, Satellite
from wyoming.ping import Ping, Pong
from wyoming.snd import Played
from wyoming.wake import Detection

from voice.audio import chunked


class PeerSatellite:
    """Listens on 127.0.0.1; one hub at a time, like wyoming-satellite."""

    def __init__(self, name: str, area: str | None, *, satellite: bool = True) -> None:
        self.name, self.area, self.satellite = name, area, satellite
        self.answer_pings = True
        self.received: list[Event] = []
        self.connections = 0
        self.port = 0
        self._writer: asyncio.StreamWriter | None = None
        self._server: asyncio.Server | None = None

    async def async_start(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def async_stop(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._server is not None:
            self._server.close()

    def types(self) -> list[str]:
        return [e.type for e in self.received]

    def of(self, event_type: str) -> list[Event]:
        return [e for e in self.received if e.type == event_type]

    async def async_speak(self, pcm: bytes, snd_rate: int = 22050) -> None:
        """Local wake word: detection, run-pipeline from ASR, then the command's audio."""
        await self._send(Detection(name="okay_nabu").event())
        await self._send(
            Event(
                "run-pipeline",
                {
                    "start_stage": "asr",
                    "end_stage": "tts",
                    "restart_on_end": False,
                    "snd_format": {"rate": snd_rate, "width": 2, "channels": 1},
                },
            )
        )
        await self._send(AudioStart(rate=16000, width=2, channels=1).event())
        for piece in _pieces(pcm):
            await self._send(AudioChunk(rate=16000, width=2, channels=1, audio=piece).event())

    async def _send(self, event: Event) -> None:
        assert self._writer is not None, "no hub attached"
        await async_write_event(event, self._writer)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self._writer is not None:  # a new hub takes over, as wyoming-satellite does
            self._writer.close()
        self._writer = writer
        try:
            while (event := await async_read_event(reader)) is not None:
                self.received.append(event)
                if Describe.is_type(event.type):
                    await async_write_event(self._info().event(), writer)
                elif Ping.is_type(event.type) and self.answer_pings:
                    await async_write_event(Pong().event(), writer)
                elif AudioStop.is_type(event.type):
                    await async_write_event(Played().event(), writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(ConnectionError):
                writer.close()

    def _info(self) -> Info:
        if not self.satellite:
            return Info()  # a Wyoming STT/TTS/wake service: no satellite section
        return Info(
            satellite=Satellite(
                name=self.name,
                area=self.area,
                description="peer satellite",
                attribution=Attribution(name="", url=""),
                installed=True,
                version="1.4.1",
            )
        )


def _pieces(pcm: bytes) -> Iterable[bytes]:
    return chunked(pcm, 1024)
