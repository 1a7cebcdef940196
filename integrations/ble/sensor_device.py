"""One advertising sensor (BTHome or Xiaomi): adverts in, entity states out, silence = unavailable."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from habluetooth import BluetoothServiceInfoBleak

from hub.entity import DeviceInfo

from .entities import AdvertBinarySensor, AdvertSensor, make_entity
from .parsers import AdvertParser, ParseOutcome, parse_bind_key
from .store import PairedDevice

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = ["AdvertSensorDevice"]

_LOGGER = logging.getLogger(__name__)


class AdvertSensorDevice:
    """Parses one device's adverts; adds an entity per new reading and updates the others."""

    def __init__(
        self, hub: Hub, domain: str, paired: PairedDevice, unavailable_after: float
    ) -> None:
        if paired.kind not in ("bthome", "xiaomi"):
            raise ValueError(f"{paired.kind} is not an advertising sensor")
        self.hub = hub
        self.domain = domain
        self.paired = paired
        self.address = paired.address
        self.unavailable_after = unavailable_after
        self.parser = AdvertParser(
            paired.address, paired.kind, parse_bind_key(paired.bind_key, paired.kind)
        )
        self.entities: dict[str, AdvertSensor | AdvertBinarySensor] = {}
        self.last_seen: float | None = None
        self.available = False
        self._device_info: DeviceInfo | None = None
        self._adding: set[asyncio.Task[list[str]]] = set()

    def async_set_bind_key(self, bind_key: str | None) -> None:
        """Use a new bind key (the device was re-keyed and paired again)."""
        self.parser = AdvertParser(
            self.address, self.parser.family, parse_bind_key(bind_key, self.parser.family)
        )

    def on_advert(self, info: BluetoothServiceInfoBleak) -> None:
        """Handle one advert from this device (in the event loop, from the scanner)."""
        self.last_seen = info.time
        outcome = self.parser.parse(info)
        if outcome is None:
            return
        self.available = True
        fresh = []
        for reading in outcome.readings:
            entity = self.entities.get(reading.key)
            if entity is None:
                entity = make_entity(self.address, self.paired.name, self._info(outcome), reading)
                self.entities[reading.key] = entity
                fresh.append(entity)
                continue
            entity.apply(reading)
            entity.rssi = info.rssi
            entity.available = True
            entity.async_write_state()
        if fresh:
            task = self.hub.async_create_task(
                self.hub.entities.async_add(self.domain, fresh), f"ble-add-{self.address}"
            )
            self._adding.add(task)
            task.add_done_callback(self._adding.discard)

    async def async_wait_added(self) -> None:
        """Wait until entities created by earlier adverts are registered in the hub."""
        if self._adding:
            await asyncio.gather(*self._adding, return_exceptions=True)

    def check_available(self, now: float) -> None:
        """Mark every entity unavailable once the device has been silent for too long."""
        if not self.available:
            return
        if self.last_seen is not None and now - self.last_seen <= self.unavailable_after:
            return
        _LOGGER.info(
            "%s (%s) not heard for %g s: unavailable",
            self.paired.name,
            self.address,
            self.unavailable_after,
        )
        self.available = False
        for entity in self.entities.values():
            entity.async_set_available(False)

    def _info(self, outcome: ParseOutcome) -> DeviceInfo:
        if self._device_info is None:
            self._device_info = DeviceInfo(
                identifiers=(("ble", self.address),),
                name=self.paired.name,
                manufacturer=outcome.manufacturer,
                model=outcome.model,
            )
        return self._device_info
