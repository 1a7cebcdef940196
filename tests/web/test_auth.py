"""Auth over real sockets: onboarding, sessions, tokens, roles, CSRF/Origin and rate limiting."""

from __future__ import annotations

import re
import sqlite3

import aiohttp
import pytest

from web.routing import ApiRoute

from .conftest import OWNER, Site, SiteFactory


def _path(route: ApiRoute) -> str:
    return re.sub(r"{\w+}", "x", route.path)


async def test_every_endpoint_rejects_missing_and_invalid_tokens(
    site: Site, http: aiohttp.ClientSession
) -> None:
    protected = [r for r in site.server.routes if r.access != "public"]
    assert len(protected) > 25
    for route in protected:
        for headers in (
            {},
            {"Authorization": "Bearer hth_not-a-real-token"},
            {"Authorization": "Basic b3duZXI6eA=="},
        ):
            async with http.request(
                route.method, site.url(_path(route)), json={}, headers=headers
            ) as resp:
                assert resp.status == 401, (route.method, route.path, headers)
                body = await resp.json()
                assert body["code"] == "unauthorized"
    async with http.get(
        site.url("/api/websocket"), headers={"Authorization": "Bearer nope"}
    ) as resp:
        assert resp.status == 401


async def test_members_cannot_reach_admin_endpoints(
    site: Site, http: aiohttp.ClientSession
) -> None:
    member = site.auth(await site.user_token("member"))
    admin_routes = [r for r in site.server.routes if r.access == "admin"]
    assert {"/api/users", "/api/pairing", "/api/areas"} <= {r.path for r in admin_routes}
    for route in admin_routes:
        async with http.request(
            route.method, site.url(_path(route)), json={}, headers=member
        ) as resp:
            assert resp.status == 403, (route.method, route.path)
            assert (await resp.json())["code"] == "forbidden"
    # ...while member routes work.
    async with http.get(site.url("/api/states"), headers=member) as resp:
        assert resp.status == 200
    async with http.get(site.url("/api/users"), headers=site.auth(site.owner_token)) as resp:
        assert resp.status == 200
        assert [u["username"] for u in await resp.json()] == [OWNER[0], "member1"]


async def test_guest_sees_and_controls_only_their_areas(
    site: Site, http: aiohttp.ClientSession
) -> None:
    guest = site.auth(await site.user_token("guest", areas=("bedroom",)))
    async with http.get(site.url("/api/states"), headers=guest) as resp:
        ids = {s["entity_id"] for s in await resp.json()}
    assert "light.bedroom_light" in ids
    assert "light.kitchen_light" not in ids and "lock.front_door_lock" not in ids
    async with http.post(
        site.url("/api/services/lock/unlock"),
        json={"target": {"entity_id": ["lock.front_door_lock"]}},
        headers=guest,
    ) as resp:
        assert resp.status == 403
    assert site.hub.states.get("lock.front_door_lock").state == "locked"  # type: ignore[union-attr]
    async with http.post(
        site.url("/api/services/light/turn_on"),
        json={"target": {"area_id": ["bedroom"]}},
        headers=guest,
    ) as resp:
        assert resp.status == 200
    assert site.hub.states.get("light.bedroom_light").state == "on"  # type: ignore[union-attr]
    async with http.post(
        site.url("/api/services/notify/send"), json={"data": {"message": "hi"}}, headers=guest
    ) as resp:
        assert resp.status == 403
    async with http.get(site.url("/api/states/light.kitchen_light"), headers=guest) as resp:
        assert resp.status == 404


async def test_onboarding_creates_the_owner_once_and_signs_in(
    site_factory: SiteFactory, http: aiohttp.ClientSession
) -> None:
    site = await site_factory(onboard=False)
    async with http.get(site.url("/api/onboarding")) as resp:
        assert (await resp.json())["onboarded"] is False
    async with http.post(
        site.url("/api/onboarding"),
        json={"username": "ada", "password": "short", "code": site.onboarding_code()},
    ) as resp:
        assert resp.status == 400
    code = site.onboarding_code()
    async with http.post(
        site.url("/api/onboarding"),
        json={"username": "ada", "password": "long enough pw", "name": "Ada", "code": code},
    ) as resp:
        assert resp.status == 200
        cookie = resp.cookies["hearth_session"]
        assert cookie["httponly"] and cookie["samesite"] == "Strict"
        csrf = (await resp.json())["csrf_token"]
    async with http.get(site.url("/api/auth/me")) as resp:
        me = await resp.json()
        assert me["user"]["role"] == "admin" and me["user"]["is_owner"] and me["csrf_token"] == csrf
    async with aiohttp.ClientSession() as other:
        async with other.post(
            site.url("/api/onboarding"),
            json={"username": "eve", "password": "long enough pw", "code": code},
        ) as resp:
            assert resp.status == 409
    # The code is spent: its file is gone.
    assert not (site.hub.config_dir / "onboarding_code").exists()
    # Stored as argon2id, never in clear.
    path = site.hub.config_dir / "auth.db"
    with sqlite3.connect(path) as db:
        (stored,) = db.execute("SELECT password_hash FROM users").fetchone()
        (version,) = db.execute("PRAGMA user_version").fetchone()
    assert stored.startswith("$argon2id$") and "long enough pw" not in stored
    assert version == site.server.store.database.schema_version == 2


