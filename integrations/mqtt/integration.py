"""The MQTT integration: broker connection (or the embedded broker), discovery, state stream."""

from __future__ import annotations

import importlib
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar

from hub.errors import IntegrationError
from hub.integration import Integration, Manifest, PairingProgress, PairingRequest
from hub.safefile import backup_json_file, protect_json_file
from hub.schema import Field, Schema
from integrations.zeroconf.advertise import lan_addresses

from .accounts import (
    ACCOUNTS_FILE,
    RELOAD_TOPIC,
    ROLE_HUB,
    Account,
    AccountError,
    AccountStore,
    appliance_account,
    check_discovery,
    delete_commands,
    dynsec_commands,
    make_account,
    new_password,
)
from .broker import (
    CREDENTIALS_FILE,
    EMBEDDED_CHOICES,
    BrokerCredentials,
    EmbeddedBroker,
    async_start_embedded,
    load_or_create_credentials,
)
from .client import BrokerSettings, MqttClient, ReceivedMessage, Will
from .discovery import DEFAULT_PREFIX
from .discovery_store import FILE_NAME as DISCOVERY_COPY
from .discovery_store import DiscoveryStore
from .entity import DOMAIN
from .guard import Budget
from .manager import DiscoveryManager
from .mosquitto_broker import LanListener, MosquittoBroker
from .outbox import DeliveryPolicy
from .pairing import BrokerAccess, WifiPairing
from .state_stream import StateStream, status_will
from .topic import valid_topic

_LOGGER = logging.getLogger(__name__)

DATA_MQTT = "mqtt"
CONNECT_WAIT = 10.0
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


