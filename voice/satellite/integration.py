"""The satellites plugin: attach Wyoming satellites, answer them, and `voice.announce`."""

from __future__ import annotations

import base64
import binascii
from typing import Any, ClassVar

from hub.errors import DeviceUnavailable, InvalidServiceData
from hub.integration import Integration, Manifest
from hub.schema import Field, Schema
from hub.services import ServiceCall

from ..audio import AudioFormatError, read_wav
from .arbitration import DEFAULT_WINDOW
from .link import LinkTiming
from .manager import DOMAIN, SatelliteManager, SatelliteSettings, parse_endpoint

CONFIG_SCHEMA = Schema(
    {
        "discovery": Field("bool", default=True, description="attach satellites found by zeroconf"),
        "hosts": Field("str_list", description="satellites by host:port (default port 10700)"),
        "wake_window": Field(
            "float",
            min=0.05,
            max=2.0,
            default=DEFAULT_WINDOW,
            description="seconds in which several satellites hearing a wake word answer once",
        ),
        "reconnect_max": Field("float", min=0.1, max=600, default=30.0),
        "ping_interval": Field("float", min=0.1, max=60, default=2.0),
    }
)
ANNOUNCE_SCHEMA = Schema(
    {
        "text": Field("str", max_length=1000, description="spoken with the hub's voice"),
        "wav": Field("str", max_length=4_000_000, description="a recording, base64 WAV"),
        "satellite": Field("str", max_length=100, description="name, device or entity id"),
        "area": Field("str", max_length=100, description="every satellite in this room"),
        "language": Field("str"),
    }
)


class SatellitesIntegration(Integration):
    """Dials out to Wyoming satellites; the voice pipeline answers them in their own room."""

    manifest = Manifest(
        domain=DOMAIN,
        name="Voice satellites",
        dependencies=("voice",),
        after=("zeroconf",),
        description="Wyoming satellites (wyoming-satellite and compatible speakers)",
    )
    config_schema: ClassVar = CONFIG_SCHEMA

    async def async_setup(self) -> None:
        cfg = CONFIG_SCHEMA.validate(dict(self.config or {}))
        hosts = tuple(cfg.get("hosts") or ())
        for host in hosts:
            try:
                parse_endpoint(host)
            except ValueError as err:
                raise InvalidServiceData("invalid satellites config", {"hosts": str(err)}) from err
        settings = SatelliteSettings(
            discovery=cfg.get("discovery", True),
            hosts=hosts,
            wake_window=cfg.get("wake_window", DEFAULT_WINDOW),
            timing=LinkTiming(
                backoff_max=cfg.get("reconnect_max", 30.0),
                ping_interval=cfg.get("ping_interval", 2.0),
                # Floor: a decode holding the GIL can stall the loop for a second.
                ping_timeout=max(3 * cfg.get("ping_interval", 2.0), 5.0),
            ),
        )
        pipeline = self.hub.data["voice"]
        self.manager = SatelliteManager(self.hub, pipeline, settings)
        self.hub.data[DOMAIN] = self.manager
        await self.manager.async_start()
        self.hub.services.async_register(
            "voice",
            "announce",
            self._announce,
            ANNOUNCE_SCHEMA,
            description="Say a text or play a recording on one satellite, a room, or all",
            # Like voice.say: members speak in the home; guests do not.
            access="member",
        )

    async def async_teardown(self) -> None:
        self.hub.services.async_remove("voice", "announce")
        await self.manager.async_stop()
        self.hub.data.pop(DOMAIN, None)

    async def _announce(self, call: ServiceCall) -> dict[str, Any]:
        data = call.data
        text, wav = data.get("text"), data.get("wav")
        if bool(text) == bool(wav):
            raise InvalidServiceData("give text or wav", {"text": "exactly one of text, wav"})
        keys = self.manager.targets(data.get("satellite"), data.get("area"))
        if not keys:  # checked before spending time on speech
            where = data.get("satellite") or data.get("area") or "any room"
            raise DeviceUnavailable(f"no connected satellite for {where}")
        if wav:
            try:
                audio = read_wav(base64.b64decode(wav, validate=True))
            except (binascii.Error, AudioFormatError) as err:
                raise InvalidServiceData("unreadable recording", {"wav": str(err)}) from err
        else:
            audio = await self.manager.pipeline.async_say(str(text), data.get("language"))
        results = await self.manager.async_announce(keys, audio, text)
        played = [self.manager.sessions[k].name for k, err in results.items() if err is None]
        failed = {self.manager.sessions[k].name: err for k, err in results.items() if err}
        if not played:
            raise DeviceUnavailable(f"announcement not played: {failed}")
        return {"played": played, "failed": failed, "seconds": round(audio.seconds, 3)}


INTEGRATION = SatellitesIntegration
