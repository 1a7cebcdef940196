"""The voice console: a typed command through the voice pipeline."""

from __future__ import annotations

from typing import Any

from hub.schema import Field, Schema

from ..errors import Forbidden
from ..routing import ApiRequest, ApiRoute
from ..voice_bridge import async_process_text

_TEXT = Schema(
    {
        "text": Field("str", required=True, max_length=500),
        "language": Field("str", max_length=16),
    }
)


async def process_text(req: ApiRequest) -> Any:
    """Run a typed sentence through intents and actions; answers transcript, intent, actions, reply, timings."""
    user = req.require_user()
    if user.role == "guest":
        raise Forbidden("guests cannot use the voice console")
    text = req.body["text"].strip()
    return await async_process_text(req.server, user, text, req.body.get("language"))


ROUTES = [
    ApiRoute(
        "POST",
        "/api/voice/text",
        process_text,
        "Run a typed voice command",
        "voice",
        "member",
        body=_TEXT,
    ),
]