class MqttIntegration(Integration):
    """Connects to the configured broker, or runs its own (mosquitto or amqtt) when none is."""

    manifest = Manifest(
        domain=DOMAIN,
        name="MQTT",
        pairing=("wifi",),
        after=("zeroconf",),
        description="Wi-Fi appliances over MQTT with Home Assistant discovery",
    )
    config_schema: ClassVar = Schema(
        {
            "broker": Field("str", description="external broker host; none = embedded broker"),
            "port": Field("int", min=1, max=65535, default=1883),
            "username": Field("str"),
            "password": Field("str"),
            "client_id": Field("str", max_length=64),
            "discovery": Field("bool", default=True),
            "discovery_prefix": Field("str", default=DEFAULT_PREFIX),
            "embedded": Field(
                "enum",
                choices=EMBEDDED_CHOICES,
                default="auto",
                description="embedded broker: auto = mosquitto when installed, else amqtt",
            ),
            "embedded_host": Field(
                "str", default="127.0.0.1", description="plaintext listener: loopback only"
            ),
            "embedded_port": Field("int", min=1, max=65535, default=1883),
            "lan_listener": Field(
                "bool", default=False, description="TLS listener for appliances on the LAN"
            ),
            "lan_host": Field("str", default="0.0.0.0", description="address of the TLS listener"),
            "lan_port": Field("int", min=1, max=65535, default=8883),
            "advertise_host": Field("str", description="broker address handed to devices"),
            "stream_prefix": Field("str", description="opt-in: publish states/events here"),
            "stream_commands": Field("bool", default=False, description="accept service calls"),
            "reconnect_max": Field("float", min=0.05, max=600, default=30.0),
            "birth_topic": Field("str", description="default <discovery_prefix>/status"),
            "birth_payload": Field("str", default="online"),
            "will_payload": Field("str", default="offline"),
            "command_expiry": Field(
                "float", min=0.1, max=3600, default=30.0, description="held commands expire"
            ),
            "confirm_grace": Field(
                "float",
                min=0,
                max=600,
                default=5.0,
                description="after a reconnect, trust a silent device after this many seconds",
            ),
            "device_rate": Field("float", min=0.1, max=100000, default=50.0),
            "device_burst": Field("float", min=1, max=100000, default=200.0),
            "wifi_ssid": Field("str", max_length=32),
            "wifi_password": Field("str", max_length=63),
            "ota": Field("bool", default=True, description="sign and serve firmware updates"),
            "ota_port": Field("int", min=0, max=65535, default=0, description="0 = any free"),
        }
    )

    async def async_setup(self) -> None:
        config = self.config
        self.embedded: EmbeddedBroker | None = None
        self.accounts = AccountStore(self.hub.config_dir)
        self._stop_backups: list[Callable[[], None]] = []
        self.credentials: BrokerCredentials | None = None
        self.discovery: DiscoveryManager | None = None
        self.stream: StateStream | None = None
        stream_prefix = config.get("stream_prefix")
        if stream_prefix is not None and (
            not valid_topic(stream_prefix) or stream_prefix[-1] == "/"
        ):
            raise IntegrationError(f"invalid stream_prefix {stream_prefix!r}")
        if config.get("broker"):
            host, port = config["broker"], config["port"]
            username, password = config.get("username"), config.get("password")
        else:
            await self._async_protect_credentials()
            host, port = await self._async_start_embedded()
            assert self.credentials is not None
            username, password = self.credentials.username, self.credentials.password
        try:
            await self._async_setup_client(host, port, username, password, stream_prefix)
        except BaseException:
            # No teardown follows a failed setup; a mosquitto child must not outlive it.
            if self.embedded is not None:
                await self.embedded.async_stop()
            raise
        self.hub.data[DATA_MQTT] = self

    async def _async_start_embedded(self) -> tuple[str, int]:
        config = self.config
        host = config["embedded_host"]
        if host not in LOOPBACK_HOSTS:
            # Plaintext on the LAN would carry every appliance's password in the clear.
            raise IntegrationError(
                f"embedded_host {host!r}: the plaintext listener is loopback only; "
                "set lan_listener: true for a TLS listener on the LAN"
            )
        try:
            self.credentials = await self.hub.async_add_executor_job(
                load_or_create_credentials, self.hub.config_dir
            )
            await self.hub.async_add_executor_job(self.accounts.load)
            hub_account = make_account(
                self.credentials.username, ROLE_HUB, self.credentials.password
            )
            lan = await self._async_lan_listener() if config["lan_listener"] else None
            self.embedded = await async_start_embedded(
                config["embedded"],
                self.credentials,
                host,
                config["embedded_port"],
                self.hub.config_dir,
                accounts=(hub_account, *self.accounts.accounts.values()),
                discovery_prefix=config["discovery_prefix"],
                lan=lan,
            )
        except Exception as err:
            raise IntegrationError(f"embedded MQTT broker failed to start: {err}") from err
        return ("127.0.0.1" if host == "localhost" else host), config["embedded_port"]

    async def _async_lan_listener(self) -> LanListener:
        from .tls import ensure_tls

        names = [*lan_addresses(), f"{socket.gethostname()}.local"]
        if self.config.get("advertise_host"):
            names.append(self.config["advertise_host"])
        tls = await self.hub.async_add_executor_job(ensure_tls, self.hub.config_dir, names)
        return LanListener(self.config["lan_host"], self.config["lan_port"], tls)

    async def _async_protect_credentials(self) -> None:
        """A damaged credentials or accounts file is kept aside and restored from backup, never
        silently replaced: new credentials would lock out every paired appliance."""
        for name, consequence in (
            (CREDENTIALS_FILE, "new broker credentials are generated"),
            (ACCOUNTS_FILE, "the appliances' broker accounts are gone"),
        ):
            path = self.hub.config_dir / name
            recovery = await self.hub.async_add_executor_job(protect_json_file, path)
            if recovery is not None:
                self.hub.recoveries.append(recovery)
            if recovery is not None and recovery.restored_from is None:
                _LOGGER.error(
                    "No backup of %s: %s and paired appliances must be paired again",
                    path.name,
                    consequence,
                )
            # Kept daily while the hub runs, not only when it starts.
            self._stop_backups.append(self.hub.backups.register(name, self._backup_job(path)))

    def _backup_job(self, path: Path) -> Callable[[], Awaitable[object]]:
        return lambda: self.hub.async_add_executor_job(backup_json_file, path, "daily")

    async def _async_setup_client(
        self,
        host: str,
        port: int,
        username: str | None,
        password: str | None,
        stream_prefix: str | None,
    ) -> None:
        config = self.config
        birth_topic = config.get("birth_topic") or f"{config['discovery_prefix']}/status"
        if not valid_topic(birth_topic):
            raise IntegrationError(f"invalid birth_topic {birth_topic!r}")
        # One will per connection: the state stream's when it runs, else Home Assistant's.
        will = (
            status_will(stream_prefix)
            if stream_prefix
            else Will(birth_topic, config["will_payload"], 1, False)
        )
        self.client = MqttClient(
            BrokerSettings(
                host=host,
                port=port,
                username=username,
                password=password,
                client_id=config.get("client_id"),
                will=will,
                birth=Will(birth_topic, config["birth_payload"], 1, False),
                reconnect_max=config["reconnect_max"],
            )
        )
        await self.client.async_start()
        try:
            await self.client.async_wait_connected(CONNECT_WAIT)
        except TimeoutError:
            # Not fatal: the client keeps retrying and entities appear once it connects.
            _LOGGER.warning("MQTT broker %s:%s not reachable yet; retrying", host, port)
        if config["discovery"]:
            self.discovery = DiscoveryManager(
                self.hub,
                self.client,
                config["discovery_prefix"],
                store=DiscoveryStore(
                    self.hub.config_dir / DISCOVERY_COPY, self.hub.async_add_executor_job
                ),
                delivery=DeliveryPolicy(
                    expiry=config["command_expiry"], confirm_grace=config["confirm_grace"]
                ),
                budget=Budget(config["device_rate"], config["device_burst"]),
            )
            if self.embedded is not None:
                self.discovery.policy = self._discovery_policy
                self.client.async_subscribe(RELOAD_TOPIC, self._on_reload_accounts, 1)
            await self.discovery.async_start()
        if stream_prefix:
            self.stream = StateStream(
                self.hub, self.client, stream_prefix, accept_commands=config["stream_commands"]
            )
            await self.stream.async_start()
        self.pairing = WifiPairing(
            self.hub,
            self,
            lambda: self.discovery,
            (config.get("wifi_ssid"), config.get("wifi_password")),
        )
        self.ota: Any = None
        if config["ota"]:
            await self._async_start_ota()

    async def _async_start_ota(self) -> None:
        # Imported here: firmware updates are optional and the image server costs a port.
        # Imported on a worker thread: the first import reads and compiles modules (~60 ms).
        module = await self.hub.async_add_executor_job(
            importlib.import_module, "firmware.ota.manager"
        )
        self.ota = module.OtaManager(
            self.hub,
            self.client,
            advertise_host=self.broker_access().host,
            port=self.config["ota_port"],
        )
        try:
            await self.ota.async_setup()
        except OSError as err:
            _LOGGER.error("Firmware update server could not start: %s", err)
            self.ota = None

    async def async_teardown(self) -> None:
        for stop in self._stop_backups:
            stop()
        self._stop_backups.clear()
        if self.ota is not None:
            await self.ota.async_teardown()
        if self.stream is not None:
            await self.stream.async_stop()
        if self.discovery is not None:
            await self.discovery.async_stop()
        await self.client.async_stop()
        if self.embedded is not None:
            await self.embedded.async_stop()
        if self.hub.data.get(DATA_MQTT) is self:
            del self.hub.data[DATA_MQTT]

    def async_pair(self, request: PairingRequest) -> AsyncIterator[PairingProgress]:
        return self.pairing.async_pair(request)

    def broker_access(self) -> BrokerAccess:
        """How a device on the LAN reaches the broker this hub uses."""
        settings = self.client.settings
        host = self.config.get("advertise_host")
        if host is None:
            loopback = settings.host in ("127.0.0.1", "localhost", "::1")
            host = lan_addresses()[0] if loopback else settings.host
        return BrokerAccess(host, settings.port, settings.username, settings.password)

    # -- appliance accounts ------------------------------------------------------------------

    async def async_add_appliance_account(self, device_id: str) -> tuple[Account, str]:
        """Make (or remake, with a new password) the account of one appliance; live at once."""
        broker = self._mosquitto()
        password = new_password()
        account = appliance_account(device_id, password)
        await broker.async_control(dynsec_commands(account, password, self._prefix))
        if not await broker.async_check_login(account.username, password):
            raise AccountError(f"the broker did not take the account of {device_id}")
        await self.hub.async_add_executor_job(self.accounts.put, account)
        return account, password

    async def async_remove_account(self, username: str) -> None:
        """Delete an account; its connected clients are disconnected by the broker."""
        broker = self._mosquitto()
        await broker.async_control(delete_commands(username))
        await self.hub.async_add_executor_job(self.accounts.delete, username)

    def appliance_access(self, device_host: str, username: str, password: str) -> BrokerAccess:
        """Where an appliance at `device_host` reaches the broker: TLS on the LAN, or loopback."""
        broker = self._mosquitto()
        if broker.lan is not None:
            host = self.config.get("advertise_host") or lan_addresses()[0]
            return BrokerAccess(host, broker.lan.port, username, password, broker.lan.tls.ca_pem)
        if device_host in LOOPBACK_HOSTS:
            # A virtual appliance on this computer reaches the loopback listener.
            return BrokerAccess("127.0.0.1", broker.port, username, password)
        raise AccountError(
            "the broker listens on loopback only: set lan_listener: true in the mqtt section "
            "so appliances on the LAN can reach it (over TLS)"
        )

    def _mosquitto(self) -> MosquittoBroker:
        if isinstance(self.embedded, MosquittoBroker):
            return self.embedded
        if self.embedded is None:
            raise AccountError(
                "this hub uses an external broker: make the appliance's account there; "
                "the hub never hands out its own account"
            )
        raise AccountError(
            "appliance accounts need mosquitto (Debian package 'mosquitto'); the amqtt "
            "fallback has no per-appliance ACLs"
        )

    @property
    def _prefix(self) -> str:
        return str(self.config["discovery_prefix"])

    def _on_reload_accounts(self, message: ReceivedMessage) -> None:
        self.hub.async_create_task(self._async_reload_accounts(message.payload[:64]))

    async def _async_reload_accounts(self, nonce: bytes) -> None:
        """Re-read accounts changed by `hearth mqtt-account`, then say so (the CLI waits)."""
        try:
            await self.hub.async_add_executor_job(self.accounts.load)
        except AccountError as err:
            _LOGGER.error("Broker accounts not reloaded: %s", err)
            return
        self.client.async_publish(f"{RELOAD_TOPIC}/loaded", nonce, qos=1)

    def _discovery_policy(self, node_id: str | None, data: Any) -> str | None:
        return check_discovery(self.accounts.for_node(node_id), node_id, data)
