"""An ESPHome voice device on a real TCP port, speaking the native API's plaintext protocol.

It sits below aioesphomeapi: the hub's client talks to it exactly as to a Voice PE. Frames are
a 0x00 preamble, the payload length and the message type (both varints), then the protobuf
bytes; the message classes and their type numbers are the ones aioesphomeapi ships
(`api_pb2`, `core.MESSAGE_TYPE_TO_PROTO`). It answers hello, connect, device info, entity
listing, state subscription, ping and disconnect, and plays the device's side of a voice run:
`VoiceAssistantRequest(start)`, then PCM as `VoiceAssistantAudio` at the microphone's pace until
the hub says `STT_VAD_END`, then `end`; it records every event, timer event and announcement,
and fetches reply URLs as the device's media player would.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aioesphomeapi import api_pb2
from aioesphomeapi.core import MESSAGE_TYPE_TO_PROTO
from aioesphomeapi.model import (
    VoiceAssistantEventType,
    VoiceAssistantFeature,
    VoiceAssistantTimerEventType,
)
from google.protobuf.message import Message

TYPE_OF: dict[type[Any], int] = {cls: num for num, cls in MESSAGE_TYPE_TO_PROTO.items()}
CHUNK = 1024  # bytes of 16 kHz 16-bit mono PCM per message: 32 ms, as ESPHome's microphone
FULL_VOICE = (
    VoiceAssistantFeature.VOICE_ASSISTANT
    | VoiceAssistantFeature.SPEAKER
    | VoiceAssistantFeature.API_AUDIO
    | VoiceAssistantFeature.TIMERS
    | VoiceAssistantFeature.ANNOUNCE
)
EV = VoiceAssistantEventType


def encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


async def read_varint(reader: asyncio.StreamReader) -> int:
    value = shift = 0
    while True:
        byte = (await reader.readexactly(1))[0]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value
        shift += 7
        if shift > 35:
            raise ValueError("varint too long")


def frame(msg: Message) -> bytes:
    body = msg.SerializeToString()
    return b"\x00" + encode_varint(len(body)) + encode_varint(TYPE_OF[type(msg)]) + body


@dataclass
class VoiceEvent:
    type: VoiceAssistantEventType
    data: dict[str, str]

    @property
    def name(self) -> str:
        return self.type.name.removeprefix("VOICE_ASSISTANT_")


@dataclass
class TimerEvent:
    type: VoiceAssistantTimerEventType
    timer_id: str
    name: str
    total_seconds: int
    seconds_left: int
    is_active: bool


@dataclass
class Fetched:
    url: str
    status: int
    body: bytes
    content_type: str


@dataclass
class Run:
    """What the hub said during one voice run of the device."""

    response: Any = None  # VoiceAssistantResponse
    events: list[VoiceEvent] = field(default_factory=list)
    sent_bytes: int = 0
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    vad_end: asyncio.Event = field(default_factory=asyncio.Event)

    def names(self) -> list[str]:
        return [e.name for e in self.events]

    def first(self, name: str) -> VoiceEvent | None:
        return next((e for e in self.events if e.name == name), None)


class _Client:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.hello = False
        self.voice_subscribed = False
        self.voice_flags = 0

    def send(self, msg: Message) -> None:
        if not self.writer.is_closing():
            self.writer.write(frame(msg))


class EsphomeVoiceDevice:
    """One emulated device; `await start()`, `await speak(pcm)`, `await stop()` (a power cut)."""

    def __init__(
        self,
        name: str,
        *,
        friendly_name: str | None = None,
        area: str | None = None,
        mac: str = "AA:BB:CC:00:00:01",
        port: int = 0,
        host: str = "127.0.0.1",
        voice_flags: int = int(FULL_VOICE),
        api_version: tuple[int, int] = (1, 13),
    ) -> None:
        self.name = name
        self.friendly_name = friendly_name or name
        self.area = area
        self.mac = mac
        self.host = host
        self.port = port
        self.voice_flags = voice_flags
        self.api_version = api_version
        self.clients: list[_Client] = []
        self.received: list[Message] = []  # every message from the hub, in order
        self.events: list[VoiceEvent] = []
        self.timers: list[TimerEvent] = []
        self.announcements: list[Any] = []  # VoiceAssistantAnnounceRequest
        self.fetched: list[Fetched] = []
        self.connections = 0
        self.noise_attempts = 0
        self.run: Run | None = None
        self.announce_ok = True
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, reuse_address=True
        )
        if self.port == 0:
            self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Like pulling the plug: the port closes and every connection drops."""
        if self._server is not None:
            self._server.close()
        for client in list(self.clients):
            client.writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        self.clients.clear()

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def client(self) -> _Client | None:
        """The hub, once it said hello and subscribed to the voice assistant."""
        return next((c for c in self.clients if c.hello and c.voice_subscribed), None)

    # -- the device's side of a voice run ---------------------------------------------------
    async def speak(
        self,
        pcm: bytes,
        *,
        wake_word: str = "Okay Nabu",
        use_wake_word: bool = False,
        pace: float = 1.0,
        timeout: float = 90.0,
    ) -> Run:
        """Wake up (as if the on-device wake word fired) and stream `pcm` like a microphone
        (`pace` 1.0 = real time) until the hub ends speech; return once RUN_END arrives."""
        client = self.client
        assert client is not None, "the hub is not subscribed to the voice assistant"
        run = self.run = Run()
        flags = 2 if use_wake_word else 0  # VoiceAssistantCommandFlag.USE_WAKE_WORD
        client.send(
            api_pb2.VoiceAssistantRequest(
                start=True, conversation_id="", flags=flags, wake_word_phrase=wake_word
            )
        )
        await self.wait_for(lambda: run.response is not None, 10, "VoiceAssistantResponse")
        if run.response.error:
            return run
        loop = asyncio.get_running_loop()
        started = loop.time()
        for offset in range(0, len(pcm), CHUNK):
            if run.vad_end.is_set() or run.ended.is_set() or client.writer.is_closing():
                break
            client.send(api_pb2.VoiceAssistantAudio(data=pcm[offset : offset + CHUNK]))
            run.sent_bytes += len(pcm[offset : offset + CHUNK])
            due = started + (run.sent_bytes / 32000) / pace
            await asyncio.sleep(max(0.0, due - loop.time()))
        client.send(api_pb2.VoiceAssistantAudio(end=True))
        await asyncio.wait_for(run.ended.wait(), timeout)
        return run

    async def fetch(self, url: str) -> Fetched:
        """GET a reply URL as the device's media player does."""
        async with aiohttp.ClientSession() as session, session.get(url) as resp:
            got = Fetched(url, resp.status, await resp.read(), resp.content_type)
        self.fetched.append(got)
        return got

    async def wait_for(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        if check():
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (check, future)
        self._waiters.append(entry)
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise AssertionError(f"device {self.name}: timed out waiting for {what}") from None
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(entry)

    # -- the protocol -----------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = _Client(reader, writer)
        self.clients.append(client)
        self.connections += 1
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            while True:
                preamble = await reader.readexactly(1)
                if preamble != b"\x00":
                    # A Noise client (0x01): a plaintext device drops it, and so does this one.
                    self.noise_attempts += preamble == b"\x01"
                    return
                length = await read_varint(reader)
                msg_type = await read_varint(reader)
                body = await reader.readexactly(length)
                cls = MESSAGE_TYPE_TO_PROTO.get(msg_type)
                if cls is None:
                    continue
                msg = cls()
                msg.ParseFromString(body)
                self.received.append(msg)
                if not self._handle(client, msg):
                    return
                self._wake_waiters()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # closed, or stopped (asyncio's stream server logs a cancelled handler)
        finally:
            if task is not None:
                self._tasks.discard(task)
            with contextlib.suppress(ValueError):
                self.clients.remove(client)
            writer.close()
            self._wake_waiters()

    def _handle(self, client: _Client, msg: Message) -> bool:
        """Answer one message; False closes the connection."""
        p = api_pb2
        if isinstance(msg, p.HelloRequest):
            client.hello = True
            major, minor = self.api_version
            client.send(
                p.HelloResponse(
                    api_version_major=major,
                    api_version_minor=minor,
                    server_info=f"{self.name} (Hearth test device)",
                    name=self.name,
                )
            )
        elif isinstance(msg, p.AuthenticationRequest):
            pass  # no password: a current device sends nothing back
        elif isinstance(msg, p.DeviceInfoRequest):
            info = p.DeviceInfoResponse(
                name=self.name,
                friendly_name=self.friendly_name,
                mac_address=self.mac,
                esphome_version="2026.11.0",
                model="Hearth test voice device",
                manufacturer="Hearth tests",
                voice_assistant_feature_flags=self.voice_flags,
                suggested_area=self.area or "",
            )
            if self.area:
                info.area.CopyFrom(p.AreaInfo(area_id=0, name=self.area))
            client.send(info)
        elif isinstance(msg, p.ListEntitiesRequest):
            client.send(p.ListEntitiesDoneResponse())
        elif isinstance(msg, p.PingRequest):
            client.send(p.PingResponse())
        elif isinstance(msg, p.DisconnectRequest):
            client.send(p.DisconnectResponse())
            return False
        elif isinstance(msg, p.SubscribeVoiceAssistantRequest):
            client.voice_subscribed = bool(msg.subscribe)
            client.voice_flags = msg.flags
        elif isinstance(msg, p.VoiceAssistantResponse):
            if self.run is not None:
                self.run.response = msg
        elif isinstance(msg, p.VoiceAssistantEventResponse):
            event = VoiceEvent(
                VoiceAssistantEventType(msg.event_type), {d.name: d.value for d in msg.data}
            )
            self.events.append(event)
            run = self.run
            if run is not None and not run.ended.is_set():
                run.events.append(event)
                if event.type == EV.VOICE_ASSISTANT_STT_VAD_END:
                    run.vad_end.set()
                if event.type == EV.VOICE_ASSISTANT_RUN_END:
                    run.ended.set()
        elif isinstance(msg, p.VoiceAssistantTimerEventResponse):
            self.timers.append(
                TimerEvent(
                    VoiceAssistantTimerEventType(msg.event_type),
                    msg.timer_id,
                    msg.name,
                    msg.total_seconds,
                    msg.seconds_left,
                    msg.is_active,
                )
            )
        elif isinstance(msg, p.VoiceAssistantAnnounceRequest):
            self.announcements.append(msg)
            self._spawn(self._async_announce(client, msg))
        return True  # SubscribeStates, GetTime answers and the rest need nothing back

    async def _async_announce(self, client: _Client, msg: Any) -> None:
        got = await self.fetch(msg.media_id)
        ok = self.announce_ok and got.status == 200 and got.body[:4] == b"RIFF"
        client.send(api_pb2.VoiceAssistantAnnounceFinished(success=ok))

    def _wake_waiters(self) -> None:
        for check, future in list(self._waiters):
            if not future.done() and check():
                future.set_result(None)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
