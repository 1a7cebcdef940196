"""Wi-Fi pairing end to end: a virtual Hearth fridge (the reference firmware, a real process)
is found over mDNS, provisioned with the home's Wi-Fi and broker account, announces itself with
discovery, and obeys the hub."""

from __future__ import annotations

import json
import os
import socket
import uuid
from pathlib import Path

import pytest
from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

from firmware.virtual import VirtualAppliance
from hub.core import Hub
from hub.integration import STAGE_FAILED, STAGE_READY, PairingCandidate, PairingProgress
from integrations.mqtt.accounts import ACCOUNTS_FILE
from integrations.mqtt.broker import CREDENTIALS_FILE
from integrations.zeroconf.browser import ESPHOME, MQTT_BROKER
from tests.conftest import HubFactory
from tests.mosquitto import Mosquitto, free_port

from .conftest import mqtt_config
from .helpers import device_client, state_of, subscribed, wait_until

SETUP_CODE = "24681012"


async def _search(hub: Hub, device_id: str) -> PairingCandidate:
    session = hub.pairing.async_start(["wifi"], duration=30)
    found: PairingCandidate | None = None
    async for step in hub.pairing.async_iterate(session):
        if step.candidate is not None and step.candidate.id.endswith(device_id):
            found = step.candidate
            break
    await hub.pairing.async_stop(session.id)
    assert found is not None, f"{device_id} was not offered"
    return found


async def _pair(hub: Hub, candidate: PairingCandidate, **options: str) -> list[PairingProgress]:
    session = hub.pairing.async_start(["wifi"], candidate_id=candidate.id, options=dict(options))
    return [step async for step in hub.pairing.async_iterate(session)]


PROFILES = {
    # profile: (entity domain, initial state, service, data, command topic key, payload, state)
    "fridge": ("select", "normal", "select_option", {"option": "eco"}, "mode", "eco", "eco"),
    "cleaner": ("vacuum", "docked", "start", {}, "command", "start", "cleaning"),
}


@pytest.mark.parametrize("profile", sorted(PROFILES))
async def test_pair_and_command_a_virtual_appliance(
    hub_factory: HubFactory, tmp_path: Path, profile: str
) -> None:
    domain, initial, service, data, key, payload, final = PROFILES[profile]
    appliance = VirtualAppliance(
        f"{profile}{os.getpid()}", profile, tmp_path / profile, mdns=True, setup_code=SETUP_CODE
    )
    appliance.start()
    try:
        await appliance.async_wait_http()
        # The embedded mosquitto: the appliance gets an account of its own at pairing.
        port = free_port()
        hub = await hub_factory(
            mqtt={"embedded_port": port, "reconnect_max": 1.0, "advertise_host": "127.0.0.1"},
            zeroconf={"advertise": False},
        )
        candidate = await _search(hub, appliance.id)
        assert candidate.details["kind"] == "hearth"
        assert candidate.details["pairable"] is True
        assert set(candidate.needs) == {"setup_code", "wifi_ssid", "wifi_password"}

        # A wrong setup code is refused by the device and reported, not crashed on.
        refused = await _pair(
            hub, candidate, wifi_ssid=appliance.ap_ssid, wifi_password=appliance.ap_password,
            setup_code="00000000",
        )  # fmt: skip
        assert any(s.stage == STAGE_FAILED for s in refused)
        assert not any(s.stage == STAGE_READY for s in refused)

        steps = await _pair(
            hub, candidate, wifi_ssid=appliance.ap_ssid, wifi_password=appliance.ap_password,
            setup_code=SETUP_CODE,
        )  # fmt: skip
        ready = [s for s in steps if s.stage == STAGE_READY]
        assert ready, [(s.stage, s.message) for s in steps]
        assert ready[0].device_id is not None
        target = next(e for e in ready[0].entity_ids if e.startswith(f"{domain}."))
        await wait_until(lambda: state_of(hub, target).state == initial, what=f"{initial}")

        # Its own account, not the hub's; the hub keeps no copy of its password.
        stored = json.loads((appliance.state_dir / "config.json").read_text())
        hub_user = json.loads((hub.config_dir / CREDENTIALS_FILE).read_text())["username"]
        assert stored["broker_username"] == f"appliance-{appliance.id}" != hub_user
        assert stored["broker_password"] not in (hub.config_dir / ACCOUNTS_FILE).read_text()

        # The hub commands it: the firmware acts and reports its new state back.
        hub_password = json.loads((hub.config_dir / CREDENTIALS_FILE).read_text())["password"]
        spy = await device_client("127.0.0.1", port, username=hub_user, password=hub_password)
        commands = await subscribed(spy, f"hearth/{appliance.id}/set/#")
        await hub.services.async_call(domain, service, data, target={"entity_id": target})
        await commands.wait_for(f"hearth/{appliance.id}/set/{key}", payload)
        await wait_until(lambda: state_of(hub, target).state == final, 60, final)

        # Pulling the plug: the broker publishes the appliance's will; entities go unavailable.
        appliance.kill()
        await wait_until(
            lambda: state_of(hub, target).state == "unavailable", 90, "appliance unavailable"
        )
        await spy.async_stop()
    finally:
        appliance.kill()


