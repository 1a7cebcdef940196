"""Every kind of card's control in headless Chromium, and the main pages at phone and desktop."""

from __future__ import annotations

import os
from typing import Any

import pytest

from hub.core import Hub

from .browser import DESKTOP, PHONE, Browser, expect, new_page, shot, sign_in, wait_until
from .conftest import OWNER, SiteFactory

pytestmark = pytest.mark.browser


def _attr(hub: Hub, entity_id: str, name: str) -> Any:
    state = hub.states.get(entity_id)
    assert state is not None
    return state.attributes.get(name)


async def test_each_kind_of_card_controls_its_device(
    site_factory: SiteFactory, browser: Browser
) -> None:
    site = await site_factory()
    hub = site.hub
    page = await new_page(browser, DESKTOP)
    await sign_in(page, site)

    # Brightness and colour.
    lamp = page.locator("hearth-card[data-entity='light.living_room_lamp']")
    slider = lamp.get_by_label("Living room lamp brightness")
    await slider.scroll_into_view_if_needed()
    box = await slider.bounding_box()
    assert box is not None
    await page.mouse.click(box["x"] + box["width"] * 0.4, box["y"] + box["height"] / 2)
    await expect(lamp).to_have_attribute("data-state", "on")
    pct = round(_attr(hub, "light.living_room_lamp", "brightness") / 255 * 100)
    assert 25 <= pct <= 55, pct
    await expect(lamp.locator(".card-status")).to_have_text(f"On · {pct}%")
    await lamp.get_by_label("Living room lamp colour").fill("#00ff00")
    await wait_until(lambda: _attr(hub, "light.living_room_lamp", "rgb_color") == [0, 255, 0])

    # The thermostat's target moves in its own steps, and its mode changes.
    thermostat = page.locator("hearth-card[data-entity='climate.bedroom_thermostat']")
    before = _attr(hub, "climate.bedroom_thermostat", "temperature")
    await thermostat.get_by_role("button", name="Bedroom thermostat warmer").click()
    await expect(thermostat.locator(".target .big")).to_have_text(f"{before + 0.5:g}")
    assert _attr(hub, "climate.bedroom_thermostat", "temperature") == before + 0.5
    await thermostat.get_by_label("Bedroom thermostat mode").select_option("off")
    await expect(thermostat).to_have_attribute("data-state", "off")

    # The fridge: a compartment's target, and its inventory.
    fridge = page.locator("hearth-card[data-entity='appliance.fridge']")
    target = _attr(hub, "appliance.fridge", "compartments")["freezer"]["target"]
    await fridge.get_by_role("button", name="freezer colder").click()
    await wait_until(
        lambda: _attr(hub, "appliance.fridge", "compartments")["freezer"]["target"] == target - 1
    )
    await fridge.get_by_label("add item").fill("yoghurt")
    await fridge.get_by_role("button", name="Add").click()
    await expect(fridge.locator(".chip", has_text="yoghurt")).to_be_visible()
    await fridge.get_by_role("button", name="remove milk").click()
    await expect(fridge.locator(".chip", has_text="milk")).to_have_count(0)
    inventory = _attr(hub, "appliance.fridge", "inventory")
    assert "yoghurt" in inventory and "milk" not in inventory

    # The shopping list takes an item typed and sent with Enter.
    shopping = page.locator("hearth-card[data-entity='todo.shopping_list']")
    await shopping.get_by_label("add item").fill("lemons")
    await shopping.get_by_label("add item").press("Enter")
    await expect(shopping.locator(".chip", has_text="lemons")).to_be_visible()
    await expect(shopping.get_by_label("add item")).to_be_focused()  # ready for the next one

    # The robot cleaner: status, battery, and "clean this room".
    cleaner = page.locator("hearth-card[data-entity='vacuum.robot_cleaner']")
    await expect(cleaner.locator(".battery")).to_contain_text("%")
    await cleaner.get_by_label("Robot cleaner room").select_option("Bedroom")
    await cleaner.get_by_role("button", name="Clean this room").click()
    await expect(cleaner).to_have_attribute("data-state", "cleaning")
    await expect(cleaner.locator(".card-status")).to_have_text("cleaning Bedroom")
    await cleaner.get_by_role("button", name="Dock").click()
    await expect(cleaner).to_have_attribute("data-state", "returning")

    await shot(page, "controls-desktop")
    await page.set_viewport_size(PHONE)
    await shot(page, "controls-phone")
    assert not page.errors  # type: ignore[attr-defined]


