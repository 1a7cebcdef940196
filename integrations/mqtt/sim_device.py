"""A simulated Wi-Fi relay that behaves like ESPHome on MQTT, for fault tests and benches.

It announces a retained discovery config, keeps ``<node>/status`` online with a last will,
publishes ``online`` again after every reconnect (once its subscription is back), answers the
hub's birth message by announcing again, and records every command it receives.
"""

from __future__ import annotations

import json
from typing import Any

from .client import BrokerSettings, MqttClient, ReceivedMessage, Will

BIRTH_TOPIC = "homeassistant/status"


class SimRelay:
    """One relay on its own MQTT connection."""

    def __init__(self, host: str, port: int, node: str, *, clean_session: bool = True) -> None:
        self.node = node
        self.status_topic = f"{node}/status"
        self.state_topic = f"{node}/relay/state"
        self.command_topic = f"{node}/relay/command"
        self.config_topic = f"homeassistant/switch/{node}/relay/config"
        self.commands: list[str] = []
        self.is_on = False
        self.client = MqttClient(
            BrokerSettings(
                host=host,
                port=port,
                client_id=f"sim-{node}",
                clean_session=clean_session,
                reconnect_min=0.1,
                reconnect_max=0.5,
                will=Will(self.status_topic, "offline", 1, True),
                birth=Will(self.status_topic, "online", 1, True),
            )
        )

    def config(self) -> dict[str, Any]:
        return {
            "name": "Relay",
            "stat_t": self.state_topic,
            "cmd_t": self.command_topic,
            "avty_t": self.status_topic,
            "uniq_id": f"{self.node}_relay",
            "dev": {"ids": [self.node], "name": self.node, "mf": "Hearth sim"},
        }

    async def async_start(self, timeout: float = 30.0) -> None:
        """Connect, subscribe, announce (retained) and wait until the broker has it all."""
        self.client.async_subscribe(self.command_topic, self._on_command, qos=1)
        self.client.async_subscribe(BIRTH_TOPIC, self._on_hub_birth, qos=1)
        await self.client.async_start()
        await self.client.async_wait_connected(timeout)
        await self.client.async_wait_subscribed(timeout)
        await self.async_announce()

    async def async_announce(self) -> None:
        """Publish config, state and availability (all retained) and wait for the PUBACKs."""
        acks = [
            self.client.async_publish(self.config_topic, json.dumps(self.config()), 1, True),
            self.client.async_publish(self.state_topic, "ON" if self.is_on else "OFF", 1, True),
            self.client.async_publish(self.status_topic, "online", 1, True),
        ]
        for ack in acks:
            if ack is not None:
                await ack

    async def async_stop(self) -> None:
        await self.client.async_stop()

    def _on_command(self, message: ReceivedMessage) -> None:
        payload = message.payload.decode()
        self.commands.append(payload)
        self.is_on = payload == "ON"
        self.client.async_publish(self.state_topic, payload, 1, True)

    def _on_hub_birth(self, message: ReceivedMessage) -> None:
        if message.payload == b"online":
            self.client.async_publish(self.config_topic, json.dumps(self.config()), 1, True)
            self.client.async_publish(self.status_topic, "online", 1, True)
