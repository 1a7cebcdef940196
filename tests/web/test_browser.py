"""The dashboard in real headless Chromium against a hub on loopback."""

from __future__ import annotations

import asyncio
import itertools
import os
from pathlib import Path
from typing import Any

import pytest

from .browser import (
    ARGS,
    CHROMIUM,
    DESKTOP,
    PHONE,
    Browser,
    async_playwright,
    expect,
    new_page,
    shot,
    sign_in,
    wait_until,
)
from .conftest import OWNER, SiteFactory

pytestmark = pytest.mark.browser
_sticks = itertools.count()


async def test_onboarding_login_and_live_toggle(
    site_factory: SiteFactory, browser: Browser
) -> None:
    site = await site_factory(onboard=False)
    site.hub.notifications.async_create("The fridge door was open for 2 minutes", "Kitchen")
    first = await new_page(browser)
    await first.goto(site.base)
    await expect(first.get_by_role("heading", name="Welcome to Hearth")).to_be_visible()
    await shot(first, "onboarding-phone")
    await first.fill("input[name=code]", site.onboarding_code())
    await first.fill("input[name=name]", "Ada")
    await first.fill("input[name=username]", OWNER[0])
    await first.fill("input[name=password]", OWNER[1])
    await first.fill("input[name=confirm]", "not the same")
    await first.click("button[type=submit]")
    await expect(first.locator(".error")).to_have_text("The passwords do not match.")
    await first.fill("input[name=confirm]", OWNER[1])
    await first.click("button[type=submit]")
    light = first.locator("hearth-card[data-entity='light.kitchen_light']")
    await expect(light).to_have_attribute("data-state", "off")
    assert site.server.store.find_user(OWNER[0]) is not None

    # A second browser (another phone) signs in; a wrong password is refused first.
    second = await new_page(browser, DESKTOP)
    await second.goto(site.base)
    await second.fill("input[name=username]", OWNER[0])
    await second.fill("input[name=password]", "wrong password")
    await second.click("button[type=submit]")
    await expect(second.locator(".error")).to_contain_text("wrong user name or password")
    await second.fill("input[name=password]", OWNER[1])
    await second.click("button[type=submit]")
    other_light = second.locator("hearth-card[data-entity='light.kitchen_light']")
    await expect(other_light).to_have_attribute("data-state", "off")

    await light.get_by_role("switch").click(force=True)
    await expect(other_light).to_have_attribute("data-state", "on")
    await expect(other_light.locator(".card-status")).to_contain_text("On")
    state = site.hub.states.get("light.kitchen_light")
    assert state is not None and state.state == "on" and state.context.origin == "api"
    # A change made elsewhere (a rule, a wall switch) shows up live in both browsers.
    await site.hub.services.async_call(
        "light", "turn_off", target={"entity_id": ["light.kitchen_light"]}
    )
    await expect(light).to_have_attribute("data-state", "off")
    await expect(other_light).to_have_attribute("data-state", "off")

    # The lock asks before unlocking.
    lock = first.locator("hearth-card[data-entity='lock.front_door_lock']")
    await lock.get_by_role("button", name="Unlock").click()
    await first.get_by_role("button", name="Cancel").click()
    assert site.hub.states.get("lock.front_door_lock").state == "locked"  # type: ignore[union-attr]
    await lock.get_by_role("button", name="Unlock").click()
    await first.locator("dialog").get_by_role("button", name="Unlock").click()
    await expect(lock).to_have_attribute("data-state", "unlocked")

    await shot(first, "home-phone")
    await shot(second, "home-desktop")
    second.on("dialog", lambda d: d.accept())
    await second.locator("hearth-card[data-entity='sensor.kitchen_temperature']").click()
    await expect(second.locator("dialog svg.chart-full")).to_be_visible()
    await shot(second, "history-desktop")
    await second.keyboard.press("Escape")
    await second.get_by_role("button", name="Notifications").click()
    await expect(second.locator(".drawer")).to_contain_text("fridge door")
    await shot(second, "notifications-desktop")
    for page, size in ((first, "phone"), (second, "desktop")):
        for route, name in (
            ("#/settings/people", "settings"),
            ("#/settings/phone", "settings-qr"),
            ("#/voice", "voice-off"),
        ):
            await page.goto(site.base + "/" + route)
            await page.wait_for_selector("main.page h1")
            await shot(page, f"{name}-{size}")
    assert not first.errors and not second.errors  # type: ignore[attr-defined]