async def test_a_click_survives_an_update_that_arrived_while_typing(
    site_factory: SiteFactory, browser: Browser
) -> None:
    # The card held the update while the field had text, then redrew on the Add button's
    # pointerup: the button the click belonged to was gone and the item never added.
    site = await site_factory()
    hub = site.hub
    page = await new_page(browser, DESKTOP)
    await sign_in(page, site)
    fridge = page.locator("hearth-card[data-entity='appliance.fridge']")
    await fridge.get_by_label("add item").fill("yoghurt")
    target = _attr(hub, "appliance.fridge", "compartments")["freezer"]["target"]
    await hub.services.async_call(
        "appliance",
        "set_temperature",
        {"entity_id": "appliance.fridge", "compartment": "freezer", "temperature": target - 1},
    )
    await page.wait_for_timeout(300)  # the update reaches the page while the text is there
    await fridge.get_by_role("button", name="Add").click()
    await expect(fridge.locator(".chip", has_text="yoghurt")).to_be_visible()
    await expect(fridge.get_by_text(f"{target - 1:g}°", exact=True)).to_be_visible()


async def test_main_pages_at_phone_and_desktop_sizes(
    site_factory: SiteFactory, browser: Browser
) -> None:
    """Screenshots saved as artifacts; each page must render without script errors."""
    from integrations.zigbee.sim.radio import forget_stick

    stick = f"sim://web-tour-{os.getpid()}"
    site = await site_factory(
        onboard=False, rules={}, voice={}, zigbee={"radio": "sim", "device": stick}
    )
    try:
        pages = {
            "phone": await new_page(browser, PHONE),
            "desktop": await new_page(browser, DESKTOP),
        }
        for size, page in pages.items():
            await page.goto(site.base)
            await expect(page.get_by_role("heading", name="Welcome to Hearth")).to_be_visible()
            await shot(page, f"tour-onboarding-{size}")
        phone = pages["phone"]
        await phone.fill("input[name=code]", site.onboarding_code())
        await phone.fill("input[name=name]", "Ada")
        await phone.fill("input[name=username]", OWNER[0])
        await phone.fill("input[name=password]", OWNER[1])
        await phone.fill("input[name=confirm]", OWNER[1])
        await phone.click("button[type=submit]")
        await expect(phone.locator("hearth-card").first).to_be_visible()
        async with phone.expect_event("load"):  # signing out reloads the app
            await phone.get_by_role("button", name="Sign out").click()
        for size, page in pages.items():
            await page.goto(site.base)
            await expect(page.locator("input[name=username]")).to_be_visible()
            await shot(page, f"tour-login-{size}")
            await sign_in(page, site)
            await shot(page, f"tour-home-{size}")
            for route, name, ready in ROUTES:
                await page.goto(f"{site.base}/{route}")
                await expect(page.locator(ready).first).to_be_visible()
                await shot(page, f"tour-{name}-{size}")
            assert not page.errors, page.errors  # type: ignore[attr-defined]
    finally:
        forget_stick(stick)


ROUTES = [
    ("#/room/kitchen", "room", "section[data-area=kitchen] hearth-card"),
    ("#/pair", "pairing", "button.choice[data-protocol=zigbee]:enabled"),
    ("#/voice", "voice", "main.page h1"),
    ("#/rules", "rules", "main.page h1"),
    ("#/rules/new", "rule-editor", "textarea"),
    ("#/settings/people", "settings-people", "main.page h1"),
    ("#/settings/tokens", "settings-tokens", "main.page h1"),
    ("#/settings/rooms", "settings-rooms", "main.page h1"),
    ("#/settings/devices", "settings-devices", "main.page h1"),
    ("#/settings/phone", "settings-phone", "main.page h1"),
]
