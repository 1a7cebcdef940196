"""Entity domains: each module defines a domain's properties, commands and entity base."""

from __future__ import annotations

from ..entity import Entity
from .appliance import ApplianceEntity
from .binary_sensor import BinarySensorEntity
from .button import ButtonEntity
from .climate import ClimateEntity
from .cover import CoverEntity
from .fan import FanEntity
from .light import LightEntity
from .lock import LockEntity
from .number import NumberEntity
from .select import SelectEntity
from .sensor import SensorEntity
from .switch import SwitchEntity
from .todo import TodoEntity
from .vacuum import VacuumEntity

__all__ = ["DOMAINS", "domain_class"]

DOMAINS: dict[str, type[Entity]] = {
    cls.domain: cls
    for cls in (
        ApplianceEntity,
        BinarySensorEntity,
        ButtonEntity,
        ClimateEntity,
        CoverEntity,
        FanEntity,
        LightEntity,
        LockEntity,
        NumberEntity,
        SelectEntity,
        SensorEntity,
        SwitchEntity,
        TodoEntity,
        VacuumEntity,
    )
}


def domain_class(domain: str) -> type[Entity] | None:
    """Return the entity base class of a domain."""
    return DOMAINS.get(domain)
