"""Spoken commands for the demo home, shared by the voice tests and bench/voice.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

VOICES = ("en-us", "en-us+m3", "en-us+f3")
# A harder voice the bench adds on top (pocketsphinx does worst on it).
EXTRA_VOICES = ("en-us+m7",)
SPEEDS = (150, 165, 140)


@dataclass(frozen=True)
class Command:
    """A sentence, what it must be understood as, and (optionally) the state it must cause."""

    text: str
    intent: str
    slots: dict[str, Any] = field(default_factory=dict)
    entity: str | None = None
    state: str | None = None
    attribute: tuple[str, Any] | None = None


COMMANDS: tuple[Command, ...] = (
    Command(
        "turn on the kitchen light",
        "HassTurnOn",
        {"name": "light.kitchen_light"},
        "light.kitchen_light",
        "on",
    ),
    Command(
        "switch on the coffee maker",
        "HassTurnOn",
        {"name": "switch.coffee_maker"},
        "switch.coffee_maker",
        "on",
    ),
    Command(
        "turn on the lights in the bedroom",
        "HassTurnOn",
        {"area": "bedroom"},
        "light.bedroom_light",
        "on",
    ),
    Command(
        "turn on the living room lamp",
        "HassTurnOn",
        {"name": "light.living_room_lamp"},
        "light.living_room_lamp",
        "on",
    ),
    Command(
        "toggle the bedroom light",
        "HassToggle",
        {"name": "light.bedroom_light"},
        "light.bedroom_light",
        "on",
    ),
    Command(
        "turn off the kitchen light",
        "HassTurnOff",
        {"name": "light.kitchen_light"},
        "light.kitchen_light",
        "off",
    ),
    Command(
        "turn off all the lights in the living room",
        "HassTurnOff",
        {"area": "living_room"},
        "light.living_room_lamp",
        "off",
    ),
    Command(
        "shut off the coffee maker",
        "HassTurnOff",
        {"name": "switch.coffee_maker"},
        "switch.coffee_maker",
        "off",
    ),
    Command(
        "turn off everything", "HassTurnOff", {"everywhere": "yes"}, "light.kitchen_light", "off"
    ),
    Command(
        "lights off in the kitchen",
        "HassTurnOff",
        {"area": "kitchen"},
        "light.kitchen_light",
        "off",
    ),
    Command(
        "set the living room lamp to fifty percent",
        "HassLightSet",
        {"brightness": 50},
        "light.living_room_lamp",
        "on",
        ("brightness", 128),
    ),
    Command(
        "dim the bedroom light to twenty percent",
        "HassLightSet",
        {"brightness": 20},
        "light.bedroom_light",
        "on",
        ("brightness", 51),
    ),
    Command(
        "make the living room lamp red",
        "HassLightSet",
        {"color": "red"},
        "light.living_room_lamp",
        "on",
        ("rgb_color", [255, 0, 0]),
    ),
    Command(
        "set the living room lamp to blue",
        "HassLightSet",
        {"color": "blue"},
        "light.living_room_lamp",
        "on",
        ("rgb_color", [0, 0, 255]),
    ),
    Command(
        "set the bedroom thermostat to twenty two degrees",
        "HassClimateSetTemperature",
        {"temperature": 22},
        "climate.bedroom_thermostat",
        None,
        ("temperature", 22.0),
    ),
    Command(
        "set the heating to nineteen degrees",
        "HassClimateSetTemperature",
        {"temperature": 19},
        "climate.bedroom_thermostat",
        None,
        ("temperature", 19.0),
    ),
    Command(
        "make it twenty one degrees in the bedroom",
        "HassClimateSetTemperature",
        {"temperature": 21, "area": "bedroom"},
        "climate.bedroom_thermostat",
        None,
        ("temperature", 21.0),
    ),
    Command(
        "what is the temperature in the kitchen",
        "HassGetState",
        {"area": "kitchen", "attribute": "temperature"},
    ),
    Command(
        "what's the temperature in the bedroom",
        "HassGetState",
        {"area": "bedroom", "attribute": "temperature"},
    ),
    Command("is the kitchen light on", "HassGetState", {"name": "light.kitchen_light"}),
    Command(
        "what is the kitchen humidity", "HassGetState", {"sensor_name": "sensor.kitchen_humidity"}
    ),
    Command("is the front door locked", "HassGetState", {"lock_name": "lock.front_door_lock"}),
    Command(
        "lock the front door",
        "HassLockLock",
        {"lock_name": "lock.front_door_lock"},
        "lock.front_door_lock",
        "locked",
    ),
    Command(
        "unlock the front door",
        "HassLockUnlock",
        {"lock_name": "lock.front_door_lock"},
        "lock.front_door_lock",
        "locked",
    ),
    Command("start the vacuum", "HassVacuumStart", {}, "vacuum.robot_cleaner", "cleaning"),
    Command("stop the vacuum", "HearthVacuumStop", {}),
    Command(
        "pause the robot cleaner", "HearthVacuumPause", {"vacuum_name": "vacuum.robot_cleaner"}
    ),
    Command("send the vacuum home", "HassVacuumReturnToBase", {}),
    Command(
        "clean the kitchen",
        "HearthVacuumCleanArea",
        {"area": "kitchen"},
        "vacuum.robot_cleaner",
        "cleaning",
    ),
    Command(
        "vacuum the living room",
        "HearthVacuumCleanArea",
        {"area": "living_room"},
        "vacuum.robot_cleaner",
        "cleaning",
    ),
    Command("where is the vacuum", "HearthVacuumWhere", {}),
    Command(
        "set the fridge to three degrees",
        "HearthFridgeSetTemperature",
        {"compartment": "fridge", "fridge_temperature": 3},
    ),
    Command(
        "set the freezer to minus twenty degrees",
        "HearthFridgeSetTemperature",
        {"compartment": "freezer", "freezer_temperature": 20},
    ),
    Command(
        "turn on fast freeze",
        "HearthFridgeFastFreeze",
        {"state": "on"},
        "appliance.fridge",
        None,
        ("modes", ["fast_freeze"]),
    ),
    Command(
        "turn off fast freeze",
        "HearthFridgeFastFreeze",
        {"state": "off"},
        "appliance.fridge",
        None,
        ("modes", []),
    ),
    Command("is the fridge door open", "HearthFridgeDoor", {}),
    Command("what's in the fridge", "HearthFridgeContents", {}),
    Command(
        "add eggs to the shopping list",
        "HearthShoppingListAdd",
        {"item": "eggs"},
        "todo.shopping_list",
        "1",
        ("items", ["eggs"]),
    ),
    Command(
        "put bananas on my shopping list",
        "HearthShoppingListAdd",
        {"item": "bananas"},
        "todo.shopping_list",
        "1",
        ("items", ["bananas"]),
    ),
    Command("order more coffee", "HearthOrder", {"item": "coffee"}, "todo.shopping_list", "0"),
    Command("set a timer for ten minutes", "HassStartTimer", {"minutes": 10}),
    Command("cancel the timer", "HassCancelTimer", {}),
    Command("how much time is left", "HassTimerStatus", {}),
    Command("open the blinds in the bedroom", "HassOpenCover", {"area": "bedroom"}),
)

# Sentences the home does not understand: they must cause no action.
OUT_OF_GRAMMAR = (
    "what a beautiful day for a picnic",
    "how old is the president",
    "open the pod bay doors",
    "i would like a cup of tea",
    "please call my mother tomorrow",
    "play some jazz music",
    "the quick brown fox jumps over the lazy dog",
    "tell me a joke about elephants",
)


def voice_for(index: int) -> tuple[str, int]:
    """Voice and speed for the n-th clip: every command gets a different mix."""
    return VOICES[index % len(VOICES)], SPEEDS[index % len(SPEEDS)]
