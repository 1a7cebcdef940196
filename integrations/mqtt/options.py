"""Typed reading of an expanded discovery config; a bad value raises DiscoveryError."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .discovery import DiscoveryError
from .template import Template, TemplateRenderError

MAX_TEXT = 1024
MAX_LIST = 256


class Options:
    """Accessors with defaults and type checks over one config mapping."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data

    def __contains__(self, key: str) -> bool:
        return self.data.get(key) is not None

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise DiscoveryError(f"{key} must be text")
        text = str(value)
        if len(text) > MAX_TEXT:
            raise DiscoveryError(f"{key} is longer than {MAX_TEXT} characters")
        return text

    def payload(self, key: str, default: str) -> str:
        """A payload to send or match; JSON true/1 become 'True'/'1' as in Home Assistant."""
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, str | int | float | bool):
            text = str(value)
            if len(text) > MAX_TEXT:
                raise DiscoveryError(f"{key} is longer than {MAX_TEXT} characters")
            return text
        raise DiscoveryError(f"{key} must be a payload (text or number)")

    def topic(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise DiscoveryError(f"{key} must be a topic")
        return value

    def template(self, key: str) -> Template | None:
        value = self.data.get(key)
        if value is None:
            return None
        try:
            return Template(value)
        except TemplateRenderError as err:
            raise DiscoveryError(f"{key}: {err}") from None

    def integer(
        self, key: str, default: int, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DiscoveryError(f"{key} must be a whole number")
        if isinstance(value, float) and not value.is_integer():
            raise DiscoveryError(f"{key} must be a whole number")
        number = int(value)
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise DiscoveryError(f"{key} out of range: {number}")
        return number

    def number(self, key: str, default: float) -> float:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise DiscoveryError(f"{key} must be a number")
        try:
            number = float(value)
        except ValueError:
            raise DiscoveryError(f"{key} must be a number") from None
        if not math.isfinite(number):
            raise DiscoveryError(f"{key} must be finite")
        return number

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise DiscoveryError(f"{key} must be true or false")

    def text_list(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or len(value) > MAX_LIST:
            raise DiscoveryError(f"{key} must be a list of at most {MAX_LIST} items")
        items = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                raise DiscoveryError(f"{key} items must be text")
            items.append(str(item))
        return tuple(items)

    def qos(self) -> int:
        return self.integer("qos", 0, 0, 2)
