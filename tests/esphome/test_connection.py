"""The link to ESPHome devices: registered in their room, back after a device restart, never
holding up the hub's start; config checking; the emulator against a plain aioesphomeapi client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest
from aioesphomeapi import APIClient, VoiceAssistantFeature

from hub.core import Hub
from hub.errors import InvalidServiceData
from integrations.esphome.discovery import ESPHOME_SERVICE, EsphomeBrowser
from integrations.esphome.integration import parse_devices
from integrations.esphome.manager import IDENTIFIER_DOMAIN
from integrations.zeroconf.browser import LanService
from tests.satellites.rig import free_port
from tests.waiting import wait_until

from .conftest import DEMO, DeviceFactory, config, hub_device, on
from .device import EsphomeVoiceDevice

HubFactory = Callable[..., object]


def _state(hub: Hub, entity_id: str) -> str | None:
    state = hub.states.get(entity_id)
    return None if state is None else state.state


async def test_device_connects_and_is_registered_in_its_room(
    esphome_device: DeviceFactory, hub_factory: HubFactory
) -> None:
    dev = await esphome_device(
        "kitchen-voice", friendly_name="Kitchen voice", area="Kitchen", mac="AA:BB:CC:DD:EE:01"
    )
    hub: Hub = await hub_factory(demo=DEMO, voice={}, esphome=config(dev))  # type: ignore[operator]
    device = await wait_until(lambda: hub_device(hub, dev), 30, "connected")
    entry = hub.registry.devices.find_by_identifier((IDENTIFIER_DOMAIN, "aabbccddee01"))
    assert entry is not None and entry.area_id == "kitchen"
    assert entry.display_name == "Kitchen voice"
    assert device.key == "aabbccddee01" and device.name == "Kitchen voice"
    assert on(hub, "binary_sensor.kitchen_voice_online")
    # The hub asked for API audio (not UDP) when it subscribed.
    await dev.wait_for(lambda: dev.client is not None, 10, "voice subscription")
    assert dev.client is not None and dev.client.voice_flags & 4  # API_AUDIO
    sent = [type(m).__name__ for m in dev.received]
    assert sent[:2] == ["HelloRequest", "AuthenticationRequest"]
    assert "DeviceInfoRequest" in sent and "SubscribeVoiceAssistantRequest" in sent


async def test_device_restart_the_hub_reconnects(
    esphome_device: DeviceFactory,
    hub_factory: HubFactory,
    spoken: Callable[[str], Awaitable[bytes]],
) -> None:
    dev = await esphome_device("kitchen-voice", area="Kitchen")
    hub: Hub = await hub_factory(demo=DEMO, voice={}, esphome=config(dev))  # type: ignore[operator]
    await wait_until(lambda: hub_device(hub, dev), 30, "connected")
    await dev.stop()
    await wait_until(
        lambda: _state(hub, "binary_sensor.kitchen_voice_online") == "off", 30, "offline"
    )
    assert hub_device(hub, dev) is None
    await dev.start()  # the same port, as a rebooted device
    await wait_until(lambda: hub_device(hub, dev) and dev.client, 30, "reconnected")
    assert dev.connections == 2
    await wait_until(lambda: on(hub, "binary_sensor.kitchen_voice_online"), 10, "online")
    run = await dev.speak(await spoken("turn on the kitchen light"))
    assert "STT_END" in run.names()
    assert on(hub, "light.kitchen_light")
    # Still one device in the registry, not a second one for the second connection.
    devices = [
        d
        for d in hub.registry.devices.all()
        if (IDENTIFIER_DOMAIN, dev.mac.replace(":", "").lower()) in d.identifiers
    ]
    assert len(devices) == 1


async def test_offline_devices_do_not_delay_the_hub_start(
    esphome_device: DeviceFactory, hub_factory: HubFactory
) -> None:
    # One address refuses connections; the other accepts and then never answers hello.
    refused = free_port()
    silent = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    silent_port = silent.sockets[0].getsockname()[1]
    try:
        started = time.monotonic()
        hub: Hub = await hub_factory(  # type: ignore[operator]
            demo=DEMO,
            voice={},
            esphome={"devices": [f"127.0.0.1:{refused}", f"127.0.0.1:{silent_port}"]},
        )
        took = time.monotonic() - started
        assert hub.state == "running"
        # aioesphomeapi waits 30 s for a hello answer; the start did not wait for it.
        assert took < 15, took
        manager = hub.data["esphome"]
        assert not any(d.connected for d in manager.devices.values())
        # The refused one comes up later: the hub connects in the background.
        dev = EsphomeVoiceDevice("late", area="Hallway", port=refused)
        await dev.start()
        try:
            await wait_until(lambda: hub_device(hub, dev), 30, "connected once it came up")
        finally:
            await dev.stop()
    finally:
        silent.close()


def test_config_devices_parse_with_the_esphome_default_port() -> None:
    (one, two, three) = parse_devices(
        [
            "10.0.0.5",
            "voice.local:6054",
            {
                "host": "10.0.0.7",
                "noise_psk": "px7tsbK3C7bpXHr2OevEV2ZMg/FrNBw2+O2pNPbedtA=",
                "area": "Kitchen",
                "name": "voice-pe",
            },
        ]
    )
    assert (one.host, one.port) == ("10.0.0.5", 6053)
    assert (two.host, two.port) == ("voice.local", 6054)
    assert three.noise_psk and three.area == "Kitchen" and three.name == "voice-pe"
    for bad in (["host:port"], [{"port": 6053}], [{"host": "x", "noise_psk": "short"}], "x"):
        with pytest.raises(InvalidServiceData):
            parse_devices(bad)


async def test_emulator_speaks_the_protocol_to_a_plain_client() -> None:
    """The emulator answers aioesphomeapi's own client: hello, device info, entity list, states,
    ping and disconnect."""
    dev = EsphomeVoiceDevice("probe", area="Office")
    await dev.start()
    client = APIClient("127.0.0.1", dev.port, None, client_info="probe")
    try:
        await client.connect(login=True)
        info = await client.device_info()
        assert info.name == "probe" and info.suggested_area == "Office"
        assert info.area.name == "Office"
        assert client.api_version is not None
        flags = info.voice_assistant_feature_flags_compat(client.api_version)
        assert flags & VoiceAssistantFeature.API_AUDIO and flags & VoiceAssistantFeature.TIMERS
        assert flags & VoiceAssistantFeature.ANNOUNCE
        entities, services = await client.list_entities_services()
        assert entities == [] and services == []
        client.subscribe_states(lambda state: None)
        await client.disconnect()
    finally:
        await dev.stop()
    names = [type(m).__name__ for m in dev.received]
    for wanted in ("HelloRequest", "DeviceInfoRequest", "ListEntitiesRequest"):
        assert wanted in names
    assert "SubscribeStatesRequest" in names and names[-1] == "DisconnectRequest"


async def test_discovered_devices_voice_ones_kept_encrypted_and_plain_ones_left(
    esphome_device: DeviceFactory, hub_factory: HubFactory
) -> None:
    """What the zeroconf browser does with `_esphomelib._tcp` answers (fed here directly; the
    multicast browse itself is integrations/zeroconf's, tested there)."""
    voice = await esphome_device("found-voice", area="Bedroom")
    plug = await esphome_device("found-plug", voice_flags=0)
    hub: Hub = await hub_factory(demo=DEMO, voice={}, esphome={})  # type: ignore[operator]
    manager = hub.data["esphome"]
    browser = EsphomeBrowser(hub, manager)

    def lan(dev: EsphomeVoiceDevice, **props: str) -> LanService:
        return LanService(
            ESPHOME_SERVICE,
            f"{dev.name}.{ESPHOME_SERVICE}",
            "127.0.0.1",
            dev.port,
            properties={"mac": dev.mac.replace(":", "").lower(), **props},
        )

    await browser.async_found(lan(voice))
    await wait_until(lambda: hub_device(hub, voice), 30, "discovered voice device connected")
    await browser.async_found(lan(plug))
    await wait_until(lambda: plug.connections == 1, 30, "plug probed")
    await wait_until(lambda: manager.find("127.0.0.1", plug.port) is None, 30, "plug left")
    assert not plug.clients or not any(c.voice_subscribed for c in plug.clients)
    encrypted = EsphomeVoiceDevice("locked", mac="AA:BB:CC:EE:EE:EE", port=free_port())
    await browser.async_found(lan(encrypted, api_encryption="Noise_NNpsk0_25519_ChaChaPoly_SHA256"))
    assert manager.find("127.0.0.1", encrypted.port) is None and browser.skipped
    # Seen again: the known device is only poked, not added twice.
    await browser.async_found(lan(voice))
    assert len([d for d in manager.devices.values() if d.config.port == voice.port]) == 1
    entry = hub.registry.devices.find_by_identifier(
        (IDENTIFIER_DOMAIN, voice.mac.replace(":", "").lower())
    )
    assert entry is not None and entry.area_id == "bedroom"


async def test_an_encryption_key_is_used_and_a_plaintext_device_refused(
    esphome_device: DeviceFactory, hub_factory: HubFactory
) -> None:
    """With `noise_psk` the hub speaks Noise only: a device answering in plaintext (this
    emulator) is never trusted, the hub keeps running and says why."""
    dev = await esphome_device("kitchen-voice", area="Kitchen")
    psk = "px7tsbK3C7bpXHr2OevEV2ZMg/FrNBw2+O2pNPbedtA="
    hub: Hub = await hub_factory(  # type: ignore[operator]
        demo=DEMO,
        voice={},
        esphome={"devices": [{"host": "127.0.0.1", "port": dev.port, "noise_psk": psk}]},
    )
    (device,) = hub.data["esphome"].devices.values()
    await wait_until(lambda: device.last_error, 30, "a connect error")
    assert dev.noise_attempts >= 1  # the hub opened with a Noise handshake
    assert not device.connected and dev.client is None and hub.state == "running"
