"""The voice plugin: the pipeline as hub services, plus the Wyoming satellite server."""

from __future__ import annotations

import base64
from typing import Any, ClassVar

from hub.errors import DeviceUnavailable
from hub.integration import Integration, Manifest
from hub.schema import Field, Schema
from hub.services import ServiceCall

from .pipeline import VoicePipeline
from .settings import CONFIG_SCHEMA, VoiceSettings
from .speakers import ANNOUNCE_SCHEMA
from .wyoming_server import WyomingServer

DATA_KEY = "voice"
SATELLITES_KEY = "satellites"  # voice.satellite.manager.DOMAIN, set when satellites run

PROCESS_TEXT_SCHEMA = Schema(
    {
        "text": Field("str", required=True, max_length=500),
        "language": Field("str", description="en or zh; detected when absent"),
        "conversation_id": Field("str", default="default", max_length=64),
        "speak": Field("bool", default=False, description="also return the reply as WAV"),
    }
)
SAY_SCHEMA = Schema(
    {
        "text": Field("str", required=True, max_length=1000),
        "language": Field("str"),
        "satellite": Field(
            "str", max_length=100, description="play on this Wyoming satellite, not just return"
        ),
    }
)


class VoiceIntegration(Integration):
    """Sets up the pipeline and exposes voice.process_text, voice.say and voice.announce."""

    manifest = Manifest(
        domain="voice",
        name="Voice control",
        after=("demo",),
        description="Wake word, speech-to-text, intents and spoken replies, offline",
    )
    config_schema: ClassVar = CONFIG_SCHEMA

    def __init__(self, hub: Any, config: Any) -> None:
        super().__init__(hub, config)
        self.settings = VoiceSettings.from_config(config)
        self.pipeline = VoicePipeline(hub, self.settings)
        self.wyoming: WyomingServer | None = None

    async def async_setup(self) -> None:
        await self.pipeline.async_start()
        self.hub.data[DATA_KEY] = self.pipeline
        services = self.hub.services
        services.async_register(
            "voice",
            "process_text",
            self._process_text,
            PROCESS_TEXT_SCHEMA,
            description="Run a sentence through intents and actions; returns the reply",
            # What the sentence does is checked again, call by call, with the caller's rights.
            access="member",
        )
        services.async_register(
            "voice",
            "say",
            self._say,
            SAY_SCHEMA,
            description="Speak text; returns WAV (base64)",
            access="member",
        )
        services.async_register(
            "voice",
            "announce",
            self._announce,
            ANNOUNCE_SCHEMA,
            description="Say a text or play a recording on one satellite, a room, or all",
            # Like voice.say: members speak in the home; guests do not.
            access="member",
        )
        if self.settings.wyoming_port:
            self.wyoming = WyomingServer(
                self.pipeline, self.settings.wyoming_host, self.settings.wyoming_port
            )
            await self.wyoming.async_start()
            self.hub.ready_notes.append(f"Wyoming on port {self.wyoming.port}")

    async def async_teardown(self) -> None:
        if self.wyoming is not None:
            await self.wyoming.async_stop()
        await self.pipeline.async_stop()
        self.hub.data.pop(DATA_KEY, None)

    async def _process_text(self, call: ServiceCall) -> dict[str, Any]:
        result = await self.pipeline.async_process_text(
            call.data["text"],
            call.data.get("language"),
            call.data.get("conversation_id", "default"),
            speak=call.data.get("speak", False),
            context=call.context,
        )
        out = {**result.as_json(), "language": result.language}
        if result.reply_audio is not None:
            out["reply_wav"] = base64.b64encode(result.reply_audio.to_wav()).decode()
        return out

    async def _announce(self, call: ServiceCall) -> dict[str, Any]:
        return await self.pipeline.speakers.async_announce(call.data)

    async def _say(self, call: ServiceCall) -> dict[str, Any]:
        satellite = call.data.get("satellite")
        if satellite is not None and not self._known(satellite):
            raise self._not_connected(satellite)  # before spending time on speech
        audio = await self.pipeline.async_say(call.data["text"], call.data.get("language"))
        out: dict[str, Any] = {"seconds": round(audio.seconds, 3)}
        if satellite is None:
            out["wav"] = base64.b64encode(audio.to_wav()).decode()
            return out
        if not await self._async_play_on(satellite, audio):
            raise self._not_connected(satellite)  # it left while the speech was synthesised
        return {**out, "satellite": satellite}

    def _satellites(self) -> list[str]:
        names = set(self.wyoming.satellites()) if self.wyoming is not None else set()
        manager = self.hub.data.get(SATELLITES_KEY)  # satellites the hub dialled (Wyoming)
        if manager is not None:
            names |= {manager.sessions[k].name for k in manager.targets()}
        return sorted(names)

    def _known(self, satellite: str) -> bool:
        manager = self.hub.data.get(SATELLITES_KEY)
        if manager is not None and manager.targets(satellite):
            return True
        return self.wyoming is not None and satellite in self.wyoming.satellites()

    async def _async_play_on(self, satellite: str, audio: Any) -> bool:
        manager = self.hub.data.get(SATELLITES_KEY)
        keys = manager.targets(satellite) if manager is not None else []
        if manager is not None and keys:
            results = await manager.async_announce(keys[:1], audio)
            return all(err is None for err in results.values())
        return self.wyoming is not None and await self.wyoming.async_announce(satellite, audio)

    def _not_connected(self, name: str) -> DeviceUnavailable:
        where = ", ".join(self._satellites()) or "none"
        return DeviceUnavailable(f"satellite {name!r} is not connected (connected: {where})")


INTEGRATION = VoiceIntegration
