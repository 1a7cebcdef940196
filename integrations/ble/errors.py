"""BLE errors, and turning bleak's low-level failures into messages a user can act on."""

from __future__ import annotations

from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason, BleakError

__all__ = [
    "POWERED_OFF",
    "BindKeyError",
    "BindKeyRequired",
    "BluetoothUnavailable",
    "DeviceNotFound",
    "WrongBindKey",
    "explain_unavailable",
]


class BluetoothUnavailable(Exception):
    """Bluetooth cannot be used at all: no system bus, no BlueZ, no adapter, or it is off."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class DeviceNotFound(Exception):
    """The device was not seen by the scanner."""


class BindKeyError(Exception):
    """Base for bind-key problems in pairing."""


class BindKeyRequired(BindKeyError):
    """The device encrypts its adverts and no bind key was given."""


class WrongBindKey(BindKeyError):
    """A bind key was given but it does not decrypt the device's adverts (or is malformed)."""


_NO_BUS = (
    "Bluetooth is unavailable: there is no D-Bus system bus (is dbus running?). "
    "The rest of the hub keeps working."
)
_NO_BLUEZ = (
    "Bluetooth is unavailable: the BlueZ service (bluetoothd) is not running. "
    "Start it with `systemctl start bluetooth`."
)
POWERED_OFF = "Bluetooth is switched off on adapter {adapter}. Turn it on and the hub will scan."


def explain_unavailable(exc: BaseException, adapter: str | None) -> BluetoothUnavailable | None:
    """Map an exception from bleak to a clear BluetoothUnavailable, or None if it is not one."""
    name = adapter or "(default)"
    if isinstance(exc, BluetoothUnavailable):
        return exc
    # bleak raises a bare FileNotFoundError/ConnectionRefusedError when the bus socket is absent.
    if isinstance(exc, FileNotFoundError | ConnectionRefusedError):
        return BluetoothUnavailable("no_dbus", _NO_BUS)
    if isinstance(exc, BleakBluetoothNotAvailableError):
        if exc.reason is BleakBluetoothNotAvailableReason.POWERED_OFF:
            return BluetoothUnavailable("powered_off", POWERED_OFF.format(adapter=name))
        if exc.reason is BleakBluetoothNotAvailableReason.NO_BLUETOOTH:
            return BluetoothUnavailable(
                "no_adapter", "Bluetooth is unavailable: no Bluetooth adapter was found."
            )
        return BluetoothUnavailable("unavailable", f"Bluetooth is unavailable: {exc}")
    if isinstance(exc, BleakError):
        text = str(exc)
        if "org.freedesktop.DBus.Error.ServiceUnknown" in text:
            return BluetoothUnavailable("no_bluez", _NO_BLUEZ)
        if "org.bluez.Error.NotReady" in text:
            return BluetoothUnavailable("powered_off", POWERED_OFF.format(adapter=name))
        if "not found" in text and "adapter" in text.lower():
            return BluetoothUnavailable(
                "no_adapter", f"Bluetooth is unavailable: adapter {name} was not found."
            )
    return None
