"""Entity classes for each supported discovery component."""

from __future__ import annotations

from ..client import MqttClient
from ..discovery import DiscoveryConfig, DiscoveryError
from ..entity import MqttEntity
from .binary_sensor import MqttBinarySensor
from .button import MqttButton
from .climate import MqttClimate
from .cover import MqttCover
from .fan import MqttFan
from .light import light_class
from .lock import MqttLock
from .number import MqttNumber
from .select import MqttSelect
from .sensor import MqttSensor
from .switch import MqttSwitch
from .vacuum import MqttVacuum

_CLASSES: dict[str, type[MqttEntity]] = {
    "binary_sensor": MqttBinarySensor,
    "button": MqttButton,
    "climate": MqttClimate,
    "cover": MqttCover,
    "fan": MqttFan,
    "lock": MqttLock,
    "number": MqttNumber,
    "select": MqttSelect,
    "sensor": MqttSensor,
    "switch": MqttSwitch,
    "vacuum": MqttVacuum,
}


def create_entity(client: MqttClient, config: DiscoveryConfig) -> MqttEntity:
    """Build the entity for a discovery config, or raise DiscoveryError."""
    component = config.id.component
    cls = light_class(config) if component == "light" else _CLASSES.get(component)
    if cls is None:
        raise DiscoveryError(f"unsupported component {component!r}")
    return cls(client, config)