async def test_pairing_a_simulated_zigbee_device(
    site_factory: SiteFactory, browser: Browser
) -> None:
    from integrations.zigbee.sim.profiles import make_device
    from integrations.zigbee.sim.radio import forget_stick, get_stick

    path = f"sim://web-test-{os.getpid()}-{next(_sticks)}"
    site = await site_factory(zigbee={"radio": "sim", "device": path})
    try:
        page = await new_page(browser)
        await sign_in(page, site)
        await page.goto(site.base + "/#/pair")
        await shot(page, "pairing-phone")
        await page.locator("button.choice[data-protocol=zigbee]").click()
        await expect(page.locator(".searching")).to_contain_text("Searching")
        await wait_until(lambda: any(s.progress for s in site.hub.pairing.sessions.values()))
        stick = get_stick(path)
        assert stick.air.join(make_device("dimmable_bulb", 7), stick)
        found = page.locator(".found-device")
        await expect(found).to_have_attribute("data-stage", "ready", timeout=60_000)
        await shot(page, "pairing-found-phone")
        await found.locator("input[name=name]").fill("Desk lamp")
        await found.locator("select[name=area]").select_option("bedroom")
        await found.get_by_role("button", name="Save").click()
        await expect(found).to_contain_text("Saved as “Desk lamp”")
        device = next(
            d
            for d in site.hub.registry.devices.all()
            if d.integration == "zigbee" and d.name_by_user
        )
        assert device.name_by_user == "Desk lamp" and device.area_id == "bedroom"
        # The new lamp shows up in its room on the home page.
        await page.goto(site.base + "/#/room/bedroom")
        entity_ids = [e.entity_id for e in site.hub.registry.entities.for_device(device.id)]
        light = next(e for e in entity_ids if e.startswith("light."))
        await expect(page.locator(f"hearth-card[data-entity='{light}']")).to_be_visible()
        assert not page.errors  # type: ignore[attr-defined]
    finally:
        for session in list(site.hub.pairing.sessions):
            await site.hub.pairing.async_stop(session)
        forget_stick(path)


async def test_voice_console_runs_a_typed_command(
    site_factory: SiteFactory, browser: Browser
) -> None:
    site = await site_factory(voice={})
    page = await new_page(browser)
    await sign_in(page, site)
    await page.goto(site.base + "/#/voice")
    await page.get_by_role("textbox", name="Command").fill("turn on the kitchen light")
    await page.get_by_role("button", name="Send").click()
    reply = page.locator(".bubble.hub").first
    await expect(reply).not_to_have_class("bubble hub pending")
    await expect(reply.locator(".intent")).not_to_have_text("none")
    await expect(reply.locator(".details")).to_contain_text("light.turn_on")
    await expect(reply.locator(".details")).to_contain_text("total")
    await wait_until(lambda: site.hub.states.get("light.kitchen_light").state == "on")  # type: ignore[union-attr]
    await shot(page, "voice-phone")
    await page.set_viewport_size(DESKTOP)
    await shot(page, "voice-desktop")
    assert not page.errors  # type: ignore[attr-defined]


async def test_creating_a_rule(site_factory: SiteFactory, browser: Browser) -> None:
    site = await site_factory(rules={})
    page = await new_page(browser, DESKTOP)
    await sign_in(page, site)
    await page.goto(site.base + "/#/rules")
    await expect(page.locator(".list")).to_contain_text("No rules yet")
    await page.get_by_role("link", name="New rule").click()
    editor = page.get_by_role("textbox", name="Rule YAML")
    await editor.fill("id: broken\ntriggers: []\nactions: [{service: light.turn_on}]\n  oops")
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("pre.error")).not_to_be_empty()
    await editor.fill(
        "id: welcome_home\nname: Welcome home\ntriggers:\n  - platform: state\n"
        "    entity_id: binary_sensor.front_door\n    to: 'on'\nactions:\n"
        "  - service: light.turn_on\n    target:\n      entity_id: light.kitchen_light\n"
    )
    await page.get_by_role("button", name="Save").click()
    await expect(page).to_have_url(f"{site.base}/#/rules/welcome_home")
    manager: Any = site.hub.data["rules"]
    assert [r["id"] for r in manager.list_rules()] == ["welcome_home"]
    await site.hub.services.async_call("demo", "simulate", {"device": "front_door", "value": True})
    await wait_until(lambda: site.hub.states.get("light.kitchen_light").state == "on")  # type: ignore[union-attr]
    await page.reload()
    await expect(page.locator(".trace").first).to_be_visible()
    await shot(page, "rule-editor-desktop")
    await page.goto(site.base + "/#/rules")
    switch = page.get_by_role("switch", name="Welcome home enabled")
    await expect(switch).to_be_checked()
    await switch.click(force=True)
    await wait_until(lambda: manager.list_rules()[0]["enabled"] is False)
    await shot(page, "rules-desktop")
    await page.set_viewport_size(PHONE)
    await shot(page, "rules-phone")
    assert not page.errors  # type: ignore[attr-defined]


