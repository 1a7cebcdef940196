"""Minimal mDNS/DNS-SD responder for boards without one: announce one service, answer queries."""

import socket
import struct

GROUP = "224.0.0.251"
PORT = 5353
_TYPE_A = 1
_TYPE_PTR = 12
_TYPE_TXT = 16
_TYPE_SRV = 33
_TYPE_ANY = 255
_CLASS_IN = 1
_FLUSH = 0x8000


def encode_name(labels):
    out = b""
    for label in labels:
        raw = label.encode()
        if not 0 < len(raw) < 64:
            raise ValueError("bad DNS label")
        out += bytes((len(raw),)) + raw
    return out + b"\x00"


def _ip_bytes(ip):
    return bytes(int(part) for part in ip.split("."))


def _record(name, rtype, rclass, ttl, rdata):
    return name + struct.pack(">HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def encode_txt(txt):
    out = b""
    for key in sorted(txt):
        item = (key + "=" + str(txt[key])).encode()[:255]
        out += bytes((len(item),)) + item
    return out or b"\x00"


def build_response(instance, service, host, ip, port, txt, ttl=120):
    """One DNS response holding PTR, SRV, TXT and A records for the service instance."""
    service_labels = service.split(".") + ["local"]  # noqa: RUF005 - MicroPython has no [*x]
    host_labels = host.split(".")
    if host_labels[-1] != "local":
        host_labels.append("local")
    service_name = encode_name(service_labels)
    instance_name = encode_name([instance] + service_labels)  # noqa: RUF005
    host_name = encode_name(host_labels)
    records = [
        _record(service_name, _TYPE_PTR, _CLASS_IN, ttl * 4, instance_name),
        _record(
            instance_name,
            _TYPE_SRV,
            _CLASS_IN | _FLUSH,
            ttl,
            struct.pack(">HHH", 0, 0, port) + host_name,
        ),
        _record(instance_name, _TYPE_TXT, _CLASS_IN | _FLUSH, ttl * 4, encode_txt(txt)),
        _record(host_name, _TYPE_A, _CLASS_IN | _FLUSH, ttl, _ip_bytes(ip)),
    ]
    header = struct.pack(">HHHHHH", 0, 0x8400, 0, len(records), 0, 0)
    return header + b"".join(records)


def read_name(packet, offset):
    """Decode a (possibly compressed) name; return (dotted lowercase name, next offset)."""
    labels = []
    end = None
    jumps = 0
    while True:
        if offset >= len(packet):
            raise ValueError("truncated name")
        length = packet[offset]
        if length == 0:
            offset += 1
            break
        if length & 0xC0 == 0xC0:
            if offset + 1 >= len(packet) or jumps > 16:
                raise ValueError("bad compression pointer")
            if end is None:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | packet[offset + 1]
            jumps += 1
            continue
        labels.append(bytes(packet[offset + 1 : offset + 1 + length]).decode().lower())
        offset += 1 + length
    return ".".join(labels), (end if end is not None else offset)


def questions(packet):
    """Return [(name, type)] asked by a query packet; [] for responses; ValueError if malformed."""
    if len(packet) < 12:
        raise ValueError("short packet")
    flags, qdcount = struct.unpack(">HH", packet[2:6])
    if flags & 0x8000:
        return []
    out = []
    offset = 12
    for _ in range(qdcount):
        name, offset = read_name(packet, offset)
        if offset + 4 > len(packet):
            raise ValueError("truncated question")
        qtype = struct.unpack(">H", packet[offset : offset + 2])[0]
        offset += 4
        out.append((name, qtype))
    return out


class Responder:
    """Announces on start and on change, answers queries for our service, instance or host."""

    def __init__(self, instance, service, host, ip, port, txt):
        self.instance = instance
        self.service = service
        self.host = host
        self.ip = ip
        self.port = port
        self.txt = txt
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(socket.getaddrinfo("0.0.0.0", PORT)[0][-1])
        mreq = _ip_bytes(GROUP) + _ip_bytes(ip)
        self._sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        self._sock.setblocking(False)
        self._names = (
            (service + ".local").lower(),
            (instance + "." + service + ".local").lower(),
            host.lower(),
        )

    def packet(self):
        return build_response(self.instance, self.service, self.host, self.ip, self.port, self.txt)

    def announce(self):
        self._sock.sendto(self.packet(), socket.getaddrinfo(GROUP, PORT)[0][-1])

    def poll(self):
        try:
            data, _addr = self._sock.recvfrom(1500)
        except OSError:
            return
        try:
            asked = questions(data)
        except (ValueError, UnicodeError):
            return  # malformed traffic on the LAN is not our problem
        if any(name in self._names for name, _ in asked):
            self.announce()

    def close(self):
        self._sock.close()
