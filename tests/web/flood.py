"""WebSocket flood clients, run in their own process so the hub's memory is measured alone.

    python -m tests.web.flood URL TOKEN [--clients 4] [--seconds 5] [--read]

Each client sends get_states as fast as the hub takes them; without --read it never reads a
reply (the worst case for the hub's queues). Prints one JSON line: frames sent, replies read,
and how each client's socket ended. `async_measure_flood` runs that process against a hub and
meanwhile pings from one more client and samples the hub's memory (tests and bench/web.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import psutil

ROOT = Path(__file__).resolve().parents[2]


async def async_measure_flood(
    base: str, token: str, hub_pid: int, seconds: float, *, read: bool = False, clients: int = 4
) -> dict[str, Any]:
    """Flood a hub from another process; ping it every ~20 ms from here; sample its RSS."""
    hub = psutil.Process(hub_pid)
    flood = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.web.flood",
        base,
        token,
        "--seconds",
        str(seconds),
        "--clients",
        str(clients),
        *(["--read"] if read else []),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    before = peak = hub.memory_info().rss
    pings: list[float] = []
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{base}/api/websocket", max_msg_size=0) as ws,
    ):
        await ws.receive()
        await ws.send_json({"type": "auth", "access_token": token})
        await ws.receive()
        msg_id = 0
        while flood.returncode is None:
            msg_id += 1
            sent = time.perf_counter()
            await ws.send_json({"id": msg_id, "type": "ping"})
            async with asyncio.timeout(60):
                while True:
                    data = json.loads((await ws.receive()).data)
                    items = data if isinstance(data, list) else [data]
                    if any(m.get("id") == msg_id for m in items):
                        break
            pings.append((time.perf_counter() - sent) * 1000)
            peak = max(peak, hub.memory_info().rss)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(flood.wait(), 0.02)
    out, _ = await flood.communicate()
    flooders = json.loads(out)
    pings.sort()
    return {
        "rss_before_mb": round(before / 2**20),
        "rss_peak_mb": round(peak / 2**20),
        "rss_after_mb": round(hub.memory_info().rss / 2**20),
        "pings": len(pings),
        "ping_median_ms": round(statistics.median(pings), 1) if pings else None,
        "ping_p99_ms": round(pings[max(0, int(len(pings) * 0.99) - 1)], 1) if pings else None,
        "ping_max_ms": round(pings[-1], 1) if pings else None,
        "get_states_sent": sum(c["sent"] for c in flooders),
        "replies_read": sum(c["replies"] for c in flooders),
    }


async def _client(
    session: aiohttp.ClientSession, url: str, token: str, seconds: float, read: bool
) -> dict[str, object]:
    sent = replies = 0
    ws = await session.ws_connect(url + "/api/websocket", max_msg_size=0)
    await ws.receive()
    await ws.send_str(json.dumps({"type": "auth", "access_token": token}))
    await ws.receive()

    async def reader() -> None:
        nonlocal replies
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                replies += 1

    reading = asyncio.create_task(reader()) if read else None
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline and not ws.closed:
            sent += 1
            await asyncio.wait_for(
                ws.send_str(f'{{"id":{sent},"type":"get_states"}}'),
                timeout=max(0.01, deadline - time.monotonic()),
            )
    except (TimeoutError, ConnectionError, RuntimeError):
        pass
    ended = f"closed by hub ({ws.close_code})" if ws.closed else "open"
    if reading is not None:
        reading.cancel()
    await ws.close()
    return {"sent": sent, "replies": replies, "ended": ended}


async def _main(args: argparse.Namespace) -> None:
    async with aiohttp.ClientSession() as session:
        results = await asyncio.gather(
            *(
                _client(session, args.url, args.token, args.seconds, args.read)
                for _ in range(args.clients)
            )
        )
    print(json.dumps(results), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("token")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--read", action="store_true")
    asyncio.run(_main(parser.parse_args()))
