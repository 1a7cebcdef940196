"""Web benchmark: websocket fan-out under load, and REST state reads.

The hub runs in its own process (so its CPU is measured alone) with the web component on
loopback; this process runs the clients. Workload: 200 websocket clients subscribed to every
state while the hub changes 1,000 states per second; each change carries the time it was made,
so every delivered message gives a latency. Then REST requests/s for one state read. Then a
flood: 4 clients (another process) send get_states as fast as the hub takes them, once never
reading a reply and once reading everything, with 50 and with 3,050 states, while one more
client pings; the hub's resident memory and the ping round trips are reported.

    python bench/web.py [--clients 200] [--rate 1000] [--seconds 10] [--flood-seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.web.flood import async_measure_flood  # noqa: E402

ENTITIES = 50


# -- the hub process ----------------------------------------------------------------------
async def _hub_main(config_dir: str) -> None:
    from hub.config import HubConfig
    from hub.core import Hub

    config = HubConfig.minimal(
        Path(config_dir), web={"host": "127.0.0.1", "port": 0, "mdns": False}
    )
    hub = Hub(config)
    await hub.async_start()
    server = hub.data["web"]
    owner = await server.store.async_create_user("bench", "bench password", role="admin")
    token, _ = await server.store.async_create_token(owner, "bench")
    for i in range(ENTITIES):
        hub.states.async_set(f"sensor.bench_{i}", "0", {"t": time.time()})
    print(f"READY {server.port} {token}", flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    proc = psutil.Process()
    while line := (await reader.readline()).decode().split():
        if line[0] == "gen":
            rate, seconds = float(line[1]), float(line[2])
            cpu0, wall0 = sum(proc.cpu_times()[:2]), time.monotonic()
            emitted = await _generate(hub, rate, seconds)
            cpu1, wall1 = sum(proc.cpu_times()[:2]), time.monotonic()
            print(f"DONE {emitted} {cpu1 - cpu0:.3f} {wall1 - wall0:.3f}", flush=True)
        elif line[0] == "states":
            for i in range(int(line[1])):
                hub.states.async_set(f"sensor.heavy_{i}", str(i), {"unit": "W", "note": "x" * 120})
            print("STATES", flush=True)
        elif line[0] == "quit":
            break
    await hub.async_stop()


async def _generate(hub: Any, rate: float, seconds: float) -> int:
    """Change states at `rate` per second, in 10 ms ticks that catch up if the loop lags."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    emitted = 0
    total = int(rate * seconds)
    while emitted < total:
        due = min(total, int((loop.time() - start) * rate) + 1)
        while emitted < due:
            hub.states.async_set(
                f"sensor.bench_{emitted % ENTITIES}", str(emitted), {"t": time.time()}
            )
            emitted += 1
        await asyncio.sleep(0.01)
    return emitted


# -- the clients --------------------------------------------------------------------------
class Clients:
    """Websocket clients that record the delivery latency of every state change."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.recording = False
        self.received = 0

    async def run_one(
        self,
        session: aiohttp.ClientSession,
        url: str,
        token: str,
        ready: asyncio.Event,
        counter: list[int],
        total: int,
        measure: bool,
    ) -> None:
        """One client; only measuring clients parse JSON (the rest count events cheaply) so
        that this one client process keeps up and the latency is the hub's, not ours."""
        async with session.ws_connect(url, max_msg_size=0) as ws:
            await ws.receive()
            await ws.send_str(orjson.dumps({"type": "auth", "access_token": token}).decode())
            await ws.receive()
            await ws.send_str(orjson.dumps({"id": 1, "type": "subscribe_states"}).decode())
            await ws.receive()
            counter[0] += 1
            if counter[0] == total:
                ready.set()
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                if not measure:
                    self.received += msg.data.count('"type":"event"')
                    continue
                now = time.time()
                data = orjson.loads(msg.data)
                for item in data if isinstance(data, list) else (data,):
                    if item.get("type") != "event":
                        continue
                    self.received += 1
                    if self.recording:
                        self.latencies.append(now - item["event"]["new_state"]["attributes"]["t"])


async def _rest_rate(base: str, token: str, seconds: float, concurrency: int = 16) -> float:
    headers = {"Authorization": f"Bearer {token}"}
    done = 0
    stop = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def worker() -> None:
            nonlocal done
            while time.monotonic() < stop:
                async with session.get(f"{base}/api/states/sensor.bench_1") as resp:
                    await resp.read()
                    assert resp.status == 200
                done += 1

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done / (time.monotonic() - started)


