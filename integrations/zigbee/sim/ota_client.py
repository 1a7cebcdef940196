"""OTA upgrade client behaviour of a virtual device (the device side of ZCL OTA)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zigpy.ota.image import parse_ota_image
from zigpy.zcl import foundation
from zigpy.zcl.clusters.general import Ota

if TYPE_CHECKING:
    from .device import CommandHandler, VirtualCluster, VirtualDevice

__all__ = ["BLOCK_SIZE", "OtaProgress", "ota_client_handlers"]

_LOGGER = logging.getLogger(__name__)
BLOCK_SIZE = 48


@dataclass(slots=True)
class OtaProgress:
    """Download state of an upgrade in flight on a virtual device."""

    file_version: int = 0
    image_size: int = 0
    data: bytearray = field(default_factory=bytearray)
    applied_versions: list[int] = field(default_factory=list)


def ota_client_handlers(image_type: int) -> dict[tuple[int, int], CommandHandler]:
    """Handlers for server-to-client OTA commands on a device's OTA client cluster."""
    cid = int(Ota.cluster_id)
    defs = Ota.ClientCommandDefs

    def state(device: VirtualDevice) -> OtaProgress:
        progress = getattr(device, "ota_progress", None)
        if progress is None:
            progress = OtaProgress()
            device.ota_progress = progress  # type: ignore[attr-defined]
        return progress

    def current_version(cluster: VirtualCluster) -> int:
        return int(cluster.attributes.get(Ota.AttributeDefs.current_file_version.id, 0))

    def on_notify(device: VirtualDevice, cluster: VirtualCluster, cmd: Any) -> None:
        device.send_command(
            Ota,
            "query_next_image",
            endpoint_id=device.endpoint_of(cluster),
            field_control=Ota.QueryNextImageCommand.FieldControl(0),
            manufacturer_code=device.manufacturer_code,
            image_type=image_type,
            current_file_version=current_version(cluster),
        )

    def request_block(device: VirtualDevice, cluster: VirtualCluster, offset: int) -> None:
        progress = state(device)
        device.send_command(
            Ota,
            "image_block",
            endpoint_id=device.endpoint_of(cluster),
            field_control=Ota.ImageBlockCommand.FieldControl(0),
            manufacturer_code=device.manufacturer_code,
            image_type=image_type,
            file_version=progress.file_version,
            file_offset=offset,
            maximum_data_size=BLOCK_SIZE,
        )

    def on_query_response(device: VirtualDevice, cluster: VirtualCluster, cmd: Any) -> None:
        if cmd.status != foundation.Status.SUCCESS:
            return
        progress = state(device)
        progress.file_version = int(cmd.file_version)
        progress.image_size = int(cmd.image_size)
        progress.data = bytearray()
        request_block(device, cluster, 0)

    def on_block_response(device: VirtualDevice, cluster: VirtualCluster, cmd: Any) -> None:
        progress = state(device)
        if cmd.status != foundation.Status.SUCCESS or cmd.file_offset != len(progress.data):
            return
        progress.data += bytes(cmd.image_data)
        if len(progress.data) < progress.image_size:
            request_block(device, cluster, len(progress.data))
            return
        status = foundation.Status.SUCCESS
        try:
            image, _ = parse_ota_image(bytes(progress.data))
            if image.header.file_version != progress.file_version:
                status = foundation.Status.INVALID_IMAGE
        except Exception:  # a corrupt download is refused, as a device would
            _LOGGER.debug("%s: downloaded OTA image is invalid", device.model, exc_info=True)
            status = foundation.Status.INVALID_IMAGE
        device.send_command(
            Ota,
            "upgrade_end",
            endpoint_id=device.endpoint_of(cluster),
            status=status,
            manufacturer_code=device.manufacturer_code,
            image_type=image_type,
            file_version=progress.file_version,
        )

    def on_end_response(device: VirtualDevice, cluster: VirtualCluster, cmd: Any) -> None:
        progress = state(device)
        cluster.attributes[Ota.AttributeDefs.current_file_version.id] = (
            Ota.AttributeDefs.current_file_version.type(progress.file_version)
        )
        device.firmware_version = progress.file_version
        progress.applied_versions.append(progress.file_version)

    return {
        (cid, int(defs.image_notify.id)): on_notify,
        (cid, int(defs.query_next_image_response.id)): on_query_response,
        (cid, int(defs.image_block_response.id)): on_block_response,
        (cid, int(defs.upgrade_end_response.id)): on_end_response,
    }
