"""Turn a recognised intent into service calls (or an answer) against the live home."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .ha_responses import (
    OWN_LANGUAGES,
    Answer,
    ErrorAnswer,
    TemplateState,
    render_answer,
    render_error,
    state_word,
)
from .home import EntityView, HomeView
from .library import canonical_language
from .recognizer import IntentMatch
from .replies import join_names, reply, state_name
from .vocabulary import DOMAIN_LISTS, HomeVocabulary

ONOFF_DOMAINS = ("light", "switch", "fan")
NAMED_ONOFF = ("light", "switch", "fan", "climate", "cover", "lock", "button", "vacuum")
# What "turn on"/"turn off" does per domain (HA's HassTurnOn/HassTurnOff semantics).
TURN_ON = {"cover": "open_cover", "lock": "lock", "button": "press", "vacuum": "start"}
TURN_OFF = {"cover": "close_cover", "lock": "unlock", "vacuum": "return_to_base"}
# Domains where acting on the wrong one of several matches does harm: ask instead.
NAMED_ONLY = frozenset({"lock"})
ONE_AT_A_TIME = frozenset({"lock", "cover"})
COLORS: Mapping[str, dict[str, Any]] = {
    "red": {"rgb_color": [255, 0, 0]},
    "green": {"rgb_color": [0, 255, 0]},
    "blue": {"rgb_color": [0, 0, 255]},
    "white": {"rgb_color": [255, 255, 255]},
    "yellow": {"rgb_color": [255, 255, 0]},
    "orange": {"rgb_color": [255, 165, 0]},
    "purple": {"rgb_color": [128, 0, 128]},
    "pink": {"rgb_color": [255, 105, 180]},
    "brown": {"rgb_color": [150, 75, 0]},
    "black": {"rgb_color": [0, 0, 0]},
    "warm white": {"color_temp_kelvin": 2700},
    "cool white": {"color_temp_kelvin": 6000},
}
# Spending money is risky whatever the service registry says.
RISKY_INTENTS = frozenset({"HearthOrder"})
_OFF_STATES = frozenset({"off", "closed", "unlocked", "docked", "idle"})
# Plans that refuse or could not find what was asked: never answered with HA's success reply.
REFUSAL_KEYS = frozenset(
    {
        "no_match",
        "not_found",
        "no_entities",
        "none_of_kind",
        "ambiguous",
        "unknown_name",
        "unknown_name_in",
        "not_supported",
        "no_vacuum",
        "item_not_on_list",
    }
)
_NAME_SLOTS = ("name", "area", "floor")
_CJK = re.compile(r"[\u3400-\u9fff]")
# The domain an intent acts on when its sentence names none (for HA's "no light in ..." errors).
_INTENT_DOMAINS = {
    "HassLightSet": "light",
    "HassFanSetSpeed": "fan",
    "HassClimateSetTemperature": "climate",
    "HassClimateGetTemperature": "climate",
    "HassSetPosition": "cover",
    "HassVacuumStart": "vacuum",
    "HassVacuumReturnToBase": "vacuum",
    "HassVacuumCleanArea": "vacuum",
}


@dataclass(frozen=True)
class ServiceAction:
    """One service call a command makes."""

    service: str
    entity_ids: tuple[str, ...]
    data: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "entity_ids": list(self.entity_ids),
            "data": dict(self.data),
        }


@dataclass(frozen=True)
class TimerRequest:
    """A timer operation for the pipeline's Timers (they live per conversation)."""

    op: str  # start | cancel | cancel_all | status | pause | unpause | add
    seconds: float | None = None  # duration to start with, or to add (negative: remove)
    name: str | None = None
    area_id: str | None = None
    start_seconds: float | None = None  # "the 5 minute timer"
    command: str | None = None  # a delayed command: run this sentence when the timer ends


@dataclass(frozen=True)
class Plan:
    """What to do for an intent and what to say once it is done."""

    actions: tuple[ServiceAction, ...] = ()
    reply_key: str = "no_match"
    reply_values: Mapping[str, Any] = field(default_factory=dict)
    confirm_key: str | None = None  # set when the plan must be confirmed first
    timer: TimerRequest | None = None
    # For HA reply templates: the entities the answer is about, and which matched a question.
    matched: tuple[str, ...] = ()
    unmatched: tuple[str, ...] = ()
    # HA's reply template context (set by Planner.plan for a plan that acts or answers), or
    # HA's error reply for a refusal; Hearth's reply_key is the fallback for both.
    answer: Answer | None = None
    error: ErrorAnswer | None = None

    def reply(self, language: str) -> str:
        """The reply once every action succeeded (the pipeline says "failed" otherwise)."""
        if self.answer is not None:
            text = render_answer(self.answer, language)
            if text:
                return text
        elif self.error is not None and canonical_language(language) not in OWN_LANGUAGES:
            text = render_error(self.error, language)
            if text:
                return text
        return reply(self.reply_key, language, **self.reply_values)

    @property
    def timer_op(self) -> str | None:
        return None if self.timer is None else self.timer.op


