"""Broker least privilege against the real mosquitto: one account per appliance, ACLs, TLS."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import ssl
import sys
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from cryptography import x509

from hub.core import Hub
from integrations.mqtt.accounts import ACCOUNTS_FILE, AccountError
from integrations.mqtt.broker import CREDENTIALS_FILE
from integrations.zeroconf.advertise import lan_addresses
from tests.conftest import HubFactory
from tests.mosquitto import free_port

from .conftest import integration
from .helpers import wait_until
from .test_embedded_mosquitto import connack, embedded_hub, mosquitto_of

WAIT = 10.0


class Peer:
    """A raw paho client, as an appliance (or an attacker with its account) would connect."""

    def __init__(self, port: int, username: str | None, password: str | None, **tls: Any):
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.subacks: queue.Queue[list[paho.ReasonCode]] = queue.Queue()
        self.connacks: queue.Queue[paho.ReasonCode] = queue.Queue()
        self.client = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id=f"peer-{time.monotonic_ns()}"
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        if "context" in tls:
            self.client.tls_set_context(tls["context"])
        self.client.on_connect = lambda _c, _u, _f, reason, _p: self.connacks.put(reason)
        self.client.on_message = lambda _c, _u, m: self.messages.put((m.topic, bytes(m.payload)))
        self.client.on_subscribe = lambda _c, _u, _m, codes, _p: self.subacks.put(codes)
        self.client.connect(tls.get("host", "127.0.0.1"), port, 10)
        self.client.loop_start()
        self.connack = self.connacks.get(timeout=WAIT)

    def subscribe(self, topic: str) -> paho.ReasonCode:
        self.client.subscribe(topic, 1)
        return self.subacks.get(timeout=WAIT)[0]

    def publish(self, topic: str, payload: str, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(WAIT)

    def received(self, seconds: float = 1.0) -> list[tuple[str, bytes]]:
        got = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                got.append(self.messages.get(timeout=0.05))
            except queue.Empty:
                pass
        return got

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def hub_login(hub: Hub) -> tuple[str, str]:
    stored = json.loads((hub.config_dir / CREDENTIALS_FILE).read_text())
    return stored["username"], stored["password"]


async def test_appliances_are_fenced_into_their_own_topics(hub_factory: HubFactory) -> None:
    hub = await embedded_hub(hub_factory)
    mqtt = integration(hub)
    port = mosquitto_of(hub).port
    plug, plug_password = await mqtt.async_add_appliance_account("plug1")
    fridge, fridge_password = await mqtt.async_add_appliance_account("fridge1")
    # Only hashes are kept; the password went to whoever made the account, once.
    stored = (hub.config_dir / ACCOUNTS_FILE).read_text()
    assert plug_password not in stored and fridge_password not in stored
    assert oct((hub.config_dir / ACCOUNTS_FILE).stat().st_mode & 0o777) == "0o600"

    hub_user, hub_password = hub_login(hub)
    watcher = await asyncio.to_thread(Peer, port, hub_user, hub_password)
    attacker = await asyncio.to_thread(Peer, port, fridge.username, fridge_password)
    victim = await asyncio.to_thread(Peer, port, plug.username, plug_password)
    try:
        assert not attacker.connack.is_failure and not victim.connack.is_failure
        assert not (await asyncio.to_thread(watcher.subscribe, "#")).is_failure
        assert not (await asyncio.to_thread(watcher.subscribe, "homeassistant/#")).is_failure
        # Everything: refused at subscription time, not merely filtered.
        for topic in ("#", "hearth/#", "hearth/plug1/#", "homeassistant/#", "$SYS/#"):
            code = await asyncio.to_thread(attacker.subscribe, topic)
            assert code.is_failure, (topic, code)
        assert not (await asyncio.to_thread(attacker.subscribe, "hearth/fridge1/set/+")).is_failure

        forged = {
            "hearth/plug1/set/power": "OFF",  # commanding another appliance
            "hearth/plug1/state": '{"state": "unlocked"}',  # spoofing its state
            "homeassistant/switch/plug1/power/config": '{"cmd_t": "hearth/fridge1/x"}',
            "homeassistant/lock/front_door/config": '{"name": "Front door lock"}',
            "homeassistant/lock/lookalike/config": '{"name": "Front door lock"}',
        }
        for topic, payload in forged.items():
            await asyncio.to_thread(attacker.publish, topic, payload, True)
        own = "hearth/fridge1/state"
        await asyncio.to_thread(attacker.publish, own, '{"mode": "eco"}', True)
        await asyncio.to_thread(
            attacker.publish, "homeassistant/sensor/fridge1/temp/config", "{}", True
        )
        seen = await asyncio.to_thread(watcher.received, 1.5)
        topics = {t for t, _ in seen}
        assert own in topics and "homeassistant/sensor/fridge1/temp/config" in topics
        assert not topics & set(forged), topics & set(forged)
        assert not [t for t, _ in await asyncio.to_thread(victim.received, 0.2)]
    finally:
        for peer in (watcher, attacker, victim):
            await asyncio.to_thread(peer.close)


async def test_hub_refuses_discovery_pointing_outside_the_appliance(
    hub_factory: HubFactory,
) -> None:
    hub = await embedded_hub(hub_factory)
    mqtt = integration(hub)
    port = mosquitto_of(hub).port
    fridge, password = await mqtt.async_add_appliance_account("fridge2")
    peer = await asyncio.to_thread(Peer, port, fridge.username, password)
    manager = mqtt.discovery
    assert manager is not None
    configs = {
        # Its own discovery topic, but the command goes to another appliance's topic.
        "switch/fridge2/evil": {"name": "x", "cmd_t": "hearth/plug1/set/power",
                                "uniq_id": "fridge2_evil", "dev": {"ids": ["fridge2"]}},
        # Another device's unique id and device identifiers.
        "switch/fridge2/steal": {"name": "x", "cmd_t": "hearth/fridge2/set/a",
                                 "uniq_id": "plug1_power", "dev": {"ids": ["fridge2"]}},
        "switch/fridge2/claim": {"name": "x", "cmd_t": "hearth/fridge2/set/b",
                                 "uniq_id": "fridge2_b", "dev": {"ids": ["plug1"]}},
        "switch/fridge2/watch": {"name": "x", "cmd_t": "hearth/fridge2/set/d",
                                 "uniq_id": "fridge2_d", "avty": [{"t": "hearth/plug1/avail"}]},
        "switch/fridge2/fine": {"name": "Fine", "cmd_t": "hearth/fridge2/set/c",
                                "uniq_id": "fridge2_c", "dev": {"ids": ["fridge2"]}},
    }  # fmt: skip
    try:
        before = manager.rejected
        for key, config in configs.items():
            await asyncio.to_thread(
                peer.publish, f"homeassistant/{key}/config", json.dumps(config), True
            )
        await wait_until(lambda: manager.rejected - before == 4, what="four refusals")
        await manager.async_wait_idle()
        assert set(manager.entities) == {"switch/fridge2/fine"}
    finally:
        await asyncio.to_thread(peer.close)


async def test_anonymous_and_borrowed_logins_are_refused(hub_factory: HubFactory) -> None:
    hub = await embedded_hub(hub_factory)
    mqtt = integration(hub)
    port = mosquitto_of(hub).port
    fridge, password = await mqtt.async_add_appliance_account("fridge3")
    hub_user, hub_password = hub_login(hub)
    refused = [
        await asyncio.to_thread(connack, port),
        await asyncio.to_thread(connack, port, hub_user, password),  # its password, hub's name
        await asyncio.to_thread(connack, port, fridge.username, hub_password),
        await asyncio.to_thread(connack, port, "appliance-fridge4", password),
    ]
    assert all(reason.is_failure for reason in refused), refused
    # Re-pairing replaces the password; removing the account locks it out.
    again, new_password = await mqtt.async_add_appliance_account("fridge3")
    assert (await asyncio.to_thread(connack, port, fridge.username, password)).is_failure
    assert not (await asyncio.to_thread(connack, port, again.username, new_password)).is_failure
    await mqtt.async_remove_account(again.username)
    assert (await asyncio.to_thread(connack, port, again.username, new_password)).is_failure
    # Accounts survive a restart of the hub (the broker is rebuilt from the store).
    kept, kept_password = await mqtt.async_add_appliance_account("fridge5")
    config_dir = hub.config_dir
    await hub.async_stop()
    port2 = free_port()
    hub2 = await hub_factory(
        config_dir=config_dir,
        mqtt={"embedded_host": "127.0.0.1", "embedded_port": port2, "reconnect_max": 1.0},
    )
    assert integration(hub2).client.connected
    assert not (await asyncio.to_thread(connack, port2, kept.username, kept_password)).is_failure
    assert (await asyncio.to_thread(connack, port2, again.username, new_password)).is_failure


def _listening(port: int) -> list[str]:
    """Local addresses with a TCP socket listening on `port` (from /proc/net/tcp{,6})."""
    found = []
    for name in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{name}").read_text().splitlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            address, _, hex_port = local.rpartition(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.append(address)
    return found


async def test_loopback_only_by_default_and_never_root(hub_factory: HubFactory) -> None:
    port = free_port()
    hub = await hub_factory(mqtt={"embedded_port": port, "reconnect_max": 1.0})
    broker = mosquitto_of(hub)
    assert _listening(port) == ["0100007F"]  # 127.0.0.1, nothing else
    assert broker.pid is not None
    uid = os.stat(f"/proc/{broker.pid}").st_uid
    status = await asyncio.to_thread(Path(f"/proc/{broker.pid}/status").read_text)
    real_uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
    assert uid != 0 and "0" not in real_uids, status
    if os.geteuid() == 0:
        assert uid == broker.run_as.pw_uid if broker.run_as else False
        assert "\nuser " not in broker.config_path.read_text()


async def test_plaintext_on_the_lan_is_refused(hub_factory: HubFactory) -> None:
    hub = await hub_factory(
        mqtt={"embedded_host": "0.0.0.0", "embedded_port": free_port(), "reconnect_max": 1.0}
    )
    assert "mqtt" not in hub.integrations
    assert "lan_listener" in hub.failed_integrations["mqtt"]


async def test_lan_listener_speaks_tls_with_the_hubs_ca(hub_factory: HubFactory) -> None:
    lan_port = free_port()
    # Bound to loopback here (tests open no LAN ports); a home binds lan_host 0.0.0.0.
    hub = await embedded_hub(
        hub_factory, lan_listener=True, lan_host="127.0.0.1", lan_port=lan_port
    )
    mqtt = integration(hub)
    fridge, password = await mqtt.async_add_appliance_account("fridge6")
    access = mqtt.appliance_access("192.0.2.10", fridge.username, password)
    assert access.port == lan_port and access.ca_pem and "CERTIFICATE" in access.ca_pem
    assert access.host == lan_addresses()[0]
    address = "127.0.0.1"  # also in the certificate
    trusting = ssl.create_default_context(cadata=access.ca_pem)
    peer = await asyncio.to_thread(
        Peer, lan_port, fridge.username, password, context=trusting, host=address
    )
    try:
        assert not peer.connack.is_failure
        assert (await asyncio.to_thread(peer.subscribe, "#")).is_failure
    finally:
        await asyncio.to_thread(peer.close)
    # Without the hub's CA the broker is not trusted; plaintext on the TLS port gets nothing.
    with pytest.raises(ssl.SSLCertVerificationError):
        await asyncio.to_thread(
            Peer, lan_port, fridge.username, password,
            context=ssl.create_default_context(), host=address,
        )  # fmt: skip
    with pytest.raises((OSError, queue.Empty)):
        await asyncio.to_thread(Peer, lan_port, fridge.username, password, host=address)
    # The CA key never leaves the hub's own user; the certificate names the LAN address.
    tls_dir = hub.config_dir / "mqtt_tls"
    assert oct((tls_dir / "ca.key").stat().st_mode & 0o777) == "0o600"
    cert = x509.load_pem_x509_certificate((tls_dir / "server.pem").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert lan_addresses()[0] in {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}


async def _cli(config_dir: Path, port: int, *argv: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub", "--config", str(config_dir), "mqtt-account", *argv,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "HEARTH_MQTT_PORT": str(port)},
    )  # fmt: skip
    out, _ = await proc.communicate()
    assert proc.returncode == 0, out.decode()
    return out.decode()


async def test_adopting_a_device_hearth_did_not_pair(hub_factory: HubFactory) -> None:
    """The owner makes a Tasmota-style device an account; its discovery is adopted, fenced."""
    hub = await embedded_hub(hub_factory)
    port = mosquitto_of(hub).port
    out = await _cli(
        hub.config_dir, port, "add", "tasmota-kitchen",
        "--topic", "tasmota/kitchen/#", "--discovery-id", "kitchen",
    )  # fmt: skip
    assert "live on the running broker" in out
    password = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("pass"))
    assert password not in (hub.config_dir / ACCOUNTS_FILE).read_text()
    listed = await _cli(hub.config_dir, port, "list")
    assert "tasmota-kitchen" in listed and "tasmota/kitchen/#" in listed
    peer = await asyncio.to_thread(Peer, port, "tasmota-kitchen", password)
    manager = integration(hub).discovery
    assert manager is not None
    try:
        config = {"name": "Kitchen plug", "cmd_t": "tasmota/kitchen/cmnd/POWER",
                  "stat_t": "tasmota/kitchen/stat/POWER", "uniq_id": "kitchen_power"}  # fmt: skip
        await asyncio.to_thread(
            peer.publish, "homeassistant/switch/kitchen/power/config", json.dumps(config), True
        )
        await asyncio.to_thread(
            peer.publish, "homeassistant/switch/other/power/config", json.dumps(config), True
        )
        # Its own node id, but aimed at an appliance's topic: the hub will not be the deputy.
        aimed = {**config, "cmd_t": "hearth/plug1/set/power", "uniq_id": "kitchen_aimed"}
        before = manager.rejected
        await asyncio.to_thread(
            peer.publish, "homeassistant/switch/kitchen/aimed/config", json.dumps(aimed), True
        )
        await wait_until(lambda: "switch/kitchen/power" in manager.entities, what="adopted")
        await wait_until(lambda: manager.rejected > before, what="aimed config refused")
        await manager.async_wait_idle()
        assert "switch/other/power" not in manager.entities
        assert "switch/kitchen/aimed" not in manager.entities
        assert (await asyncio.to_thread(peer.subscribe, "#")).is_failure
    finally:
        await asyncio.to_thread(peer.close)
    out = await _cli(hub.config_dir, port, "remove", "tasmota-kitchen")
    assert "removed" in out and "next starts" not in out
    assert (await asyncio.to_thread(connack, port, "tasmota-kitchen", password)).is_failure


async def test_a_read_only_account_for_the_state_stream(hub_factory: HubFactory) -> None:
    hub = await embedded_hub(hub_factory, stream_prefix="hearth/house")
    port = mosquitto_of(hub).port
    out = await _cli(hub.config_dir, port, "add", "dashboard", "--read", "hearth/house/#")
    password = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("pass"))
    hub_user, hub_password = hub_login(hub)
    reader = await asyncio.to_thread(Peer, port, "dashboard", password)
    watcher = await asyncio.to_thread(Peer, port, hub_user, hub_password)
    try:
        assert not (await asyncio.to_thread(reader.subscribe, "hearth/house/#")).is_failure
        assert (await asyncio.to_thread(reader.subscribe, "hearth/#")).is_failure
        await asyncio.to_thread(watcher.subscribe, "hearth/#")
        hub.states.async_set("sensor.probe", "12")
        got = await asyncio.to_thread(reader.received, 1.5)
        assert any("sensor.probe" in topic or b"sensor.probe" in body for topic, body in got)
        # It cannot write anything, not even into the stream (service calls there).
        for topic in ("hearth/house/call", "hearth/house/states/sensor.probe", "x/y"):
            await asyncio.to_thread(reader.publish, topic, "{}")
        assert not [t for t, _ in await asyncio.to_thread(watcher.received, 1.0) if t in
                    ("hearth/house/call", "hearth/house/states/sensor.probe", "x/y")]  # fmt: skip
    finally:
        for peer in (reader, watcher):
            await asyncio.to_thread(peer.close)


async def test_amqtt_never_serves_appliances(hub_factory: HubFactory) -> None:
    """The in-process fallback has no ACLs: no LAN listener, no appliance accounts."""
    lan = {"lan_listener": True, "lan_host": "127.0.0.1", "lan_port": free_port()}
    hub = await hub_factory(mqtt={"embedded": "amqtt", "embedded_port": free_port(), **lan})
    assert "lan_listener needs mosquitto" in hub.failed_integrations["mqtt"]
    hub = await hub_factory(mqtt={"embedded": "amqtt", "embedded_port": free_port()})
    with pytest.raises(AccountError, match="need mosquitto"):
        await integration(hub).async_add_appliance_account("fridge8")
