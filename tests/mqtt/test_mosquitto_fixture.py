"""The shared mosquitto fixture: a real broker that can be killed and restarted on its port."""

from __future__ import annotations

import socket

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from tests.mosquitto import Mosquitto, MosquittoFactory


def _connect_result(broker: Mosquitto, password: str | None) -> ReasonCode:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    if broker.username is not None:
        client.username_pw_set(broker.username, password)
    results: list[ReasonCode] = []
    client.on_connect = lambda _c, _u, _f, reason, _p: results.append(reason)
    client.connect(broker.host, broker.port)
    for _ in range(200):
        client.loop(0.05)
        if results:
            break
    client.disconnect()
    assert results, "no CONNACK from the broker"
    return results[0]


def test_stop_and_restart_on_same_port(mosquitto: Mosquitto) -> None:
    port = mosquitto.port
    socket.create_connection((mosquitto.host, port), timeout=5).close()
    mosquitto.stop()
    assert not mosquitto.running
    try:
        socket.create_connection((mosquitto.host, port), timeout=1).close()
    except OSError:
        pass
    else:
        raise AssertionError("broker still accepts connections after stop()")
    mosquitto.start()
    assert mosquitto.port == port
    assert not _connect_result(mosquitto, None).is_failure


def test_generated_password_file(mosquitto_factory: MosquittoFactory) -> None:
    broker = mosquitto_factory(auth=True)
    assert broker.username and broker.password
    assert not _connect_result(broker, broker.password).is_failure
    assert _connect_result(broker, "wrong-" + broker.password).is_failure
