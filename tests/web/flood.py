"""WebSocket flood clients, run in their own process so the hub's memory is measured alone.

    python -m tests.web.flood URL TOKEN [--clients 4] [--seconds 5] [--read]

Each client sends get_states as fast as the hub takes them; without --read it never reads a
reply (the worst case for the hub's queues). Prints one JSON line: frames sent, replies read,
and how each client's socket ended.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import aiohttp


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
