"""Pairing sessions: start, watch (also live over the websocket), stop."""

from __future__ import annotations

from typing import Any

from hub.schema import Field, Schema

from ..errors import Unavailable
from ..routing import ApiRequest, ApiRoute

_START = Schema(
    {
        "protocols": Field("str_list", description="zigbee, ble, wifi; empty for all"),
        "duration": Field("float", min=1, max=600, default=60.0),
        "candidate_id": Field("str", max_length=200),
        "options": Field("dict", default={}, description="e.g. Wi-Fi credentials for appliances"),
    }
)


async def overview(req: ApiRequest) -> Any:
    """Which protocols can pair now, and the sessions so far."""
    pairing = req.hub.pairing
    return {
        "protocols": pairing.protocols(),
        "sessions": [s.as_dict() for s in pairing.sessions.values()],
    }


async def start(req: ApiRequest) -> Any:
    """Start searching (all protocols unless some are named)."""
    if not req.hub.pairing.protocols():
        raise Unavailable("no running integration can pair devices")
    session = req.hub.pairing.async_start(
        req.body.get("protocols") or None,
        req.body["duration"],
        req.body.get("candidate_id"),
        req.body["options"],
    )
    return session.as_dict()


async def get_session(req: ApiRequest) -> Any:
    """A session with every step reported so far."""
    return req.hub.pairing.get(req.param("session_id")).as_dict()


async def stop(req: ApiRequest) -> Any:
    """Stop a session."""
    await req.hub.pairing.async_stop(req.param("session_id"))
    return {"ok": True}


ROUTES = [
    ApiRoute("GET", "/api/pairing", overview, "Pairing protocols and sessions", "pairing", "admin"),
    ApiRoute(
        "POST", "/api/pairing", start, "Start pairing", "pairing", "admin", body=_START, status=201
    ),
    ApiRoute(
        "GET", "/api/pairing/{session_id}", get_session, "A pairing session", "pairing", "admin"
    ),
    ApiRoute("DELETE", "/api/pairing/{session_id}", stop, "Stop pairing", "pairing", "admin"),
]