async def test_other_lan_devices_are_offered_with_advice(
    hub_factory: HubFactory, mosquitto: Mosquitto
) -> None:
    tag = uuid.uuid4().hex[:8]
    lan = AsyncZeroconf()
    records = [
        AsyncServiceInfo(
            kind, f"{label}-{tag}.{kind}", port=port,
            addresses=[socket.inet_aton("127.0.0.1")], properties=props,
            server=f"{label}-{tag}.local.",
        )
        for kind, label, port, props in (
            (ESPHOME, "kitchen-plug", 6053, {"version": "2024.2.0"}),
            (MQTT_BROKER, "nas-broker", 1883, {}),
        )
    ]  # fmt: skip
    try:
        for record in records:
            await lan.async_register_service(record)
        hub = await hub_factory(mqtt=mqtt_config(mosquitto), zeroconf={"advertise": False})
        session = hub.pairing.async_start(["wifi"], duration=30)
        offered: dict[str, PairingCandidate] = {}
        async for step in hub.pairing.async_iterate(session):
            if step.candidate is not None and tag in step.candidate.id:
                offered[step.candidate.details["kind"]] = step.candidate
            if len(offered) == 2:
                break
        await hub.pairing.async_stop(session.id)
        assert set(offered) == {"esphome", "mqtt_broker"}
        esphome = offered["esphome"]
        assert esphome.details["pairable"] is False and "mqtt" in esphome.details["advice"]
        assert offered["mqtt_broker"].details["port"] == 1883
        # Asking to pair one explains what to do instead of failing obscurely.
        steps = await _pair(hub, esphome)
        failed = [s for s in steps if s.stage == STAGE_FAILED]
        assert failed and "ESPHome" in failed[0].message
    finally:
        for record in records:
            await lan.async_unregister_service(record)
        await lan.async_close()


async def _pair_fresh_fridge(
    hub_factory: HubFactory, tmp_path: Path, name: str, mqtt: dict[str, object]
) -> tuple[VirtualAppliance, Hub, list[PairingProgress]]:
    """Start a virtual fridge and a hub with `mqtt`; pair them with the right setup code."""
    appliance = VirtualAppliance(
        f"{name}{os.getpid()}", "fridge", tmp_path / name, mdns=True, setup_code=SETUP_CODE
    )
    appliance.start()
    try:
        await appliance.async_wait_http()
        hub = await hub_factory(mqtt=mqtt, zeroconf={"advertise": False})
        candidate = await _search(hub, appliance.id)
        steps = await _pair(
            hub, candidate, wifi_ssid=appliance.ap_ssid, wifi_password=appliance.ap_password,
            setup_code=SETUP_CODE,
        )  # fmt: skip
    except BaseException:
        appliance.kill()
        raise
    return appliance, hub, steps


async def test_pairing_over_the_lan_listener_uses_tls(
    hub_factory: HubFactory, tmp_path: Path
) -> None:
    """With the LAN listener on, the appliance gets the TLS port and the hub's CA, and connects."""
    lan_port = free_port()
    mqtt = {
        "embedded_port": free_port(),
        "lan_listener": True,
        "lan_host": "127.0.0.1",  # tests bind loopback only
        "lan_port": lan_port,
        "reconnect_max": 1.0,
        # The virtual appliance lives on this computer: the certificate covers it too.
        "advertise_host": "127.0.0.1",
    }
    appliance, hub, steps = await _pair_fresh_fridge(hub_factory, tmp_path, "tls", mqtt)
    try:
        ready = [s for s in steps if s.stage == STAGE_READY]
        assert ready, [(s.stage, s.message) for s in steps]
        stored = json.loads((appliance.state_dir / "config.json").read_text())
        assert stored["broker_port"] == lan_port
        assert stored["broker_ca"] == (hub.config_dir / "mqtt_tls" / "ca.pem").read_text()
        target = next(e for e in ready[0].entity_ids if e.startswith("select."))
        await hub.services.async_call(
            "select", "select_option", {"option": "eco"}, target={"entity_id": target}
        )
        await wait_until(lambda: state_of(hub, target).state == "eco", 60, "eco over TLS")
    finally:
        appliance.kill()


async def test_pairing_never_hands_out_the_hubs_account(
    hub_factory: HubFactory, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """On an external broker the hub has no accounts to make: pairing refuses, sends nothing."""
    mqtt = mqtt_config(mosquitto, advertise_host="127.0.0.1")
    appliance, _hub, steps = await _pair_fresh_fridge(hub_factory, tmp_path, "ext", mqtt)
    try:
        assert steps[-1].stage == STAGE_FAILED and "external broker" in steps[-1].message
        assert (await appliance.async_info())["state"] == "unprovisioned"
    finally:
        appliance.kill()
