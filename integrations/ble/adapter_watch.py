"""Notice Bluetooth being switched off or on at run time (bleak does not report it)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from dbus_fast import BusType, Message, MessageType
from dbus_fast.aio import MessageBus

__all__ = ["AdapterWatch"]

_LOGGER = logging.getLogger(__name__)

_ADAPTER_IFACE = "org.bluez.Adapter1"
_MATCH = (
    "type='signal',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
    f"path_namespace='/org/bluez',arg0='{_ADAPTER_IFACE}'"
)


class AdapterWatch:
    """Calls `on_powered(adapter, powered)` when an adapter's Powered property changes."""

    def __init__(self, on_powered: Callable[[str, bool], None]) -> None:
        self._on_powered = on_powered
        self._bus: MessageBus | None = None

    async def async_start(self) -> None:
        """Subscribe on the system bus; raises what dbus_fast raises if there is no bus."""
        bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
        reply = await bus.call(
            Message(
                destination="org.freedesktop.DBus",
                path="/org/freedesktop/DBus",
                interface="org.freedesktop.DBus",
                member="AddMatch",
                signature="s",
                body=[_MATCH],
            )
        )
        if reply is None or reply.message_type == MessageType.ERROR:
            bus.disconnect()
            raise ConnectionError(f"cannot watch BlueZ adapters: {reply and reply.body}")
        bus.add_message_handler(self._on_message)
        self._bus = bus

    def stop(self) -> None:
        bus, self._bus = self._bus, None
        if bus is not None:
            with contextlib.suppress(Exception):
                bus.disconnect()

    def _on_message(self, message: Message) -> None:
        if message.message_type != MessageType.SIGNAL or message.member != "PropertiesChanged":
            return
        try:
            interface, changed = message.body[0], message.body[1]
            if interface != _ADAPTER_IFACE or "Powered" not in changed or not message.path:
                return
            powered = bool(changed["Powered"].value)
        except (IndexError, AttributeError, TypeError):
            return
        adapter = message.path.rsplit("/", 1)[-1]
        try:
            self._on_powered(adapter, powered)
        except Exception:
            _LOGGER.exception("Adapter power handler failed")
