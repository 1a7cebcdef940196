"""Home Assistant MQTT discovery messages: topic parsing, payload decoding and expansion.

``<prefix>/<component>/[<node_id>/]<object_id>/config`` carries a JSON object, possibly with
abbreviated keys and a ``~`` base topic. This module turns one such message into a validated,
expanded :class:`DiscoveryConfig`, or raises :class:`DiscoveryError` saying why not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .abbreviations import ABBREVIATIONS, DEVICE_ABBREVIATIONS, ORIGIN_ABBREVIATIONS
from .topic import valid_filter, valid_topic

DEFAULT_PREFIX = "homeassistant"
COMPONENTS = (
    "binary_sensor",
    "button",
    "climate",
    "cover",
    "fan",
    "light",
    "lock",
    "number",
    "select",
    "sensor",
    "switch",
    "vacuum",
)
MAX_CONFIG_BYTES = 64 * 1024
MAX_DEPTH = 8
_ID_RE = re.compile(r"^[a-zA-Z0-9_-]+$")


class DiscoveryError(ValueError):
    """A discovery message that cannot become an entity."""


@dataclass(frozen=True, slots=True)
class DiscoveryId:
    """Which discovery topic a config came from."""

    component: str
    node_id: str | None
    object_id: str

    @property
    def key(self) -> str:
        parts = [self.component, self.node_id, self.object_id]
        return "/".join(p for p in parts if p)


@dataclass(frozen=True)
class DiscoveryConfig:
    """One expanded discovery config (long key names, ``~`` resolved)."""

    id: DiscoveryId
    data: Mapping[str, Any]
    raw: bytes

    @property
    def unique_id(self) -> str:
        """The config's unique_id, else one derived from the discovery topic."""
        value = self.data.get("unique_id")
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value)
        return f"discovery:{self.id.key}"


def parse_topic(prefix: str, topic: str) -> DiscoveryId | None:
    """The discovery id of a config topic under ``prefix``, or None if it is not one."""
    if not topic.startswith(prefix + "/") or not topic.endswith("/config"):
        return None
    parts = topic[len(prefix) + 1 : -len("/config")].split("/")
    if len(parts) == 2:
        component, object_id = parts
        node_id = None
    elif len(parts) == 3:
        component, node_id, object_id = parts
    else:
        return None
    if not all(_ID_RE.match(p) for p in (component, object_id, node_id or "x")):
        return None
    return DiscoveryId(component, node_id, object_id)


def parse_payload(discovery_id: DiscoveryId, payload: bytes) -> DiscoveryConfig:
    """Decode, check and expand a non-empty discovery payload."""
    if discovery_id.component not in COMPONENTS:
        raise DiscoveryError(f"unsupported component {discovery_id.component!r}")
    if len(payload) > MAX_CONFIG_BYTES:
        raise DiscoveryError(f"config larger than {MAX_CONFIG_BYTES} bytes ({len(payload)})")
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise DiscoveryError(f"config is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise DiscoveryError(f"config must be a JSON object, not {type(data).__name__}")
    if _depth(data) > MAX_DEPTH:
        raise DiscoveryError("config nested too deeply")
    expanded = expand(data)
    platform = expanded.get("platform")
    if platform is not None and platform != "mqtt":
        raise DiscoveryError(f"platform must be 'mqtt', not {platform!r}")
    _check_topics(expanded)
    return DiscoveryConfig(discovery_id, expanded, payload)


def expand(data: Mapping[str, Any]) -> dict[str, Any]:
    """Long key names for abbreviations, ``~`` substituted into every ``*_topic`` value."""
    out = {ABBREVIATIONS.get(key, key): value for key, value in data.items()}
    if out.get("platform") is None and "p" in out:
        out["platform"] = out.pop("p")
    base = out.pop("~", None)
    if base is not None and not isinstance(base, str):
        raise DiscoveryError("'~' must be a topic string")
    _substitute_base(out, base)
    device = out.get("device")
    if device is not None:
        if not isinstance(device, dict):
            raise DiscoveryError("'device' must be an object")
        out["device"] = {DEVICE_ABBREVIATIONS.get(k, k): v for k, v in device.items()}
    origin = out.get("o", out.get("origin"))
    if origin is not None:
        out.pop("o", None)
        if isinstance(origin, dict):
            out["origin"] = {ORIGIN_ABBREVIATIONS.get(k, k): v for k, v in origin.items()}
    availability = out.get("availability")
    if availability is not None:
        if not isinstance(availability, list) or not all(isinstance(a, dict) for a in availability):
            raise DiscoveryError("'availability' must be a list of objects")
        items = []
        for item in availability:
            entry = {ABBREVIATIONS.get(k, k): v for k, v in item.items()}
            _substitute_base(entry, base)
            items.append(entry)
        out["availability"] = items
    return out


def _substitute_base(data: dict[str, Any], base: str | None) -> None:
    if base is None:
        return
    for key, value in data.items():
        if not isinstance(value, str) or not (key == "topic" or key.endswith("_topic")):
            continue
        if value.startswith("~"):
            data[key] = base + value[1:]
        elif value.endswith("~"):
            data[key] = value[:-1] + base


def _check_topics(data: Mapping[str, Any]) -> None:
    for key, value in data.items():
        if not (key == "topic" or key.endswith("_topic")):
            continue
        if not isinstance(value, str):
            raise DiscoveryError(f"{key} must be a topic string")
        # State topics may be filters; command topics must be plain topics.
        ok = (
            valid_topic(value)
            if "command" in key or key.startswith("set_")
            else valid_filter(value)
        )
        if not ok:
            raise DiscoveryError(f"{key} is not a valid topic: {value!r}")
    for item in data.get("availability") or ():
        topic = item.get("topic")
        if not isinstance(topic, str) or not valid_filter(topic):
            raise DiscoveryError(f"availability topic is not valid: {topic!r}")


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level