async def _run(*cmd: str) -> None:
    proc = await asyncio.create_subprocess_exec(*cmd)
    assert await proc.wait() == 0, cmd


async def test_hold_to_talk_streams_the_microphone(
    site_factory: SiteFactory, tmp_path: Path
) -> None:
    """Chromium's fake microphone plays espeak-ng speech; the pipeline hears the command."""
    import shutil

    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.skip("espeak-ng and sox are needed to make the spoken clip")
    raw, clip = tmp_path / "raw.wav", tmp_path / "clip.wav"
    await _run("espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), "turn on the kitchen light")
    # Silence around the words, at the rate the browser captures (it resamples to 16 kHz itself).
    await _run("sox", str(raw), "-r", "48000", "-c", "1", "-b", "16", str(clip), "pad", "0.5", "3")
    site = await site_factory(voice={})
    args = [
        *ARGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={clip}%noloop",
    ]
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            page = await new_page(browser)
            await sign_in(page, site)
            await page.goto(site.base + "/#/voice")
            talk = page.get_by_role("button", name="Hold to talk")
            await expect(talk).to_be_enabled()
            box = await talk.bounding_box()
            assert box is not None
            await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            await page.mouse.down()
            await expect(talk).to_have_class("talk on")
            await page.wait_for_timeout(4000)
            await page.mouse.up()
            reply = page.locator(".bubble.hub").first
            await expect(reply).not_to_have_class("bubble hub pending", timeout=60_000)
            await expect(reply.locator(".details")).to_contain_text("light.turn_on")
            await wait_until(lambda: site.hub.states.get("light.kitchen_light").state == "on")  # type: ignore[union-attr]
            await expect(page.locator(".bubble.you").first).to_contain_text("kitchen light")
            assert not page.errors  # type: ignore[attr-defined]
        finally:
            await browser.close()


async def test_a_demoted_user_sees_the_guest_view_at_once(
    site_factory: SiteFactory, browser: Browser
) -> None:
    site = await site_factory()
    store = site.server.store
    mia = await store.async_create_user("mia", "password123", role="member")
    page = await new_page(browser)
    await page.goto(site.base)
    await page.fill("input[name=username]", "mia")
    await page.fill("input[name=password]", "password123")
    await page.click("button[type=submit]")
    kitchen = page.locator("hearth-card[data-entity='light.kitchen_light']")
    await expect(kitchen).to_be_visible()
    # The owner makes her a guest of the bedroom: her open dashboard starts over as a guest.
    async with page.expect_event("load"):
        await store.async_update_user(mia.id, role="guest", areas=("bedroom",))
    await expect(page.locator("hearth-card[data-entity='light.bedroom_light']")).to_be_visible()
    await expect(kitchen).to_have_count(0)
    assert not page.errors  # type: ignore[attr-defined]


async def test_a_socket_lost_during_the_handshake_reconnects_without_errors(
    site_factory: SiteFactory, browser: Browser
) -> None:
    """The hub going away while the app subscribes (a restart, a page leaving) rejects the
    pending subscriptions: the app reconnects and subscribes again, raising nothing. Before,
    each rejection surfaced as an uncaught 'connection lost' (a fresh-clone CI run failed)."""
    site = await site_factory()
    page = await new_page(browser)
    cut: list[str] = []

    async def handler(ws: Any) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            if not cut and '"subscribe_events"' in str(message):
                cut.append(str(message))  # the first socket dies mid-handshake
                asyncio.get_running_loop().create_task(server.close())
                asyncio.get_running_loop().create_task(ws.close())
                return
            server.send(message)

        ws.on_message(from_page)

    await page.route_web_socket("**/api/websocket", handler)
    await sign_in(page, site)  # returns once a (second) socket has caught up
    assert cut, "the handshake was never cut"
    light = page.locator("hearth-card[data-entity='light.kitchen_light']")
    await expect(light).to_have_attribute("data-state", "off")
    await site.hub.services.async_call("light", "turn_on", {"entity_id": "light.kitchen_light"})
    await expect(light).to_have_attribute("data-state", "on")  # the new socket is live
    assert not page.errors, page.errors  # type: ignore[attr-defined]
