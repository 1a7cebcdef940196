"""Firmware updates through zigpy's OTA, from the local image folder, with progress events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

import zigpy.device
import zigpy.exceptions
import zigpy.ota.image as ota_image
import zigpy.types as t
from zigpy.ota import OtaImageWithMetadata
from zigpy.ota.manager import update_firmware
from zigpy.zcl import ClusterType, foundation
from zigpy.zcl.clusters.general import Ota, QueryNextImageCommand

__all__ = [
    "OtaProgress",
    "async_find_update",
    "async_update_device",
    "build_ota_image",
]

_LOGGER = logging.getLogger(__name__)
# How long a device may take to answer Image Notify with its query (sleepy ones wake slowly).
NOTIFY_WAIT_S = 5.0


@dataclass(frozen=True, slots=True)
class OtaProgress:
    """One step of an update: stage is started, progress, done or failed."""

    ieee: str
    stage: str
    percent: float = 0.0
    version: int | None = None
    reason: str | None = None


def build_ota_image(
    manufacturer_id: int, image_type: int, file_version: int, payload: bytes
) -> bytes:
    """Serialise a standard ZCL OTA file (header + one upgrade-image sub-element)."""
    element = ota_image.SubElement(
        tag_id=ota_image.ElementTagId.UPGRADE_IMAGE, data=ota_image.LVBytes32(payload)
    )
    header_len = 56
    header = ota_image.OTAImageHeader(
        upgrade_file_id=ota_image.OTAImageHeader.MAGIC_VALUE,
        header_version=0x0100,
        header_length=header_len,
        field_control=ota_image.FieldControl(0),
        manufacturer_id=manufacturer_id,
        image_type=image_type,
        file_version=file_version,
        stack_version=2,
        header_string=ota_image.HeaderString("Hearth OTA image"),
        image_size=header_len + len(element.serialize()),
    )
    return ota_image.OTAImage(header=header, subelements=[element]).serialize()


def _ota_client(device: zigpy.device.ZigbeeDevice) -> Ota | None:
    try:
        cluster = device.find_cluster(Ota.cluster_id, ClusterType.Client)
    except ValueError:
        return None
    return cluster if isinstance(cluster, Ota) else None


async def async_find_update(device: zigpy.device.ZigbeeDevice) -> OtaImageWithMetadata | None:
    """The newest compatible image in the local folder newer than the device's firmware."""
    cluster = _ota_client(device)
    if cluster is None:
        return None
    query = device.get_last_ota_query_cmd()
    if query is None:
        query = await _async_ask_for_query(device, cluster)
    if query is None:
        # The device stays silent: describe it from what the interview read (its image
        # type is unknown, so only images that do not name one can match).
        version = cluster.get(Ota.AttributeDefs.current_file_version.name)
        if version is None:
            rsp, _ = await cluster.read_attributes(["current_file_version"])
            version = rsp.get("current_file_version", 0)
        node_desc = device.node_desc
        query = QueryNextImageCommand(
            field_control=Ota.QueryNextImageCommand.FieldControl(0),
            manufacturer_code=node_desc.manufacturer_code if node_desc else 0,
            image_type=0,
            current_file_version=t.uint32_t(version),
        )
    result = await device.application.ota.get_ota_images(device, query)
    return result.upgrades[0] if result.upgrades else None


async def _async_ask_for_query(
    device: zigpy.device.ZigbeeDevice, cluster: Ota, wait_s: float = NOTIFY_WAIT_S
) -> QueryNextImageCommand | None:
    """Send Image Notify so the device asks for an image, telling us its image type."""
    try:
        await cluster.image_notify(
            payload_type=Ota.ImageNotifyCommand.PayloadType.QueryJitter, query_jitter=100
        )
    except (TimeoutError, zigpy.exceptions.ZigbeeException) as err:
        _LOGGER.debug("zigbee OTA: image notify to %s failed: %r", device.ieee, err)
        return None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    # zigpy's own OTA handler caches the query; there is no event to await.
    while (query := device.get_last_ota_query_cmd()) is None and loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    return query


async def async_update_device(
    device: zigpy.device.ZigbeeDevice,
    image: OtaImageWithMetadata,
    report: Callable[[OtaProgress], None],
) -> bool:
    """Send `image` to the device, reporting progress; True when the device applied it."""
    ieee = str(device.ieee)
    version = int(image.version)
    report(OtaProgress(ieee, "started", 0.0, version))
    last = -1

    def on_progress(current: int, total: int, percent: float) -> None:
        nonlocal last
        # Report whole percents only: block-level callbacks would flood the bus.
        if int(percent) != last:
            last = int(percent)
            report(OtaProgress(ieee, "progress", round(percent, 1), version))

    # Keep zigpy's Ota cluster from answering the device's queries while we drive it.
    device.ota_in_progress = True
    try:
        status = await update_firmware(device, image, on_progress)
    except Exception as err:  # a failed update is reported, never raised into the hub
        _LOGGER.warning("zigbee OTA of %s failed: %r", ieee, err)
        report(OtaProgress(ieee, "failed", 0.0, version, repr(err)))
        return False
    finally:
        device.ota_in_progress = False
    if status != foundation.Status.SUCCESS:
        report(OtaProgress(ieee, "failed", 0.0, version, f"device answered {status!r}"))
        return False
    cluster = _ota_client(device)
    if cluster is not None:
        await cluster.read_attributes(["current_file_version"], allow_cache=False)
    report(OtaProgress(ieee, "done", 100.0, version))
    return True