def _print_flood(label: str, f: dict[str, Any]) -> None:
    print(
        f"flood {label}: hub RSS {f['rss_before_mb']} -> peak {f['rss_peak_mb']} MB"
        f" (after {f['rss_after_mb']}); others' ping median {f['ping_median_ms']} ms,"
        f" p99 {f['ping_p99_ms']} ms, max {f['ping_max_ms']} ms ({f['pings']} pings);"
        f" {f['get_states_sent']} get_states sent, {f['replies_read']} reply frames read"
    )


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--hub",
            tmp,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert proc.stdin is not None and proc.stdout is not None

        async def ask(command: str, answer: str) -> list[str]:
            proc.stdin.write(f"{command}\n".encode())  # type: ignore[union-attr]
            await proc.stdin.drain()  # type: ignore[union-attr]
            while True:
                line = (await proc.stdout.readline()).decode().split()  # type: ignore[union-attr]
                if line and line[0] == answer:
                    return line[1:]

        while True:
            line = (await proc.stdout.readline()).decode().split()
            if line and line[0] == "READY":
                port, token = int(line[1]), line[2]
                break
        base = f"http://127.0.0.1:{port}"
        print(
            f"hub on {base}; {args.clients} websocket clients, {args.rate:.0f} state changes/s for {args.seconds:.0f} s"
        )

        rest_idle = await _rest_rate(base, token, 3.0)

        clients = Clients()
        ready = asyncio.Event()
        counter = [0]
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        tasks = [
            asyncio.ensure_future(
                clients.run_one(
                    session,
                    f"{base}/api/websocket",
                    token,
                    ready,
                    counter,
                    args.clients,
                    i < args.measuring,
                )
            )
            for i in range(args.clients)
        ]
        await asyncio.wait_for(ready.wait(), 60)
        await ask("gen 200 1", "DONE")  # warm-up
        await asyncio.sleep(0.5)
        clients.recording = True
        received_before = clients.received
        emitted, cpu, wall = (
            float(x) for x in await ask(f"gen {args.rate} {args.seconds}", "DONE")
        )
        await asyncio.sleep(2.0)  # let the tail arrive
        clients.recording = False
        delivered = clients.received - received_before
        expected = int(emitted) * args.clients

        rest_busy_task = asyncio.ensure_future(_rest_rate(base, token, 3.0))
        gen = asyncio.ensure_future(ask(f"gen {args.rate} 3", "DONE"))
        rest_busy = await rest_busy_task
        await gen
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await session.close()
        floods = []
        if args.flood_seconds > 0:
            for states in (0, 3000):
                if states:
                    await ask(f"states {states}", "STATES")
                for read in (False, True):
                    label = f"({'reading' if read else 'not reading'}, {ENTITIES + states} states)"
                    figures = await async_measure_flood(
                        base, token, proc.pid, args.flood_seconds, read=read
                    )
                    floods.append((label, figures))
        proc.stdin.write(b"quit\n")
        await proc.stdin.drain()
        await proc.wait()

    lat = sorted(clients.latencies)
    ms = [x * 1000 for x in lat]
    print(f"state changes emitted:   {int(emitted)} in {wall:.2f} s ({emitted / wall:.0f}/s)")
    print(
        f"messages delivered:      {delivered} of {expected} ({100 * delivered / max(1, expected):.1f} %)"
        f", {delivered / (wall + 2.0):.0f} msg/s to clients"
    )
    if ms:
        print(
            f"delivery latency:        median {statistics.median(ms):.1f} ms, p99 {ms[int(len(ms) * 0.99) - 1]:.1f} ms, max {ms[-1]:.1f} ms ({args.measuring} timing clients)"
        )
    print(
        f"hub CPU while streaming: {100 * cpu / wall:.0f} % of one core ({cpu:.2f} s CPU in {wall:.2f} s)"
    )
    print(
        f"REST GET /api/states/<id>: {rest_idle:.0f} req/s idle, {rest_busy:.0f} req/s while streaming"
        " (the busy figure is bounded by this client process, which is also parsing the stream)"
    )
    for label, figures in floods:
        _print_flood(label, figures)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--measuring", type=int, default=20, help="clients that time messages")
    parser.add_argument("--flood-seconds", type=float, default=10.0, help="0 skips the flood")
    parser.add_argument("--hub", help=argparse.SUPPRESS)
    parsed = parser.parse_args()
    if parsed.hub:
        asyncio.run(_hub_main(parsed.hub))
    else:
        asyncio.run(main(parsed))
