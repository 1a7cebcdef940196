"""Web hardening over real sockets: host allow-list (DNS rebinding), the onboarding setup code,
a damaged auth database, login limits counted before checking, slow headers, security headers,
private files, and a websocket flood."""

from __future__ import annotations

import asyncio
import os
import re
import stat
import sys
import time
from pathlib import Path

import aiohttp

from .conftest import OWNER, Site, SiteFactory
from .flood import async_measure_flood

ROOT = Path(__file__).resolve().parents[2]
NEW_OWNER = {"username": "ada", "password": "long enough pw", "name": "Ada"}


async def test_dns_rebinding_cannot_claim_a_fresh_hub(
    site_factory: SiteFactory, http: aiohttp.ClientSession
) -> None:
    site = await site_factory(onboard=False)
    port = site.server.port
    evil = {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}
    # Even with the right code: a page on evil.example whose name now points at the hub.
    body = {**NEW_OWNER, "code": site.onboarding_code()}
    async with http.post(site.url("/api/onboarding"), json=body, headers=evil) as resp:
        assert resp.status == 421
        assert (await resp.json())["code"] == "unknown_host"
    for path in ("/", "/api/onboarding", "/api/states"):
        async with http.get(site.url(path), headers={"Host": "evil.example"}) as resp:
            assert resp.status == 421, path
    assert not site.server.store.onboarded
    # The hub's own names still work: loopback, localhost and its mDNS name.
    short = __import__("socket").gethostname().split(".")[0]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"{short}.local:{port}"):
        async with http.get(site.url("/api/onboarding"), headers={"Host": host}) as resp:
            assert resp.status == 200, host


async def test_names_the_owner_adds_are_answered(
    site_factory: SiteFactory, http: aiohttp.ClientSession
) -> None:
    site = await site_factory(web={"allowed_hosts": ["hearth.home.arpa"]})
    async with http.get(site.url("/api/onboarding"), headers={"Host": "Hearth.Home.Arpa."}) as resp:
        assert resp.status == 200


async def test_onboarding_needs_the_setup_code_from_every_address(
    site_factory: SiteFactory, http: aiohttp.ClientSession
) -> None:
    site = await site_factory(onboard=False)
    code_file = site.hub.config_dir / "onboarding_code"
    assert stat.S_IMODE(code_file.stat().st_mode) == 0o600
    async with http.get(site.url("/api/onboarding")) as resp:
        status = await resp.json()
        assert status["code_required"] and status["blocked"] is None
    async with http.post(site.url("/api/onboarding"), json=NEW_OWNER) as resp:
        assert resp.status == 400  # no code at all
    for wrong in ("0000-0000", "", site.onboarding_code()[::-1]):
        if wrong == site.onboarding_code():
            continue
        async with http.post(
            site.url("/api/onboarding"), json={**NEW_OWNER, "code": wrong}
        ) as resp:
            assert resp.status == 403, wrong
    assert not site.server.store.onboarded
    async with http.post(
        site.url("/api/onboarding"), json={**NEW_OWNER, "code": site.onboarding_code()}
    ) as resp:
        assert resp.status == 200
    assert not code_file.exists()
    # Guessing is limited: a fresh hub refuses a source after five wrong codes.
    other = await site_factory(onboard=False)
    statuses = []
    for _ in range(6):
        async with http.post(
            other.url("/api/onboarding"), json={**NEW_OWNER, "code": "1111-1111"}
        ) as resp:
            statuses.append(resp.status)
    assert statuses == [403] * 5 + [429]


