"""Provisioned virtual appliances on a real broker: discovery, state, commands, faults."""

from __future__ import annotations

import json

from firmware.ota.keys import SigningKey
from tests.mosquitto import Mosquitto

from .conftest import DeviceFactory, MqttProbe, async_fetch_retained, async_provisioned


async def test_fridge_discovery_and_commands(
    device_factory: DeviceFactory, broker: Mosquitto, signing_key: SigningKey, probe: MqttProbe
) -> None:
    device = await async_provisioned(device_factory, broker, signing_key, probe, "fridge")
    retained = await async_fetch_retained(broker, f"homeassistant/+/{device.id}/+/config")
    configs = {topic.split("/")[1] + "." + topic.split("/")[3]: json.loads(p)
               for topic, p in retained.items()}  # fmt: skip
    assert set(configs) == {
        "sensor.fridge_temperature",
        "sensor.freezer_temperature",
        "number.fridge_setpoint",
        "number.freezer_setpoint",
        "select.mode",
        "binary_sensor.door",
        "binary_sensor.alert",
        "sensor.inventory",
    }
    mode = configs["select.mode"]
    assert mode["ops"] == ["normal", "eco", "vacation", "fast_freeze"]
    # Command through the topic the discovery config names, as a hub would.
    command_topic = mode["cmd_t"].replace("~", mode["~"])
    mark = probe.mark()
    probe.publish(command_topic, "vacation")
    state = await probe.wait_state(device.id, lambda s: s["mode"] == "vacation", since=mark)
    assert state["fridge_target"] == 15.0

    setpoint = configs["number.freezer_setpoint"]
    topic = setpoint["cmd_t"].replace("~", setpoint["~"])
    mark = probe.mark()
    probe.publish(topic, "-40")  # out of range: logged and ignored
    probe.publish(topic, b"\xff\xfe")  # not text
    probe.publish(topic, "x" * 10000)  # oversized
    probe.publish(f"hearth/{device.id}/set/no_such_thing", "1")
    probe.publish(topic, "-21")
    state = await probe.wait_state(device.id, lambda s: s["freezer_setpoint"] == -21.0, since=mark)
    assert device.alive()

    mark = probe.mark()
    probe.publish(f"hearth/{device.id}/sim/door", "true")
    await probe.wait_state(device.id, lambda s: s["door"] == "open", since=mark)

    # Home Assistant's birth message makes the device announce itself again.
    mark = probe.mark()
    probe.publish("homeassistant/status", "online")
    await probe.wait_for(
        lambda m: m.topic == f"homeassistant/select/{device.id}/mode/config", since=mark
    )
    await probe.wait_for(
        lambda m: m.topic == f"hearth/{device.id}/availability" and m.payload == b"online",
        since=mark,
    )


async def test_cleaner_runs_through_its_cycle(
    device_factory: DeviceFactory, broker: Mosquitto, signing_key: SigningKey, probe: MqttProbe
) -> None:
    device = await async_provisioned(
        device_factory, broker, signing_key, probe, "cleaner", time_scale=10
    )
    retained = await async_fetch_retained(broker, f"homeassistant/vacuum/{device.id}/+/config")
    (vacuum,) = (json.loads(p) for p in retained.values())
    assert vacuum["schema"] == "state" and "send_command" in vacuum["sup_feat"]
    mark = probe.mark()
    probe.publish(
        vacuum["send_cmd_t"].replace("~", vacuum["~"]),
        json.dumps({"command": "clean_room", "room": "hallway"}),
    )
    statuses: list[str] = []

    def track(state: dict[str, object]) -> bool:
        status = str(state["status"])
        if not statuses or statuses[-1] != status:
            statuses.append(status)
        return status == "docked" and len(statuses) > 1

    await probe.wait_state(device.id, track, since=mark)
    assert statuses == ["moving", "cleaning", "returning", "docked"]
    states = [m.json()["state"] for m in probe.messages[mark:] if m.topic.endswith("/state")]
    assert "cleaning" in states and "returning" in states and states[-1] == "docked"


async def test_device_comes_back_after_a_broker_restart(
    device_factory: DeviceFactory, broker: Mosquitto, signing_key: SigningKey, probe: MqttProbe
) -> None:
    device = await async_provisioned(device_factory, broker, signing_key, probe, "fridge")
    await broker.async_stop()
    await broker.async_start()
    # The probe reconnects on its own (paho's loop); wait for the device's fresh announcement.
    mark = probe.mark()
    await probe.wait_for(
        lambda m: m.topic == f"hearth/{device.id}/availability" and m.payload == b"online",
        since=mark,
    )
    mark = probe.mark()
    probe.publish(f"hearth/{device.id}/set/mode", "eco")
    await probe.wait_state(device.id, lambda s: s["mode"] == "eco", since=mark)
