"""Zeroconf: announce the hub as ``_hearth._tcp`` and browse the LAN for Wi-Fi devices."""

from .integration import ZeroconfIntegration

INTEGRATION = ZeroconfIntegration

__all__ = ["INTEGRATION"]
