"""Fixtures for the MQTT tests: real mosquitto brokers."""

from tests.mosquitto import mosquitto, mosquitto_factory  # noqa: F401
