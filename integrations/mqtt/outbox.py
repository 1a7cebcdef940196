"""Commands held for one device until it is listening again, each valid for a limited time.

After the broker or the hub reconnects, a device may not have re-subscribed yet; a QoS 1
command published then is acknowledged by the broker and lost. So a command is sent only when
the client is re-subscribed (see ``MqttClient.ready``), the device says it is there, and the
device was heard from live on this connection (or ``confirm_grace`` passed without word from
it). Until then it waits here; past its expiry it is dropped and reported, so a stale "unlock"
is never sent late.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .client import MqttClient

_LOGGER = logging.getLogger(__name__)

DELIVERED = "delivered"
QUEUED = "queued"
EXPIRED = "expired"
DROPPED = "dropped"
FAILED = "failed"


@dataclass(frozen=True)
class DeliveryPolicy:
    """How long held commands stay valid and when a silent device is trusted again."""

    expiry: float = 30.0
    confirm_grace: float = 5.0
    max_held: int = 100
    # How long a service call waits for the broker's PUBACK before answering "queued".
    ack_wait: float = 1.0


@dataclass
class _Held:
    topic: str
    payload: str | bytes
    qos: int
    retain: bool
    expires: float
    outcome: asyncio.Future[str]
    timer: asyncio.TimerHandle | None = None


class Outbox:
    """The held commands of one entity, released in order when its device is back."""

    def __init__(
        self,
        client: MqttClient,
        policy: DeliveryPolicy,
        present: Callable[[], bool],
        on_lost: Callable[[str, str], None],
    ) -> None:
        self.client = client
        self.policy = policy
        self._present = present
        self._on_lost = on_lost
        self._held: deque[_Held] = deque()
        self._confirmed_epoch = -1
        self._grace_epoch = -1
        self._grace_timer: asyncio.TimerHandle | None = None
        self._unsub = client.add_ready_listener(self._on_client_ready)
        if client.ready:
            self._on_client_ready()
        self.expired = 0
        self.delivered = 0

    @property
    def held(self) -> int:
        return len(self._held)

    @property
    def ready(self) -> bool:
        """The client is re-subscribed and the device is known to listen on this connection."""
        epoch = self.client.connect_count
        return (
            self.client.ready
            and self._present()
            and epoch in (self._confirmed_epoch, self._grace_epoch)
        )

    def submit(
        self, topic: str, payload: str | bytes, qos: int, retain: bool
    ) -> asyncio.Future[str]:
        """Send now or hold; the future says what finally happened (delivered/expired/...)."""
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future[str] = loop.create_future()
        item = _Held(topic, payload, qos, retain, time.monotonic() + self.policy.expiry, outcome)
        if self.ready and not self._held:
            self._send(item)
            return outcome
        if len(self._held) >= self.policy.max_held:
            self._lose(self._held.popleft(), DROPPED)
        item.timer = loop.call_later(self.policy.expiry, self._expire, item)
        self._held.append(item)
        return outcome

    def confirm(self) -> None:
        """The device spoke live on this connection: it has reconnected and subscribed."""
        self._confirmed_epoch = self.client.connect_count
        self.flush()

    def flush(self) -> None:
        """Send what is held, oldest first, if the device is listening."""
        while self._held and self.ready:
            item = self._held.popleft()
            if item.timer is not None:
                item.timer.cancel()
            if time.monotonic() >= item.expires:
                self._lose(item, EXPIRED)
                continue
            self._send(item)

    def close(self) -> None:
        """Stop: what is still held is reported dropped."""
        self._unsub()
        if self._grace_timer is not None:
            self._grace_timer.cancel()
        while self._held:
            item = self._held.popleft()
            if item.timer is not None:
                item.timer.cancel()
            if not item.outcome.done():
                item.outcome.set_result(DROPPED)

    # -- internals ----------------------------------------------------------------------

    def _on_client_ready(self) -> None:
        if self._grace_timer is not None:
            self._grace_timer.cancel()
        epoch = self.client.connect_count
        self._grace_timer = asyncio.get_running_loop().call_later(
            self.policy.confirm_grace, self._grace_over, epoch
        )
        self.flush()

    def _grace_over(self, epoch: int) -> None:
        self._grace_timer = None
        self._grace_epoch = epoch
        self.flush()

    def _send(self, item: _Held) -> None:
        try:
            ack = self.client.async_publish(item.topic, item.payload, item.qos, item.retain)
        except ValueError:
            item.outcome.set_result(FAILED)
            return
        if ack is None:
            item.outcome.set_result(DELIVERED)
            return

        def acked(future: asyncio.Future[None]) -> None:
            if item.outcome.done():
                return
            if future.cancelled() or future.exception() is not None:
                self._lose(item, FAILED)
            else:
                self.delivered += 1
                item.outcome.set_result(DELIVERED)

        ack.add_done_callback(acked)

    def _expire(self, item: _Held) -> None:
        try:
            self._held.remove(item)
        except ValueError:
            return
        self._lose(item, EXPIRED)

    def _lose(self, item: _Held, why: str) -> None:
        if why == EXPIRED:
            self.expired += 1
        if not item.outcome.done():
            item.outcome.set_result(why)
        self._on_lost(item.topic, why)
