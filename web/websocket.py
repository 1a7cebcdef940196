"""The websocket API: state and event subscriptions filtered per client, and service calls."""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from hub.bus import Event
from hub.const import EVENT_NOTIFICATION, EVENT_REGISTRY_UPDATED
from hub.errors import HearthError
from hub.json import json_bytes, json_loads
from hub.notifications import audience_from_event

from .authstore import AccessToken, AuthChange, Session
from .calls import async_call_service, visible_states
from .errors import BadRequest, Forbidden, NotFound, Unavailable
from .keys import SESSION, TOKEN, USER
from .stream import StateSubscription
from .users import User

if TYPE_CHECKING:
    from .server import WebServer

__all__ = ["WebSocketConnection", "async_handle_websocket"]

_LOGGER = logging.getLogger(__name__)
AUTH_TIMEOUT = 10.0
MAX_OUTBOX = 20_000
# A client may have this many bytes queued for it before it counts as too slow.
MAX_OUTBOX_BYTES = 8 << 20
# Commands of one client running at once; further frames wait unread (TCP pushes back).
MAX_INFLIGHT = 4
CLOSE_TIMEOUT = 2.0
# A script opening sockets without end is refused past this (a home has a few phones,
# tablets and scripts); with the per-socket byte cap it bounds what clients can queue.
MAX_CONNECTIONS = 500
MAX_BATCH = 512
MAX_SUBSCRIPTIONS = 100
# Events a member may subscribe to; admins may subscribe to any type (pairing is admin-only).
_MEMBER_EVENTS = frozenset(
    {
        EVENT_NOTIFICATION,
        EVENT_REGISTRY_UPDATED,
        "rule_triggered",
        "voice_pipeline",
    }
)
_GUEST_EVENTS = frozenset({EVENT_NOTIFICATION})


async def async_handle_websocket(server: WebServer, request: web.Request) -> web.WebSocketResponse:
    """Upgrade and serve one client until it leaves."""
    if len(server.connections) >= MAX_CONNECTIONS:
        raise Unavailable("too many open websockets; try again later")
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=1 << 20)
    await ws.prepare(request)
    conn = WebSocketConnection(
        server, ws, request.get(USER), request.get(TOKEN), request.get(SESSION)
    )
    conn.transport = request.transport  # type: ignore[assignment]
    server.connections.add(conn)
    try:
        await conn.async_run()
    finally:
        server.connections.discard(conn)
        conn.close_subscriptions()
    return ws


