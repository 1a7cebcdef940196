"""Authorization over real sockets: every service and route x every role, REST and WebSocket;
revocation cuts open sockets; notifications reach only their audience; rules act as their author."""

from __future__ import annotations

import asyncio
import json
import os
import re
from typing import Any

import aiohttp
import pytest

from hub.domains.cover import CoverEntity
from hub.permissions import needed_role, role_at_least
from tests.waiting import wait_until
from web.routing import ApiRoute

from .conftest import Site, SiteFactory, open_websocket

ROLES = ("guest", "member", "admin")
# Data no service accepts: an allowed call stops at validation, so nothing runs.
PROBE = {"__probe__": 1}


async def _result(ws: aiohttp.ClientWebSocketResponse, msg_id: int) -> dict[str, Any]:
    """Read until the result of command `msg_id` (unbatching array frames)."""
    async with asyncio.timeout(30):
        while True:
            msg = await ws.receive()
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            data = json.loads(msg.data)
            for item in data if isinstance(data, list) else [data]:
                if item.get("id") == msg_id and item.get("type") == "result":
                    return dict(item)


async def _tokens(site: Site) -> dict[str, str]:
    return {
        "guest": await site.user_token("guest", areas=("bedroom",)),
        "member": await site.user_token("member"),
        "admin": site.owner_token,
    }


@pytest.fixture
async def full_site(site_factory: SiteFactory) -> Any:
    """The demo home with rules, voice and a simulated Zigbee network: many services."""
    from integrations.zigbee.sim.radio import forget_stick

    stick = f"sim://authz-{os.getpid()}"
    site = await site_factory(
        rules={},
        voice={},
        satellites={"discovery": False},
        zigbee={"radio": "sim", "device": stick},
    )
    try:
        yield site
    finally:
        forget_stick(stick)