async def test_an_empty_or_lost_auth_database_does_not_reopen_onboarding(
    site_factory: SiteFactory, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    home = tmp_path / "empty"
    home.mkdir()
    (home / "auth.db").write_bytes(b"")
    site = await site_factory(onboard=False, config_dir=home)
    async with http.get(site.url("/api/onboarding")) as resp:
        blocked = (await resp.json())["blocked"]
    assert "auth.db" in blocked and "empty or damaged" in blocked
    async with http.post(
        site.url("/api/onboarding"), json={**NEW_OWNER, "code": "0000-0000"}
    ) as resp:
        assert resp.status == 503
        assert "restore" in (await resp.json())["message"]
    assert not (home / "onboarding_code").exists()
    await site.hub.async_stop()

    # An onboarded hub whose auth.db later vanishes stays closed too.
    home2 = tmp_path / "lost"
    first = await site_factory(onboard=False, config_dir=home2)
    async with http.post(
        first.url("/api/onboarding"), json={**NEW_OWNER, "code": first.onboarding_code()}
    ) as resp:
        assert resp.status == 200
    await first.hub.async_stop()
    for name in ("auth.db", "auth.db-wal", "auth.db-shm"):
        (home2 / name).unlink(missing_ok=True)
    again = await site_factory(onboard=False, config_dir=home2)
    async with http.get(again.url("/api/onboarding")) as resp:
        assert (await resp.json())["blocked"]


async def test_security_headers_on_every_response_and_no_version(
    site: Site, http: aiohttp.ClientSession
) -> None:
    cases = [
        ("/", {}, 200),
        ("/nowhere", {}, 404),
        ("/static/nothing.js", {}, 404),
        ("/api/nowhere", {}, 404),
        ("/api/states", {}, 401),
        ("/api/states", {"Host": "evil.example"}, 421),
    ]
    for path, headers, status in cases:
        async with http.get(site.url(path), headers=headers) as resp:
            assert resp.status == status, path
            assert resp.headers["Server"] == "Hearth", path
            assert resp.headers["X-Content-Type-Options"] == "nosniff", path
            assert resp.headers["X-Frame-Options"] == "DENY", path
            assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"], path
    mode = stat.S_IMODE((site.hub.config_dir / "auth.db").stat().st_mode)
    assert mode == 0o600
    # Malformed requests are answered by aiohttp itself: still no version.
    reader, writer = await asyncio.open_connection("127.0.0.1", site.server.port)
    writer.write(b"GARBAGE / HTTP/1.1\r\n\r\n")
    answer = (await reader.read(4096)).decode(errors="replace")
    writer.close()
    assert answer.startswith("HTTP/1.") and " 400 " in answer.splitlines()[0]
    assert "Server: Hearth\r\n" in answer and "aiohttp" not in answer and "Python" not in answer


async def test_slow_headers_are_cut_off(site_factory: SiteFactory) -> None:
    site = await site_factory(web={"header_timeout": 1.0})
    reader, writer = await asyncio.open_connection("127.0.0.1", site.server.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    closed = False
    started = time.monotonic()
    try:
        # One header byte every 0.2 s, forever: the hub must hang up (generous bound).
        while time.monotonic() - started < 30:
            writer.write(b"X")
            await writer.drain()
            try:
                data = await asyncio.wait_for(reader.read(1024), timeout=0.2)
            except TimeoutError:
                continue
            if not data:
                closed = True
                break
    except ConnectionError:
        closed = True
    finally:
        writer.close()
    assert closed, "a client sending headers byte by byte kept its connection"


async def test_parallel_guesses_are_counted_before_checking(
    site: Site, http: aiohttp.ClientSession
) -> None:
    async def guess(session: aiohttp.ClientSession) -> int:
        async with session.post(
            site.url("/api/auth/login"), json={"username": OWNER[0], "password": "a wrong guess"}
        ) as resp:
            return resp.status

    statuses = await asyncio.gather(*(guess(http) for _ in range(60)))
    print("60 parallel guesses:", {code: statuses.count(code) for code in set(statuses)})
    assert statuses.count(401) <= 5 and statuses.count(429) >= 55, statuses
    # The stranger cannot lock the owner out: from another address the owner signs in
    # (slowed down a little, not refused).
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(connector=connector) as owner:
        async with owner.post(
            site.url("/api/auth/login"), json={"username": OWNER[0], "password": OWNER[1]}
        ) as resp:
            assert resp.status == 200
    # ...while the guessing address stays refused, right password or not.
    async with http.post(
        site.url("/api/auth/login"), json={"username": OWNER[0], "password": OWNER[1]}
    ) as resp:
        assert resp.status == 429


def _private_files(home: Path) -> dict[str, int]:
    return {
        f.name: stat.S_IMODE(f.stat().st_mode)
        for f in home.iterdir()
        if f.name.endswith((".db", ".db-wal", ".db-shm")) or f.name == ".onboarded"
    }


def _write_home(home: Path) -> None:
    home.mkdir()
    (home / "configuration.yaml").write_text(
        "name: Flooded home\ndemo:\n  delay: 0\nweb:\n  host: 127.0.0.1\n  mdns: false\n"
    )


async def _serve_demo_home(home: Path) -> tuple[asyncio.subprocess.Process, str]:
    """`hearth run` on the demo home in its own process (its memory is measured alone)."""
    await asyncio.to_thread(_write_home, home)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        "--config",
        str(home),
        "run",
        cwd=ROOT,
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        env={**env, "HEARTH_WEB_PORT": "0", "PYTHONPATH": str(ROOT)},
    )
    assert proc.stderr is not None
    async with asyncio.timeout(120):
        while True:
            line = (await proc.stderr.readline()).decode()
            assert line, "the hub exited before it was ready"
            found = re.search(r"dashboard (http://127\.0\.0\.1:\d+)", line)
            if "Hearth ready" in line and found:
                return proc, found.group(1)


async def _owner_token(http: aiohttp.ClientSession, base: str, home: Path) -> str:
    code = (await asyncio.to_thread((home / "onboarding_code").read_text)).strip()
    async with http.post(f"{base}/api/onboarding", json={**NEW_OWNER, "code": code}) as resp:
        assert resp.status == 200
        csrf = (await resp.json())["csrf_token"]
    async with http.post(
        f"{base}/api/tokens", json={"name": "flood"}, headers={"X-CSRF-Token": csrf}
    ) as resp:
        return str((await resp.json())["token"])


async def test_websocket_flood_keeps_memory_bounded_and_others_served(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    hub_proc, base = await _serve_demo_home(home)
    try:
        token = await _owner_token(http, base, home)
        # `hearth run` creates its databases and secrets for the owner alone.
        modes = await asyncio.to_thread(_private_files, home)
        assert {"auth.db", "registry.db", ".onboarded"} <= set(modes), modes
        assert set(modes.values()) == {0o600}, modes
        figures = await async_measure_flood(base, token, hub_proc.pid, 8.0)
    finally:
        hub_proc.terminate()
        await hub_proc.wait()
    print("flood figures:", figures)
    assert figures["pings"] >= 10, figures
    assert figures["rss_peak_mb"] < 300, figures
    # The target is 100 ms (bench/web.py measures it); the bound here is loose because
    # this machine is shared, but a starved loop (seconds) still fails.
    assert figures["ping_median_ms"] < 1000, figures
