"""Text-to-speech with espeak-ng, run as a subprocess so the event loop never blocks."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass

from .audio import Audio, read_wav

# espeak-ng voice per request language; Mandarin is "cmn".
VOICES = {"en": "en-us", "zh": "cmn"}
_TIMEOUT = 30.0


class TtsError(RuntimeError):
    """espeak-ng is missing or failed."""


@dataclass(frozen=True)
class TtsSettings:
    """Voice overrides per language and speaking rate in words per minute."""

    voices: tuple[tuple[str, str], ...] = ()
    speed: int = 165

    def voice_for(self, language: str) -> str:
        return dict(self.voices).get(language) or VOICES.get(language, "en-us")


async def async_synthesize(text: str, language: str, settings: TtsSettings | None = None) -> Audio:
    """Speak `text` in `language` and return 16 kHz mono audio."""
    settings = settings or TtsSettings()
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise TtsError("espeak-ng is not installed (Debian package espeak-ng)")
    # Text goes on stdin, never the command line, so it cannot be read as an option.
    proc = await asyncio.create_subprocess_exec(
        exe,
        "-v",
        settings.voice_for(language),
        "-s",
        str(settings.speed),
        "--stdout",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(text.encode("utf-8")), _TIMEOUT)
    except TimeoutError as exc:
        proc.kill()
        await proc.wait()
        raise TtsError("espeak-ng timed out") from exc
    if proc.returncode != 0 or not out:
        raise TtsError(f"espeak-ng failed ({proc.returncode}): {err.decode(errors='replace')}")
    return await asyncio.get_running_loop().run_in_executor(None, read_wav, out)