class WebSocketConnection:
    """One client: reads commands, writes results and events through a bounded outbox."""

    def __init__(
        self,
        server: WebServer,
        ws: web.WebSocketResponse,
        user: User | None,
        token: AccessToken | None = None,
        session: Session | None = None,
    ) -> None:
        self.server = server
        self.hub = server.hub
        self.ws = ws
        self.user = user
        self.token = token
        self.session = session
        self.revoked = False
        self.transport: asyncio.Transport | None = None
        self._slots = asyncio.Semaphore(MAX_INFLIGHT)
        self._outbox: collections.deque[bytes] = collections.deque()
        self._outbox_bytes = 0
        self._wake = asyncio.Event()
        self._subs: dict[int, Callable[[], None]] = {}
        self._writer: asyncio.Task[None] | None = None
        self._overflowed = False

    async def async_run(self) -> None:
        """Authenticate, then answer commands until the socket closes."""
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())
        try:
            if self.user is None and not await self._async_auth():
                return
            assert self.user is not None
            self.send({"type": "auth_ok", "user": self.user.as_dict()})
            async for msg in self.ws:
                if self._overflowed:
                    break
                if self.revoked or not self._still_allowed():
                    self.revoke("access revoked")
                    break
                if msg.type == WSMsgType.TEXT:
                    # Commands run side by side (a slow device must not hold up a ping), but
                    # only a few at once: the next frame is read when a slot frees up.
                    await self._slots.acquire()
                    self.hub.async_create_task(self._async_command(msg.data), "ws-command")
                elif msg.type == WSMsgType.BINARY:
                    self.send(
                        {
                            "type": "error",
                            "error": {
                                "code": "bad_request",
                                "message": "binary frames are not accepted",
                            },
                        }
                    )
                else:
                    break
        finally:
            await self._async_flush()

    def send(self, message: dict[str, Any]) -> None:
        """Queue a JSON message."""
        self.deliver(json_bytes(message))

    def deliver(self, data: bytes) -> None:
        """Queue an already encoded message; a client that falls too far behind is dropped."""
        if self._overflowed or self.revoked:
            return
        # One message larger than the byte cap still goes out when nothing else is waiting.
        too_many_bytes = self._outbox and self._outbox_bytes + len(data) > MAX_OUTBOX_BYTES
        if len(self._outbox) >= MAX_OUTBOX or too_many_bytes:
            self._overflowed = True
            _LOGGER.warning(
                "Websocket client too slow (%d messages, %d bytes queued); closing it",
                len(self._outbox),
                self._outbox_bytes,
            )
            self._outbox.clear()
            self._outbox_bytes = 0
            self.hub.async_create_task(self._async_close(1013, "too slow"), "ws-close")
            return
        self._outbox.append(data)
        self._outbox_bytes += len(data)
        self._wake.set()

    def affected_by(self, change: AuthChange) -> bool:
        """Whether an auth change takes this client's access away."""
        if self.user is None or change.user_id != self.user.id:
            return False
        if change.kind == "token_revoked":
            return self.token is not None and self.token.id == change.token_id
        if change.kind == "session_revoked":
            return self.session is not None and change.session_id in (None, self.session.id)
        return True

    def revoke(self, reason: str) -> None:
        """Stop serving this client at once: no more commands, no more events, close."""
        if self.revoked:
            return
        self.revoked = True
        self.close_subscriptions()
        self._outbox.clear()
        self._outbox_bytes = 0
        _LOGGER.info("Closing websocket of %s: %s", self.user and self.user.username, reason)
        self.hub.async_create_task(self._async_close(4003, reason), "ws-revoke")

    async def _async_close(self, code: int, reason: str) -> None:
        # A client that reads nothing never takes the close frame: then drop the connection.
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self.ws.close(code=code, message=reason.encode()[:120])
        except TimeoutError:
            if self.transport is not None:
                self.transport.abort()

    def close_subscriptions(self) -> None:
        """Remove every subscription of this client."""
        for unsub in self._subs.values():
            unsub()
        self._subs.clear()

    # -- internals ----------------------------------------------------------------------
    async def _async_auth(self) -> bool:
        self.send({"type": "auth_required"})
        try:
            msg = await self.ws.receive(timeout=AUTH_TIMEOUT)
            data = json_loads(msg.data) if msg.type == WSMsgType.TEXT else None
        except (TimeoutError, ValueError):
            data = None
        token_text = data.get("access_token") if isinstance(data, dict) else None
        if isinstance(token_text, str):
            store = self.server.store
            token = store.token_for(token_text)
            if token is not None:
                self.user = store.get_user(token.user_id)
                self.token = token
        if self.user is None:
            self.send({"type": "auth_invalid", "message": "invalid access token"})
            await self._async_flush()
            await self.ws.close(code=4001, message=b"unauthorized")
            return False
        return True

    def _still_allowed(self) -> bool:
        # Events close revoked sockets at once; this re-check per message is the backstop.
        store = self.server.store
        assert self.user is not None
        current = store.get_user(self.user.id)
        if current is None or (current.role, current.areas) != (self.user.role, self.user.areas):
            return False
        if self.token is not None and store.get_token(self.token.id) is None:
            return False
        return self.session is None or store.session_alive(self.session.id)

    async def _async_command(self, text: str) -> None:
        try:
            await self._async_run_command(text)
        finally:
            self._slots.release()

    async def _async_run_command(self, text: str) -> None:
        if self.revoked:
            return
        try:
            msg = json_loads(text)
        except ValueError:
            self.send(
                {"type": "error", "error": {"code": "bad_request", "message": "invalid JSON"}}
            )
            return
        if not isinstance(msg, dict) or not isinstance(msg.get("id"), int):
            self.send(
                {
                    "type": "error",
                    "error": {"code": "bad_request", "message": "a command needs an integer id"},
                }
            )
            return
        msg_id: int = msg["id"]
        handler = _COMMANDS.get(str(msg.get("type")))
        try:
            if handler is None:
                raise NotFound(f"unknown command {msg.get('type')!r}")
            result = await handler(self, msg_id, msg)
        except HearthError as err:
            self.send({"id": msg_id, "type": "result", "success": False, "error": err.as_dict()})
        except Exception:
            _LOGGER.exception("Websocket command %s failed", msg.get("type"))
            error = {"code": "internal_error", "message": "internal error"}
            self.send({"id": msg_id, "type": "result", "success": False, "error": error})
        else:
            if isinstance(result, _Encoded):
                head = b'{"id":%d,"type":"result","success":true,"result":' % msg_id
                self.deliver(head + result.data + b"}")
            else:
                self.send({"id": msg_id, "type": "result", "success": True, "result": result})

    async def _write_loop(self) -> None:
        outbox = self._outbox
        try:
            while not self.ws.closed:
                await self._wake.wait()
                self._wake.clear()
                while outbox:
                    if len(outbox) == 1:
                        frame = outbox.popleft()
                    else:
                        # Coalesce a backlog into one array frame: far fewer syscalls.
                        count = min(len(outbox), MAX_BATCH)
                        frame = b"[" + b",".join([outbox.popleft() for _ in range(count)]) + b"]"
                    self._outbox_bytes = max(0, self._outbox_bytes - len(frame))
                    await self.ws.send_frame(frame, WSMsgType.TEXT)
        except (ConnectionError, RuntimeError):
            pass

    async def _async_flush(self) -> None:
        for _ in range(50):
            if not self._outbox or self.ws.closed:
                break
            self._wake.set()
            await asyncio.sleep(0.01)
        if self._writer is not None:
            self._writer.cancel()

    def principal(self) -> Any:
        """The current rights of this client's user."""
        return self._user().principal()

    def _user(self) -> User:
        assert self.user is not None
        return self.user

    def _add_sub(self, msg_id: int, unsub: Callable[[], None]) -> None:
        if msg_id in self._subs:
            unsub()
            raise BadRequest(f"id {msg_id} is already a subscription")
        if len(self._subs) >= MAX_SUBSCRIPTIONS:
            unsub()
            raise BadRequest("too many subscriptions")
        self._subs[msg_id] = unsub


