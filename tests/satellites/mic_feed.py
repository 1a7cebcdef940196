"""A microphone for wyoming-satellite's --mic-command: silence in real time, and any
`say-*.wav` (16 kHz mono 16-bit) dropped into the folder spoken once, also in real time.

Each spoken clip is logged to mic.jsonl with the wall-clock time its first sample went out.
Standard library only: it runs under any Python.
"""

from __future__ import annotations

import json
import sys
import time
import wave
from pathlib import Path

SAMPLES = 1024
CHUNK = SAMPLES * 2
PERIOD = SAMPLES / 16000


def main() -> None:
    folder = Path(sys.argv[1])
    out = sys.stdout.buffer
    due = time.monotonic()

    def send(piece: bytes) -> None:
        nonlocal due
        due += PERIOD
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        out.write(piece.ljust(CHUNK, b"\0"))
        out.flush()

    while True:
        pending = sorted(folder.glob("say-*.wav"))
        if not pending:
            send(bytes(CHUNK))
            continue
        clip = pending[0]
        with wave.open(str(clip), "rb") as wav:
            pcm = wav.readframes(wav.getnframes())
        clip.unlink()
        with (folder / "mic.jsonl").open("a") as log:
            log.write(
                json.dumps({"clip": clip.name, "start": time.time(), "bytes": len(pcm)}) + "\n"
            )
        for start in range(0, len(pcm), CHUNK):
            send(pcm[start : start + CHUNK])


if __name__ == "__main__":
    try:
        main()
    except (BrokenPipeError, KeyboardInterrupt):
        pass
