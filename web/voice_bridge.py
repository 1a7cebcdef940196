"""The dashboard's bridge to the voice pipeline: typed commands and the hold-to-talk mic stream."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from hub.json import json_dumps, json_loads

from .calls import user_context
from .errors import Forbidden, Unauthorized, Unavailable
from .keys import USER

if TYPE_CHECKING:
    from .server import WebServer
    from .users import User

__all__ = ["async_handle_voice_stream", "async_process_text", "result_dict"]

_LOGGER = logging.getLogger(__name__)
SAMPLE_RATE = 16_000
MAX_SECONDS = 30
_MAX_BYTES = SAMPLE_RATE * 2 * MAX_SECONDS
VOICE_KEY = "voice"


def result_dict(result: Any) -> dict[str, Any]:
    """A pipeline result as JSON: transcript, intent, actions, reply, timings."""
    if isinstance(result, dict):
        return result
    out: dict[str, Any] = dict(result.as_json())
    for key in ("language", "error", "rejected", "confidence", "conversation_id"):
        out[key] = getattr(result, key, None)
    out["timings"] = dict(getattr(result, "timings", {}) or {})
    return out


async def async_process_text(
    server: WebServer, user: User, text: str, language: str | None
) -> dict[str, Any]:
    """Run typed text through the pipeline (directly for timings, else via voice.process_text)."""
    hub = server.hub
    started = time.perf_counter()
    pipeline = hub.data.get(VOICE_KEY)
    if pipeline is not None and hasattr(pipeline, "async_process_text"):
        result = result_dict(
            await pipeline.async_process_text(
                text, language, f"web-{user.id[:8]}", context=user_context(user, "voice_console")
            )
        )
    elif hub.services.has_service("voice", "process_text"):
        data: dict[str, Any] = {"text": text}
        if language:
            data["language"] = language
        context = user_context(user, "voice_console")
        result = result_dict(
            await hub.services.async_call("voice", "process_text", data, context=context)
        )
    else:
        raise Unavailable("voice is not running on this hub (add `voice:` to the configuration)")
    result.setdefault("timings", {})
    result["timings"]["total"] = round(time.perf_counter() - started, 4)
    return result


async def async_handle_voice_stream(server: WebServer, request: web.Request) -> web.StreamResponse:
    """Hold-to-talk: binary frames of 16 kHz 16-bit mono PCM, then {"type": "end"}; answers the result."""
    user: User | None = request.get(USER)
    if user is None:
        raise Unauthorized("sign in first")
    if user.role == "guest":
        raise Forbidden("guests cannot use the voice console")
    pipeline = server.hub.data.get(VOICE_KEY)
    if pipeline is None or not hasattr(pipeline, "async_process_stream"):
        raise Unavailable("voice is not running on this hub")
    ws = web.WebSocketResponse(max_msg_size=1 << 20)
    await ws.prepare(request)
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()
    started = time.perf_counter()
    await ws.send_json({"type": "ready", "sample_rate": SAMPLE_RATE})
    reader = asyncio.get_running_loop().create_task(_read(ws, queue))
    try:
        result = await pipeline.async_process_stream(
            _chunks(queue),
            wake="off",
            conversation_id=f"web-{user.id[:8]}",
            speak=False,
            context=user_context(user, "voice_console"),
        )
        payload = result_dict(result)
        payload.setdefault("timings", {})["total"] = round(time.perf_counter() - started, 4)
        if not ws.closed:
            await ws.send_json({"type": "result", "result": payload}, dumps=_dumps)
    except Exception:
        _LOGGER.exception("Voice stream failed")
        if not ws.closed:
            await ws.send_json({"type": "error", "message": "voice pipeline failed"})
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await ws.close()
    return ws


async def _read(ws: web.WebSocketResponse, queue: asyncio.Queue[bytes | None]) -> None:
    received = 0
    try:
        async for msg in ws:
            if msg.type == WSMsgType.BINARY:
                received += len(msg.data)
                if received > _MAX_BYTES:
                    break
                queue.put_nowait(bytes(msg.data))
            elif msg.type == WSMsgType.TEXT:
                try:
                    data = json_loads(msg.data)
                except ValueError:
                    continue
                if isinstance(data, dict) and data.get("type") == "end":
                    break
            else:
                break
    finally:
        queue.put_nowait(None)


async def _chunks(queue: asyncio.Queue[bytes | None]) -> AsyncIterator[bytes]:
    while (chunk := await queue.get()) is not None:
        yield chunk


def _dumps(obj: Any) -> str:
    return json_dumps(obj)
