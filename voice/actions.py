"""Turn a recognised intent into service calls (or an answer) against the live home."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .home import EntityView, HomeView
from .recognizer import IntentMatch
from .replies import join_names, reply
from .vocabulary import HomeVocabulary

ONOFF_DOMAINS = ("light", "switch", "fan")
COLORS: Mapping[str, dict[str, Any]] = {
    "red": {"rgb_color": [255, 0, 0]},
    "green": {"rgb_color": [0, 255, 0]},
    "blue": {"rgb_color": [0, 0, 255]},
    "white": {"rgb_color": [255, 255, 255]},
    "yellow": {"rgb_color": [255, 255, 0]},
    "orange": {"rgb_color": [255, 165, 0]},
    "purple": {"rgb_color": [128, 0, 128]},
    "pink": {"rgb_color": [255, 105, 180]},
    "warm white": {"color_temp_kelvin": 2700},
    "cool white": {"color_temp_kelvin": 6000},
}
# Spending money is risky whatever the service registry says.
RISKY_INTENTS = frozenset({"HearthOrder"})


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
class Plan:
    """What to do for an intent and what to say once it is done."""

    actions: tuple[ServiceAction, ...] = ()
    reply_key: str = "no_match"
    reply_values: Mapping[str, Any] = field(default_factory=dict)
    confirm_key: str | None = None  # set when the plan must be confirmed first
    timer: float | None = None  # seconds, for HassStartTimer
    timer_op: str | None = None  # "start" | "cancel" | "status"

    def reply(self, language: str) -> str:
        return reply(self.reply_key, language, **self.reply_values)


class Planner:
    """Builds plans; reads the home through a HomeView and names through the vocabulary."""

    def __init__(self, home: HomeView, vocabulary: HomeVocabulary) -> None:
        self.home = home
        self.vocab = vocabulary

    def plan(self, match: IntentMatch) -> Plan:
        handler = getattr(self, "_" + match.intent, None)
        if handler is None:
            return Plan(reply_key="no_match")
        plan: Plan = handler(match.slots, match.language)
        risky = match.intent in RISKY_INTENTS or any(
            self.home.is_risky(a.service) for a in plan.actions
        )
        if risky and plan.actions and plan.confirm_key is None:
            key = "confirm_order" if match.intent == "HearthOrder" else "confirm_unlock"
            plan = Plan(plan.actions, plan.reply_key, plan.reply_values, confirm_key=key)
        return plan

    # --- helpers -------------------------------------------------------------------------

    def name(self, item_id: str, language: str) -> str:
        return self.vocab.display_name(item_id, language)

    def names(self, entity_ids: tuple[str, ...], language: str) -> str:
        return join_names([self.name(e, language) for e in entity_ids], language)

    def targets(
        self, slots: Mapping[str, Any], domains: tuple[str, ...], name_slot: str
    ) -> tuple[str, ...]:
        """Entity ids a command addresses: a named entity, or every match in a room/home."""
        if name_slot in slots:
            return (str(slots[name_slot]),)
        wanted = (str(slots["domain"]),) if "domain" in slots else domains
        area = slots.get("area")
        if area is None and "everywhere" not in slots:
            found = [v for d in wanted for v in self.home.entities(d)]
            return tuple(v.entity_id for v in found) if len(found) == 1 else ()
        return tuple(
            v.entity_id
            for d in wanted
            for v in self.home.entities(d, None if area is None else str(area))
        )

    def only(self, domain: str, slot_value: Any = None) -> EntityView | None:
        if slot_value is not None:
            return self.home.get(str(slot_value))
        found = self.home.entities(domain)
        return found[0] if found else None

    def fridge(self) -> EntityView | None:
        fridges = [
            v for v in self.home.entities("appliance") if v.attributes.get("kind") == "fridge"
        ]
        return fridges[0] if fridges else None

    def area_or_target(self, slots: Mapping[str, Any], ids: tuple[str, ...], language: str) -> str:
        if "name" in slots or any(k.endswith("_name") for k in slots) or "area" not in slots:
            return self.names(ids, language)
        return self.name(str(slots["area"]), language)

    def _missing(self, slots: Mapping[str, Any], language: str) -> Plan:
        if "area" in slots:
            return Plan(
                reply_key="no_entities",
                reply_values={"area": self.name(str(slots["area"]), language)},
            )
        return Plan(reply_key="not_found")

    def _onoff(self, slots: Mapping[str, Any], language: str, service: str, key: str) -> Plan:
        ids = self.targets(slots, ONOFF_DOMAINS, "name")
        if not ids:
            return self._missing(slots, language)
        actions = _per_domain(ids, service)
        return Plan(actions, key, {"target": self.area_or_target(slots, ids, language)})

    # --- intents -------------------------------------------------------------------------

    def _HassTurnOn(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._onoff(slots, language, "turn_on", "turned_on")

    def _HassTurnOff(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._onoff(slots, language, "turn_off", "turned_off")

    def _HassToggle(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._onoff(slots, language, "toggle", "toggled")

    def _HassLightSet(self, slots: Mapping[str, Any], language: str) -> Plan:
        ids = self.targets({**slots, "domain": "light"}, ("light",), "light_name")
        if not ids:
            return self._missing(slots, language)
        target = self.area_or_target(slots, ids, language)
        if "brightness" in slots:
            pct = max(0, min(100, int(slots["brightness"])))
            action = ServiceAction("light.turn_on", ids, {"brightness_pct": pct})
            return Plan((action,), "brightness_set", {"target": target, "brightness": pct})
        color = str(slots.get("color", "white"))
        action = ServiceAction("light.turn_on", ids, dict(COLORS.get(color, COLORS["white"])))
        return Plan((action,), "color_set", {"target": target, "color": color})

    def _HassClimateSetTemperature(self, slots: Mapping[str, Any], language: str) -> Plan:
        ids = self.targets({**slots, "domain": "climate"}, ("climate",), "climate_name")
        if not ids and "area" not in slots:
            ids = tuple(v.entity_id for v in self.home.entities("climate"))[:1]
        if not ids:
            return self._missing(slots, language)
        temp = _number(slots["temperature"])
        action = ServiceAction("climate.set_temperature", ids, {"temperature": temp})
        return Plan(
            (action,),
            "temperature_set",
            {"target": self.area_or_target(slots, ids, language), "temperature": _say(temp)},
        )

    def _HassLockLock(self, slots: Mapping[str, Any], language: str) -> Plan:
        ids = (str(slots["lock_name"]),)
        return Plan(
            (ServiceAction("lock.lock", ids),), "locked", {"target": self.names(ids, language)}
        )

    def _HassLockUnlock(self, slots: Mapping[str, Any], language: str) -> Plan:
        ids = (str(slots["lock_name"]),)
        return Plan(
            (ServiceAction("lock.unlock", ids),), "unlocked", {"target": self.names(ids, language)}
        )

    def _cover(self, slots: Mapping[str, Any], language: str, service: str, key: str) -> Plan:
        ids = self.targets({**slots, "domain": "cover"}, ("cover",), "cover_name")
        if not ids:
            return self._missing(slots, language)
        return Plan(
            (ServiceAction(service, ids),),
            key,
            {"target": self.area_or_target(slots, ids, language)},
        )

    def _HassOpenCover(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._cover(slots, language, "cover.open_cover", "opened")

    def _HassCloseCover(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._cover(slots, language, "cover.close_cover", "closed")

    def _vacuum(
        self,
        slots: Mapping[str, Any],
        service: str,
        key: str,
        data: Mapping[str, Any] | None = None,
        **values: Any,
    ) -> Plan:
        vac = self.only("vacuum", slots.get("vacuum_name"))
        if vac is None:
            return Plan(reply_key="not_found")
        return Plan((ServiceAction(service, (vac.entity_id,), dict(data or {})),), key, values)

    def _HassVacuumStart(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._vacuum(slots, "vacuum.start", "vacuum_started")

    def _HearthVacuumStop(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._vacuum(slots, "vacuum.stop", "vacuum_stopped")

    def _HearthVacuumPause(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._vacuum(slots, "vacuum.pause", "vacuum_paused")

    def _HassVacuumReturnToBase(self, slots: Mapping[str, Any], language: str) -> Plan:
        return self._vacuum(slots, "vacuum.return_to_base", "vacuum_home")

    def _HearthVacuumCleanArea(self, slots: Mapping[str, Any], language: str) -> Plan:
        area = str(slots["area"])
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

    def _HearthShoppingListAdd(self, slots: Mapping[str, Any], language: str) -> Plan:
        todo = self._shopping_list()
        if todo is None:
            return Plan(reply_key="not_found")
        item = str(slots["item"])
        return Plan(
            (ServiceAction("todo.add_item", (todo.entity_id,), {"item": item}),),
            "shopping_added",
            {"item": item},
        )

    def _HearthOrder(self, slots: Mapping[str, Any], language: str) -> Plan:
        # No shop integration exists yet: a confirmed order lands on the shopping list.
        todo = self._shopping_list()
        if todo is None:
            return Plan(reply_key="not_found")
        item = str(slots["item"])
        action = ServiceAction("todo.add_item", (todo.entity_id,), {"item": item})
        return Plan((action,), "ordered", {"item": item}, confirm_key="confirm_order")

    def _HassGetState(self, slots: Mapping[str, Any], language: str) -> Plan:
        if slots.get("attribute") == "temperature":
            return self._temperature_in(str(slots["area"]), language)
        for key in ("name", "lock_name", "cover_name", "sensor_name"):
            if key in slots:
                view = self.home.get(str(slots[key]))
                if view is None:
                    return Plan(reply_key="not_found")
                state = view.state or reply("unknown", language)
                unit = view.attributes.get("unit_of_measurement")
                if unit:
                    state = f"{state} {unit}"
                return Plan(
                    reply_key="state_is",
                    reply_values={"target": self.name(view.entity_id, language), "state": state},
                )
        return Plan(reply_key="not_found")

    def _temperature_in(self, area: str, language: str) -> Plan:
        for view in self.home.entities("climate", area):
            if view.attributes.get("current_temperature") is not None:
                return self._temp_plan(area, view.attributes["current_temperature"], language)
        for view in self.home.entities("sensor", area):
            if view.attributes.get("device_class") == "temperature" and view.state not in (
                None,
                "unknown",
                "unavailable",
            ):
                return self._temp_plan(area, view.state, language)
        return Plan(reply_key="no_entities", reply_values={"area": self.name(area, language)})

    def _temp_plan(self, area: str, value: Any, language: str) -> Plan:
        return Plan(
            reply_key="temperature_is",
            reply_values={"area": self.name(area, language), "temperature": _say(_number(value))},
        )

    def _HassStartTimer(self, slots: Mapping[str, Any], language: str) -> Plan:
        seconds = (
            float(slots["minutes"]) * 60 if "minutes" in slots else float(slots.get("seconds", 60))
        )
        return Plan(reply_key="timer_started", timer=seconds, timer_op="start")

    def _HassCancelTimer(self, slots: Mapping[str, Any], language: str) -> Plan:
        return Plan(reply_key="timer_cancelled", timer_op="cancel")

    def _HassTimerStatus(self, slots: Mapping[str, Any], language: str) -> Plan:
        return Plan(reply_key="timer_left", timer_op="status")

    def _HearthRulePhrase(self, slots: Mapping[str, Any], language: str) -> Plan:
        # The rules listening for the phrase act on the voice_intent event; voice only answers.
        return Plan(reply_key="phrase_heard")


def _per_domain(entity_ids: tuple[str, ...], service: str) -> tuple[ServiceAction, ...]:
    by_domain: dict[str, list[str]] = {}
    for eid in entity_ids:
        by_domain.setdefault(eid.split(".", 1)[0], []).append(eid)
    return tuple(
        ServiceAction(f"{d}.{service}", tuple(ids)) for d, ids in sorted(by_domain.items())
    )


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
    return _per_domain(entity_ids, "turn_on" if on else "turn_off")
