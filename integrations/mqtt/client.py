"""An MQTT client for the asyncio loop: paho-mqtt's socket driven by loop readers and writers.

paho does the protocol; the loop does the I/O. Only the blocking TCP connect runs in an
executor thread. Reconnects back off exponentially, subscriptions come back after every
reconnect, and QoS 1/2 publishes made while the broker is away wait in a bounded queue.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from .topic import TopicRouter, valid_filter, valid_topic

_LOGGER = logging.getLogger(__name__)

MessageCallback = Callable[["ReceivedMessage"], None]
ConnectionCallback = Callable[[bool], None]
ReadyCallback = Callable[[], None]

MISC_INTERVAL = 1.0
# Each readable event drains up to this many packets before yielding back to the loop...
READ_BATCH = 200
# ...or for this long: 200 one-megabyte packets held the loop 0.3 s (bench/faults.py flood).
# (The hub's connection is plaintext loopback or LAN: no TLS buffer hides waiting bytes.)
READ_BUDGET = 0.002


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """One message delivered to a subscriber."""

    topic: str
    payload: bytes
    qos: int
    retain: bool


@dataclass(frozen=True)
class Will:
    """Last will: what the broker publishes for us when we vanish."""

    topic: str
    payload: str
    qos: int = 1
    retain: bool = True


@dataclass(frozen=True)
class BrokerSettings:
    """Where and how to connect."""

    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    client_id: str | None = None
    keepalive: int = 60
    will: Will | None = None
    # Published on every (re)connect once the subscriptions are back (Home Assistant's birth).
    birth: Will | None = None
    # False keeps the broker-side session (subscriptions, queued QoS 1) across reconnects.
    clean_session: bool = True
    # Seconds; the delay doubles from min to max between failed attempts.
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0
    max_queued: int = 10_000


@dataclass
class _Pending:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    future: asyncio.Future[None] | None


class MqttClient:
    """One connection to one broker, owned by the running event loop."""

    def __init__(self, settings: BrokerSettings) -> None:
        self.settings = settings
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client = self._make_paho()
        self._router: TopicRouter[MessageCallback] = TopicRouter()
        self._sub_qos: dict[str, int] = {}
        self._connection_listeners: list[ConnectionCallback] = []
        self._pending: deque[_Pending] = deque()
        self._acks: dict[int, asyncio.Future[None]] = {}
        self._sock: socket.socket | None = None
        self._connected = False
        self._stopping = False
        self._connect_task: asyncio.Task[None] | None = None
        self._misc_handle: asyncio.TimerHandle | None = None
        self._connected_event = asyncio.Event()
        self._disconnected_event = asyncio.Event()
        self._pending_subacks: set[int] = set()
        # The broker sends retained messages once per SUBSCRIBE; a second local subscriber to
        # the same topic (two entities sharing one availability topic) gets them from here.
        self._retained: dict[str, ReceivedMessage] = {}
        self._resubscribe: set[str] = set()
        self._subscribed_event = asyncio.Event()
        self._subscribed_event.set()
        # SUBACK ids of the re-subscription made at connect; the queue waits for them.
        self._connect_subacks: set[int] = set()
        self._ready = False
        self._ready_listeners: list[ReadyCallback] = []
        self.connect_count = 0
        self.received = 0

    # -- public API -------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected

    async def async_start(self) -> None:
        """Begin connecting in the background (returns at once; see ``async_wait_connected``)."""
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        if self._connect_task is None or self._connect_task.done():
            self._connect_task = self._loop.create_task(self._async_connect_loop())
        self._schedule_misc()

    async def async_wait_connected(self, timeout: float | None = None) -> None:
        """Wait until the client is connected to the broker."""
        await asyncio.wait_for(self._connected_event.wait(), timeout)

    async def async_stop(self) -> None:
        """Disconnect cleanly (the broker does not publish our will) and stop reconnecting."""
        self._stopping = True
        if self._connect_task is not None:
            self._connect_task.cancel()
            try:
                await self._connect_task
            except (asyncio.CancelledError, Exception):
                pass
            self._connect_task = None
        if self._misc_handle is not None:
            self._misc_handle.cancel()
            self._misc_handle = None
        if self._connected:
            self._client.disconnect()
            # Let the DISCONNECT packet leave before the socket closes.
            for _ in range(50):
                if self._sock is None:
                    break
                await asyncio.sleep(0.01)
        self._drop_socket()
        self._set_connected(False)
        for pending in self._pending:
            if pending.future is not None and not pending.future.done():
                pending.future.cancel()
        self._pending.clear()
        for future in self._acks.values():
            if not future.done():
                future.cancel()
        self._acks.clear()

    def async_subscribe(
        self, topic_filter: str, callback: MessageCallback, qos: int = 0
    ) -> Callable[[], None]:
        """Call ``callback`` for each message matching the filter; return an unsubscriber."""
        if not valid_filter(topic_filter):
            raise ValueError(f"invalid MQTT topic filter: {topic_filter!r}")
        first, remove = self._router.add(topic_filter, callback)
        previous = self._sub_qos.get(topic_filter, -1)
        if qos > previous:
            self._sub_qos[topic_filter] = qos
        if (first or qos > previous) and self._connected:
            self._track_suback(self._client.subscribe(topic_filter, qos))
        if not first and topic_filter in self._router.exact_filters:
            cached = self._retained.get(topic_filter)
            if cached is not None:
                asyncio.get_running_loop().call_soon(self._replay, callback, cached)
            elif self._connected:
                # Nothing retained seen yet (it may have arrived live, without the flag): ask
                # the broker again. Earlier subscribers get a duplicate, which state handles.
                self._resubscribe_soon(topic_filter)

        def unsubscribe() -> None:
            if remove():
                self._sub_qos.pop(topic_filter, None)
                self._retained.pop(topic_filter, None)
                if self._connected:
                    self._client.unsubscribe(topic_filter)

        return unsubscribe

    def async_publish(
        self, topic: str, payload: str | bytes, qos: int = 0, retain: bool = False
    ) -> asyncio.Future[None] | None:
        """Publish; return a future resolved when the broker acknowledged (QoS 1/2).

        While disconnected, QoS 1/2 messages are queued (oldest dropped past ``max_queued``)
        and QoS 0 messages are dropped, as MQTT allows.
        """
        if not valid_topic(topic):
            raise ValueError(f"invalid MQTT topic: {topic!r}")
        data = payload.encode() if isinstance(payload, str) else bytes(payload)
        future: asyncio.Future[None] | None = None
        if qos > 0:
            future = asyncio.get_running_loop().create_future()
        if self._connected and (self._ready or qos == 0):
            self._send(_Pending(topic, data, qos, retain, future))
        elif qos > 0:
            # Also while re-subscribing after a connect, so older queued messages go first.
            if len(self._pending) >= self.settings.max_queued:
                dropped = self._pending.popleft()
                _LOGGER.warning("MQTT queue full; dropping oldest message to %s", dropped.topic)
                if dropped.future is not None and not dropped.future.done():
                    dropped.future.cancel()
            self._pending.append(_Pending(topic, data, qos, retain, future))
        else:
            _LOGGER.debug("Not connected; dropping QoS 0 message to %s", topic)
        return future

    async def async_wait_subscribed(self, timeout: float | None = None) -> None:
        """Wait until the broker acknowledged every subscription made so far."""
        await asyncio.wait_for(self._subscribed_event.wait(), timeout)

    def add_connection_listener(self, callback: ConnectionCallback) -> Callable[[], None]:
        """Call ``callback(connected)`` whenever the connection comes up or goes down."""
        self._connection_listeners.append(callback)
        return lambda: self._connection_listeners.remove(callback)

    def add_ready_listener(self, callback: ReadyCallback) -> Callable[[], None]:
        """Call ``callback()`` after each connect, once subscriptions are back and birth sent."""
        self._ready_listeners.append(callback)
        return lambda: self._ready_listeners.remove(callback)

    @property
    def ready(self) -> bool:
        """Connected, re-subscribed and birth published: safe to release held commands."""
        return self._connected and self._ready

    @property
    def queued(self) -> int:
        """QoS 1/2 messages waiting for the broker to come back."""
        return len(self._pending)

    def _resubscribe_soon(self, topic_filter: str) -> None:
        if not self._resubscribe:
            asyncio.get_running_loop().call_soon(self._flush_resubscribe)
        self._resubscribe.add(topic_filter)

    def _flush_resubscribe(self) -> None:
        filters, self._resubscribe = self._resubscribe, set()
        wanted = [(f, self._sub_qos[f]) for f in filters if f in self._sub_qos]
        if wanted and self._connected:
            self._track_suback(self._client.subscribe(wanted))

    def _replay(self, callback: MessageCallback, message: ReceivedMessage) -> None:
        try:
            callback(message)
        except Exception:
            _LOGGER.exception("Error handling MQTT message on %s", message.topic)

    def _track_suback(self, result: tuple[MQTTErrorCode, int | None]) -> int | None:
        rc, mid = result
        if rc == MQTTErrorCode.MQTT_ERR_SUCCESS and mid is not None:
            self._pending_subacks.add(mid)
            self._subscribed_event.clear()
            return mid
        return None

    def _on_subscribe(
        self, _client: paho.Client, _userdata: Any, mid: int, _reasons: Any, _props: Any
    ) -> None:
        self._pending_subacks.discard(mid)
        if not self._pending_subacks:
            self._subscribed_event.set()
        if mid in self._connect_subacks:
            self._connect_subacks.discard(mid)
            if not self._connect_subacks:
                self._release()

    # -- connection management --------------------------------------------------------------

    def _make_paho(self) -> paho.Client:
        settings = self.settings
        client_id = settings.client_id or f"hearth-{uuid.uuid4().hex[:12]}"
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=paho.MQTTv311,
            clean_session=settings.clean_session,
        )
        # The queue above bounds memory; paho's own in-flight window just needs to be wide.
        client.max_inflight_messages_set(1000)
        client.suppress_exceptions = True
        if settings.username is not None:
            client.username_pw_set(settings.username, settings.password)
        if settings.will is not None:
            will = settings.will
            client.will_set(will.topic, will.payload, will.qos, will.retain)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        client.on_subscribe = self._on_subscribe
        client.on_socket_open = self._on_socket_open
        client.on_socket_close = self._on_socket_close
        client.on_socket_register_write = self._on_register_write
        client.on_socket_unregister_write = self._on_unregister_write
        return client

    async def _async_connect_loop(self) -> None:
        assert self._loop is not None
        delay = self.settings.reconnect_min
        first = True
        while not self._stopping:
            if not self._connected and self._sock is None:
                try:
                    await self._loop.run_in_executor(None, self._blocking_connect, first)
                    first = False
                except (OSError, ValueError) as err:
                    _LOGGER.info(
                        "MQTT broker %s:%s unreachable (%s); retrying in %.1fs",
                        self.settings.host,
                        self.settings.port,
                        err,
                        delay,
                    )
                    self._drop_socket()
                    await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                    delay = min(delay * 2, self.settings.reconnect_max)
                    continue
            # Wait for the CONNACK or for the connection to fail.
            await self._async_wait_state_change()
            if self._connected:
                delay = self.settings.reconnect_min
                await self._async_wait_disconnected()
            elif not self._stopping:
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, self.settings.reconnect_max)

    def _blocking_connect(self, first: bool) -> None:
        """The TCP connect; runs in an executor thread."""
        settings = self.settings
        if first:
            self._client.connect(settings.host, settings.port, settings.keepalive)
        else:
            self._client.reconnect()

    async def _async_wait_state_change(self) -> None:
        """Wait until connected, or the socket is gone, or a CONNACK is overdue."""
        for _ in range(int(15 / 0.05)):
            if self._connected or self._sock is None or self._stopping:
                return
            await asyncio.sleep(0.05)
        _LOGGER.warning("No CONNACK from %s:%s", self.settings.host, self.settings.port)
        self._drop_socket()

    async def _async_wait_disconnected(self) -> None:
        while self._connected and not self._stopping:
            self._disconnected_event = asyncio.Event()
            await self._disconnected_event.wait()

    def _drop_socket(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None and self._loop is not None:
            self._loop.remove_reader(sock)
            self._loop.remove_writer(sock)
        # paho's socket close also fires on_socket_close, which finds nothing left to do.
        try:
            self._client._sock_close()
        except Exception:  # pragma: no cover - defensive, paho internals
            _LOGGER.debug("paho socket close failed", exc_info=True)

    def _set_connected(self, connected: bool) -> None:
        if connected == self._connected:
            return
        self._connected = connected
        if connected:
            self._connected_event.set()
        else:
            self._connected_event.clear()
            self._disconnected_event.set()
            self._pending_subacks.clear()
            self._connect_subacks.clear()
            self._ready = False
            self._subscribed_event.set()
        for listener in list(self._connection_listeners):
            try:
                listener(connected)
            except Exception:
                _LOGGER.exception("MQTT connection listener failed")

    def _schedule_misc(self) -> None:
        assert self._loop is not None
        if self._misc_handle is not None:
            self._misc_handle.cancel()
        self._misc_handle = self._loop.call_later(MISC_INTERVAL, self._misc)

    def _misc(self) -> None:
        # Keepalive pings and PINGRESP timeouts live in paho's loop_misc.
        if self._sock is not None:
            self._client.loop_misc()
        if not self._stopping:
            self._schedule_misc()

    def _send(self, pending: _Pending) -> None:
        info = self._client.publish(pending.topic, pending.payload, pending.qos, pending.retain)
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            _LOGGER.warning("MQTT publish to %s failed: %s", pending.topic, info.rc)
            if pending.future is not None and not pending.future.done():
                pending.future.set_exception(ConnectionError(str(info.rc)))
            return
        # paho keeps QoS>0 messages it could not send and retransmits them after a reconnect.
        if pending.future is not None:
            if pending.qos == 0:
                pending.future.set_result(None)
            else:
                self._acks[info.mid] = pending.future

    # -- paho callbacks (all on the loop thread except socket open during connect) -----------

    def _on_socket_open(self, _client: paho.Client, _userdata: Any, sock: Any) -> None:
        assert self._loop is not None
        # Commands are tiny packets; Nagle plus delayed ACKs would hold each one ~40 ms.
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):
            pass
        self._loop.call_soon_threadsafe(self._add_socket, sock)

    def _add_socket(self, sock: socket.socket) -> None:
        assert self._loop is not None
        if self._stopping:
            # A connect that finished after async_stop: close what it opened.
            self._client._sock_close()
            return
        self._sock = sock
        self._loop.add_reader(sock, self._on_readable)

    def _on_socket_close(self, _client: paho.Client, _userdata: Any, sock: Any) -> None:
        self._on_loop(self._remove_socket, sock)

    def _remove_socket(self, sock: socket.socket) -> None:
        assert self._loop is not None
        try:
            self._loop.remove_reader(sock)
            self._loop.remove_writer(sock)
        except (ValueError, OSError):
            pass  # already closed: the fd is gone
        if self._sock is sock:
            self._sock = None

    def _on_register_write(self, _client: paho.Client, _userdata: Any, sock: Any) -> None:
        self._on_loop(self._add_writer, sock)

    def _on_loop(self, func: Callable[[socket.socket], None], sock: socket.socket) -> None:
        """Run now when called on the loop; from the connect thread, hand it to the loop."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            func(sock)
        else:
            loop.call_soon_threadsafe(func, sock)

    def _add_writer(self, sock: socket.socket) -> None:
        assert self._loop is not None
        if sock.fileno() >= 0:
            self._loop.add_writer(sock, self._on_writable)

    def _on_unregister_write(self, _client: paho.Client, _userdata: Any, sock: Any) -> None:
        if self._loop is not None and sock.fileno() >= 0:
            self._loop.remove_writer(sock)

    def _on_readable(self) -> None:
        client = self._client
        deadline = time.monotonic() + READ_BUDGET
        for _ in range(READ_BATCH):
            sock = self._sock
            if sock is None:
                return
            client.loop_read()
            sock = self._sock
            if sock is None:
                return
            try:
                # paho reports "would block" as success; peek to know when the socket is drained.
                if not sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                    continue  # EOF: let paho see it and close
            except BlockingIOError:
                return
            except OSError:
                continue
            if time.monotonic() > deadline:
                return  # more is waiting: the socket stays readable and the loop comes back

    def _on_writable(self) -> None:
        if self._sock is not None:
            self._client.loop_write()

    def _on_connect(
        self,
        _client: paho.Client,
        _userdata: Any,
        _flags: Any,
        reason: ReasonCode,
        _properties: Any,
    ) -> None:
        if reason.is_failure:
            _LOGGER.warning(
                "MQTT broker %s:%s refused the connection: %s",
                self.settings.host,
                self.settings.port,
                reason,
            )
            # paho closes the socket itself after this callback (it holds its callback lock
            # here, so closing from inside would deadlock).
            return
        self.connect_count += 1
        _LOGGER.info("Connected to MQTT broker %s:%s", self.settings.host, self.settings.port)
        self._set_connected(True)
        subscriptions = list(self._sub_qos.items())
        mid = self._track_suback(self._client.subscribe(subscriptions)) if subscriptions else None
        if mid is None:
            self._release()
        else:
            # Devices answer the birth message at once: the hub must be listening first.
            self._connect_subacks = {mid}

    def _release(self) -> None:
        """Subscriptions are back: say we are here, then send what waited for the broker."""
        if not self._connected or self._ready:
            return
        self._ready = True
        birth = self.settings.birth
        if birth is not None:
            self._client.publish(birth.topic, birth.payload, birth.qos, birth.retain)
        while self._pending and self._connected:
            self._send(self._pending.popleft())
        for listener in list(self._ready_listeners):
            try:
                listener()
            except Exception:
                _LOGGER.exception("MQTT ready listener failed")

    def _on_disconnect(
        self,
        _client: paho.Client,
        _userdata: Any,
        _flags: Any,
        reason: ReasonCode,
        _properties: Any,
    ) -> None:
        if not self._stopping:
            _LOGGER.warning(
                "Lost MQTT broker %s:%s (%s)", self.settings.host, self.settings.port, reason
            )
        self._set_connected(False)

    def _on_message(self, _client: paho.Client, _userdata: Any, message: paho.MQTTMessage) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            _LOGGER.warning("Dropping MQTT message with a non-UTF-8 topic")
            return
        self.received += 1
        payload = message.payload
        if not isinstance(payload, bytes):
            payload = bytes(payload)
        self.dispatch(ReceivedMessage(topic, payload, message.qos, bool(message.retain)))

    def dispatch(self, received: ReceivedMessage) -> None:
        """Hand a message to every matching subscriber; one failing does not stop the rest."""
        topic = received.topic
        if received.retain or topic in self._retained:
            if received.payload and topic in self._router.exact_filters:
                self._retained[topic] = received
            else:
                self._retained.pop(topic, None)
        for callback in self._router.match(topic):
            try:
                callback(received)
            except Exception:
                _LOGGER.exception("Error handling MQTT message on %s", topic)

    def _on_publish(
        self, _client: paho.Client, _userdata: Any, mid: int, _reason: Any, _props: Any
    ) -> None:
        future = self._acks.pop(mid, None)
        if future is not None and not future.done():
            future.set_result(None)
