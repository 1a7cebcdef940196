"""Radio selection: build the zigpy ControllerApplication named by the configuration."""

from __future__ import annotations

import functools
import importlib
import logging
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zigpy.application
import zigpy.config as zconf

__all__ = [
    "RADIO_TYPES",
    "RadioConfig",
    "RadioDeviceMissing",
    "RadioLibraryMissing",
    "check_device_path",
    "controller_class",
    "guard_receive",
    "zigpy_config",
]

_LOGGER = logging.getLogger(__name__)

# radio type -> (module, class, pip package); real sticks come from optional extras.
RADIO_TYPES: dict[str, tuple[str, str, str]] = {
    "sim": ("integrations.zigbee.sim.radio", "SimControllerApplication", "hearth"),
    "znp": ("zigpy_znp.zigbee.application", "ControllerApplication", "zigpy-znp"),
    "ezsp": ("bellows.zigbee.application", "ControllerApplication", "bellows"),
}


SIM_SCHEME = "sim://"
# zigpy radio libraries also reach network-attached coordinators (e.g. socket://host:port).
NETWORK_SCHEMES = ("socket://", "tcp://")


class RadioLibraryMissing(RuntimeError):
    """The radio library for the configured radio type is not installed."""


class RadioDeviceMissing(RuntimeError):
    """The configured radio device path does not exist or is not a serial device."""


@dataclass(frozen=True, slots=True)
class RadioConfig:
    """Which radio to drive and where it is."""

    radio: str
    device: str
    baudrate: int | None = None
    channel: int | None = 15
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RadioConfig:
        """Build from the integration's config block; ValueError says what is wrong.

        The simulated stick runs only when named (`radio: sim`): a real stick configured
        without `radio:` must never quietly become a simulation the owner takes for real.
        """
        radio = data.get("radio")
        device = data.get("device")
        if radio is None:
            shown = f" for device {device}" if device else ""
            raise ValueError(
                f"name the radio{shown}: radio: znp (TI) or ezsp (Silicon Labs), "
                "or radio: sim for the simulated stick"
            )
        radio = str(radio)
        if radio not in RADIO_TYPES:
            raise ValueError(f"unknown zigbee radio {radio!r}; choose one of {sorted(RADIO_TYPES)}")
        if radio == "sim":
            device = str(device or f"{SIM_SCHEME}hearth")
            if not device.startswith(SIM_SCHEME):
                raise ValueError(
                    f"radio: sim is the simulated stick, but device {device} is not sim://NAME; "
                    "name the real radio type (znp or ezsp) to use it"
                )
        else:
            if not device:
                raise ValueError(f"radio: {radio} needs device: the stick's serial port")
            device = str(device)
            if device.startswith(SIM_SCHEME):
                raise ValueError(f"device {device} is the simulated stick: set radio: sim")
        return cls(
            radio=radio,
            device=device,
            baudrate=data.get("baudrate"),
            channel=data.get("channel", 15),
            extra=dict(data.get("zigpy", {})),
        )


def check_device_path(radio: RadioConfig) -> None:
    """Refuse a serial device that is missing or not a character device (blocking: a stat)."""
    if radio.radio == "sim" or radio.device.startswith(NETWORK_SCHEMES):
        return
    path = Path(radio.device)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise RadioDeviceMissing(
            f"zigbee radio device {radio.device} does not exist (is the stick plugged in?)"
        ) from None
    except OSError as err:
        raise RadioDeviceMissing(f"zigbee radio device {radio.device}: {err.strerror}") from None
    if not stat.S_ISCHR(mode):
        raise RadioDeviceMissing(
            f"zigbee radio device {radio.device} is not a serial device "
            "(expected a character device such as /dev/ttyUSB0 or /dev/serial/by-id/...)"
        )


def controller_class(radio: str) -> type[zigpy.application.ControllerApplication]:
    """Import the controller class for `radio` lazily, with a clear error if missing."""
    module_name, class_name, package = RADIO_TYPES[radio]
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise RadioLibraryMissing(
            f"zigbee radio {radio!r} needs the Python package {package!r}: "
            f"install it with `pip install 'hearth[radios]'` (or `pip install {package}`)"
        ) from err
    cls: type[zigpy.application.ControllerApplication] = getattr(module, class_name)
    return cls


def zigpy_config(radio: RadioConfig, *, database: Path, ota_dir: Path | None) -> dict[str, Any]:
    """The zigpy configuration dict for `radio`, with Hearth's safe defaults."""
    device: dict[str, Any] = {zconf.CONF_DEVICE_PATH: radio.device}
    if radio.baudrate is not None:
        device[zconf.CONF_DEVICE_BAUDRATE] = radio.baudrate
    providers: list[dict[str, Any]] = []
    if ota_dir is not None:
        providers.append(
            {
                "type": "advanced",
                "path": str(ota_dir),
                "warning": zconf.CONF_OTA_ALLOW_ADVANCED_DIR_STRING,
            }
        )
    config: dict[str, Any] = {
        zconf.CONF_DEVICE: device,
        zconf.CONF_DATABASE: str(database),
        # Offline-first: only the local image folder, never the vendors' servers.
        zconf.CONF_OTA: {
            zconf.CONF_OTA_ENABLED: bool(providers),
            zconf.CONF_OTA_PROVIDERS: providers,
            zconf.CONF_OTA_BROADCAST_ENABLED: False,
        },
        zconf.CONF_TOPO_SCAN_ENABLED: False,
        # Hearth keeps its own backups (backup.py); zigpy's periodic ones stay on too.
        zconf.CONF_NWK_BACKUP_ENABLED: True,
        zconf.CONF_NWK: {} if radio.channel is None else {zconf.CONF_NWK_CHANNEL: radio.channel},
    }
    config.update(radio.extra)
    return config


def guard_receive(app: zigpy.application.ControllerApplication) -> None:
    """Make a bad frame from a device cost only that frame, whatever the radio library.

    zigpy raises out of `packet_received` on some malformed input (a report whose value does
    not fit the attribute's type); radio libraries call it from their serial protocol code,
    where an exception can break the link. Wrapped per instance, so every radio is covered.
    """
    receive = app.packet_received

    @functools.wraps(receive)
    def packet_received(packet: Any) -> None:
        try:
            receive(packet)
        except Exception:
            _LOGGER.warning("zigbee: dropped a frame zigpy could not handle: %r", packet)
            _LOGGER.debug("zigbee: frame handling failed", exc_info=True)

    app.packet_received = packet_received  # type: ignore[method-assign]
