"""Garbage, truncated and unknown ZCL frames from a device, through the running hub."""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from zigpy.zcl import foundation
from zigpy.zcl.clusters.general import Basic, LevelControl, OnOff
from zigpy.zcl.clusters.lighting import Color
from zigpy.zcl.clusters.measurement import TemperatureMeasurement

from integrations.zigbee.sim.profiles import make_device

from .conftest import Home

CLUSTERS = [
    OnOff.cluster_id,
    LevelControl.cluster_id,
    Color.cluster_id,
    Basic.cluster_id,
    TemperatureMeasurement.cluster_id,  # a cluster this device does not have
    0xFC00,  # manufacturer specific
    0x1234,  # no such cluster
]


def _zcl_header(frame_control: int, manufacturer: int, tsn: int, command: int) -> bytes:
    """A ZCL header with arbitrary bits (manufacturer code only when the bit says so)."""
    out = bytes([frame_control])
    if frame_control & 0x04:
        out += manufacturer.to_bytes(2, "little")
    return out + bytes([tsn, command])


frames = st.one_of(
    st.binary(max_size=48),  # anything, including empty and truncated headers
    st.builds(
        lambda hdr, body: hdr + body,
        st.builds(
            _zcl_header,
            st.integers(0, 255),
            st.integers(0, 0xFFFF),
            st.integers(0, 255),
            st.sampled_from([0x00, 0x01, 0x02, 0x0A, 0x0B, 0x0D, 0x40, 0x41, 0x42, 0xFF]),
        ),
        st.binary(max_size=40),
    ),
)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    cluster_id=st.sampled_from(CLUSTERS),
    endpoint=st.sampled_from([1, 2, 242]),
    data=frames,
)
async def test_garbage_from_a_device_leaves_hub_and_devices_working(
    home: Home,
    caplog: pytest.LogCaptureFixture,
    cluster_id: int,
    endpoint: int,
    data: bytes,
) -> None:
    # Hypothesis reuses the fixture across examples: pair once.
    bulb = home.air.devices.get(make_device("colour_bulb").ieee)
    if bulb is None:
        bulb, plug = make_device("colour_bulb"), make_device("metering_plug")
        await home.pair(bulb, plug)
    plug = home.air.devices[make_device("metering_plug").ieee]
    caplog.set_level(logging.ERROR)

    bulb.send_raw(cluster_id, data, endpoint_id=endpoint)

    # The fuzzed device still reports (garbage may have changed its state: set both ways).
    light = home.entity(bulb, "light")
    for value, text in ((True, "on"), (False, "off")):
        bulb.set_attribute(OnOff.cluster_id, "on_off", value, force_report=True)
        await home.until_state(light, text)
    # Another device still answers commands; the hub still runs services.
    switch = home.entity(plug, "switch")
    want = "off" if home.state(switch).state == "on" else "on"
    await home.call("switch", "toggle", switch)
    await home.until_state(switch, want)
    assert home.hub.state == "running"
    _assert_nothing_escaped(caplog)


async def test_report_with_wrong_types_is_logged_not_fatal(
    home: Home, caplog: pytest.LogCaptureFixture
) -> None:
    """A well-formed report whose values have the wrong ZCL types for the attribute."""
    caplog.set_level(logging.WARNING)
    bulb = make_device("colour_bulb")
    await home.pair(bulb)
    light = home.entity(bulb, "light")
    records = [
        foundation.Attribute(
            attrid=0x0000,  # on_off, sent as a character string
            value=foundation.TypeValue(
                type=foundation.DataType.from_python_type(foundation.t.CharacterString).type_id,
                value=foundation.t.CharacterString("yes please"),
            ),
        ),
    ]
    schema = foundation.GENERAL_COMMANDS[foundation.GeneralCommand.Report_Attributes].schema
    frame = (
        foundation.ZCLHeader.general(
            tsn=1,
            command_id=foundation.GeneralCommand.Report_Attributes,
            direction=foundation.Direction.Server_to_Client,
        ).serialize()
        + schema(attribute_reports=records).serialize()
    )
    bulb.send_raw(OnOff.cluster_id, frame)
    bulb.set_attribute(OnOff.cluster_id, "on_off", True, force_report=True)
    await home.until_state(light, "on")
    _assert_nothing_escaped(caplog)
    assert "Report_Attributes" in caplog.text or "yes please" in caplog.text


def _assert_nothing_escaped(caplog: pytest.LogCaptureFixture) -> None:
    """No traceback reached the event loop's handler, the hub's task logger or ours."""
    escaped = [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.name.startswith(("asyncio", "hub", "integrations"))
    ]
    assert not escaped, [r.getMessage() for r in escaped]