# -- commands ---------------------------------------------------------------------------
async def _ping(conn: WebSocketConnection, msg_id: int, msg: dict[str, Any]) -> Any:
    return "pong"


class _Encoded:
    """A result already encoded as JSON."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


async def _get_states(conn: WebSocketConnection, msg_id: int, msg: dict[str, Any]) -> Any:
    # Encoding every state holds the loop for milliseconds; only a few run hub-wide at once,
    # so a flood of these from any number of clients cannot keep others waiting long.
    async with conn.server.heavy_commands:
        return _Encoded(json_bytes(visible_states(conn.hub, conn._user())))


async def _subscribe_states(conn: WebSocketConnection, msg_id: int, msg: dict[str, Any]) -> Any:
    user = conn._user()
    hub = conn.hub
    sub = StateSubscription(
        msg_id,
        conn.deliver,
        entity_ids=_str_set(msg, "entity_ids"),
        domains=_str_set(msg, "domains"),
        areas=_str_set(msg, "area_ids"),
        visible=None if user.role != "guest" else (lambda eid: user.can_see(hub, eid)),
    )
    conn._add_sub(msg_id, conn.server.stream.add(sub))
    return None


async def _subscribe_events(conn: WebSocketConnection, msg_id: int, msg: dict[str, Any]) -> Any:
    user = conn._user()
    event_type = msg.get("event_type")
    if not isinstance(event_type, str) or not event_type:
        raise BadRequest("event_type is required")
    allowed = _GUEST_EVENTS if user.role == "guest" else _MEMBER_EVENTS
    if not user.is_admin and event_type not in allowed:
        raise Forbidden(f"your role cannot subscribe to {event_type}")
    if event_type == "state_changed":
        raise BadRequest("use subscribe_states for state changes")
    prefix = b'{"id":%d,"type":"event","event":' % msg_id
    notification = event_type == EVENT_NOTIFICATION

    def forward(event: Event) -> None:
        if notification and not audience_from_event(event.data).includes(conn.principal()):
            return
        try:
            conn.deliver(prefix + json_bytes(event.as_dict()) + b"}")
        except TypeError:
            _LOGGER.debug("Event %s is not serialisable", event.event_type)

    conn._add_sub(msg_id, conn.hub.bus.async_listen(event_type, forward))
    return None


async def _unsubscribe(conn: WebSocketConnection, msg_id: int, msg: dict[str, Any]) -> Any:
    unsub = conn._subs.pop(msg.get("subscription"), None)  # type: ignore[arg-type]
    if unsub is None:
        raise NotFound("no such subscription")
    unsub()
    return None


async def _call_service(conn: WebSocketConnection, msg_id: int, msg: dict[str, Any]) -> Any:
    domain, service = msg.get("domain"), msg.get("service")
    if not isinstance(domain, str) or not isinstance(service, str):
        raise BadRequest("domain and service are required")
    data, target = msg.get("data"), msg.get("target")
    if data is not None and not isinstance(data, dict):
        raise BadRequest("data must be an object")
    if target is not None and not isinstance(target, dict):
        raise BadRequest("target must be an object")
    response = await async_call_service(
        conn.hub, conn._user(), domain, service, data, target, "websocket"
    )
    return {"response": response}


def _str_set(msg: dict[str, Any], key: str) -> frozenset[str] | None:
    value = msg.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"{key} must be a list of strings")
    return frozenset(value)


_COMMANDS = {
    "ping": _ping,
    "get_states": _get_states,
    "subscribe_states": _subscribe_states,
    "subscribe_events": _subscribe_events,
    "unsubscribe": _unsubscribe,
    "call_service": _call_service,
}
