"""The embedded MQTT broker (amqtt, in-process) for homes without one of their own.

Its credentials are generated on first start and kept in the config directory (mode 0600):
appliances get them during pairing; nothing on the LAN can connect with a default password.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amqtt.broker import Broker
from amqtt.plugins.base import BaseAuthPlugin
from amqtt.session import Session

_LOGGER = logging.getLogger(__name__)

CREDENTIALS_FILE = "mqtt_broker.json"
DEFAULT_USERNAME = "hearth"


@dataclass(frozen=True)
class BrokerCredentials:
    """The one account of the embedded broker."""

    username: str
    password: str = field(repr=False)

    @property
    def password_sha256(self) -> str:
        return hashlib.sha256(self.password.encode()).hexdigest()


def load_or_create_credentials(config_dir: Path) -> BrokerCredentials:
    """Read the stored credentials, generating and storing new ones on first use (blocking)."""
    path = config_dir / CREDENTIALS_FILE
    try:
        data = json.loads(path.read_text())
        username, password = data["username"], data["password"]
        if isinstance(username, str) and isinstance(password, str) and len(password) >= 16:
            return BrokerCredentials(username, password)
        _LOGGER.warning("%s holds unusable credentials; generating new ones", path)
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError) as err:
        _LOGGER.warning("Cannot read %s (%s); generating new broker credentials", path, err)
    credentials = BrokerCredentials(DEFAULT_USERNAME, secrets.token_urlsafe(24))
    config_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"username": credentials.username, "password": credentials.password}, handle)
    os.replace(tmp, path)
    return credentials


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


class EmbeddedBroker:
    """amqtt listening on the LAN with one generated account."""

    def __init__(self, credentials: BrokerCredentials, host: str = "0.0.0.0", port: int = 1883):
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
        _LOGGER.info("Embedded MQTT broker listening on %s:%s", self.host, self.port)

    async def async_stop(self) -> None:
        broker, self._broker = self._broker, None
        if broker is not None:
            await broker.shutdown()
