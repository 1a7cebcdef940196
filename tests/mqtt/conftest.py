"""Fixtures for the MQTT tests: real mosquitto brokers, hubs running the mqtt integration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from hub.core import Hub
from integrations.mqtt.client import MqttClient
from integrations.mqtt.integration import MqttIntegration
from tests.conftest import HubFactory
from tests.mosquitto import Mosquitto, mosquitto, mosquitto_factory  # noqa: F401

from .helpers import device_client


def mqtt_config(broker: Mosquitto, **extra: Any) -> dict[str, Any]:
    return {"broker": broker.host, "port": broker.port, "reconnect_max": 1.0, **extra}


@pytest.fixture
async def mqtt_hub(hub_factory: HubFactory, mosquitto: Mosquitto) -> Hub:  # noqa: F811
    """A hub whose mqtt integration talks to the test's mosquitto."""
    return await hub_factory(mqtt=mqtt_config(mosquitto))


def integration(hub: Hub) -> MqttIntegration:
    found = hub.integrations["mqtt"]
    assert isinstance(found, MqttIntegration)
    return found


@pytest.fixture
async def device(mosquitto: Mosquitto) -> AsyncIterator[MqttClient]:  # noqa: F811
    """A separate MQTT client playing the appliances."""
    client = await device_client(mosquitto.host, mosquitto.port)
    yield client
    await client.async_stop()
