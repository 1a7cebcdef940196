"""The pairing wizard in headless Chromium: Wi-Fi appliances and encrypted BLE sensors."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from firmware.virtual import VirtualAppliance
from integrations.mqtt.broker import CREDENTIALS_FILE
from tests.ble.adverts import BTHOME_UUID, bthome_objects, bthome_v2
from tests.ble.bluez_mock import BlueZMock
from tests.ble.conftest import bluez, bluez_bus  # noqa: F401
from tests.mosquitto import free_port
from tests.mqtt.helpers import device_client, subscribed

from .browser import DESKTOP, PHONE, Browser, Page, expect, new_page, shot, sign_in
from .conftest import Site, SiteFactory

pytestmark = pytest.mark.browser
SETUP_CODE = "24681012"

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
        # The embedded mosquitto: pairing makes the appliance an account of its own.
        port = free_port()
        site = await site_factory(
            mqtt={"embedded_port": port, "reconnect_max": 1.0, "advertise_host": "127.0.0.1"},
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
        await page.set_viewport_size(DESKTOP)
        await shot(page, f"pairing-wifi-form-{profile}-desktop")
        await page.set_viewport_size(PHONE)
        await wifi.get_by_role("button", name="Start").click()
        await expect(page.locator(".searching")).to_contain_text("Searching")

        found = page.locator(
            f".found-device[data-candidate^='hearth:'][data-candidate$='{appliance.id}']"
        )
        await expect(found).to_have_attribute("data-stage", "found")
        await expect(found).to_contain_text(f"Joins the Wi-Fi “{appliance.ap_ssid}”")
        await expect(found.locator("input")).to_have_count(1)  # only the label's setup code
        code = found.get_by_label("Setup code")
        await code.fill("00000000")
        await found.get_by_role("button", name="Add this device").click()
        # The appliance refuses a wrong code; the card says so and lets the person try again.
        await expect(found).to_have_attribute("data-stage", "failed")
        await expect(found.locator(".error")).to_contain_text("wrong setup code")
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
        login = json.loads((site.hub.config_dir / CREDENTIALS_FILE).read_text())
        spy = await device_client(
            "127.0.0.1", port, username=login["username"], password=login["password"]
        )
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


SEALED = "A4:C1:38:00:00:42"
PLAIN = "A4:C1:38:00:00:43"
BIND_KEY = "e9ea895fac7cca6d30532432a516f3a8"


def _sealed(temperature: float, counter: int) -> bytes:
    objects = bthome_objects(temperature=temperature)
    return bthome_v2(objects, key=bytes.fromhex(BIND_KEY), mac=SEALED, counter=counter)


async def test_pairing_an_encrypted_ble_sensor_with_its_bind_key(
    bluez: BlueZMock,  # noqa: F811  (first: torn down after the hub that uses it)
    site_factory: SiteFactory,
    browser: Browser,
) -> None:
    """BTHome sensors heard through bleak on a mock BlueZ; the sealed one asks for its key."""
    await bluez.add_device(
        SEALED, name="Nursery sensor", service_data={BTHOME_UUID: _sealed(18.5, 1)}, rssi=-50
    )
    plain = bthome_v2(bthome_objects(temperature=20.5, humidity=44.0))
    await bluez.add_device(PLAIN, name="Hall sensor", service_data={BTHOME_UUID: plain}, rssi=-60)
    await bluez.add_device(
        "11:22:33:44:55:66", name="Someone's phone", manufacturer={0x004C: b"\x10\x05"}, rssi=-40
    )
    for address in (SEALED, PLAIN, "11:22:33:44:55:66"):
        await bluez.start_beacon(address, 0.3)
    site = await site_factory(
        ble={"adapter": "hci0", "retry_interval": 0.5, "reconnect_max": 1.0, "verify_wait": 10}
    )
    try:
        page = await new_page(browser)
        await sign_in(page, site)
        await page.goto(site.base + "/#/pair")
        await page.locator("button.choice[data-protocol=ble]").click()
        await expect(page.locator(".searching")).to_contain_text("Searching")
        sealed = page.locator(f".found-device[data-candidate='{SEALED}']")
        await expect(sealed).to_have_attribute("data-stage", "found", timeout=60_000)
        await expect(sealed).to_contain_text("needs its bind key")
        # The phone is listed but cannot be added; the plain sensor needs nothing typed.
        phone = page.locator(".found-device[data-candidate='11:22:33:44:55:66']")
        await expect(phone).to_contain_text("not a supported device")
        await expect(phone.get_by_role("button", name="Add this device")).to_have_count(0)
        plain_card = page.locator(f".found-device[data-candidate='{PLAIN}']")
        await expect(plain_card.locator("input")).to_have_count(0)
        await expect(page.locator(".searching")).to_contain_text("Search finished")

        key = sealed.get_by_label("Bind key")
        add = sealed.get_by_role("button", name="Add this device")
        for bad, says in (
            ("not a key", "not valid"),  # not hexadecimal: refused before listening
            ("00" * 16, "does not decrypt"),  # well formed, but not this sensor's key
        ):
            await key.fill(bad)
            await add.click()
            await expect(sealed).to_have_attribute("data-stage", "failed")
            await expect(sealed.locator(".error")).to_contain_text(says)
            await expect(key).to_be_visible()  # asked again, not stuck
            await shot(page, "pairing-ble-bind-key-refused-phone")
        assert not site.hub.entities.for_integration("ble")  # nothing added on a bad key
        await key.fill(f"  {BIND_KEY.upper()} ")
        await add.click()
        await expect(sealed).to_have_attribute("data-stage", "ready")
        await expect(sealed.locator(".error")).to_have_text("")
        await sealed.locator("input[name=name]").fill("Nursery")
        await sealed.locator("select[name=area]").select_option("bedroom")
        await shot(page, "pairing-ble-ready-phone")
        await sealed.get_by_role("button", name="Save").click()
        await expect(sealed).to_contain_text("Saved as “Nursery”")

        device = next(d for d in site.hub.registry.devices.all() if d.name_by_user == "Nursery")
        assert device.integration == "ble" and device.area_id == "bedroom"
        saved = json.loads((site.hub.config_dir / ".storage" / "ble_devices.json").read_text())
        assert [(d["address"], d["bind_key"]) for d in saved["devices"]] == [
            (SEALED, BIND_KEY.upper())
        ]
        (entity,) = site.hub.registry.entities.for_device(device.id)

        # Its card shows the decrypted reading in the room, and follows the sensor live.
        await page.goto(site.base + "/#/room/bedroom")
        card = page.locator(
            f"section[data-area=bedroom] hearth-card[data-entity='{entity.entity_id}']"
        )
        await expect(card).to_contain_text("18.5")
        await bluez.advertise(SEALED, service_data={BTHOME_UUID: _sealed(17.0, 2)})
        await expect(card).to_contain_text("17.0")
        await shot(page, "room-ble-phone")
        assert not page.errors  # type: ignore[attr-defined]
    finally:
        await _stop_sessions(site)
