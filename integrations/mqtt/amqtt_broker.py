"""The embedded broker in-process (amqtt): the fallback when mosquitto is not installed.

Imported only when it is used: amqtt and its plugins cost the hub ~30 MB of memory.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from amqtt.broker import Broker
from amqtt.plugins.base import BaseAuthPlugin
from amqtt.session import Session

if TYPE_CHECKING:
    from .broker import BrokerCredentials
    from .mosquitto_broker import LanListener

_LOGGER = logging.getLogger(__name__)


class AmqttBroker:
    """amqtt on loopback with the hub's account only (no appliance accounts: no ACLs here)."""

    kind = "amqtt"
    lan: LanListener | None = None  # never: no TLS, no ACLs, so never on the LAN

    def __init__(self, credentials: BrokerCredentials, host: str = "127.0.0.1", port: int = 1883):
        self.credentials = credentials
        self.host = host
        self.port = port
        self._broker: Broker | None = None

    @property
    def running(self) -> bool:
        return self._broker is not None

    async def async_start(self) -> None:
        plugin = f"{HearthAuthPlugin.__module__}.{HearthAuthPlugin.__qualname__}"
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                plugin: {
                    "username": self.credentials.username,
                    "password_sha256": self.credentials.password_sha256,
                }
            },
        }
        broker = Broker(config)
        await broker.start()
        self._broker = broker

    async def async_stop(self) -> None:
        broker, self._broker = self._broker, None
        if broker is not None:
            await broker.shutdown()


class HearthAuthPlugin(BaseAuthPlugin):
    """amqtt authentication: exactly one generated account, compared in constant time.

    The password is a 192-bit random token, so a fast hash is enough (argon2 would block
    the loop for every device that connects).
    """

    @dataclass
    class Config:
        username: str = ""
        password_sha256: str = ""

    async def authenticate(self, *, session: Session) -> bool | None:
        config: Any = self.config
        if not session or not session.username or not config.password_sha256:
            return False
        supplied = hashlib.sha256((session.password or "").encode()).hexdigest()
        user_ok = hmac.compare_digest(session.username, config.username)
        return hmac.compare_digest(supplied, config.password_sha256) and user_ok
