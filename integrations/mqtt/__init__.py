"""MQTT: Home Assistant discovery, embedded broker, state stream, Wi-Fi pairing."""

from .integration import MqttIntegration

INTEGRATION = MqttIntegration

__all__ = ["INTEGRATION"]
