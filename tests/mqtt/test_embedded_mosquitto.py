"""The embedded broker as a mosquitto child process: choice, auth, restart, no orphans."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import queue
import signal
import sys
from pathlib import Path

import paho.mqtt.client as paho
import pytest

from hub.config import CONFIG_FILE
from hub.core import Hub
from hub.errors import ConfigError
from integrations.mqtt import mosquitto_broker
from integrations.mqtt.broker import CREDENTIALS_FILE, STATE_DIR
from integrations.mqtt.mosquitto_broker import MosquittoBroker, find_mosquitto
from tests.conftest import HubFactory
from tests.mosquitto import free_port

from .conftest import integration
from .helpers import device_client, state_of, wait_until

try:
    find_mosquitto()
except mosquitto_broker.MosquittoError:
    pytest.skip(
        "mosquitto is not installed; `make system-deps` installs it", allow_module_level=True
    )


async def embedded_hub(hub_factory: HubFactory, **options: object) -> Hub:
    config = {"embedded_host": "127.0.0.1", "embedded_port": free_port(), "reconnect_max": 1.0}
    return await hub_factory(mqtt={**config, **options})


def mosquitto_of(hub: Hub) -> MosquittoBroker:
    broker = integration(hub).embedded
    assert isinstance(broker, MosquittoBroker), f"embedded broker is {broker}"
    return broker


def parent_of(pid: int) -> int | None:
    """The parent pid of a live process, None once it is gone (zombies count as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] == "Z" else int(fields[1])


def mosquittos_using(config_dir: Path) -> list[int]:
    """Live mosquitto processes started on this config directory's broker config."""
    # Under a root hub the config lives with mosquitto's data, outside the config dir.
    where = mosquitto_broker.data_dir_for(config_dir / STATE_DIR, mosquitto_broker.run_as_user())
    marker = str(config_dir if where.is_relative_to(config_dir) else where).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker in b" ".join(cmdline) and cmdline[0].endswith(b"mosquitto"):
            if parent_of(int(entry.name)) is not None:
                found.append(int(entry.name))
    return found


def connack(port: int, username: str | None = None, password: str | None = None) -> paho.ReasonCode:
    """What the broker answers a raw paho client's CONNECT with (blocking: run in a thread)."""
    answers: queue.Queue[paho.ReasonCode] = queue.Queue()
    client = paho.Client(paho.CallbackAPIVersion.VERSION2)
    if username is not None:
        client.username_pw_set(username, password)
    client.on_connect = lambda _c, _u, _f, reason, _p: answers.put(reason)
    client.connect("127.0.0.1", port, 10)
    client.loop_start()
    try:
        return answers.get(timeout=10)
    finally:
        client.disconnect()
        client.loop_stop()


def publish_retained(port: int, username: str, password: str, messages: dict[str, str]) -> None:
    """Publish with a raw paho client, as an appliance would (blocking: run in a thread)."""
    client = paho.Client(paho.CallbackAPIVersion.VERSION2)
    client.username_pw_set(username, password)
    client.connect("127.0.0.1", port, 10)
    client.loop_start()
    try:
        for topic, payload in messages.items():
            client.publish(topic, payload, qos=1, retain=True).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()


def sensor_discovery(object_id: str) -> dict[str, str]:
    config = {"name": "Temperature", "stat_t": f"{object_id}/temp", "uniq_id": object_id}
    return {f"homeassistant/sensor/{object_id}/config": json.dumps(config)}


async def test_auto_runs_mosquitto_with_generated_credentials(hub_factory: HubFactory) -> None:
    hub = await embedded_hub(hub_factory)
    mqtt = integration(hub)
    broker = mosquitto_of(hub)
    assert broker.pid is not None and parent_of(broker.pid) == os.getpid()
    assert mqtt.client.connected
    port = broker.port
    stored = json.loads((hub.config_dir / CREDENTIALS_FILE).read_text())
    config = broker.config_path.read_text().splitlines()
    assert "allow_anonymous false" in config
    accounts = broker.dynsec_path.read_text()
    assert stored["username"] in accounts and stored["password"] not in accounts

    refused = [
        await asyncio.to_thread(connack, port),
        await asyncio.to_thread(connack, port, stored["username"], "guess"),
        await asyncio.to_thread(connack, port, "admin", stored["password"]),
    ]
    assert all(reason.is_failure for reason in refused), refused
    accepted = await asyncio.to_thread(connack, port, stored["username"], stored["password"])
    assert not accepted.is_failure, accepted

    discovery = sensor_discovery("paho_t1") | {"paho_t1/temp": "21.5"}
    await asyncio.to_thread(
        publish_retained, port, stored["username"], stored["password"], discovery
    )
    manager = mqtt.discovery
    assert manager is not None
    eid = await wait_until(
        lambda: next((e.entity_id for e in manager.entities.values()), None), what="sensor"
    )
    await wait_until(lambda: state_of(hub, eid).state == "21.5", what="retained state")


