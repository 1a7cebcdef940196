"""Scenarios on the demo home, end to end through real services, voice and the fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.clock import FakeClock

from .conftest import RulesHub, manager, traces

FRIDGE = """\
- id: fridge_door_open
  name: Fridge door left open
  triggers:
    - platform: state
      entity_id: binary_sensor.fridge_door
      to: "on"
      for: "00:02:00"
  actions:
    - notify:
        title: Fridge
        message: "The {{ trigger.to_state.attributes.friendly_name | lower }} has been open for 2 minutes"
    - speak: The fridge door is open
"""

SUNSET = """\
- id: lamp_at_sunset
  triggers:
    - platform: sun
      event: sunset
  actions:
    - service: light.turn_on
      target: {entity_id: light.living_room_lamp}
"""

CLEANER = """\
- id: lock_after_cleaning
  triggers:
    - platform: event
      event_type: vacuum_cleaning_finished
  conditions:
    - condition: state
      entity_id: binary_sensor.someone_home
      state: "off"
  actions:
    - service: lock.lock
      target: {entity_id: lock.front_door_lock}
"""


async def test_fridge_door_open_two_minutes_notifies_and_speaks(
    make_hub: RulesHub, fake_clock: FakeClock
) -> None:
    hub = await make_hub(FRIDGE, voice={})
    simulate = hub.services.async_call

    await simulate("demo", "simulate", {"device": "fridge_door", "value": True})
    await fake_clock.async_advance(60)
    await simulate("demo", "simulate", {"device": "fridge_door", "value": False})  # closed in time
    await fake_clock.async_advance(600)
    assert hub.notifications.all() == []

    await simulate("demo", "simulate", {"device": "fridge_door", "value": True})
    await fake_clock.async_advance(119)
    assert hub.notifications.all() == []
    await fake_clock.async_advance(2)
    (trace,) = await traces(hub, "fridge_door_open")
    assert trace["state"] == "finished", trace
    (note,) = hub.notifications.all()
    assert note.title == "Fridge"
    assert note.message == "The fridge door has been open for 2 minutes"
    speak = trace["steps"][1]
    assert speak["kind"] == "speak" and speak["result"]["text"] == "The fridge door is open"
    assert speak["result"]["seconds"] > 0.5  # espeak-ng really produced the sentence


async def test_at_sunset_the_living_room_lamp_turns_on(make_hub: RulesHub) -> None:
    clock = FakeClock(datetime(2026, 6, 21, 8, 0, tzinfo=UTC))
    hub = await make_hub(SUNSET, clock=clock)
    lamp = "light.living_room_lamp"
    sunset = datetime(2026, 6, 21, 19, 33, tzinfo=UTC)  # Berlin coordinates, astral: 19:33 UTC
    await clock.async_set(sunset - timedelta(minutes=5))
    assert hub.states.get(lamp).state == "off"  # type: ignore[union-attr]
    await clock.async_set(sunset + timedelta(minutes=5))
    await manager(hub).async_wait_idle()
    assert hub.states.get(lamp).state == "on"  # type: ignore[union-attr]
    (trace,) = await traces(hub, "lamp_at_sunset")
    assert trace["trigger"]["now"].startswith("2026-06-21T19:3")


async def test_cleaner_finishing_locks_the_door_when_nobody_is_home(
    make_hub: RulesHub, fake_clock: FakeClock
) -> None:
    # Ten seconds per room, so a full clean (4 rooms) fits in the cleaner's battery.
    hub = await make_hub(CLEANER, demo={"delay": 0, "tick": 3600, "cleaner_room_seconds": 10})
    call = hub.services.async_call
    lock = "lock.front_door_lock"

    # Someone is home: the run stops at the condition and the door stays unlocked.
    await call("lock", "unlock", target={"entity_id": lock})
    await call("vacuum", "start", target={"entity_id": "vacuum.robot_cleaner"})
    await fake_clock.async_advance(4 * 10 + 5)
    (trace,) = await traces(hub, "lock_after_cleaning")
    assert trace["state"] == "stopped" and trace["conditions"][0]["result"] is False
    assert hub.states.get(lock).state == "unlocked"  # type: ignore[union-attr]

    # Nobody home: the door is locked when the cleaner finishes, not before.
    await call("demo", "simulate", {"device": "someone_home", "value": False})
    await call("vacuum", "start", target={"entity_id": "vacuum.robot_cleaner"})
    await fake_clock.async_advance(3 * 10)
    assert hub.states.get(lock).state == "unlocked"  # type: ignore[union-attr]
    await fake_clock.async_advance(15)
    await manager(hub).async_wait_idle()
    assert hub.states.get(lock).state == "locked"  # type: ignore[union-attr]
    latest = (await traces(hub, "lock_after_cleaning"))[0]
    assert latest["state"] == "finished"
    assert latest["steps"][0]["result"]["service"] == "lock.lock"