@dataclass(frozen=True)
class Targets:
    """Entities a command resolved to, or why it could not resolve."""

    ids: tuple[str, ...] = ()
    problem: Plan | None = None


class Planner:
    """Builds plans; reads the home through a HomeView and names through the vocabulary."""

    def __init__(self, home: HomeView, vocabulary: HomeVocabulary) -> None:
        self.home = home
        self.vocab = vocabulary
        self._match = IntentMatch("")

    def plan(self, match: IntentMatch) -> Plan:
        handler = getattr(self, "_" + match.intent, None)
        if handler is None:
            return Plan(reply_key="no_match")
        self._match = match
        plan: Plan = handler(match.slots, match.language)
        risky = match.intent in RISKY_INTENTS or any(
            self.home.is_risky(a.service) for a in plan.actions
        )
        if risky and plan.actions and plan.confirm_key is None:
            key = "confirm_order" if match.intent == "HearthOrder" else "confirm_unlock"
            plan = replace(plan, confirm_key=key)
        return self._with_ha_reply(plan, match)

    # --- HA's reply templates --------------------------------------------------------------

    def _with_ha_reply(self, plan: Plan, match: IntentMatch) -> Plan:
        """Attach HA's template context (success) or error reply (refusal) to a plan."""
        if plan.reply_key in REFUSAL_KEYS:
            error = self._error_answer(plan, match)
            return plan if error is None else replace(plan, error=error)
        if not match.intent.startswith("Hass"):
            return plan  # Hearth's own intents have no HA template
        language = match.language
        answer = Answer(
            match.intent,
            match.response or "default",
            self.template_slots(match),
            self.template_states(plan.matched, language),
            self.template_states(plan.unmatched, language),
        )
        return replace(plan, answer=answer)

    def template_slots(self, match: IntentMatch) -> dict[str, Any]:
        """Slots as HA's templates see them: names in the request's language, numbers and
        free text as said, list values (domain, device_class, state, color) as matched."""
        out: dict[str, Any] = {}
        for key, value in match.slots.items():
            said = match.texts.get(key, "")
            if key in _NAME_SLOTS or key.endswith("_name"):
                known = isinstance(value, str) and (
                    self.vocab.entity(value) or self.vocab.area(value) or self.vocab.floor(value)
                )
                out[key] = (
                    self.proper_name(str(value), match.language, said) if known else (said or value)
                )
            elif key == "item" or (isinstance(value, (int, float)) and not isinstance(value, bool)):
                out[key] = said or value
            else:
                out[key] = value
        if match.intent in ("HassGetCurrentDate", "HassGetCurrentTime"):
            now = self.home.now()
            out.setdefault("date", now.date())
            out.setdefault("time", now.time())
        return out

    def template_states(self, ids: tuple[str, ...], language: str) -> tuple[TemplateState, ...]:
        """Entities as HA's templates see them, with their state in the request's language."""
        out = []
        for entity_id in ids:
            view = self.home.get(entity_id)
            if view is None:
                continue
            raw = view.state or "unknown"
            word = state_word(
                raw, view.domain, view.device_class, language, lambda s: state_name(s, language)
            )
            out.append(
                TemplateState(
                    entity_id,
                    self.proper_name(entity_id, language, self._match.texts.get("name", "")),
                    word,
                    dict(view.attributes),
                    raw,
                )
            )
        return tuple(out)

    def proper_name(self, item_id: str, language: str, said: str = "") -> str:
        """An entity's, area's or floor's name as written ("Kitchen Light"), as HA's
        templates show it: the name that was said when it is one of the item's names, else
        (for Chinese, a Chinese one first) its name in `language`; Hearth's own replies use
        the lower-case form."""
        item = self.vocab.entity(item_id) or self.vocab.area(item_id) or self.vocab.floor(item_id)
        names = [" ".join(raw.split()) for raw in (item.names if item is not None else ())]
        wanted = _plain(said)
        for name in names:
            if wanted and _plain(name) == wanted:
                return name
        if language.startswith("zh"):
            chinese = [n for n in names if _CJK.search(n)]
            if chinese and language != "zh-CN":
                return chinese[0]
        spoken = self.name(item_id, language)
        for name in names:
            if _plain(spoken) == _plain(name):
                return name
        return spoken

    def _error_answer(self, plan: Plan, match: IntentMatch) -> ErrorAnswer | None:
        """HA's error reply for a refusal, when one says the same thing truthfully."""
        slots, language = match.slots, match.language
        values: dict[str, Any] = {}
        place = "area" if "area" in slots else "floor" if "floor" in slots else None
        if place is not None:
            values[place] = self.proper_name(str(slots[place]), language)
        domain = _single(slots.get("domain")) or _INTENT_DOMAINS.get(match.intent)
        device_class = _single(slots.get("device_class"))
        named = next((k for k in slots if k == "name" or k.endswith("_name")), None)
        if named is not None:
            value = str(slots[named])
            known = self.vocab.entity(value) is not None
            said = match.texts.get(named) or value
            values["entity"] = self.proper_name(value, language) if known else said
        suffix = f"_in_{place}" if place else ""
        key = plan.reply_key
        if key == "no_match":
            return ErrorAnswer("no_intent")
        if key in ("unknown_name", "unknown_name_in") and named is not None:
            return ErrorAnswer("no_entity" + suffix, values)
        if key in ("no_entities", "none_of_kind"):
            if device_class is not None:
                return ErrorAnswer(
                    "no_device_class" + suffix, {**values, "device_class": device_class}
                )
            if domain is not None:
                return ErrorAnswer("no_domain" + suffix, {**values, "domain": domain})
            return None
        if key == "no_vacuum":
            return ErrorAnswer("no_domain", {"domain": "vacuum"})
        if key == "not_found" and named is not None:
            return ErrorAnswer("no_entity", values)
        if key == "not_supported":
            return ErrorAnswer("feature_not_supported")
        if key == "ambiguous":
            if named is not None:
                return ErrorAnswer("duplicate_entities" + suffix, values)
            return ErrorAnswer("duplicate_targets")
        return None

    # --- helpers -------------------------------------------------------------------------

    def name(self, item_id: str, language: str) -> str:
        return self.vocab.display_name(item_id, language)

    def names(self, entity_ids: tuple[str, ...], language: str) -> str:
        return join_names([self.name(e, language) for e in entity_ids], language)

    def resolve(
        self,
        slots: Mapping[str, Any],
        domains: tuple[str, ...],
        language: str,
        name_slot: str = "name",
        *,
        everywhere: bool = False,
    ) -> Targets:
        """Entities a command addresses: a named entity (narrowed by room/floor when the name
        is shared), or every entity of the domains/device class in a room, floor or home."""
        if name_slot not in slots:
            # Hearth's speech grammar names entities per domain ({light_name}); HA's uses {name}.
            name_slot = next(
                (k for d in domains for k in DOMAIN_LISTS.get(d, ()) if k in slots), name_slot
            )
        wanted = _domains(slots, domains)
        area, floor = slots.get("area"), slots.get("floor")
        device_class = slots.get("device_class")
        if name_slot in slots:
            candidates = [self.home.get(e) for e in self.vocab.same_name(str(slots[name_slot]))]
            views = [v for v in candidates if v is not None and v.domain in wanted]
            views = _narrow(views, area, floor)
            if not views:
                return Targets(problem=self._unknown(slots, language, name_slot))
            if len(views) > 1 and self._match.context_area and area is None and floor is None:
                here = [v for v in views if v.area_id == self._match.context_area]
                views = here or views
            if len(views) > 1 and any(v.domain in ONE_AT_A_TIME for v in views):
                return Targets(problem=self._ambiguous(views, language))
            return Targets(tuple(v.entity_id for v in views))
        if area is None and floor is None and not everywhere:
            found = [v for d in wanted for v in self.home.entities(d)]
            found = _of_class(found, device_class)
            if len(found) > 1 and self._match.context_area:
                # A roomless command from a satellite means the satellite's room, if it has any.
                found = [v for v in found if v.area_id == self._match.context_area] or found
            if len(found) == 1:
                return Targets((found[0].entity_id,))
            if not found:
                return Targets(problem=Plan(reply_key="none_of_kind"))
            if any(d in NAMED_ONLY for d in wanted) or (len(wanted) > 1 and device_class is None):
                return Targets(problem=self._ambiguous(found, language))
            if self._match.context_area and all(
                v.area_id == self._match.context_area for v in found
            ):
                return Targets(tuple(v.entity_id for v in found))
            # Several in the home and no room said: a guess across the house would be a wrong
            # action as often as not ("everywhere"/"all" sentences say so explicitly).
            return Targets(problem=self._ambiguous(found, language))
        views = [
            v
            for d in wanted
            for v in self.home.entities(
                d, None if area is None else str(area), None if floor is None else str(floor)
            )
        ]
        views = _of_class(views, device_class)
        if any(v.domain in NAMED_ONLY for v in views) and len(views) > 1:
            return Targets(problem=self._ambiguous(views, language))
        if not views:
            return Targets(problem=self._missing(slots, language))
        return Targets(tuple(v.entity_id for v in views))

    def only(self, domain: str, slot_value: Any = None) -> EntityView | None:
        if slot_value is not None:
            return self.home.get(str(slot_value))
        found = self.home.entities(domain)
        if len(found) > 1 and self._match.context_area:
            here = [v for v in found if v.area_id == self._match.context_area]
            found = here or found
        return found[0] if found else None

    def fridge(self) -> EntityView | None:
        fridges = [
            v for v in self.home.entities("appliance") if v.attributes.get("kind") == "fridge"
        ]
        return fridges[0] if fridges else None

    def area_or_target(self, slots: Mapping[str, Any], ids: tuple[str, ...], language: str) -> str:
        if "name" in slots or any(k.endswith("_name") for k in slots):
            return self.names(ids, language)
        if "area" in slots:
            return self.name(str(slots["area"]), language)
        if "floor" in slots:
            return self.name(str(slots["floor"]), language)
        return self.names(ids, language)

    def _missing(self, slots: Mapping[str, Any], language: str) -> Plan:
        if "area" in slots or "floor" in slots:
            place = slots.get("area") or slots.get("floor")
            return Plan(
                reply_key="no_entities",
                reply_values={"area": self.name(str(place), language)},
            )
        return Plan(reply_key="none_of_kind")

    def _unknown(self, slots: Mapping[str, Any], language: str, name_slot: str) -> Plan:
        said = self._match.texts.get(name_slot) or self.name(str(slots[name_slot]), language)
        if "area" in slots or "floor" in slots:
            place = self.name(str(slots.get("area") or slots.get("floor")), language)
            return Plan(reply_key="unknown_name_in", reply_values={"name": said, "area": place})
        return Plan(reply_key="unknown_name", reply_values={"name": said})

    def _ambiguous(self, views: list[EntityView], language: str) -> Plan:
        ids = tuple(v.entity_id for v in views)
        return Plan(reply_key="ambiguous", reply_values={"targets": self.names(ids, language)})

    def _onoff(self, slots: Mapping[str, Any], language: str, on: bool) -> Plan:
        domains = ONOFF_DOMAINS if "name" not in slots else NAMED_ONOFF
        found = self.resolve(slots, domains, language)
        if found.problem is not None:
            return found.problem
        ids = found.ids
        actions = _per_domain(ids, TURN_ON if on else TURN_OFF, "turn_on" if on else "turn_off")
        key = "turned_on" if on else "turned_off"
        domain_set = {a.service.split(".", 1)[0] for a in actions}
        if domain_set == {"cover"}:
            key = "opened" if on else "closed"
        elif domain_set == {"lock"}:
            key = "locked" if on else "unlocked"
        return Plan(
            actions, key, {"target": self.area_or_target(slots, ids, language)}, matched=ids
        )

    # --- intents -------------------------------------------------------------------------

    def _HassTurnOn(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._onoff(slots, language, True)

    def _HassTurnOff(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._onoff(slots, language, False)

    # Hearth's own speech templates name these intents the older way.
    def _HassLockLock(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._onoff({"name": slots["lock_name"]}, language, True)

    def _HassLockUnlock(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._onoff({"name": slots["lock_name"]}, language, False)

    def _cover(self, slots: Mapping[str, Any], language: str, on: bool) -> Plan:
        if "cover_name" in slots:
            return self._onoff({"name": slots["cover_name"]}, language, on)
        return self._onoff({**slots, "domain": "cover"}, language, on)

    def _HassOpenCover(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._cover(slots, language, True)

    def _HassCloseCover(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._cover(slots, language, False)

    def _HearthShoppingListAdd(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._HassShoppingListAddItem(slots, language)

    def _HassToggle(self, slots: Mapping[str, Any], language: str) -> Plan:
        found = self.resolve(slots, ONOFF_DOMAINS, language)
        if found.problem is not None:
            return found.problem
        actions = _per_domain(found.ids, {}, "toggle")
        return Plan(actions, "toggled", {"target": self.area_or_target(slots, found.ids, language)})

    def _HassLightSet(self, slots: Mapping[str, Any], language: str) -> Plan:
        found = self.resolve({**slots, "domain": "light"}, ("light",), language)
        if found.problem is not None:
            return found.problem
        ids = found.ids
        target = self.area_or_target(slots, ids, language)
        if "brightness" in slots:
            pct = max(0, min(100, int(_number(slots["brightness"]))))
            action = ServiceAction("light.turn_on", ids, {"brightness_pct": pct})
            return Plan(
                (action,), "brightness_set", {"target": target, "brightness": pct}, matched=ids
            )
        if "temperature" in slots:
            kelvin = int(_number(slots["temperature"]))
            action = ServiceAction("light.turn_on", ids, {"color_temp_kelvin": kelvin})
            return Plan(
                (action,), "color_temp_set", {"target": target, "kelvin": kelvin}, matched=ids
            )
        color = str(slots.get("color", "white"))
        if color not in COLORS:
            return Plan(reply_key="not_supported")
        action = ServiceAction("light.turn_on", ids, dict(COLORS[color]))
        said = self._match.texts.get("color") or color
        return Plan((action,), "color_set", {"target": target, "color": said}, matched=ids)

    def _HassClimateSetTemperature(self, slots: Mapping[str, Any], language: str) -> Plan:
        found = self.resolve({**slots, "domain": "climate"}, ("climate",), language)
        if found.problem is not None:
            return found.problem
        temp = _number(slots["temperature"])
        action = ServiceAction("climate.set_temperature", found.ids, {"temperature": temp})
        return Plan(
            (action,),
            "temperature_set",
            {
                "target": self.area_or_target(slots, found.ids, language),
                "temperature": _say(temp),
            },
            matched=found.ids,
        )

    def _HassClimateGetTemperature(self, slots: Mapping[str, Any], language: str) -> Plan:
        if "name" in slots:
            view = self.home.get(str(slots["name"]))
            if view is None:
                return self._unknown(slots, language, "name")
            value = _temperature_of(view)
            if value is None:
                return Plan(reply_key="not_found")
            return self._temp_plan(self.name(view.entity_id, language), value, (view.entity_id,))
        area = slots.get("area") or self._match.context_area
        views = self.home.entities("climate", None if area is None else str(area))
        views += [
            v
            for v in self.home.entities("sensor", None if area is None else str(area))
            if v.device_class == "temperature"
        ]
        for view in views:
            value = _temperature_of(view)
            if value is not None:
                place = (
                    self.name(str(area), language) if area else self.name(view.entity_id, language)
                )
                return self._temp_plan(place, value, (view.entity_id,))
        return self._missing(slots, language)

    def _temp_plan(self, place: str, value: Any, ids: tuple[str, ...]) -> Plan:
        return Plan(
            reply_key="temperature_is",
            reply_values={"area": place, "temperature": _say(_number(value))},
            matched=ids,
        )

    def _HassSetPosition(self, slots: Mapping[str, Any], language: str) -> Plan:
        found = self.resolve(
            {**slots, "domain": slots.get("domain", "cover")}, ("cover",), language
        )
        if found.problem is not None:
            return found.problem
        position = max(0, min(100, int(_number(slots["position"]))))
        action = ServiceAction("cover.set_cover_position", found.ids, {"position": position})
        return Plan(
            (action,),
            "position_set",
            {"target": self.area_or_target(slots, found.ids, language), "position": position},
            matched=found.ids,
        )

    def _HassFanSetSpeed(self, slots: Mapping[str, Any], language: str) -> Plan:
        found = self.resolve({**slots, "domain": "fan"}, ("fan",), language)
        if found.problem is not None:
            return found.problem
        pct = max(0, min(100, int(_number(slots["percentage"]))))
        action = ServiceAction("fan.set_percentage", found.ids, {"percentage": pct})
        return Plan(
            (action,),
            "fan_speed_set",
            {"target": self.area_or_target(slots, found.ids, language), "percentage": pct},
            matched=found.ids,
        )

    def _vacuum(
        self,
        slots: Mapping[str, Any],
        service: str,
        key: str,
        data: Mapping[str, Any] | None = None,
        **values: Any,
    ) -> Plan:
        named = slots.get("vacuum_name") or slots.get("name")
        if named is not None:
            vac = self.home.get(str(named))
        else:
            found = self.home.entities("vacuum")
            if "floor" in slots:
                found = [v for v in found if v.floor_id == slots["floor"]] or found
            if len(found) > 1 and self._match.context_area:
                found = [v for v in found if v.area_id == self._match.context_area] or found
            vac = found[0] if len(found) == 1 else None
            if len(found) > 1:
                return self._ambiguous(found, language=self._match.language)
        if vac is None:
            return Plan(reply_key="no_vacuum")
        action = ServiceAction(service, (vac.entity_id,), dict(data or {}))
        return Plan((action,), key, values, matched=(vac.entity_id,))

    def _HassVacuumStart(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._vacuum(slots, "vacuum.start", "vacuum_started")

    def _HearthVacuumStop(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._vacuum(slots, "vacuum.stop", "vacuum_stopped")

    def _HearthVacuumPause(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._vacuum(slots, "vacuum.pause", "vacuum_paused")

    def _HassVacuumReturnToBase(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._vacuum(slots, "vacuum.return_to_base", "vacuum_home")

    def _HassVacuumCleanArea(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._HearthVacuumCleanArea(slots, language)

    def _HearthVacuumCleanArea(self, slots: Mapping[str, Any], language: str) -> Plan:
        area = str(slots.get("area") or self._match.context_area or "")
        if not area:
            return Plan(reply_key="not_found")
        return self._vacuum(
            slots,
            "vacuum.clean_area",
            "vacuum_clean_area",
            {"area": area},
            area=self.name(area, language),
        )

    def _HearthVacuumWhere(self, slots: Mapping[str, Any], language: str) -> Plan:
        vac = self.only("vacuum", slots.get("vacuum_name"))
        if vac is None:
            return Plan(reply_key="not_found")
        activity = vac.state or reply("unknown", language)
        area = vac.attributes.get("current_area")
        if area:
            spoken = self.name(str(area), language) if self.vocab.area(str(area)) else str(area)
            return Plan(
                reply_key="vacuum_where", reply_values={"activity": activity, "area": spoken}
            )
        return Plan(reply_key="vacuum_where_unknown", reply_values={"activity": activity})

    def _HearthFridgeSetTemperature(self, slots: Mapping[str, Any], language: str) -> Plan:
        fridge = self.fridge()
        if fridge is None:
            return Plan(reply_key="not_found")
        compartment = str(slots["compartment"])
        if compartment == "freezer":
            temp = -abs(_number(slots["freezer_temperature"]))
        else:
            temp = _number(slots["fridge_temperature"])
        action = ServiceAction(
            "appliance.set_temperature",
            (fridge.entity_id,),
            {"compartment": compartment, "temperature": temp},
        )
        shown = (
            compartment
            if language == "en"
            else {"fridge": "冷藏室", "freezer": "冷冻室"}[compartment]
        )
        return Plan(
            (action,), "fridge_temperature_set", {"compartment": shown, "temperature": _say(temp)}
        )

    def _HearthFridgeFastFreeze(self, slots: Mapping[str, Any], language: str) -> Plan:
        fridge = self.fridge()
        if fridge is None:
            return Plan(reply_key="not_found")
        enabled = slots.get("state", "on") == "on"
        action = ServiceAction(
            "appliance.set_mode", (fridge.entity_id,), {"mode": "fast_freeze", "enabled": enabled}
        )
        return Plan((action,), "fast_freeze_on" if enabled else "fast_freeze_off")

    def _HearthFridgeDoor(self, slots: Mapping[str, Any], language: str) -> Plan:
        fridge = self.fridge()
        if fridge is None:
            return Plan(reply_key="not_found")
        return Plan(
            reply_key="fridge_door_open"
            if fridge.attributes.get("door_open")
            else "fridge_door_closed"
        )

    def _HearthFridgeContents(self, slots: Mapping[str, Any], language: str) -> Plan:
        fridge = self.fridge()
        if fridge is None:
            return Plan(reply_key="not_found")
        items = [str(i) for i in fridge.attributes.get("inventory") or []]
        if not items:
            return Plan(reply_key="fridge_empty")
        return Plan(
            reply_key="fridge_contents", reply_values={"items": join_names(items, language)}
        )

    def _shopping_list(self) -> EntityView | None:
        lists = self.home.entities("todo")
        named = [v for v in lists if "shopping" in (self.name(v.entity_id, "en") + v.entity_id)]
        found = named or lists
        return found[0] if found else None

    def _item(self, slots: Mapping[str, Any]) -> str:
        """The item as said (so a Chinese list keeps Chinese words)."""
        return str(self._match.texts.get("item") or slots["item"]).strip()

    def _list_change(
        self,
        todo: EntityView | None,
        service: str,
        key: str,
        slots: Mapping[str, Any],
        language: str,
    ) -> Plan:
        if todo is None:
            return Plan(reply_key="not_found")
        item = self._item(slots)
        if service == "todo.remove_item":
            items = [str(i).lower() for i in todo.attributes.get("items") or []]
            if item.lower() not in items:
                return Plan(
                    reply_key="item_not_on_list",
                    reply_values={"item": item, "list": self.name(todo.entity_id, language)},
                )
        return Plan(
            (ServiceAction(service, (todo.entity_id,), {"item": item}),),
            key,
            {"item": item, "list": self.name(todo.entity_id, language)},
            matched=(todo.entity_id,),
        )

    def _HassShoppingListAddItem(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._list_change(
            self._shopping_list(), "todo.add_item", "shopping_added", slots, language
        )

    def _HassShoppingListCompleteItem(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._list_change(
            self._shopping_list(), "todo.remove_item", "list_completed", slots, language
        )

    def _named_list(self, slots: Mapping[str, Any]) -> EntityView | None:
        view = self.home.get(str(slots.get("name", "")))
        return view if view is not None and view.domain == "todo" else None

    def _HassListAddItem(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._list_change(
            self._named_list(slots), "todo.add_item", "list_added", slots, language
        )

    def _HassListCompleteItem(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._list_change(
            self._named_list(slots), "todo.remove_item", "list_completed", slots, language
        )

    def _HassListRemoveItem(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._list_change(
            self._named_list(slots), "todo.remove_item", "list_removed", slots, language
        )

    def _HearthOrder(self, slots: Mapping[str, Any], language: str) -> Plan:
        # No shop integration exists yet: a confirmed order lands on the shopping list.
        todo = self._shopping_list()
        if todo is None:
            return Plan(reply_key="not_found")
        item = self._item(slots)
        action = ServiceAction("todo.add_item", (todo.entity_id,), {"item": item})
        return Plan((action,), "ordered", {"item": item}, confirm_key="confirm_order")

    def _HassGetState(self, slots: Mapping[str, Any], language: str) -> Plan:
        if slots.get("attribute") == "temperature":
            return self._HassClimateGetTemperature({"area": slots["area"]}, language)
        for key in ("name", "lock_name", "cover_name", "sensor_name"):
            if key in slots:
                return self._state_of(slots, key, language)
        domains = _domains(slots, ())
        area, floor = slots.get("area"), slots.get("floor")
        views = [
            v
            for d in domains
            for v in self.home.entities(
                d, None if area is None else str(area), None if floor is None else str(floor)
            )
        ]
        views = _of_class(views, slots.get("device_class"))
        if not views:
            return self._missing(slots, language)
        wanted = str(slots.get("state", "on"))
        matched = tuple(v.entity_id for v in views if _in_state(v, wanted))
        unmatched = tuple(v.entity_id for v in views if not _in_state(v, wanted))
        state_word = self._match.texts.get("state") or wanted
        values = {"state": state_word, "count": len(matched)}
        kind = self._match.response or "any"
        if kind == "all":
            key = "all_yes" if not unmatched else "all_no"
            values["targets"] = self.names(unmatched, language)
        elif kind == "how_many":
            key = "how_many"
        elif kind == "which":
            key = "which" if matched else "which_none"
            values["targets"] = self.names(matched, language)
        else:
            key = "any_yes" if matched else "any_no"
            values["targets"] = self.names(matched, language)
        return Plan(reply_key=key, reply_values=values, matched=matched, unmatched=unmatched)

    def _state_of(self, slots: Mapping[str, Any], key: str, language: str) -> Plan:
        candidates = [self.home.get(e) for e in self.vocab.same_name(str(slots[key]))]
        views = _narrow(
            [v for v in candidates if v is not None], slots.get("area"), slots.get("floor")
        )
        if not views:
            return self._unknown(slots, language, key)
        view = views[0]
        target = self.name(view.entity_id, language)
        state = self._state_word(view, language)
        if "state" in slots:
            yes = _in_state(view, str(slots["state"]))
            return Plan(
                reply_key="yes_state" if yes else "no_state",
                reply_values={"target": target, "state": state},
                matched=(view.entity_id,) if yes else (),
                unmatched=() if yes else (view.entity_id,),
            )
        return Plan(
            reply_key="state_is",
            reply_values={"target": target, "state": state},
            matched=(view.entity_id,),
        )

    def _state_word(self, view: EntityView, language: str) -> str:
        """The state in the request's language, with its unit ("on" -> "开着")."""
        raw = view.state or "unknown"
        word = state_name(raw, language)
        unit = view.attributes.get("unit_of_measurement")
        return f"{word} {unit}" if unit else word

    def _timer_target(
        self, slots: Mapping[str, Any], op: str, seconds: float | None = None
    ) -> Plan:
        start = _seconds(slots, "start_")
        return Plan(
            reply_key="timer_" + op,
            timer=TimerRequest(
                op,
                seconds,
                _text(self._match.texts.get("name")) if "name" in slots else None,
                str(slots["area"]) if "area" in slots else None,
                start or None,
            ),
        )

    def _HassStartTimer(self, slots: Mapping[str, Any], language: str) -> Plan:
        seconds = _seconds(slots, "")
        if seconds <= 0:
            return Plan(reply_key="no_match")
        command = slots.get("conversation_command")
        return Plan(
            reply_key="timer_started",
            timer=TimerRequest(
                "start",
                seconds,
                _text(self._match.texts.get("name")) if "name" in slots else None,
                self._match.context_area,
                None,
                None if command is None else str(command).strip(),
            ),
        )

    def _HassCancelTimer(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._timer_target(slots, "cancel")

    def _HassCancelAllTimers(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._timer_target(slots, "cancel_all")

    def _HassTimerStatus(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._timer_target(slots, "status")

    def _HassPauseTimer(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._timer_target(slots, "pause")

    def _HassUnpauseTimer(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._timer_target(slots, "unpause")

    def _HassIncreaseTimer(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._timer_target(slots, "add", _seconds(slots, ""))

    def _HassDecreaseTimer(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._timer_target(slots, "add", -_seconds(slots, ""))

    def _HassNevermind(self, slots: Mapping[str, Any], language: str) -> Plan:
        return Plan(reply_key="nevermind")

    def _HassGetCurrentTime(self, slots: Mapping[str, Any], language: str) -> Plan:
        now = self.home.now()
        return Plan(
            reply_key="time_is", reply_values={"hour": now.hour, "minute": f"{now.minute:02d}"}
        )

    def _HassGetCurrentDate(self, slots: Mapping[str, Any], language: str) -> Plan:
        now = self.home.now()
        return Plan(
            reply_key="date_is",
            reply_values={
                "year": now.year,
                "month": now.month,
                "day": now.day,
                "date": now.date().isoformat(),
            },
        )

    def _HearthRulePhrase(self, slots: Mapping[str, Any], language: str) -> Plan:
        # The rules listening for the phrase act on the voice_intent event; voice only answers.
        return Plan(reply_key="phrase_heard")


def _plain(name: str) -> str:
    """A name for comparing: case, underscores and spaces do not count."""
    return "".join(name.casefold().replace("_", " ").split())


def _single(value: Any) -> str | None:
    """A slot's one value (a list of several says nothing definite)."""
    if isinstance(value, (list, tuple, set)):
        items = list(value)
        return str(items[0]) if len(items) == 1 else None
    return None if value is None else str(value)


def _per_domain(
    entity_ids: tuple[str, ...], special: Mapping[str, str], service: str
) -> tuple[ServiceAction, ...]:
    by_domain: dict[str, list[str]] = {}
    for eid in entity_ids:
        by_domain.setdefault(eid.split(".", 1)[0], []).append(eid)
    return tuple(
        ServiceAction(f"{d}.{special.get(d, service)}", tuple(ids))
        for d, ids in sorted(by_domain.items())
    )


def _domains(slots: Mapping[str, Any], default: tuple[str, ...]) -> tuple[str, ...]:
    value = slots.get("domain")
    if value is None:
        return default
    if isinstance(value, (list, tuple, set)):
        return tuple(str(v) for v in value)
    return (str(value),)


def _narrow(views: list[EntityView], area: Any, floor: Any) -> list[EntityView]:
    if area is not None:
        views = [v for v in views if v.area_id == str(area)]
    if floor is not None:
        views = [v for v in views if v.floor_id == str(floor)]
    return views


def _of_class(views: list[EntityView], device_class: Any) -> list[EntityView]:
    if device_class is None:
        return views
    wanted = (
        {str(d) for d in device_class} if isinstance(device_class, list) else {str(device_class)}
    )
    return [v for v in views if v.device_class in wanted]


def _in_state(view: EntityView, wanted: str) -> bool:
    state = (view.state or "").lower()
    if view.domain == "binary_sensor":
        return state == wanted or (wanted in ("on", "open") and state == "on")
    return state == wanted.lower()


def _temperature_of(view: EntityView) -> Any:
    if view.domain == "climate":
        return view.attributes.get("current_temperature")
    if view.state in (None, "unknown", "unavailable"):
        return None
    return view.state


def _seconds(slots: Mapping[str, Any], prefix: str) -> float:
    total = 0.0
    for unit, factor in (("hours", 3600), ("minutes", 60), ("seconds", 1)):
        if prefix + unit in slots:
            total += _number(slots[prefix + unit]) * factor
    return total


def _text(value: Any) -> str | None:
    return None if value is None else str(value).strip() or None


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _say(value: float) -> str:
    """'21' rather than '21.0'."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def onoff_actions(entity_ids: tuple[str, ...], on: bool) -> tuple[ServiceAction, ...]:
    """Turn entities on or off, one call per domain (for follow-ups like 'turn it off')."""
    return _per_domain(entity_ids, TURN_ON if on else TURN_OFF, "turn_on" if on else "turn_off")
