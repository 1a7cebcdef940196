"""The pairing wizard in headless Chromium: Wi-Fi appliances and encrypted BLE sensors."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from firmware.virtual import VirtualAppliance
from tests.mosquitto import Mosquitto, mosquitto  # noqa: F401
from tests.mqtt.helpers import device_client, subscribed

from .browser import Browser, Page, expect, new_page, shot, sign_in
from .conftest import Site, SiteFactory

pytestmark = pytest.mark.browser
SETUP_CODE = "246810"

# profile: (room, card's entity domain, its state once announced, how the person commands it,
#           command topic key, payload, state the firmware reports back)
WIFI = {
    "fridge": ("kitchen", "select", "normal", "choose eco", "mode", "eco", "eco"),
    "cleaner": ("hallway", "vacuum", "docked", "press Start", "command", "start", "cleaning"),
}


async def _command(page: Page, card: Any, how: str) -> None:
    if how == "choose eco":
        await card.get_by_role("combobox").select_option("eco")
    else:
        await card.get_by_role("button", name="Start").click()


async def _stop_sessions(site: Site) -> None:
    for session in list(site.hub.pairing.sessions):
        await site.hub.pairing.async_stop(session)


@pytest.mark.parametrize("profile", sorted(WIFI))
async def test_pairing_a_wifi_appliance(
    site_factory: SiteFactory,
    browser: Browser,
    mosquitto: Mosquitto,  # noqa: F811
    tmp_path: Path,
    profile: str,
) -> None:
    """The reference firmware, a real process, is found over mDNS and provisioned from the app."""
    room, domain, initial, how, key, payload, final = WIFI[profile]
    appliance = VirtualAppliance(
        f"web{profile}{os.getpid()}", profile, tmp_path / profile, setup_code=SETUP_CODE
    )
    appliance.start()
    try:
        await appliance.async_wait_http()
        site = await site_factory(
            mqtt={
                "broker": mosquitto.host,
                "port": mosquitto.port,
                "reconnect_max": 1.0,
                "advertise_host": "127.0.0.1",
            },
            zeroconf={"advertise": False},
        )
        page = await new_page(browser)
        await sign_in(page, site)
        await page.goto(site.base + "/#/pair")
        await page.locator("button.choice[data-protocol=wifi]").click()
        # The home's Wi-Fi is asked once, before searching, and handed to what is found.
        wifi = page.locator("form", has=page.get_by_role("heading", name="Your Wi-Fi"))
        await wifi.get_by_label("Network name").fill(appliance.ap_ssid)
        await wifi.get_by_label("Password").fill(appliance.ap_password)
        await shot(page, f"pairing-wifi-form-{profile}-phone")
        await wifi.get_by_role("button", name="Start").click()
        await expect(page.locator(".searching")).to_contain_text("Searching")

        found = page.locator(
            f".found-device[data-candidate^='hearth:'][data-candidate$='{appliance.id}']"
        )
        await expect(found).to_have_attribute("data-stage", "found")
        await expect(found).to_contain_text(f"Joins the Wi-Fi “{appliance.ap_ssid}”")
        await expect(found.locator("input")).to_have_count(1)  # only the label's setup code
        code = found.get_by_label("Setup code")
        await code.fill("000000")
        await found.get_by_role("button", name="Add this device").click()
        # The appliance refuses a wrong code; the card says so and lets the person try again.
        await expect(found).to_have_attribute("data-stage", "failed")
        await expect(found.locator(".error")).to_contain_text("wrong or missing setup code")
        await shot(page, f"pairing-wifi-refused-{profile}-phone")
        await code.fill(SETUP_CODE)
        await found.get_by_role("button", name="Add this device").click()
        await expect(found).to_have_attribute("data-stage", "ready", timeout=90_000)
        await expect(found.locator(".error")).to_have_text("")
        name = f"Our {profile}"
        await found.locator("input[name=name]").fill(name)
        await found.locator("select[name=area]").select_option(room)
        await shot(page, f"pairing-wifi-ready-{profile}-phone")
        await found.get_by_role("button", name="Save").click()
        await expect(found).to_contain_text(f"Saved as “{name}”")
        await _stop_sessions(site)

        device = next(d for d in site.hub.registry.devices.all() if d.name_by_user == name)
        assert device.integration == "mqtt" and device.area_id == room
        entity_ids = [e.entity_id for e in site.hub.registry.entities.for_device(device.id)]
        target = next(e for e in entity_ids if e.startswith(f"{domain}."))

        # Its card is in the room, and it obeys the dashboard: the command goes over the broker
        # to the firmware, and the state shown is the one the firmware reports back.
        spy = await device_client(mosquitto.host, mosquitto.port)
        try:
            commands = await subscribed(spy, f"hearth/{appliance.id}/set/#")
            await page.goto(f"{site.base}/#/room/{room}")
            card = page.locator(f"section[data-area='{room}'] hearth-card[data-entity='{target}']")
            await expect(card).to_have_attribute("data-state", initial)
            await _command(page, card, how)
            await commands.wait_for(f"hearth/{appliance.id}/set/{key}", payload)
            await expect(card).to_have_attribute("data-state", final, timeout=60_000)
        finally:
            await spy.async_stop()
        state = site.hub.states.get(target)
        assert state is not None and state.state == final
        await shot(page, f"room-wifi-{profile}-phone")
        assert not page.errors  # type: ignore[attr-defined]
    finally:
        appliance.kill()
        if "site" in locals():
            await _stop_sessions(site)
