"""One wake word, one answer: the arbiter's choice, without satellites."""

from __future__ import annotations

import asyncio

from voice.satellite.arbitration import WakeArbiter, WakeScore


async def test_the_louder_claim_of_a_window_wins() -> None:
    arbiter = WakeArbiter(window=0.05, holdoff=60)
    near = asyncio.create_task(arbiter.async_claim("kitchen", WakeScore(900.0, 0.6)))
    far = asyncio.create_task(arbiter.async_claim("bedroom", WakeScore(200.0, 0.99)))
    assert (await near, await far) == (True, False)
    # The same utterance reported late by a third satellite is already answered.
    assert await arbiter.async_claim("hallway", WakeScore(5000.0, 1.0)) is False


async def test_a_later_wake_word_is_a_new_round() -> None:
    arbiter = WakeArbiter(window=0.02, holdoff=0.0)
    assert await arbiter.async_claim("bedroom", WakeScore(10.0, 0.5)) is True
    assert await arbiter.async_claim("kitchen", WakeScore(1.0, 0.5)) is True


async def test_ties_do_not_depend_on_who_claimed_first() -> None:
    for order in (("a", "b"), ("b", "a")):
        arbiter = WakeArbiter(window=0.02, holdoff=60)
        tasks = {s: asyncio.create_task(arbiter.async_claim(s, WakeScore(5.0, 0.5))) for s in order}
        assert {s: await t for s, t in tasks.items()} == {"a": True, "b": False}
