"""The simulated radio under the real zigpy stack: interview, frames, debounce, garbage."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import zigpy.types as t
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from zigpy.zcl import foundation
from zigpy.zcl.clusters.general import OnOff

from integrations.zigbee.sim import SimControllerApplication
from integrations.zigbee.sim.profiles import KINDS, make_device

from .conftest import join, wait_for


@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_every_profile_is_interviewed(zapp: SimControllerApplication, kind: str) -> None:
    vdev = make_device(kind)
    await join(zapp, vdev)
    zdev: Any = zapp.get_device(ieee=vdev.ieee)
    assert zdev.model == vdev.model
    assert zdev.manufacturer == "Hearth Sim"
    ep = zdev.endpoints[1]
    assert set(ep.in_clusters) == set(vdev.endpoints[1].in_clusters)
    assert set(ep.out_clusters) == set(vdev.endpoints[1].out_clusters)


async def test_command_produces_zcl_frame_and_reply(zapp: SimControllerApplication) -> None:
    vdev = make_device("dimmable_bulb")
    await join(zapp, vdev)
    zdev: Any = zapp.get_device(ieee=vdev.ieee)
    rsp = await zdev.endpoints[1].on_off.on()
    assert rsp.status == foundation.Status.SUCCESS
    assert vdev.get(OnOff.cluster_id, "on_off") is t.Bool.true
    # zigpy may still be sending its own post-interview frames: pick ours by cluster.
    frame = [p for p in zapp.stick.sent if p.cluster_id == OnOff.cluster_id][-1]
    hdr, _ = foundation.ZCLHeader.deserialize(frame.data.serialize())
    assert frame.dst is not None and frame.dst.address == vdev.nwk and hdr.command_id == 0x01
    assert hdr.frame_control.is_cluster


async def test_long_runs_never_trip_zigpy_debounce(zapp: SimControllerApplication) -> None:
    """600 identical reads (zigpy's TSN wraps twice) and 600 identical reports all arrive."""
    vdev = make_device("metering_plug")
    await join(zapp, vdev)
    zdev: Any = zapp.get_device(ieee=vdev.ieee)
    cluster = zdev.endpoints[1].on_off
    for _ in range(600):
        result, _ = await cluster.read_attributes(["on_off"], allow_cache=False)
        assert result == {"on_off": t.Bool.false}
    seen: list[object] = []
    cluster.on_all_events(lambda event: seen.append(event))
    for _ in range(600):
        vdev.report(OnOff.cluster_id, ["on_off"])
    await wait_for(lambda: len(seen) >= 600)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    cluster_id=st.sampled_from([0x0006, 0x0008, 0x0300, 0x0402, 0xFC00, 0x1234, 0x0000]),
    payload=st.binary(max_size=40),
)
async def test_garbage_frames_do_not_break_the_device(
    zapp: SimControllerApplication, cluster_id: int, payload: bytes
) -> None:
    # Hypothesis shares the fixture across examples: join once.
    vdev = zapp.stick.air.devices.get(make_device("dimmable_bulb").ieee)
    if vdev is None:
        vdev = make_device("dimmable_bulb")
        await join(zapp, vdev)
    zdev: Any = zapp.get_device(ieee=vdev.ieee)
    vdev.send_raw(cluster_id, payload)  # device -> coordinator garbage
    # Let the garbage land first: a random frame can carry the TSN of a pending request.
    await asyncio.sleep(0.01)
    await zdev.request(  # coordinator -> device garbage
        0x0104, cluster_id, 1, 1, zdev.get_sequence(), payload, expect_reply=False
    )
    # And the device's answer to it: that garbage carries its own TSN, which may be the one
    # the toggle below takes (seen: its UNSUP_CLUSTER_COMMAND taken for the toggle's reply).
    await asyncio.sleep(0.05)
    rsp = await zdev.endpoints[1].on_off.toggle()
    assert rsp.status == foundation.Status.SUCCESS
