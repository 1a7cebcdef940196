"""The dashboard's pairing wizard flow over the real web API, with sim devices from config only."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import aiohttp

from integrations.zigbee.sim import forget_stick, get_stick

_n = itertools.count()
WEB = {"host": "127.0.0.1", "port": 0, "mdns": False}


async def test_wizard_pairs_a_simulated_device_and_names_it(
    hub_factory: Any, tmp_path: Any
) -> None:
    path = f"sim://dashboard-{next(_n)}"
    (tmp_path / "ota").mkdir()
    hub = await hub_factory(
        web=WEB,
        zigbee={
            "radio": "sim",
            "device": path,
            "sim_devices": ["color_bulb", "door_contact"],
            "sim_join_delay": 0.2,
            "ota_dir": str(tmp_path / "ota"),
        },
    )
    try:
        server = hub.data["web"]
        owner = await server.store.async_create_user(
            "owner", "correct horse battery", name="Owner", role="admin", is_owner=True
        )
        token, _ = await server.store.async_create_token(owner, "tests")
        base = f"http://127.0.0.1:{server.port}"
        auth = {"Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession(headers=auth) as http:
            async with http.get(f"{base}/api/config") as rsp:
                assert "zigbee" in (await rsp.json())["pairing_protocols"]
            # What pairing.js sends when "Zigbee" is chosen (a shorter window here).
            async with http.post(
                f"{base}/api/pairing", json={"protocols": ["zigbee"], "duration": 2, "options": {}}
            ) as rsp:
                assert rsp.status == 201, await rsp.text()
                session = await rsp.json()
            async with asyncio.timeout(60):
                while not session["done"]:
                    await asyncio.sleep(0.1)
                    async with http.get(f"{base}/api/pairing/{session['id']}") as rsp:
                        session = await rsp.json()
            steps = session["progress"]
            # pairing.js keys a card on device_id, else candidate id, name, message.
            device_steps = [s for s in steps if s["stage"] not in ("searching", "done")]
            keys = {s["device_id"] or s.get("suggested_name") or s["message"] for s in device_steps}
            assert len(keys) == 1, device_steps  # one device, one card
            ready = device_steps[-1]
            assert ready["stage"] == "ready" and ready["suggested_name"].startswith("SIM-RGBW")
            # The name form: PATCH the device with a name and a room.
            async with http.post(f"{base}/api/areas", json={"name": "Study"}) as rsp:
                area = await rsp.json()
            async with http.patch(
                f"{base}/api/devices/{ready['device_id']}",
                json={"name": "Desk lamp", "area_id": area["id"]},
            ) as rsp:
                assert rsp.status == 200, await rsp.text()
            async with http.get(f"{base}/api/devices") as rsp:
                devices = {d["id"]: d for d in await rsp.json()}
            device = devices[ready["device_id"]]
            assert device["name_by_user"] == "Desk lamp" and device["area_id"] == area["id"]
    finally:
        for device in get_stick(path).air.devices.values():
            device.stop()
        forget_stick(path)
