"""The embedded MQTT broker for homes without one of their own: mosquitto, else amqtt.

mosquitto runs as a supervised subprocess (~6x the throughput of amqtt, and outside the hub's
memory) with one account per appliance and per-account ACLs (accounts.py); amqtt runs
in-process when mosquitto is not installed or is asked for, on loopback only and with the
hub's account only (it has no ACLs we trust, so no appliance gets an account on it). The hub's
own credentials are generated on first start and kept in the config directory (mode 0600);
they never leave the hub.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from .accounts import Account
from .mosquitto_broker import LanListener, MosquittoBroker, MosquittoError

_LOGGER = logging.getLogger(__name__)

CREDENTIALS_FILE = "mqtt_broker.json"
DEFAULT_USERNAME = "hearth"
STATE_DIR = "mqtt_broker"
EMBEDDED_CHOICES = ("auto", "mosquitto", "amqtt")


class EmbeddedBroker(Protocol):
    """What the integration needs of either broker."""

    kind: str
    host: str
    port: int
    lan: LanListener | None

    @property
    def running(self) -> bool: ...

    async def async_start(self) -> None: ...

    async def async_stop(self) -> None: ...


@dataclass(frozen=True)
class BrokerCredentials:
    """The hub's own account on the embedded broker."""

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


async def async_start_embedded(
    choice: str,
    credentials: BrokerCredentials,
    host: str,
    port: int,
    config_dir: Path,
    *,
    accounts: tuple[Account, ...] = (),
    discovery_prefix: str = "homeassistant",
    lan: LanListener | None = None,
) -> EmbeddedBroker:
    """Start the broker `choice` names; `auto` is mosquitto when installed and working, else amqtt.

    Raises MosquittoError or OSError when the chosen broker cannot start.
    """
    if choice not in EMBEDDED_CHOICES:
        raise ValueError(f"embedded broker must be one of {', '.join(EMBEDDED_CHOICES)}")
    if choice == "amqtt" and lan is not None:
        raise ValueError("lan_listener needs mosquitto: amqtt offers neither TLS nor ACLs here")
    reason = "configured with embedded: amqtt"
    if choice != "amqtt":
        try:
            mosquitto = MosquittoBroker(
                credentials,
                host,
                port,
                config_dir / STATE_DIR,
                accounts=accounts,
                discovery_prefix=discovery_prefix,
                lan=lan,
            )
            await mosquitto.async_start()
        except (MosquittoError, OSError) as err:
            if choice == "mosquitto" or lan is not None:
                # The LAN listener promises TLS and ACLs; amqtt would give neither.
                raise
            reason = str(err)
            _LOGGER.warning("mosquitto unavailable (%s); using the in-process amqtt broker", err)
        else:
            _LOGGER.info(
                "Embedded MQTT broker: mosquitto (pid %s) listening on %s:%s%s",
                mosquitto.pid,
                host,
                port,
                f", TLS on {lan.host or '*'}:{lan.port}" if lan is not None else "",
            )
            return mosquitto
    # Imported only now: amqtt costs the hub ~30 MB even when it is not used.
    from .amqtt_broker import AmqttBroker

    broker = AmqttBroker(credentials, host, port)
    await broker.async_start()
    _LOGGER.info("Embedded MQTT broker: amqtt listening on %s:%s (%s)", host, port, reason)
    return broker