async def test_teardown_leaves_no_mosquitto(hub_factory: HubFactory) -> None:
    hub = await embedded_hub(hub_factory, embedded="mosquitto")
    pid = mosquitto_of(hub).pid
    assert pid is not None and mosquittos_using(hub.config_dir) == [pid]
    await hub.async_stop()
    assert parent_of(pid) is None
    assert mosquittos_using(hub.config_dir) == []


async def test_killed_mosquitto_is_restarted_and_the_hub_reconnects(
    hub_factory: HubFactory, caplog: pytest.LogCaptureFixture
) -> None:
    hub = await embedded_hub(hub_factory)
    mqtt = integration(hub)
    broker = mosquitto_of(hub)
    creds = mqtt.credentials
    assert creds is not None
    device = await device_client(
        "127.0.0.1", broker.port, username=creds.username, password=creds.password
    )
    for topic, payload in sensor_discovery("before").items():
        device.async_publish(topic, payload, qos=1, retain=True)
    manager = mqtt.discovery
    assert manager is not None
    eid = await wait_until(
        lambda: next((e.entity_id for e in manager.entities.values()), None), what="sensor"
    )
    await mqtt.client.async_wait_subscribed(30)

    old = broker.pid
    assert old is not None
    os.kill(old, signal.SIGKILL)
    await wait_until(lambda: not mqtt.client.connected, what="the hub noticing")
    await wait_until(lambda: broker.restarts == 1, what="a new mosquitto")
    assert broker.pid not in (None, old) and parent_of(broker.pid or 0) == os.getpid()
    assert f"mosquitto (pid {old}) exited with -9" in caplog.text
    await wait_until(lambda: mqtt.client.connected, what="the hub reconnecting")
    await device.async_wait_connected(30)

    # Subscriptions came back: the old entity updates and new discovery still works.
    await mqtt.client.async_wait_subscribed(30)
    device.async_publish("before/temp", "19", qos=1)
    await wait_until(lambda: state_of(hub, eid).state == "19", what="state after restart")
    for topic, payload in sensor_discovery("after").items():
        device.async_publish(topic, payload, qos=1, retain=True)
    await wait_until(lambda: len(manager.entities) == 2, what="discovery after restart")
    await device.async_stop()


async def test_auto_falls_back_to_amqtt_without_mosquitto(
    hub_factory: HubFactory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A machine without the Debian package: nothing on PATH, nothing in the sbin directories.
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(mosquitto_broker, "SBIN_DIRS", ())
    caplog.set_level(logging.INFO, logger="integrations.mqtt")
    hub = await embedded_hub(hub_factory)
    mqtt = integration(hub)
    assert mqtt.embedded is not None and mqtt.embedded.kind == "amqtt"
    assert mqtt.client.connected
    assert "mosquitto is not installed" in caplog.text
    assert "Embedded MQTT broker: amqtt" in caplog.text

    # Asked for by name, a missing mosquitto is an error rather than a silent fallback.
    forced = await embedded_hub(hub_factory, embedded="mosquitto")
    assert "mqtt" not in forced.integrations
    assert "mosquitto is not installed" in forced.failed_integrations["mqtt"]


async def test_embedded_choice_is_validated(hub_factory: HubFactory) -> None:
    with pytest.raises(ConfigError, match="embedded"):
        await embedded_hub(hub_factory, embedded="hivemq")


async def test_mosquitto_dies_with_a_killed_hub(tmp_path: Path) -> None:
    config_dir = tmp_path / "home"
    config_dir.mkdir()
    (config_dir / CONFIG_FILE).write_text(
        f"mqtt:\n  embedded_host: 127.0.0.1\n  embedded_port: {free_port()}\n  ota: false\n"
    )
    hub = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub", "--config", str(config_dir), "run",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert hub.stderr is not None
    try:
        log = b""
        while b"Hearth ready" not in log:
            line = await asyncio.wait_for(hub.stderr.readline(), 60)
            assert line, f"hub exited: {log.decode(errors='replace')}"
            log += line
        children = [pid for pid in mosquittos_using(config_dir) if parent_of(pid) == hub.pid]
        assert len(children) == 1, log.decode(errors="replace")
        hub.kill()  # no teardown runs
        await hub.wait()
        await wait_until(lambda: parent_of(children[0]) is None, 10, "mosquitto exiting")
    finally:
        if hub.returncode is None:
            hub.kill()
            await hub.wait()
