"""A speaker for wyoming-satellite's --snd-command: appends what it is given to played.raw and
logs, per reply, the wall-clock time of the first byte and the byte count to snd.jsonl.

wyoming-satellite starts it anew for every reply. Standard library only.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main() -> None:
    folder = Path(sys.argv[1])
    first: float | None = None
    total = 0
    with (folder / "played.raw").open("ab") as out:
        while data := sys.stdin.buffer.read1(65536):
            if first is None:
                first = time.time()
            out.write(data)
            out.flush()
            total += len(data)
    if total:
        with (folder / "snd.jsonl").open("a") as log:
            log.write(json.dumps({"first": first, "end": time.time(), "bytes": total}) + "\n")


if __name__ == "__main__":
    main()
