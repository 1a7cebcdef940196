"""The host names this hub answers to; anything else is a DNS-rebinding attempt or a mistake."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["HostAllowList", "host_name"]

_LOOPBACK = ("localhost", "127.0.0.1", "::1")


class HostAllowList:
    """Loopback, the hub's addresses, its host and mDNS names, and names the owner adds."""

    def __init__(self, extra: Iterable[str] = ()) -> None:
        self.names: set[str] = {_normal(n) for n in (*_LOOPBACK, *extra) if n.strip()}

    def learn(
        self,
        bind_host: str,
        lan_address: str,
        public_url: str | None,
        allowed_origins: Iterable[str],
    ) -> None:
        """Add what is known once the server listens (blocking: resolves the host name)."""
        names = {bind_host, lan_address}
        hostname = socket.gethostname()
        short = hostname.split(".")[0]
        names.update({hostname, short, f"{short}.local"})
        try:
            for info in socket.getaddrinfo(hostname, None):
                names.add(str(info[4][0]))
        except OSError:
            pass
        for url in (public_url, *allowed_origins):
            if url:
                names.add(urlsplit(url).hostname or "")
        self.names.update(_normal(n) for n in names if n and n not in ("0.0.0.0", "::"))

    def allows(self, host_header: str | None) -> bool:
        """Whether a Host header names this hub."""
        name = host_name(host_header)
        return name is not None and name in self.names


def host_name(host_header: str | None) -> str | None:
    """The name in a Host header, without port, lower case; None if malformed."""
    if not host_header:
        return None
    text = host_header.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        return _normal(text[1:end])
    name, _, port = text.partition(":")
    if port and not port.isdigit():
        return None
    return _normal(name)


def _normal(name: str) -> str:
    name = name.strip().lower().rstrip(".")
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name
