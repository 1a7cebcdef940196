"""REST and websocket API over real sockets against the demo home."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from hub.const import EVENT_REGISTRY_UPDATED

from .conftest import Site, SiteFactory, open_websocket


async def _messages(
    ws: aiohttp.ClientWebSocketResponse, until: Any, timeout: float = 20
) -> list[dict[str, Any]]:
    """Read (unbatching array frames) until `until(messages)` holds."""
    out: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while not until(out):
            data = json.loads((await ws.receive()).data)
            out.extend(data if isinstance(data, list) else [data])
    return out


async def test_service_call_changes_state_and_errors_are_typed(
    site: Site, http: aiohttp.ClientSession
) -> None:
    auth = site.auth(site.owner_token)
    body = {"data": {"brightness_pct": 40}, "target": {"entity_id": ["light.kitchen_light"]}}
    async with http.post(site.url("/api/services/light/turn_on"), json=body, headers=auth) as resp:
        assert resp.status == 200
    async with http.get(site.url("/api/states/light.kitchen_light"), headers=auth) as resp:
        state = await resp.json()
    assert state["state"] == "on" and state["attributes"]["brightness"] == 102
    assert state["context"]["origin"] == "api" and state["context"]["user_id"]
    cases = [
        ("/api/services/light/explode", body, 404, "unknown_service"),
        (
            "/api/services/light/turn_on",
            {"data": {"brightness": 999}, "target": body["target"]},
            400,
            "invalid_data",
        ),
        (
            "/api/services/light/turn_on",
            {"target": {"entity_id": ["light.nowhere"]}},
            404,
            "not_found",
        ),
        ("/api/services/light/turn_on", {"bogus": 1}, 400, "invalid_data"),
    ]
    for path, payload, status, code in cases:
        async with http.post(site.url(path), json=payload, headers=auth) as resp:
            assert resp.status == status, path
            assert (await resp.json())["code"] == code
    async with http.post(
        site.url("/api/services/light/turn_on"), data=b"{not json", headers=auth
    ) as resp:
        assert resp.status == 400 and (await resp.json())["code"] == "bad_request"


async def test_registry_history_and_notifications(site: Site, http: aiohttp.ClientSession) -> None:
    auth = site.auth(site.owner_token)
    async with http.post(site.url("/api/areas"), json={"name": "Garage"}, headers=auth) as resp:
        assert resp.status == 201
        garage = await resp.json()
    async with http.get(site.url("/api/devices"), headers=auth) as resp:
        devices = await resp.json()
    lamp = next(d for d in devices if "light.kitchen_light" in d["entity_ids"])
    async with http.patch(
        site.url(f"/api/devices/{lamp['id']}"),
        json={"name": "Workbench lamp", "area_id": garage["id"]},
        headers=auth,
    ) as resp:
        assert resp.status == 200
        assert (await resp.json())["display_name"] == "Workbench lamp"
    assert site.hub.registry.entity_area_id("light.kitchen_light") == "garage"
    async with http.get(site.url("/api/entities"), headers=auth) as resp:
        entry = next(e for e in await resp.json() if e["entity_id"] == "light.kitchen_light")
        assert entry["effective_area_id"] == "garage"
    for service in ("turn_on", "turn_off", "turn_on"):
        await site.hub.services.async_call(
            "light", service, target={"entity_id": ["light.kitchen_light"]}
        )
    async with http.get(site.url("/api/history/light.kitchen_light?hours=1"), headers=auth) as resp:
        states = [s["state"] for s in await resp.json()]
    assert states[-3:] == ["on", "off", "on"]
    async with http.get(
        site.url("/api/history/light.kitchen_light?hours=-1"), headers=auth
    ) as resp:
        assert resp.status == 400
    site.hub.notifications.async_create("Fridge door open", "Kitchen", "fridge")
    async with http.get(site.url("/api/notifications"), headers=auth) as resp:
        assert [n["id"] for n in await resp.json()] == ["fridge"]
    async with http.delete(site.url("/api/notifications/fridge"), headers=auth) as resp:
        assert resp.status == 200
    assert site.hub.notifications.all() == []


async def test_components_that_are_not_running_answer_503(
    site: Site, http: aiohttp.ClientSession
) -> None:
    auth = site.auth(site.owner_token)
    for method, path, body in (
        ("POST", "/api/voice/text", {"text": "turn on the kitchen light"}),
        ("GET", "/api/rules", None),
        ("POST", "/api/pairing", {"protocols": ["zigbee"]}),
    ):
        async with http.request(method, site.url(path), json=body, headers=auth) as resp:
            assert resp.status == 503, path
            assert (await resp.json())["code"] == "unavailable"
    async with http.get(site.url("/api/voice/stream"), headers=auth) as resp:
        assert resp.status == 503


async def test_websocket_subscriptions_are_filtered_per_client(
    site: Site, http: aiohttp.ClientSession
) -> None:
    admin = await open_websocket(http, site, site.owner_token)
    sensors = await open_websocket(http, site, site.owner_token)
    guest = await open_websocket(http, site, await site.user_token("guest", areas=("bedroom",)))
    await admin.send_json(
        {"id": 1, "type": "subscribe_states", "entity_ids": ["light.kitchen_light"]}
    )
    await sensors.send_json({"id": 7, "type": "subscribe_states", "domains": ["sensor"]})
    await guest.send_json({"id": 3, "type": "subscribe_states"})
    for ws in (admin, sensors, guest):
        assert (await _messages(ws, lambda m: any(x.get("type") == "result" for x in m)))[-1][
            "success"
        ]
    await admin.send_json(
        {
            "id": 2,
            "type": "call_service",
            "domain": "light",
            "service": "toggle",
            "target": {"entity_id": ["light.kitchen_light"]},
        }
    )
    await site.hub.services.async_call(
        "light", "turn_on", target={"entity_id": ["light.bedroom_light"]}
    )
    got = await _messages(
        admin,
        lambda m: (
            any(x.get("id") == 1 and x["type"] == "event" for x in m)
            and any(x.get("id") == 2 for x in m)
        ),
    )
    event = next(x for x in got if x["type"] == "event")
    assert (
        event["event"]["entity_id"] == "light.kitchen_light"
        and event["event"]["new_state"]["state"] == "on"
    )
    assert all(x.get("event", {}).get("entity_id") != "light.bedroom_light" for x in got)
    seen = await _messages(guest, lambda m: any(x.get("type") == "event" for x in m))
    assert {x["event"]["entity_id"] for x in seen if x["type"] == "event"} == {
        "light.bedroom_light"
    }
    site.hub.states.async_set("sensor.kitchen_temperature", "22.5", {"unit_of_measurement": "°C"})
    seen = await _messages(sensors, lambda m: any(x.get("type") == "event" for x in m))
    assert [x["event"]["entity_id"] for x in seen if x["type"] == "event"] == [
        "sensor.kitchen_temperature"
    ]
    # Guests cannot subscribe to arbitrary events, cannot call services outside their rooms.
    await guest.send_json(
        {"id": 4, "type": "subscribe_events", "event_type": EVENT_REGISTRY_UPDATED}
    )
    await guest.send_json(
        {
            "id": 5,
            "type": "call_service",
            "domain": "lock",
            "service": "unlock",
            "target": {"entity_id": "lock.front_door_lock"},
        }
    )
    results = await _messages(
        guest, lambda m: {4, 5} <= {x.get("id") for x in m if x.get("type") == "result"}
    )
    assert all(x["error"]["code"] == "forbidden" for x in results if x.get("type") == "result")
    # Bad input gets an answer, not a dropped connection.
    await admin.send_str("{nope")
    await admin.send_json({"type": "ping"})
    await admin.send_json({"id": 9, "type": "what"})
    await admin.send_json({"id": 10, "type": "ping"})
    replies = await _messages(admin, lambda m: any(x.get("id") == 10 for x in m))
    assert [x["type"] for x in replies if x.get("type") == "error"] == ["error", "error"]
    assert next(x for x in replies if x.get("id") == 9)["error"]["code"] == "not_found"
    assert next(x for x in replies if x.get("id") == 10)["result"] == "pong"
    # Unsubscribing stops delivery.
    await admin.send_json({"id": 11, "type": "unsubscribe", "subscription": 1})
    await _messages(admin, lambda m: any(x.get("id") == 11 for x in m))
    await site.hub.services.async_call(
        "light", "toggle", target={"entity_id": ["light.kitchen_light"]}
    )
    await admin.send_json({"id": 12, "type": "ping"})
    tail = await _messages(admin, lambda m: any(x.get("id") == 12 for x in m))
    assert not [x for x in tail if x.get("type") == "event"]
    for ws in (admin, sensors, guest):
        await ws.close()


async def test_websocket_rejects_bad_token(site: Site, http: aiohttp.ClientSession) -> None:
    ws = await http.ws_connect(site.url("/api/websocket"))
    assert (await ws.receive_json())["type"] == "auth_required"
    await ws.send_json({"type": "auth", "access_token": "hth_wrong"})
    assert (await ws.receive_json())["type"] == "auth_invalid"
    msg = await ws.receive()
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert ws.close_code == 4001


async def test_openapi_document_describes_every_route(
    site: Site, http: aiohttp.ClientSession
) -> None:
    async with http.get(site.url("/api/openapi.json")) as resp:
        doc = await resp.json()
    assert doc["openapi"].startswith("3.1")
    for route in site.server.routes:
        op = doc["paths"][route.path][route.method.lower()]
        assert op["x-hearth-access"] == route.access
    call = doc["paths"]["/api/services/{domain}/{service}"]["post"]
    assert call["requestBody"]["content"]["application/json"]["schema"]["properties"]["target"]


async def test_ready_line_names_the_dashboard_and_qr_encodes_it(
    site: Site, http: aiohttp.ClientSession
) -> None:
    note = next(n for n in site.hub.ready_notes if n.startswith("dashboard "))
    assert note.startswith(f"dashboard {site.base} ")  # the hub was not onboarded at start
    async with http.get(site.url("/api/qr.svg"), headers=site.auth(site.owner_token)) as resp:
        assert resp.status == 200 and resp.content_type == "image/svg+xml"
        assert (await resp.text()).startswith("<svg")
    async with http.get(site.url("/")) as resp:
        html = await resp.text()
        assert "/static/app.js" in html
        assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    async with http.get(site.url("/static/app.js")) as resp:
        assert resp.status == 200


async def test_mdns_announces_the_hub(site_factory: SiteFactory) -> None:
    from zeroconf.asyncio import AsyncZeroconf

    from web.mdns import SERVICE_TYPE

    site = await site_factory(web={"mdns": True})
    # The announcement runs in the background so the hub is ready first; wait for it here.
    assert site.server._mdns_task is not None
    await site.server._mdns_task
    announcer = site.server._mdns
    assert announcer is not None and announcer.info is not None
    zc = AsyncZeroconf()
    try:
        info = await zc.async_get_service_info(SERVICE_TYPE, announcer.info.name, timeout=5000)
    finally:
        await zc.async_close()
    assert info is not None and info.port == site.server.port
    assert info.properties[b"api"] == b"/api/"
