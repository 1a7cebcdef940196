"""MQTT topic filters: validation and a router from received topics to subscribers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_TOPIC_BYTES = 65535


def valid_topic(topic: str) -> bool:
    """True for a topic a client may publish to (no wildcards, no NUL, not empty)."""
    return (
        bool(topic)
        and "#" not in topic
        and "+" not in topic
        and "\0" not in topic
        and len(topic.encode("utf-8", "surrogatepass")) <= MAX_TOPIC_BYTES
    )


def valid_filter(topic_filter: str) -> bool:
    """True for a well-formed subscription filter (``+`` whole levels, ``#`` last only)."""
    if not topic_filter or "\0" in topic_filter:
        return False
    if len(topic_filter.encode("utf-8", "surrogatepass")) > MAX_TOPIC_BYTES:
        return False
    levels = topic_filter.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            return False
        if "+" in level and level != "+":
            return False
    return True


def filter_matches(topic_filter: str, topic: str) -> bool:
    """MQTT matching of a topic against a filter (``$``-topics never match leading wildcards)."""
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    filter_levels = topic_filter.split("/")
    topic_levels = topic.split("/")
    for index, level in enumerate(filter_levels):
        if level == "#":
            return True
        if index >= len(topic_levels):
            return False
        if level != "+" and level != topic_levels[index]:
            return False
    return len(filter_levels) == len(topic_levels)


@dataclass(eq=False)
class _Route(Generic[T]):
    topic_filter: str
    handler: T


class TopicRouter(Generic[T]):
    """Maps received topics to the handlers of every matching filter.

    Exact filters are a dict lookup; only wildcard filters are scanned, so thousands of
    per-device state topics cost nothing extra per message.
    """

    def __init__(self) -> None:
        self._exact: dict[str, list[_Route[T]]] = {}
        self._wildcard: list[_Route[T]] = []
        self._counts: dict[str, int] = {}

    def add(self, topic_filter: str, handler: T) -> tuple[bool, Callable[[], bool]]:
        """Add a handler; return (first handler for this filter, remover).

        The remover returns True when it removed the last handler for the filter.
        """
        route = _Route(topic_filter, handler)
        if "+" in topic_filter or "#" in topic_filter:
            self._wildcard.append(route)
        else:
            self._exact.setdefault(topic_filter, []).append(route)
        count = self._counts.get(topic_filter, 0) + 1
        self._counts[topic_filter] = count
        removed = False

        def remove() -> bool:
            nonlocal removed
            if removed:
                return False
            removed = True
            if route in self._wildcard:
                self._wildcard.remove(route)
            else:
                routes = self._exact.get(topic_filter, [])
                if route in routes:
                    routes.remove(route)
                if not routes:
                    self._exact.pop(topic_filter, None)
            left = self._counts.get(topic_filter, 1) - 1
            if left <= 0:
                self._counts.pop(topic_filter, None)
                return True
            self._counts[topic_filter] = left
            return False

        return count == 1, remove

    def match(self, topic: str) -> list[T]:
        """Handlers whose filter matches ``topic``."""
        handlers = [route.handler for route in self._exact.get(topic, ())]
        for route in self._wildcard:
            if filter_matches(route.topic_filter, topic):
                handlers.append(route.handler)
        return handlers

    @property
    def exact_filters(self) -> dict[str, list[_Route[T]]]:
        """Filters without wildcards (a mapping, for membership tests)."""
        return self._exact

    def filters(self) -> list[str]:
        """Every filter with at least one handler (what to subscribe to after a reconnect)."""
        return list(self._counts)
