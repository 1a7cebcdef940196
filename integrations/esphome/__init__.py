"""ESPHome voice devices (Home Assistant Voice PE, Linux-Voice-Assistant) over the native API."""

from .integration import INTEGRATION

__all__ = ["INTEGRATION"]