async def test_every_service_for_every_role_over_rest_and_websocket(
    full_site: Site, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    site = full_site
    # Every service says who may call it: none falls back to admin-only by omission.
    undeclared = [r.getMessage() for r in caplog.get_records("setup") if "declares no" in r.message]
    assert undeclared == []
    services = site.hub.services.all()
    names = {f"{s.domain}.{s.service}" for s in services}
    # The ones the issue was about are among them, and none is open to everyone by accident.
    assert {
        "rules.turn_off",
        "rules.reload",
        "rules.trigger",
        "demo.reset",
        "zigbee.backup",
        "notify.send",
        "lock.unlock",
    } <= names
    tokens = await _tokens(site)
    sockets = {role: await open_websocket(http, site, token) for role, token in tokens.items()}
    msg_id = 0
    checked = 0
    for svc in services:
        name = f"{svc.domain}.{svc.service}"
        for role in ROLES:
            allowed = role_at_least(role, needed_role(svc.access, svc.risky))
            expected = "invalid_data" if allowed else "forbidden"
            async with http.post(
                site.url(f"/api/services/{svc.domain}/{svc.service}"),
                json={"data": PROBE},
                headers=site.auth(tokens[role]),
            ) as resp:
                body = await resp.json()
                assert (resp.status, body["code"]) == (400 if allowed else 403, expected), (
                    name,
                    role,
                    body,
                )
            msg_id += 1
            await sockets[role].send_json(
                {
                    "id": msg_id,
                    "type": "call_service",
                    "domain": svc.domain,
                    "service": svc.service,
                    "data": PROBE,
                }
            )
            result = await _result(sockets[role], msg_id)
            assert not result["success"] and result["error"]["code"] == expected, (name, role)
            checked += 1
    assert checked == 3 * len(services) > 150
    # Declarations as the issue asks: admin-only administration, risky needs a member.
    access = {f"{s.domain}.{s.service}": needed_role(s.access, s.risky) for s in services}
    for name in ("rules.turn_off", "rules.reload", "rules.trigger", "demo.reset", "notify.send"):
        assert access[name] == "admin", name
    assert access["zigbee.backup"] == "admin" and access["zigbee.update_firmware"] == "admin"
    assert access["voice.announce"] == "member"
    assert access["lock.unlock"] == "member" and access["light.turn_on"] == "guest"
    for ws in sockets.values():
        await ws.close()


def _path(route: ApiRoute) -> str:
    return re.sub(r"{\w+}", "x", route.path)


async def test_every_route_for_every_role(site: Site, http: aiohttp.ClientSession) -> None:
    # Every /api route the app serves is declared (with its access) in server.routes.
    declared = {(r.method, r.path) for r in site.server.routes}
    served = {
        (route.method, route.resource.canonical)
        for route in site.server._runner.app.router.routes()  # type: ignore[union-attr]
        if route.resource is not None
        and route.resource.canonical.startswith("/api/")
        and route.method != "HEAD"
    }
    sockets = {("GET", "/api/websocket"), ("GET", "/api/voice/stream")}
    assert served - sockets == declared
    tokens = await _tokens(site)
    for route in site.server.routes:
        for role in ROLES:
            allowed = route.access == "public" or role_at_least(role, route.access)
            async with http.request(
                route.method, site.url(_path(route)), json={}, headers=site.auth(tokens[role])
            ) as resp:
                body = await resp.json() if resp.content_type == "application/json" else {}
                if allowed:
                    assert resp.status not in (401, 403), (route.method, route.path, role, body)
                else:
                    assert resp.status == 403, (route.method, route.path, role)
                    assert body["code"] == "forbidden"


async def test_guests_only_in_their_rooms_and_never_risky(
    site: Site, http: aiohttp.ClientSession
) -> None:
    hub = site.hub

    class Garage(CoverEntity):
        async def async_set_cover_position(self, position: int) -> None:
            self.cover_state = "open" if position else "closed"
            self.async_write_state()

    garage = Garage("garage", "Garage door", device_class="garage", suggested_area="Bedroom")
    garage.cover_state = "closed"
    await hub.entities.async_add("demo", [garage])
    await hub.registry.entities.async_update("lock.front_door_lock", area_id="bedroom")
    guest = site.auth(await site.user_token("guest", areas=("bedroom",)))
    member = site.auth(await site.user_token("member"))

    async def call(headers: dict[str, str], service: str, entity_id: str) -> int:
        domain, name = service.split(".")
        async with http.post(
            site.url(f"/api/services/{domain}/{name}"),
            json={"target": {"entity_id": [entity_id]}},
            headers=headers,
        ) as resp:
            return resp.status

    assert await call(guest, "light.turn_on", "light.kitchen_light") == 403  # not their room
    assert await call(guest, "hub.turn_on", "light.kitchen_light") == 403
    assert await call(guest, "light.turn_on", "light.bedroom_light") == 200
    # Risky even in their own room: unlocking, opening a garage door (by any service name).
    assert await call(guest, "lock.unlock", "lock.front_door_lock") == 403
    assert await call(guest, "cover.open_cover", "cover.garage_door") == 403
    assert await call(guest, "hub.toggle", "cover.garage_door") == 403
    assert hub.states.get("cover.garage_door").state == "closed"  # type: ignore[union-attr]
    assert hub.states.get("lock.front_door_lock").state == "locked"  # type: ignore[union-attr]
    assert await call(guest, "cover.close_cover", "cover.garage_door") == 200  # closing is fine
    assert await call(member, "cover.open_cover", "cover.garage_door") == 200
    assert hub.states.get("cover.garage_door").state == "open"  # type: ignore[union-attr]


@pytest.mark.parametrize("how", ["revoke token", "delete user", "demote user"])
async def test_revocation_cuts_an_open_websocket_at_once(
    site: Site, http: aiohttp.ClientSession, how: str
) -> None:
    store = site.server.store
    user = await store.async_create_user("alice", "password123", role="member")
    token, record = await store.async_create_token(user, "phone")
    ws = await open_websocket(http, site, token)
    await ws.send_json({"id": 1, "type": "ping"})
    assert (await _result(ws, 1))["success"]
    admin = site.auth(site.owner_token)
    if how == "revoke token":
        request = http.delete(site.url(f"/api/tokens/{record.id}"), headers=admin)
    elif how == "delete user":
        request = http.delete(site.url(f"/api/users/{user.id}"), headers=admin)
    else:
        request = http.patch(
            site.url(f"/api/users/{user.id}"), json={"role": "guest"}, headers=admin
        )
    async with request as resp:
        assert resp.status == 200
    # The server closes without waiting for the client's next frame.
    async with asyncio.timeout(10):
        msg = await ws.receive()
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), msg
    assert ws.close_code == 4003
    # And nothing more is done for it: the lock stays locked.
    with pytest.raises(ConnectionResetError):
        await ws.send_json(
            {
                "id": 2,
                "type": "call_service",
                "domain": "lock",
                "service": "unlock",
                "target": {"entity_id": ["lock.front_door_lock"]},
            }
        )
        await ws.receive()
    assert site.hub.states.get("lock.front_door_lock").state == "locked"  # type: ignore[union-attr]
    assert not site.server.connections


async def test_notifications_reach_only_their_audience(
    site: Site, http: aiohttp.ClientSession
) -> None:
    tokens = await _tokens(site)
    sockets = {role: await open_websocket(http, site, token) for role, token in tokens.items()}
    for role, ws in sockets.items():
        await ws.send_json({"id": 1, "type": "subscribe_events", "event_type": "notification"})
        assert (await _result(ws, 1))["success"], role
    notes = site.hub.notifications
    notes.async_create("Anna unlocked the front door (code 4711)", "Security", "door")
    notes.async_create("Wi-Fi for visitors: hearth-guest", "Welcome", "wifi", _everyone())
    for role in ROLES:
        async with http.get(
            site.url("/api/notifications"), headers=site.auth(tokens[role])
        ) as resp:
            ids = [n["id"] for n in await resp.json()]
        assert ids == (["wifi"] if role == "guest" else ["door", "wifi"]), role
    # Over the websocket: the guest gets only the welcome; members get both.
    for role, ws in sockets.items():
        seen: list[str] = []
        async with asyncio.timeout(20):
            while "wifi" not in seen:
                data = json.loads((await ws.receive()).data)
                for item in data if isinstance(data, list) else [data]:
                    if item.get("type") == "event":
                        seen.append(item["event"]["data"]["id"])
        assert seen == (["wifi"] if role == "guest" else ["door", "wifi"]), role
    # A member cannot forge one (notify.send is admin-only); an admin can address guests.
    async with http.post(
        site.url("/api/services/notify/send"),
        json={"data": {"message": "Security: open the door for the plumber", "title": "Security"}},
        headers=site.auth(tokens["member"]),
    ) as resp:
        assert resp.status == 403
    assert [n.id for n in notes.all()] == ["door", "wifi"]
    for ws in sockets.values():
        await ws.close()


