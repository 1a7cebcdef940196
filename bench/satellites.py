"""Satellite benchmark: real wyoming-satellite 1.0.0 processes (their own virtualenv) attached
to a hub on the demo home, espeak-ng commands spoken into their microphones in real time.

Per command: end of speech at the satellite → service call on the hub, and → first byte of the
reply at the satellite's speaker command (median, p95), with 1 and with 4 satellites attached
and streaming (wake word on the hub). Commands are spoken one at a time, each by one satellite.

Run: nice -n 10 .venv/bin/python bench/satellites.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.config import HubConfig
from hub.core import Hub
from tests.satellites.rig import SatelliteProcess, ensure_satellite
from tests.voice.conftest import synthesize
from voice.events import EVENT_VOICE_ACTION

# Satellite name, room, command (a room-less command where the room has a light).
ROOMS = (
    ("kitchen", "Kitchen", "okay nabu, turn on the light"),
    ("bedroom", "Bedroom", "okay nabu, turn on the light"),
    ("living", "Living Room", "okay nabu, turn on the lights"),
    ("hall", "Hallway", "okay nabu, turn on the coffee maker"),
)


def speech_end(wav: Path) -> float:
    """Seconds from the clip's start to the end of its last spoken 10 ms frame."""
    with wave.open(str(wav), "rb") as clip:
        rate = clip.getframerate()
        samples = np.frombuffer(clip.readframes(clip.getnframes()), dtype="<i2").astype(float)
    frame = rate // 100
    frames = samples[: len(samples) // frame * frame].reshape(-1, frame)
    level = np.sqrt((frames**2).mean(axis=1))
    loud = np.nonzero(level > level.max() * 0.05)[0]
    return float((loud[-1] + 1) * frame / rate)


async def run(count: int, rounds: int, exe: Path, work: Path) -> dict[str, list[float]]:
    sats = [
        SatelliteProcess(exe, work / f"n{count}-{name}", name, area, zeroconf=False)
        for name, area, _ in ROOMS[:count]
    ]
    for sat in sats:
        await sat.async_start()
    hub = Hub(
        HubConfig.minimal(
            work / f"hub{count}",
            demo={"delay": 0, "tick": 3600},
            voice={},
            satellites={
                "discovery": False,
                "hosts": [s.endpoint for s in sats],
                "reconnect_max": 1.0,
            },
        )
    )
    await hub.async_start()
    actions: list[tuple[float, dict[str, Any]]] = []
    hub.bus.async_listen(EVENT_VOICE_ACTION, lambda e: actions.append((time.time(), e.data)))
    manager = hub.data["satellites"]
    try:
        await _until(lambda: all(link.attached for link in manager.links.values()), 60)
        clips = {name: synthesize(work, text) for name, _, text in ROOMS}
        ends = {name: speech_end(path) for name, path in clips.items()}
        to_call: list[float] = []
        to_audio: list[float] = []
        for _ in range(rounds):
            for sat in sats:
                played_before, spoken_before = len(sat.played()), len(sat.spoken())
                sat.say(clips[sat.name])
                await _until(lambda s=sat, n=played_before: len(s.played()) > n, 60)
                spoken = sat.spoken()[spoken_before]
                end_of_speech = spoken["start"] + ends[sat.name]
                cid = f"satellite-{next(k for k, ln in manager.links.items() if ln.endpoint.port == sat.port)}"
                calls = [
                    t - d["seconds"]
                    for t, d in actions
                    if d["conversation_id"] == cid and t > spoken["start"]
                ]
                if calls:
                    to_call.append(calls[0] - end_of_speech)
                to_audio.append(sat.played()[played_before]["first"] - end_of_speech)
                await asyncio.sleep(1.5)  # past the wake-word hold-off: a new utterance
        return {"to_call": to_call, "to_audio": to_audio}
    finally:
        await hub.async_stop()
        for sat in sats:
            await sat.async_stop()


async def _until(check: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the satellite never answered")
        await asyncio.sleep(0.02)


def _summary(values: list[float]) -> str:
    if not values:
        return "no samples"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered) * 1000:6.0f} ms  p95 {p95 * 1000:6.0f} ms  (n={len(ordered)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="commands per satellite")
    args = parser.parse_args()
    exe = ensure_satellite()
    with tempfile.TemporaryDirectory() as tmp:
        for count in (1, 4):
            result = asyncio.run(run(count, args.rounds, exe, Path(tmp)))
            print(f"{count} satellite(s):")
            print(f"  end of speech -> service call      {_summary(result['to_call'])}")
            print(f"  end of speech -> first reply byte  {_summary(result['to_audio'])}")


if __name__ == "__main__":
    main()
