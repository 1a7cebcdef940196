"""MQTT bench: 200 simulated devices through a real broker into the hub's state machine.

Prints discovery time, state updates/s (device process -> broker -> hub -> state machine) and
command round-trip latency (service call -> command topic -> device -> state topic -> state).
The devices run in a separate process (raw paho) so they do not share the hub's event loop.

    .venv/bin/python bench/mqtt.py [--broker mosquitto|embedded] [--updates 40000]
                                   [--embedded auto|mosquitto|amqtt]

With --broker embedded the hub runs its own broker (--embedded picks which); the hub's and the
broker process's resident memory (now and peak) are printed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

if TYPE_CHECKING:
    from hub.bus import Event

DEVICES = 200
ROUND_TRIPS = 500


def sensor_config(i: int) -> tuple[str, str]:
    """A Zigbee2MQTT-style temperature sensor (JSON state, value template, availability)."""
    config = {
        "name": "Temperature",
        "stat_t": f"bench/dev{i}/state",
        "val_tpl": "{{ value_json.temperature }}",
        "unit_of_meas": "°C",
        "dev_cla": "temperature",
        "stat_cla": "measurement",
        "uniq_id": f"bench_dev{i}_temperature",
        "dev": {"ids": [f"bench_dev{i}"], "name": f"Bench device {i}", "mf": "Bench"},
    }
    return f"homeassistant/sensor/dev{i}/temperature/config", json.dumps(config)


def switch_config(i: int) -> tuple[str, str]:
    config = {
        "name": "Relay",
        "stat_t": f"bench/dev{i}/relay",
        "cmd_t": f"bench/dev{i}/relay/set",
        "uniq_id": f"bench_dev{i}_relay",
        "dev": {"ids": [f"bench_dev{i}"], "name": f"Bench device {i}", "mf": "Bench"},
    }
    return f"homeassistant/switch/dev{i}/relay/config", json.dumps(config)


# -- the device process ------------------------------------------------------------------------


def run_devices(
    host: str, port: int, username: str | None, password: str | None, updates: int
) -> None:
    """Announce the devices, then answer commands and publish `updates` state messages on demand."""
    import paho.mqtt.client as paho

    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="bench-devices")
    if username:
        client.username_pw_set(username, password)

    def on_message(_c: paho.Client, _u: object, message: paho.MQTTMessage) -> None:
        # bench/devN/relay/set -> bench/devN/relay (echo the command as the new state)
        client.publish(message.topic[: -len("/set")], message.payload, qos=1)

    client.on_message = on_message
    client.on_socket_open = lambda _c, _u, sock: sock.setsockopt(  # type: ignore[attr-defined]
        socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
    )
    client.connect(host, port)
    client.subscribe("bench/+/relay/set", qos=1)
    client.loop_start()
    for i in range(DEVICES):
        for topic, payload in (sensor_config(i), switch_config(i)):
            client.publish(topic, payload, qos=1, retain=True)
        client.publish(f"bench/dev{i}/relay", "OFF", qos=1, retain=True)
    print("announced", flush=True)
    for line in sys.stdin:
        if line.strip() == "flood":
            start = time.time()
            for n in range(updates):
                client.publish(f"bench/dev{n % DEVICES}/state", f'{{"temperature": {n}}}')
            print(f"flooded {start}", flush=True)
        elif line.strip() == "quit":
            break
    for i in range(DEVICES):
        for topic, _ in (sensor_config(i), switch_config(i)):
            client.publish(topic, "", qos=1, retain=True).wait_for_publish(10)
    client.loop_stop()
    client.disconnect()


def _became(entity_id: str, state: str) -> Callable[[Event], bool]:
    def match(event: Event) -> bool:
        new_state = event.data.get("new_state")
        return (
            event.data.get("entity_id") == entity_id and getattr(new_state, "state", None) == state
        )

    return match


# -- the hub side -----------------------------------------------------------------------------


def memory(pid: int | str = "self") -> str:
    """Resident memory now and at peak, from /proc (Linux)."""
    try:
        fields = dict(
            line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        )
    except OSError:
        return "n/a"
    return f"{fields['VmRSS'].strip()} (peak {fields['VmHWM'].strip()})"


async def bench(broker_kind: str, updates: int, embedded: str) -> None:
    from hub.config import HubConfig
    from hub.const import EVENT_STATE_CHANGED
    from hub.core import Hub
    from integrations.mqtt.integration import MqttIntegration
    from tests.mosquitto import Mosquitto, free_port

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        broker: Mosquitto | None = None
        if broker_kind == "mosquitto":
            (root / "broker").mkdir()
            broker = Mosquitto(root / "broker", persistence=False)
            broker.start()
            mqtt_config = {"broker": broker.host, "port": broker.port}
        else:
            mqtt_config = {
                "embedded": embedded,
                "embedded_host": "127.0.0.1",
                "embedded_port": free_port(),
            }
        hub = Hub(HubConfig.minimal(root / "hub", mqtt=mqtt_config), record=False)
        await hub.async_start()
        mqtt = hub.integrations["mqtt"]
        assert isinstance(mqtt, MqttIntegration) and mqtt.discovery is not None
        settings = mqtt.client.settings
        argv = [sys.executable, __file__, "--role", "devices", "--host", settings.host,
                "--port", str(settings.port), "--updates", str(updates)]  # fmt: skip
        if settings.username:
            argv += ["--username", settings.username, "--password", str(settings.password)]
        devices = await asyncio.create_subprocess_exec(
            *argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert devices.stdin is not None and devices.stdout is not None
        try:
            t0 = time.perf_counter()
            await devices.stdout.readline()
            while len(mqtt.discovery.entities) < 2 * DEVICES:  # noqa: ASYNC110 - polled count
                await asyncio.sleep(0.01)
            discovery_s = time.perf_counter() - t0
            kind = getattr(mqtt.embedded, "kind", None)
            print(f"broker: {broker_kind}" + (f" ({kind})" if kind else ""))
            print(
                f"discovery: {2 * DEVICES} entities from {DEVICES} devices in {discovery_s:.2f} s"
            )
            await mqtt.client.async_wait_subscribed(30)
            await asyncio.sleep(0.5)

            # State updates/s: every device reports, as fast as the broker passes them on.
            sensors = {
                e.opts.data["state_topic"]: str(e.entity_id)
                for e in mqtt.discovery.entities.values()
                if e.domain == "sensor"
            }
            last = {f"bench/dev{n % DEVICES}/state": str(n) for n in range(updates)}
            received_before = mqtt.client.received
            devices.stdin.write(b"flood\n")
            await devices.stdin.drain()
            flood_line = (await devices.stdout.readline()).decode().split()
            start = float(flood_line[1])
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                states = hub.states
                if all(
                    (s := states.get(eid)) is not None and s.state == last[topic]
                    for topic, eid in sensors.items()
                ):
                    break
                await asyncio.sleep(0.005)
            elapsed = time.time() - start
            received = mqtt.client.received - received_before
            print(
                f"state updates: {received}/{updates} delivered into the state machine in "
                f"{elapsed:.2f} s = {received / elapsed:,.0f} updates/s"
            )

            # Command round trip: service call -> broker -> device -> broker -> state.
            switches = [
                str(e.entity_id) for e in mqtt.discovery.entities.values() if e.domain == "switch"
            ]
            latencies = []
            for n in range(ROUND_TRIPS):
                eid = switches[n % len(switches)]
                state = hub.states.get(eid)
                want = "off" if state is not None and state.state == "on" else "on"
                changed = asyncio.ensure_future(
                    hub.bus.async_wait_for(EVENT_STATE_CHANGED, _became(eid, want))
                )
                await asyncio.sleep(0)  # let the waiter register before the command goes out
                t = time.perf_counter()
                await hub.services.async_call(
                    "switch", f"turn_{want}", {}, target={"entity_id": eid}
                )
                await asyncio.wait_for(changed, 30)
                latencies.append((time.perf_counter() - t) * 1000)
            latencies.sort()
            p99 = latencies[int(len(latencies) * 0.99) - 1]
            print(
                f"command round trip ({ROUND_TRIPS}): median {statistics.median(latencies):.2f} ms,"
                f" p99 {p99:.2f} ms, max {latencies[-1]:.2f} ms"
            )
            print(f"hub memory: {memory()}")
            broker_pid = getattr(mqtt.embedded, "pid", None) or (broker and broker.pid)
            if broker_pid:
                print(f"broker process memory: {memory(broker_pid)}")
            devices.stdin.write(b"quit\n")
            await devices.stdin.drain()
            await asyncio.wait_for(devices.wait(), 30)
        finally:
            if devices.returncode is None:
                devices.kill()
            await hub.async_stop()
            if broker is not None:
                broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", choices=("mosquitto", "embedded"), default="mosquitto")
    parser.add_argument("--updates", type=int, default=40_000)
    parser.add_argument("--embedded", choices=("auto", "mosquitto", "amqtt"), default="auto")
    parser.add_argument("--role", choices=("hub", "devices"), default="hub")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--username")
    parser.add_argument("--password")
    args = parser.parse_args()
    if args.role == "devices":
        run_devices(args.host, args.port, args.username, args.password, args.updates)
    else:
        asyncio.run(bench(args.broker, args.updates, args.embedded))


if __name__ == "__main__":
    main()
