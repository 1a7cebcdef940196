"""The board's minimal mDNS responder speaks DNS that python-zeroconf understands."""

from __future__ import annotations

import pytest
from hearthfw import mdns  # type: ignore[import-not-found]
from hypothesis import given, settings
from hypothesis import strategies as st
from zeroconf import DNSIncoming, DNSOutgoing, DNSQuestion, const

TXT = {"id": "a1b2c3", "model": "Hearth HF-1 reference fridge", "state": "unprovisioned"}


def test_response_parses_as_a_service_announcement() -> None:
    packet = mdns.build_response(
        "fridge-a1b2c3", "_hearth-device._tcp", "hearth-a1b2c3.local", "192.168.1.50", 80, TXT
    )
    incoming = DNSIncoming(packet)
    assert incoming.valid and incoming.is_response()
    by_type = {record.type: record for record in incoming.answers()}
    ptr = by_type[const._TYPE_PTR]
    assert ptr.name == "_hearth-device._tcp.local."
    assert ptr.alias == "fridge-a1b2c3._hearth-device._tcp.local."  # type: ignore[attr-defined]
    srv = by_type[const._TYPE_SRV]
    assert srv.port == 80 and srv.server == "hearth-a1b2c3.local."  # type: ignore[attr-defined]
    txt = by_type[const._TYPE_TXT].text  # type: ignore[attr-defined]
    assert b"model=Hearth HF-1 reference fridge" in txt and b"state=unprovisioned" in txt
    address = by_type[const._TYPE_A].address  # type: ignore[attr-defined]
    assert address == bytes([192, 168, 1, 50])


def test_questions_from_a_zeroconf_query() -> None:
    query = DNSOutgoing(const._FLAGS_QR_QUERY)
    query.add_question(DNSQuestion("_hearth-device._tcp.local.", const._TYPE_PTR, const._CLASS_IN))
    query.add_question(DNSQuestion("other._tcp.local.", const._TYPE_SRV, const._CLASS_IN))
    (packet,) = query.packets()
    assert mdns.questions(packet) == [
        ("_hearth-device._tcp.local", const._TYPE_PTR),
        ("other._tcp.local", const._TYPE_SRV),
    ]
    # Our own announcements (responses) ask nothing.
    assert mdns.questions(mdns.build_response("x", "_a._tcp", "h.local", "1.2.3.4", 1, {})) == []


def test_compression_loops_are_refused() -> None:
    # A question whose name points at itself.
    packet = bytes(4) + b"\x00\x01" + bytes(6) + b"\xc0\x0c" + b"\x00\x0c\x00\x01"
    with pytest.raises(ValueError):
        mdns.questions(packet)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_packet_is_parsed_or_refused(packet: bytes) -> None:
    try:
        mdns.questions(packet)
    except (ValueError, UnicodeError):
        pass
