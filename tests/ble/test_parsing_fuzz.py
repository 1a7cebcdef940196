"""Property tests: arbitrary advert and GATT bytes never raise, and good data round-trips."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
from bleak.backends.device import BLEDevice
from habluetooth import BluetoothServiceInfoBleak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.ble import switchbot_bulb as proto
from integrations.ble.pairing import recognise
from integrations.ble.parsers import AdvertParser, detect_family, parse_bind_key

from .adverts import BTHOME_UUID, MIBEACON_UUID, bthome_objects, bthome_v2

ADDR = "A4:C1:38:00:00:41"
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _info(
    service_data: dict[str, bytes], manufacturer: dict[int, bytes] | None = None
) -> BluetoothServiceInfoBleak:
    return BluetoothServiceInfoBleak(
        name="fuzz",
        address=ADDR,
        rssi=-70,
        manufacturer_data=manufacturer or {},
        service_data=service_data,
        service_uuids=[],
        source="hci0",
        device=BLEDevice(ADDR, "fuzz", {}),
        advertisement=None,
        connectable=True,
        time=time.monotonic(),
        tx_power=None,
    )


@pytest.fixture(autouse=True)
def _quiet_libraries() -> Iterator[None]:
    # Thousands of malformed adverts: keep the expected warnings out of the test output.
    loggers = [logging.getLogger(n) for n in ("bthome_ble", "xiaomi_ble", "integrations.ble")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


@FUZZ
@given(
    uuid=st.sampled_from([BTHOME_UUID, MIBEACON_UUID, "0000181e-0000-1000-8000-00805f9b34fb"]),
    payload=st.binary(max_size=64),
    key=st.one_of(st.none(), st.binary(min_size=16, max_size=16)),
)
def test_random_service_data_never_raises(uuid: str, payload: bytes, key: bytes | None) -> None:
    info = _info({uuid: payload})
    family = detect_family(info)
    assert family is not None
    outcome = AdvertParser(ADDR, family, key).parse(info)
    assert outcome is None or all(r.key != "packet_id" for r in outcome.readings)
    recognise(info)


@FUZZ
@given(
    temperature=st.floats(min_value=-40, max_value=85).map(lambda t: round(t, 2)),
    humidity=st.floats(min_value=0, max_value=100).map(lambda h: round(h, 2)),
    cut=st.integers(min_value=1, max_value=20),
)
def test_truncated_bthome_never_raises_and_full_one_parses(
    temperature: float, humidity: float, cut: int
) -> None:
    full = bthome_v2(bthome_objects(temperature=temperature, humidity=humidity))
    outcome = AdvertParser(ADDR, "bthome").parse(_info({BTHOME_UUID: full}))
    assert outcome is not None
    values = {r.key: r.value for r in outcome.readings}
    assert values["temperature"] == pytest.approx(temperature, abs=0.006)
    assert values["humidity"] == pytest.approx(humidity, abs=0.006)
    AdvertParser(ADDR, "bthome").parse(_info({BTHOME_UUID: full[: max(0, len(full) - cut)]}))


@FUZZ
@given(
    key=st.binary(min_size=16, max_size=16),
    wrong=st.binary(min_size=16, max_size=16),
    counter=st.integers(min_value=0, max_value=2**32 - 1),
    temperature=st.integers(min_value=-4000, max_value=8500).map(lambda t: t / 100),
)
def test_encrypted_bthome_only_opens_with_its_key(
    key: bytes, wrong: bytes, counter: int, temperature: float
) -> None:
    sealed = {
        BTHOME_UUID: bthome_v2(
            bthome_objects(temperature=temperature), key=key, mac=ADDR, counter=counter
        )
    }
    good = AdvertParser(ADDR, "bthome", key)
    outcome = good.parse(_info(sealed))
    assert outcome is not None and outcome.encrypted and outcome.key_verified
    assert outcome.readings[0].value == pytest.approx(temperature)
    if wrong != key:
        bad = AdvertParser(ADDR, "bthome", wrong)
        assert bad.parse(_info(sealed)) is None
        assert bad.encrypted and not bad.key_verified


@FUZZ
@given(data=st.binary(max_size=32), manufacturer=st.binary(max_size=32))
def test_bulb_packets_never_raise(data: bytes, manufacturer: bytes) -> None:
    state = proto.parse_response(data)
    if state is not None:
        assert 0 <= state.level <= 100 and data[0] == 0x01
    info = _info({proto.SERVICE_DATA_UUID: data[:1]}, {proto.COMPANY_ID: manufacturer})
    proto.parse_advert(info)
    proto.is_color_bulb(info)


@FUZZ
@given(
    level=st.integers(min_value=-10, max_value=300),
    rgb=st.tuples(*[st.integers(min_value=-5, max_value=300)] * 3),
    kelvin=st.integers(min_value=0, max_value=20000),
)
def test_bulb_requests_stay_in_the_documented_ranges(
    level: int, rgb: tuple[int, int, int], kelvin: int
) -> None:
    packet = proto.req_rgb(level, rgb)
    assert packet[:5] == bytes.fromhex("570f470112") and len(packet) == 9
    assert 0 <= packet[5] <= 100
    packet = proto.req_color_temp(level, kelvin)
    assert proto.MIN_KELVIN <= int.from_bytes(packet[6:8], "big") <= proto.MAX_KELVIN


@pytest.mark.parametrize(
    ("text", "problem"),
    [("abc", "hexadecimal"), ("00" * 15, "32 hex characters"), ("zz" * 16, "hexadecimal")],
)
def test_bad_bind_keys_are_explained(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_bind_key(text)


def test_bind_key_formats() -> None:
    assert parse_bind_key(None) is None and parse_bind_key("  ") is None
    key = bytes(range(16))
    assert parse_bind_key(key.hex().upper()) == key
    assert parse_bind_key(":".join(f"{b:02x}" for b in key)) == key
    assert parse_bind_key("ab" * 12, "xiaomi") == b"\xab" * 12  # MiBeacon v2/v3 keys are shorter
    with pytest.raises(ValueError, match="32 hex characters"):
        parse_bind_key("ab" * 12, "bthome")
