"""Names shared across the hub: version, event types, state strings."""

from typing import Final

__version__: Final = "0.1.0"

# Event types fired by the core.
EVENT_STATE_CHANGED: Final = "state_changed"
EVENT_CALL_SERVICE: Final = "call_service"
EVENT_SERVICE_REGISTERED: Final = "service_registered"
EVENT_HUB_START: Final = "hub_start"
EVENT_HUB_STARTED: Final = "hub_started"
EVENT_HUB_STOP: Final = "hub_stop"
EVENT_REGISTRY_UPDATED: Final = "registry_updated"
EVENT_DEVICE_JOINED: Final = "device_joined"
EVENT_DEVICE_LEFT: Final = "device_left"
EVENT_DEVICE_UNAVAILABLE: Final = "device_unavailable"
EVENT_PAIRING_PROGRESS: Final = "pairing_progress"
EVENT_INTEGRATION_LOADED: Final = "integration_loaded"
EVENT_NOTIFICATION: Final = "notification"
EVENT_BUS_DROPPED: Final = "bus_dropped"
EVENT_RULES_UPDATED: Final = "rules_updated"

# Special state strings.
STATE_ON: Final = "on"
STATE_OFF: Final = "off"
STATE_UNAVAILABLE: Final = "unavailable"
STATE_UNKNOWN: Final = "unknown"

ATTR_FRIENDLY_NAME: Final = "friendly_name"
ATTR_RESTORED: Final = "restored"
