"""A kept-up GATT connection: bleak-retry-connector to connect, reconnect when the link drops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak_retry_connector import BleakClientWithServiceCache, establish_connection, get_device

__all__ = ["GattLink", "GattUnavailable"]

_LOGGER = logging.getLogger(__name__)

DEFAULT_BACKOFF = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


class GattUnavailable(Exception):
    """The device is not connected (or did not answer in time)."""


class GattLink:
    """Owns one device's connection; request/response over a write and a notify characteristic."""

    def __init__(
        self,
        address: str,
        name: str,
        get_device: Callable[[], BLEDevice | None],
        notify_uuid: str,
        on_notify: Callable[[bytes], None],
        on_link_change: Callable[[bool], None],
        backoff: Sequence[float] = DEFAULT_BACKOFF,
        max_attempts: int = 3,
    ) -> None:
        self.address = address
        self.name = name
        self._get_device = get_device
        self._notify_uuid = notify_uuid
        self._on_notify = on_notify
        self._on_link_change = on_link_change
        self._backoff = tuple(backoff)
        self._max_attempts = max_attempts
        self._client: BleakClientWithServiceCache | None = None
        self._task: asyncio.Task[None] | None = None
        self._dropped = asyncio.Event()
        self._up = asyncio.Event()
        self._lock = asyncio.Lock()
        self._reply: asyncio.Future[bytes] | None = None
        self.connects = 0

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.is_connected

    async def async_start(self) -> None:
        """Start keeping the link up in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._keep_up(), name=f"ble-gatt-{self.address}")

    async def async_stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._disconnect()

    async def async_wait_connected(self, limit: float) -> None:
        """Wait until the link is up; GattUnavailable after `limit` seconds."""
        try:
            async with asyncio.timeout(limit):
                await self._up.wait()
        except TimeoutError:
            raise GattUnavailable(f"{self.name} did not connect within {limit:g} s") from None

    async def async_request(self, write_uuid: str, payload: bytes, limit: float = 10.0) -> bytes:
        """Write `payload` and return the next notification; one request at a time."""
        async with self._lock:
            client = self._client
            if client is None or not client.is_connected:
                raise GattUnavailable(f"{self.name} is not connected")
            loop = asyncio.get_running_loop()
            self._reply = reply = loop.create_future()
            try:
                await client.write_gatt_char(write_uuid, payload, response=True)
                async with asyncio.timeout(limit):
                    return await reply
            except TimeoutError:
                raise GattUnavailable(f"{self.name} did not answer within {limit:g} s") from None
            except GattUnavailable:
                raise
            except Exception as exc:
                raise GattUnavailable(f"{self.name}: {exc}") from exc
            finally:
                self._reply = None

    async def _keep_up(self) -> None:
        failures = 0
        while True:
            try:
                await self._connect()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                delay = self._backoff[min(failures, len(self._backoff) - 1)]
                failures += 1
                # Warn once per outage; a bulb out of range for hours must not flood the log.
                log = _LOGGER.warning if failures == 1 else _LOGGER.debug
                log("%s: connect failed (%s); retrying in %g s", self.name, exc, delay)
                await asyncio.sleep(delay)
                continue
            failures = 0
            self._on_link_change(True)
            await self._dropped.wait()
            _LOGGER.info("%s: link dropped; reconnecting", self.name)
            self._on_link_change(False)
            await self._disconnect()
            await asyncio.sleep(self._backoff[0])

    async def _connect(self) -> None:
        # BlueZ remembers devices heard before the scanner started: ask it when we have no advert.
        device = self._get_device() or await get_device(self.address)
        if device is None:
            raise GattUnavailable("not seen by the scanner or BlueZ yet")
        self._dropped.clear()
        client = await establish_connection(
            BleakClientWithServiceCache,
            device,
            self.name,
            disconnected_callback=self._on_disconnected,
            max_attempts=self._max_attempts,
        )
        try:
            await client.start_notify(self._notify_uuid, self._notified)
        except BaseException:
            with contextlib.suppress(Exception):
                await client.disconnect()
            raise
        self._client = client
        self._up.set()
        self.connects += 1
        _LOGGER.info("%s: connected", self.name)

    async def _disconnect(self) -> None:
        client, self._client = self._client, None
        self._up.clear()
        if client is not None:
            with contextlib.suppress(Exception):
                await client.disconnect()

    def _on_disconnected(self, _client: BleakClientWithServiceCache) -> None:
        reply = self._reply
        if reply is not None and not reply.done():
            reply.set_exception(GattUnavailable(f"{self.name} disconnected"))
        self._up.clear()
        self._dropped.set()

    def _notified(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        payload = bytes(data)
        reply = self._reply
        if reply is not None and not reply.done():
            reply.set_result(payload)
        try:
            self._on_notify(payload)
        except Exception:
            _LOGGER.exception("%s: notification handler failed", self.name)