def _everyone() -> Any:
    from hub.notifications import Audience

    return Audience(roles=("admin", "member", "guest"))


async def test_rules_run_with_their_authors_rights(
    site_factory: SiteFactory, http: aiohttp.ClientSession
) -> None:
    site = await site_factory(rules={})
    store = site.server.store
    alice = await store.async_create_user("alice", "password123", role="admin")
    token, _ = await store.async_create_token(alice, "t")
    rule = (
        "id: unlock_on_event\ntriggers:\n  - platform: event\n    event_type: let_in\n"
        "actions:\n  - service: lock.unlock\n    target: {entity_id: lock.front_door_lock}\n"
    )
    async with http.post(
        site.url("/api/rules"), json={"yaml": rule}, headers=site.auth(token)
    ) as resp:
        assert resp.status == 201
        assert (await resp.json())["author"] == alice.id
    manager = site.hub.data["rules"]
    # Alice is demoted to guest: her rule now has a guest's rights and cannot unlock.
    await store.async_update_user(alice.id, role="guest")
    site.hub.bus.async_fire("let_in", {})
    await manager.async_wait_idle()
    traces = await manager.async_traces("unlock_on_event")
    assert traces[0]["state"] == "error" and "needs the member role" in json.dumps(traces[0])
    assert site.hub.states.get("lock.front_door_lock").state == "locked"  # type: ignore[union-attr]
    # As a member again it may (risky actions need a member); the trigger's cause does not matter.
    await store.async_update_user(alice.id, role="member")
    site.hub.bus.async_fire("let_in", {})
    await manager.async_wait_idle()
    await wait_until(
        lambda: site.hub.states.get("lock.front_door_lock").state == "unlocked",  # type: ignore[union-attr]
        what="the rule to unlock",
    )


async def test_voice_acts_with_the_speakers_or_the_satellites_rights(
    site_factory: SiteFactory, http: aiohttp.ClientSession
) -> None:
    site = await site_factory(voice={"satellite_role": "guest", "satellite_areas": ["bedroom"]})
    states = site.hub.states
    pipeline = site.hub.data["voice"]
    # An unknown speaker at a guest-role satellite: only the satellite's room.
    refused = await pipeline.async_process_text("turn on the kitchen light")
    assert not refused.actions and "rooms" in refused.reply
    assert states.get("light.kitchen_light").state == "off"  # type: ignore[union-attr]
    done = await pipeline.async_process_text("turn on the bedroom light")
    assert [a.service for a in done.actions] == ["light.turn_on"]
    assert states.get("light.bedroom_light").state == "on"  # type: ignore[union-attr]
    # A signed-in member speaking through the dashboard acts with the member's rights.
    member = site.auth(await site.user_token("member"))
    async with http.post(
        site.url("/api/voice/text"), json={"text": "turn on the kitchen light"}, headers=member
    ) as resp:
        assert resp.status == 200
    assert states.get("light.kitchen_light").state == "on"  # type: ignore[union-attr]
    kitchen = states.get("light.kitchen_light")
    assert kitchen is not None and kitchen.context.user_id is not None


async def test_a_plugin_service_without_a_declaration_is_admin_only(
    site: Site, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str | None] = []
    site.hub.services.async_register("plugin", "open_safe", lambda call: calls.append("x"))
    site.hub.services.async_register("plugin", "open_safe", lambda call: calls.append("x"))
    warnings = [r for r in caplog.records if "plugin.open_safe" in r.getMessage()]
    assert len(warnings) == 1 and "only admins" in warnings[0].getMessage()
    # A plugin declares its roles when registering, touching no core file.
    site.hub.services.async_register(
        "plugin", "ring", lambda call: calls.append("ring"), access="guest"
    )
    member = site.auth(await site.user_token("member"))
    guest = site.auth(await site.user_token("guest"))
    for headers, service, status in (
        (member, "open_safe", 403),
        (site.auth(site.owner_token), "open_safe", 200),
        (guest, "ring", 200),
    ):
        async with http.post(
            site.url(f"/api/services/plugin/{service}"), json={}, headers=headers
        ) as resp:
            assert resp.status == status, service
    assert calls == ["x", "ring"]
