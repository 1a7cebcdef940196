"""The pairing API over real HTTP: a BLE sensor's bind key is checked, explained and stored."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from tests.ble.adverts import BTHOME_UUID, bthome_objects, bthome_v2
from tests.ble.bluez_mock import BlueZMock
from tests.ble.conftest import bluez, bluez_bus  # noqa: F401

from .conftest import Site, SiteFactory

SEALED = "A4:C1:38:00:00:52"
BIND_KEY = "e9ea895fac7cca6d30532432a516f3a8"


async def _pair(
    http: aiohttp.ClientSession, site: Site, options: Any, status: int = 201, **extra: Any
) -> list[dict[str, Any]]:
    """Start adding the sensor with these options; every step once the session is done."""
    body = {"protocols": ["ble"], "candidate_id": SEALED, "options": options, "duration": 20}
    body = {k: v for k, v in {**body, **extra}.items() if v is not None}
    auth = site.auth(site.owner_token)
    async with http.post(site.url("/api/pairing"), json=body, headers=auth) as resp:
        assert resp.status == status, await resp.text()
        session = await resp.json()
    if status != 201:
        assert session["code"] == "invalid_data"
        return []
    async with asyncio.timeout(30):
        while not session["done"]:
            await asyncio.sleep(0.05)
            url = site.url(f"/api/pairing/{session['id']}")
            async with http.get(url, headers=auth) as resp:
                assert resp.status == 200
                session = await resp.json()
    steps: list[dict[str, Any]] = session["progress"]
    return steps


def _failure(steps: list[dict[str, Any]]) -> str:
    assert not any(s["stage"] == "ready" for s in steps), steps
    return str(next(s for s in steps if s["stage"] == "failed")["message"])


async def test_bind_key_step_validates_and_stores_the_key(
    bluez: BlueZMock,  # noqa: F811  (first: torn down after the hub that uses it)
    site_factory: SiteFactory,
    http: aiohttp.ClientSession,
) -> None:
    sealed = bthome_v2(
        bthome_objects(temperature=19.5), key=bytes.fromhex(BIND_KEY), mac=SEALED, counter=1
    )
    await bluez.add_device(SEALED, name="Cellar sensor", service_data={BTHOME_UUID: sealed})
    await bluez.start_beacon(SEALED, 0.3)
    site = await site_factory(ble={"adapter": "hci0", "retry_interval": 0.5, "verify_wait": 10})
    # First the scan, as the wizard does: it lists the sensor and says it needs a key.
    scan = await _pair(http, site, {}, candidate_id=None, duration=2)
    found = [s["candidate"] for s in scan if s.get("candidate", {}).get("id") == SEALED]
    assert found and found[0]["needs"] == ["bind_key"], scan

    for empty in ({}, {"bind_key": ""}, {"bind_key": None}):
        assert "enter its bind key" in _failure(await _pair(http, site, empty)), empty
    for bad in ("xyz", "e9ea895fac7cca6d30532432a516f3a", BIND_KEY + "00", 12345, ["x"]):
        assert "not valid" in _failure(await _pair(http, site, {"bind_key": bad})), bad
    assert "does not decrypt" in _failure(await _pair(http, site, {"bind_key": "ab" * 16}))
    await _pair(http, site, "not an object", status=400)
    assert not site.hub.entities.for_integration("ble")
    store = site.hub.config_dir / ".storage" / "ble_devices.json"
    assert not store.exists() or json.loads(store.read_text())["devices"] == []

    steps = await _pair(http, site, {"bind_key": BIND_KEY, "name": "Cellar"})
    ready = next(s for s in steps if s["stage"] == "ready")
    assert ready["suggested_name"] == "Cellar" and len(ready["entity_ids"]) == 1
    assert json.loads(store.read_text())["devices"] == [
        {"address": SEALED, "kind": "bthome", "name": "Cellar", "bind_key": BIND_KEY}
    ]
    state = site.hub.states.get(ready["entity_ids"][0])
    assert state is not None and state.state == "19.5"
    # The hub still answers normally after all that bad input.
    async with http.get(site.url("/api/pairing"), headers=site.auth(site.owner_token)) as resp:
        assert resp.status == 200 and "ble" in (await resp.json())["protocols"]
