"""The esphome plugin: ESPHome voice devices (Home Assistant Voice PE, Linux-Voice-Assistant)
over the ESPHome native API, answered by Hearth's voice pipeline in their own room."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, ClassVar

from hub.errors import InvalidServiceData
from hub.integration import Integration, Manifest
from hub.schema import Field, Schema
from hub.services import ServiceCall
from voice.satellite.arbitration import DEFAULT_WINDOW, WakeArbiter
from voice.speakers import ANNOUNCE_SCHEMA

from .device import DEFAULT_PORT, DeviceConfig
from .discovery import EsphomeBrowser
from .manager import DOMAIN, EsphomeManager
from .replies import DEFAULT_TTL, ReplyServer

SATELLITES = "satellites"  # voice.satellite.manager.DOMAIN: the Wyoming satellites' manager

CONFIG_SCHEMA = Schema(
    {
        "devices": Field(
            "any",
            default=[],
            description="devices: 'host[:port]' or {host, port, noise_psk, name, area}",
        ),
        "discovery": Field(
            "bool",
            default=False,
            description="connect to voice devices found by zeroconf (_esphomelib._tcp)",
        ),
        "reply_host": Field(
            "str", default="0.0.0.0", description="where devices fetch spoken replies"
        ),
        "reply_port": Field("int", min=0, max=65535, default=0, description="0 = any free port"),
        "reply_ttl": Field("float", min=5, max=3600, default=DEFAULT_TTL),
        "wake_window": Field(
            "float",
            min=0.05,
            max=2.0,
            default=DEFAULT_WINDOW,
            description="used only without `satellites:` (else theirs is shared)",
        ),
    }
)
DEVICE_SCHEMA = Schema(
    {
        "host": Field("str", required=True, max_length=255),
        "port": Field("int", min=1, max=65535, default=DEFAULT_PORT),
        "noise_psk": Field("str", max_length=100, description="the API encryption key (base64)"),
        "name": Field("str", max_length=100, description="the device's node name, checked"),
        "area": Field("str", max_length=100, description="its room"),
    }
)


def parse_devices(value: Any) -> list[DeviceConfig]:
    """The `devices:` list; raises InvalidServiceData naming the bad entry."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise InvalidServiceData("invalid esphome config", {"devices": "expected a list"})
    out: list[DeviceConfig] = []
    for index, item in enumerate(value):
        where = f"devices[{index}]"
        if isinstance(item, str):
            host, sep, port = item.strip().rpartition(":")
            if not sep:
                host, port = port, str(DEFAULT_PORT)
            item = {"host": host, "port": port}
        if not isinstance(item, Mapping):
            raise InvalidServiceData("invalid esphome config", {where: "expected host or mapping"})
        try:
            cfg = DEVICE_SCHEMA.validate(item)
        except InvalidServiceData as err:
            raise InvalidServiceData("invalid esphome config", {where: str(err.args)}) from None
        if not cfg["host"].strip():
            raise InvalidServiceData("invalid esphome config", {where: "empty host"})
        psk = cfg.get("noise_psk") or None
        if psk is not None:
            try:
                ok = len(base64.b64decode(psk, validate=True)) == 32
            except (binascii.Error, ValueError):
                ok = False
            if not ok:
                raise InvalidServiceData(
                    "invalid esphome config", {where: "noise_psk must be 32 bytes in base64"}
                )
        out.append(
            DeviceConfig(
                cfg["host"].strip(),
                cfg.get("port", DEFAULT_PORT),
                psk,
                cfg.get("name") or None,
                cfg.get("area") or None,
            )
        )
    return out


class EsphomeIntegration(Integration):
    """Dials out to ESPHome voice devices; answers them; shows their timers; announces."""

    manifest = Manifest(
        domain=DOMAIN,
        name="ESPHome voice devices",
        dependencies=("voice",),
        # The Wyoming satellites' wake-word arbiter is shared when present.
        after=("satellites", "zeroconf"),
        description="Home Assistant Voice PE, Linux-Voice-Assistant and other ESPHome devices"
        " with a voice assistant (native API, port 6053)",
    )
    config_schema: ClassVar = CONFIG_SCHEMA

    async def async_setup(self) -> None:
        cfg = CONFIG_SCHEMA.validate(dict(self.config or {}))
        configs = parse_devices(cfg.get("devices"))
        satellites = self.hub.data.get(SATELLITES)
        arbiter = getattr(satellites, "arbiter", None)
        if not isinstance(arbiter, WakeArbiter):
            arbiter = WakeArbiter(cfg.get("wake_window", DEFAULT_WINDOW))
        zeroconf = self.hub.data.get("zeroconf")  # the hub's shared AsyncZeroconf, if running
        self.manager = EsphomeManager(
            self.hub,
            self.hub.data["voice"],
            arbiter,
            ReplyServer(
                cfg.get("reply_host", "0.0.0.0"),
                cfg.get("reply_port", 0),
                cfg.get("reply_ttl", DEFAULT_TTL),
            ),
            zeroconf,
        )
        self.hub.data[DOMAIN] = self.manager
        await self.manager.async_start(configs)
        self.browser: EsphomeBrowser | None = None
        if cfg.get("discovery", False):
            self.browser = EsphomeBrowser(self.hub, self.manager)
            await self.browser.async_start()
        services = self.hub.services
        services.async_register(
            DOMAIN,
            "announce",
            self._announce,
            ANNOUNCE_SCHEMA,
            description="Say a text or play a recording on one ESPHome voice device, a room, or all",
            access="member",
        )
        # voice.announce (the voice plugin's) plays on these devices as well as on satellites.
        self._unregister_speaker = self.manager.pipeline.speakers.register(self.manager)

    async def async_teardown(self) -> None:
        self._unregister_speaker()
        self.hub.services.async_remove(DOMAIN, "announce")
        if self.browser is not None:
            await self.browser.async_stop()
        await self.manager.async_stop()
        self.hub.data.pop(DOMAIN, None)

    async def _announce(self, call: ServiceCall) -> dict[str, Any]:
        return await self.manager.pipeline.speakers.async_announce(call.data, only=self.manager)


INTEGRATION = EsphomeIntegration
