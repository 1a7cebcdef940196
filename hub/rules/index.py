"""The trigger index: one bus listener per kind, dispatching by entity id, event type, topic
or phrase, so an event costs work only for the rules that watch it."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hub.bus import Event
from hub.const import EVENT_STATE_CHANGED

from .scheduler import Scheduler

if TYPE_CHECKING:
    from hub.core import Hub

__all__ = ["TriggerIndex", "TriggerUnavailable", "normalize_phrase"]

_LOGGER = logging.getLogger(__name__)
Unsub = Callable[[], None]
EventCallback = Callable[[Event], None]
MessageCallback = Callable[[Any], None]

# The voice pipeline's bus events (voice/events.py); named here because hub/ imports no voice/.
VOICE_TRANSCRIPT = "voice_transcript"
VOICE_INTENT = "voice_intent"
VOICE_ERROR = "voice_error"
_WORDS = re.compile(r"[^\w']+", re.UNICODE)


class TriggerUnavailable(Exception):
    """What a trigger needs (MQTT, for example) is not running."""


def normalize_phrase(text: str) -> str:
    """Lower case, punctuation dropped, single spaces: how spoken phrases are compared."""
    return " ".join(_WORDS.sub(" ", text.lower()).split())


class _Buckets:
    """key -> callbacks, with the first/last subscriber reported so listeners come and go."""

    def __init__(self) -> None:
        self.by_key: dict[str, list[Callable[..., None]]] = {}

    def add(
        self, key: str, callback: Callable[..., None], on_empty: Callable[[], None] | None
    ) -> Unsub:
        self.by_key.setdefault(key, []).append(callback)

        def remove() -> None:
            callbacks = self.by_key.get(key)
            if callbacks is None or callback not in callbacks:
                return
            callbacks.remove(callback)
            if not callbacks:
                del self.by_key[key]
                if on_empty is not None:
                    on_empty()

        return remove

    def dispatch(self, key: str, arg: Any) -> None:
        callbacks = self.by_key.get(key)
        if not callbacks:
            return
        for callback in tuple(callbacks) if len(callbacks) > 1 else callbacks:
            try:
                callback(arg)
            except Exception:
                _LOGGER.exception("Rule trigger failed on %s", key)


class TriggerIndex:
    """Subscriptions for every rule trigger of one hub."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.scheduler = Scheduler(hub.clock)
        self._entities = _Buckets()
        self._events = _Buckets()
        self._topics = _Buckets()
        self._phrases = _Buckets()
        self._event_unsubs: dict[str, Unsub] = {}
        self._topic_unsubs: dict[str, Unsub] = {}
        self._voice_unsubs: list[Unsub] = []
        self._last_voice: dict[str, str] = {}
        self._state_unsub = hub.bus.async_listen(
            EVENT_STATE_CHANGED, self._on_state, self._wants_state
        )

    def close(self) -> None:
        """Drop every subscription."""
        self._state_unsub()
        for unsub in (
            *self._event_unsubs.values(),
            *self._topic_unsubs.values(),
            *self._voice_unsubs,
        ):
            unsub()
        self._event_unsubs.clear()
        self._topic_unsubs.clear()
        self._voice_unsubs.clear()
        self.scheduler.close()

    # -- entities -----------------------------------------------------------------------
    def watch_entity(self, entity_id: str, callback: EventCallback) -> Unsub:
        """callback(state_changed event) for one entity."""
        return self._entities.add(entity_id, callback, None)

    def _wants_state(self, event: Event) -> bool:
        return event.data["entity_id"] in self._entities.by_key

    def _on_state(self, event: Event) -> None:
        self._entities.dispatch(event.data["entity_id"], event)

    # -- bus events ---------------------------------------------------------------------
    def watch_event(self, event_type: str, callback: EventCallback) -> Unsub:
        """callback(event) for one event type; the bus already indexes by type."""
        if event_type not in self._event_unsubs:
            self._event_unsubs[event_type] = self.hub.bus.async_listen(
                event_type, lambda event: self._events.dispatch(event.event_type, event)
            )
        return self._events.add(event_type, callback, lambda: self._drop_event(event_type))

    def _drop_event(self, event_type: str) -> None:
        unsub = self._event_unsubs.pop(event_type, None)
        if unsub is not None:
            unsub()

    # -- MQTT ---------------------------------------------------------------------------
    def watch_topic(self, topic_filter: str, callback: MessageCallback) -> Unsub:
        """callback(message) for an MQTT topic filter; one broker subscription per filter."""
        if topic_filter not in self._topic_unsubs:
            client = self._mqtt_client()
            try:
                self._topic_unsubs[topic_filter] = client.async_subscribe(
                    topic_filter, lambda msg: self._topics.dispatch(topic_filter, msg)
                )
            except ValueError as err:
                raise TriggerUnavailable(str(err)) from None
        return self._topics.add(topic_filter, callback, lambda: self._drop_topic(topic_filter))

    def _mqtt_client(self) -> Any:
        mqtt = self.hub.data.get("mqtt")
        for candidate in (mqtt, getattr(mqtt, "client", None)):
            if candidate is not None and callable(getattr(candidate, "async_subscribe", None)):
                return candidate
        raise TriggerUnavailable(
            "MQTT is not set up: add 'mqtt:' to configuration.yaml "
            "(no client with async_subscribe in hub.data['mqtt'])"
        )

    def _drop_topic(self, topic_filter: str) -> None:
        unsub = self._topic_unsubs.pop(topic_filter, None)
        if unsub is not None:
            unsub()

    # -- voice --------------------------------------------------------------------------
    def watch_phrase(self, phrase: str, callback: EventCallback) -> Unsub:
        """callback(event) when the voice pipeline hears `phrase` (normalised)."""
        if not self._voice_unsubs:
            bus = self.hub.bus
            self._voice_unsubs = [
                bus.async_listen(etype, self._on_voice)
                for etype in (VOICE_TRANSCRIPT, VOICE_INTENT, VOICE_ERROR)
            ]
        return self._phrases.add(normalize_phrase(phrase), callback, self._maybe_drop_voice)

    def phrases(self) -> list[str]:
        """Every phrase some rule listens for (for the voice grammar)."""
        return sorted(self._phrases.by_key)

    def _on_voice(self, event: Event) -> None:
        text = event.data.get("text")
        if not isinstance(text, str) or not text:
            return
        if event.event_type == VOICE_ERROR and event.data.get("stage") != "intent":
            return
        phrase = normalize_phrase(text)
        cid = str(event.data.get("conversation_id", ""))
        # Speech gives a transcript and then an intent (or no-match) for the same words: once.
        if event.event_type == VOICE_TRANSCRIPT:
            self._last_voice[cid] = phrase
        elif self._last_voice.get(cid) == phrase:
            del self._last_voice[cid]
            return
        if len(self._last_voice) > 256:
            self._last_voice.clear()
        self._phrases.dispatch(phrase, event)

    def _maybe_drop_voice(self) -> None:
        if not self._phrases.by_key:
            for unsub in self._voice_unsubs:
                unsub()
            self._voice_unsubs = []