async def test_session_cookie_needs_csrf_token_and_same_origin(
    site: Site, http: aiohttp.ClientSession
) -> None:
    async with http.post(
        site.url("/api/auth/login"), json={"username": OWNER[0], "password": OWNER[1]}
    ) as resp:
        assert resp.status == 200
        csrf = (await resp.json())["csrf_token"]
    body = {"target": {"entity_id": ["light.kitchen_light"]}}
    async with http.post(site.url("/api/services/light/turn_on"), json=body) as resp:
        assert resp.status == 403
        assert "CSRF" in (await resp.json())["message"]
    async with http.post(
        site.url("/api/services/light/turn_on"), json=body, headers={"X-CSRF-Token": "wrong"}
    ) as resp:
        assert resp.status == 403
    evil = {"X-CSRF-Token": csrf, "Origin": "http://evil.example"}
    async with http.post(site.url("/api/services/light/turn_on"), json=body, headers=evil) as resp:
        assert resp.status == 403
    assert site.hub.states.get("light.kitchen_light").state == "off"  # type: ignore[union-attr]
    good = {"X-CSRF-Token": csrf, "Origin": site.base}
    async with http.post(site.url("/api/services/light/turn_on"), json=body, headers=good) as resp:
        assert resp.status == 200
    assert site.hub.states.get("light.kitchen_light").state == "on"  # type: ignore[union-attr]
    # Login itself refuses foreign origins (login CSRF).
    async with http.post(
        site.url("/api/auth/login"),
        json={"username": OWNER[0], "password": OWNER[1]},
        headers={"Origin": "http://evil.example"},
    ) as resp:
        assert resp.status == 403
    # A websocket upgrade with the cookie from a foreign page is refused; from our own page it is signed in.
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await http.ws_connect(site.url("/api/websocket"), origin="http://evil.example")
    assert err.value.status == 403
    async with http.ws_connect(site.url("/api/websocket"), origin=site.base) as ws:
        assert (await ws.receive_json())["type"] == "auth_ok"
    # Without Origin the cookie is not trusted: the client must send a token.
    async with http.ws_connect(site.url("/api/websocket")) as ws:
        assert (await ws.receive_json())["type"] == "auth_required"
    async with http.post(site.url("/api/auth/logout"), headers={"X-CSRF-Token": csrf}) as resp:
        assert resp.status == 200
    async with http.get(site.url("/api/auth/me")) as resp:
        assert resp.status == 401


async def test_login_rate_limiting(site: Site, http: aiohttp.ClientSession) -> None:
    for _ in range(5):
        async with http.post(
            site.url("/api/auth/login"), json={"username": OWNER[0], "password": "guess guess"}
        ) as resp:
            assert resp.status == 401
    async with http.post(
        site.url("/api/auth/login"), json={"username": OWNER[0], "password": OWNER[1]}
    ) as resp:
        assert resp.status == 429
        assert int(resp.headers["Retry-After"]) > 0
        assert (await resp.json())["code"] == "rate_limited"
    # Unknown user names cost the same and are limited the same way.
    async with http.post(
        site.url("/api/auth/login"), json={"username": "nobody", "password": "x" * 10}
    ) as resp:
        assert resp.status == 429  # same client address


async def test_tokens_create_use_revoke(site: Site, http: aiohttp.ClientSession) -> None:
    member_token = await site.user_token("member")
    member = site.auth(member_token)
    async with http.post(site.url("/api/tokens"), json={"name": "script"}, headers=member) as resp:
        assert resp.status == 201
        created = await resp.json()
    script = site.auth(created["token"])
    async with http.get(site.url("/api/tokens"), headers=script) as resp:
        listed = await resp.json()
        assert {t["name"] for t in listed} == {"test", "script"}
        assert all("token" not in t and "token_hash" not in t for t in listed)
    async with http.delete(site.url(f"/api/tokens/{created['id']}"), headers=member) as resp:
        assert resp.status == 200
    async with http.get(site.url("/api/states"), headers=script) as resp:
        assert resp.status == 401
    # A member cannot revoke someone else's token.
    owner_tokens = site.server.store.tokens(site.server.store.find_user(OWNER[0]).id)  # type: ignore[union-attr]
    async with http.delete(site.url(f"/api/tokens/{owner_tokens[0].id}"), headers=member) as resp:
        assert resp.status == 404


async def test_auth_data_survives_a_restart(
    site_factory: SiteFactory, hub_factory: object, http: aiohttp.ClientSession
) -> None:
    site = await site_factory()
    config_dir = site.hub.config_dir
    await site.hub.async_stop()
    again = await site_factory(onboard=False, config_dir=config_dir)
    async with http.get(again.url("/api/states"), headers=again.auth(site.owner_token)) as resp:
        assert resp.status == 200
    async with http.post(
        again.url("/api/auth/login"), json={"username": OWNER[0].upper(), "password": OWNER[1]}
    ) as resp:
        assert resp.status == 200


async def test_user_management_guards(site: Site, http: aiohttp.ClientSession) -> None:
    admin = site.auth(site.owner_token)
    owner = site.server.store.find_user(OWNER[0])
    assert owner is not None
    async with http.patch(
        site.url(f"/api/users/{owner.id}"), json={"role": "member"}, headers=admin
    ) as resp:
        assert resp.status == 409
    async with http.delete(site.url(f"/api/users/{owner.id}"), headers=admin) as resp:
        assert resp.status == 403
    async with http.post(
        site.url("/api/users"),
        json={"username": "g", "password": "password123", "role": "guest", "areas": ["nowhere"]},
        headers=admin,
    ) as resp:
        assert resp.status == 404
    async with http.post(
        site.url("/api/users"),
        json={"username": "g", "password": "password123", "role": "guest", "areas": ["kitchen"]},
        headers=admin,
    ) as resp:
        assert resp.status == 201
        guest = await resp.json()
    async with http.post(
        site.url("/api/users"), json={"username": "G", "password": "password123"}, headers=admin
    ) as resp:
        assert resp.status == 409
    async with http.delete(site.url(f"/api/users/{guest['id']}"), headers=admin) as resp:
        assert resp.status == 200
