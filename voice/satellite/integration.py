"""The satellites plugin: attach Wyoming satellites, answer them, play announcements on them."""

from __future__ import annotations

from typing import ClassVar

from hub.errors import InvalidServiceData
from hub.integration import Integration, Manifest
from hub.schema import Field, Schema

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
        # voice.announce (the voice plugin's) plays on them.
        self._unregister_speaker = pipeline.speakers.register(self.manager)

    async def async_teardown(self) -> None:
        self._unregister_speaker()
        await self.manager.async_stop()
        self.hub.data.pop(DOMAIN, None)


INTEGRATION = SatellitesIntegration
