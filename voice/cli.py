"""`hearth voice process|say|listen`: the pipeline from the command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

from .audio import AudioFormatError, read_wav


def register(subparsers: Any) -> None:
    """Add the `voice` command to hearth's CLI (entry point group hearth.cli)."""
    voice = subparsers.add_parser("voice", help="voice pipeline: process WAV files, say, listen")
    sub = voice.add_subparsers(dest="voice_command", metavar="VOICE_COMMAND", required=True)

    process = sub.add_parser("process", help="run WAV files through the whole pipeline")
    process.add_argument("files", nargs="+", type=Path, metavar="FILE.wav")
    process.add_argument("--json", action="store_true", help="one JSON object per file")
    process.add_argument("--wake", action="store_true", help="require the wake word")
    process.set_defaults(func=cmd_process)

    say = sub.add_parser("say", help="run a sentence through intents and actions")
    say.add_argument("text")
    say.add_argument("--json", action="store_true")
    say.add_argument("--language", choices=("en", "zh"))
    say.set_defaults(func=cmd_say)

    listen = sub.add_parser("listen", help="listen on a microphone, or wait for satellites")
    listen.add_argument("--port", type=int, default=10700, help="Wyoming port for satellites")
    listen.set_defaults(func=cmd_listen)


def cmd_process(args: argparse.Namespace) -> int:
    return asyncio.run(_async_process(args))


def cmd_say(args: argparse.Namespace) -> int:
    return asyncio.run(_async_say(args))


def cmd_listen(args: argparse.Namespace) -> int:
    return asyncio.run(_async_listen(args))


async def _async_open(config_dir: Path | None) -> Any:
    """The configured home, or the demo home in a scratch directory."""
    from hub.config import HubConfig
    from hub.core import Hub

    from .pipeline import VoicePipeline
    from .settings import VoiceSettings

    if config_dir is not None and (Path(config_dir) / "configuration.yaml").is_file():
        from hub.config import load_config

        config = load_config(config_dir)
    else:
        config = HubConfig.minimal(
            Path(tempfile.mkdtemp(prefix="hearth-voice-")), demo={"delay": 0}
        )
    hub = Hub(config, record=False)
    await hub.async_start()
    pipeline = hub.data.get("voice")
    if pipeline is None:
        pipeline = VoicePipeline(
            hub, VoiceSettings.from_config(config.integrations.get("voice", {}))
        )
        await pipeline.async_start()
    return hub, pipeline


async def _async_reset(hub: Any) -> None:
    if hub.services.has_service("demo", "reset"):
        await hub.services.async_call("demo", "reset")


async def _async_process(args: argparse.Namespace) -> int:
    logging.getLogger("voice").setLevel(logging.WARNING)
    hub, pipeline = await _async_open(getattr(args, "config", None))
    status = 0
    try:
        for path in args.files:
            await _async_reset(hub)
            try:
                audio = await hub.async_add_executor_job(read_wav, path)
            except (AudioFormatError, OSError) as err:
                print(f"{path}: {err}", file=sys.stderr)
                status = 1
                continue
            result = await pipeline.async_process_audio(
                audio.pcm,
                wake="required" if args.wake else "auto",
                conversation_id=str(path),
                speak=False,
            )
            _print(result, args.json, file=str(path))
    finally:
        await pipeline.async_stop()
        await hub.async_stop()
    return status


async def _async_say(args: argparse.Namespace) -> int:
    hub, pipeline = await _async_open(getattr(args, "config", None))
    try:
        result = await pipeline.async_process_text(args.text, args.language)
        _print(result, args.json)
    finally:
        await pipeline.async_stop()
        await hub.async_stop()
    return 0


async def _async_listen(args: argparse.Namespace) -> int:
    from .mic import MicrophoneUnavailable, async_microphone_chunks
    from .wyoming_server import WyomingServer

    hub, pipeline = await _async_open(getattr(args, "config", None))
    server = WyomingServer(pipeline, "0.0.0.0", args.port)
    await server.async_start()
    print(f"waiting for Wyoming satellites on port {server.port}", file=sys.stderr)
    try:
        try:
            while True:
                result = await pipeline.async_process_stream(
                    async_microphone_chunks(), wake="required"
                )
                _print(result, False)
        except MicrophoneUnavailable as err:
            print(f"no local microphone ({err}); satellites only", file=sys.stderr)
            await asyncio.Event().wait()
    finally:
        await server.async_stop()
        await pipeline.async_stop()
        await hub.async_stop()
    return 0


def _print(result: Any, as_json: bool, file: str | None = None) -> None:
    if as_json:
        out = result.as_json()
        if file is not None:
            out = {"file": file, **out}
        print(json.dumps(out, ensure_ascii=False, default=str), flush=True)
        return
    if file is not None:
        print(f"== {file}")
    print(f"transcript: {result.transcript}")
    print(
        f"intent:     {result.intent} {json.dumps(result.slots, ensure_ascii=False, default=str)}"
    )
    for action in result.actions:
        print(f"action:     {action.service} {list(action.entity_ids)} {dict(action.data)}")
    print(f"reply:      {result.reply}", flush=True)
