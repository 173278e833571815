"""WebSocket /api/v1/events/{id}/live 实时推送.

The token never travels in the URL (servers and proxies log URLs): the server accepts the socket, and
the client's first frame must be ``{"type": "auth", "token": "<bearer token>"}`` within
``AUTH_TIMEOUT_S`` seconds. A ``?token=`` in the URL is refused (close 4400, the reason says why).
Then the server sends ``{"type": "hello", "seq": N}`` and every bus message under ``event/{id}`` as
``{"type": "message", "topic", "seq", "at", "payload"}``. A client that reconnects passes
``?since=<last seq it saw>`` and first gets what it missed; when the replay buffer no longer reaches
back that far it gets ``{"type": "resync"}`` and should reload state over REST.

Every refusal happens after the handshake, as a close code with a reason (never an HTTP 403):
4400 bad request (token in the URL, bad ``since``, a first frame that is not an auth frame),
4401 not logged in (no or bad token, login expired or revoked, user deactivated), 4403 no permission,
4404 no such event (or not shared with the partner's agency).

While the socket is open the login is checked again every ``RECHECK_S`` seconds (one primary-key read):
a user deactivated, or whose token version changed (password change), is closed with 4401; an event
no longer shared with a partner with 4404. A partner agency's user gets only the messages about units
it may see (:mod:`anbao.org.scope`, the rule of every surface): a ``unit-position`` or ``unit``
message of another unit is not sent, a ``task`` or ``incident`` naming one is sent with ``unit_id``
null. The scope is read again at each check, so a unit shared later shows up within seconds.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from anbao.account import service as accounts
from anbao.core.auth import Perm, Principal
from anbao.core.bus import InProcessBus, Message
from anbao.core.errors import Unauthorized
from anbao.event import service as events
from anbao.org.scope import UnitScope, unit_scope

router = APIRouter(tags=["实时 live"])

#: seconds the client has to send its auth frame after the handshake
AUTH_TIMEOUT_S = 5.0
#: seconds between two checks of an open socket's login (deactivation, token version, event sharing)
RECHECK_S = 5.0

BAD_REQUEST, NOT_LOGGED_IN, FORBIDDEN, NOT_FOUND = 4400, 4401, 4403, 4404

#: live message kinds about one unit: a partner gets them only for the units it may see (payload key of the unit)
UNIT_MESSAGES = {"unit-position": "unit_id", "unit": "id"}
#: live message kinds that name a unit in passing: for a unit a partner may not see, ``unit_id`` is null
UNIT_FIELDS = {"task": "unit_id", "incident": "unit_id"}


class Refused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


@dataclass(frozen=True)
class Watch:
    """What an open socket may see: re-read every ``RECHECK_S`` seconds."""

    principal: Principal
    units: UnitScope


def check(app: Any, token: str, event_id: int) -> Watch:
    """The caller's login and scope for the event; raises :class:`Refused` with the close code otherwise."""
    with app.state.sessions() as db:
        try:
            principal = accounts.principal_for_token(db, token, app.state.signing_key)
        except Unauthorized as exc:
            raise Refused(NOT_LOGGED_IN, exc.message) from exc
        if not principal.can(Perm.event_read):
            raise Refused(FORBIDDEN, f"role {principal.role.value} lacks permission {Perm.event_read.value}")
        event = events.get(db=db, event_id=event_id)
        if event is None or not events.visible(event, agency=principal.scoped_agency):
            raise Refused(NOT_FOUND, f"event {event_id} not found")
        units = unit_scope(db=db, event_id=event_id, agency=principal.scoped_agency)
    return Watch(principal, units)


def scoped(msg: Message, units: UnitScope) -> dict[str, Any] | None:
    """The frame of ``msg`` for a caller who sees ``units``; None when the message is about a hidden unit."""
    frame = {"type": "message", **msg.as_dict()}
    if not units.scoped:
        return frame
    kind = msg.topic.rsplit("/", 1)[-1]
    payload = msg.payload
    if kind in UNIT_MESSAGES:
        return frame if units.sees(payload.get(UNIT_MESSAGES[kind])) else None
    key = UNIT_FIELDS.get(kind)
    if key is not None and payload.get(key) is not None and not units.sees(payload[key]):
        frame["payload"] = {**payload, key: None}
    return frame


async def _refuse(ws: WebSocket, code: int, reason: str) -> None:
    # a close reason is at most 123 bytes of UTF-8
    await ws.close(code=code, reason=reason.encode()[:120].decode(errors="ignore"))


async def _auth_frame(ws: WebSocket) -> str:
    """The token of the client's first frame; raises :class:`Refused`."""
    try:
        text = await asyncio.wait_for(ws.receive_text(), timeout=AUTH_TIMEOUT_S)
    except TimeoutError as exc:
        raise Refused(NOT_LOGGED_IN, f'no {{"type": "auth", "token": ...}} frame within {AUTH_TIMEOUT_S:g} s') \
            from exc
    except KeyError as exc:  # a binary frame
        raise Refused(BAD_REQUEST, 'the first frame must be JSON text {"type": "auth", "token": ...}') from exc
    try:
        frame = json.loads(text)
    except ValueError as exc:
        raise Refused(BAD_REQUEST, 'the first frame must be JSON {"type": "auth", "token": ...}') from exc
    if not isinstance(frame, dict) or frame.get("type") != "auth":
        raise Refused(NOT_LOGGED_IN, 'log in first: send {"type": "auth", "token": ...}')
    token = frame.get("token")
    if not isinstance(token, str) or not token:
        raise Refused(NOT_LOGGED_IN, "the auth frame needs a token (from POST /api/v1/auth/login)")
    return token


def _params(event_id: str, since: str | None, token: str | None) -> tuple[int, int | None]:
    if token is not None:
        raise Refused(BAD_REQUEST, "the token must not be in the URL (it is logged): send "
                                   '{"type": "auth", "token": ...} as the first frame')
    if not event_id.isdigit() or len(event_id) > 18:
        raise Refused(NOT_FOUND, f"event {event_id[:40]} not found")
    if since is not None and (not since.isdigit() or len(since) > 18):
        raise Refused(BAD_REQUEST, "since must be a whole number >= 0 (the last seq the client saw)")
    return int(event_id), None if since is None else int(since)


async def _drain(ws: WebSocket) -> None:
    """Returns when the client goes away; later frames from the client are ignored."""
    try:
        while (await ws.receive())["type"] != "websocket.disconnect":
            pass
    except (WebSocketDisconnect, RuntimeError):  # closed meanwhile
        return


@router.websocket("/events/{event_id}/live")
async def live(ws: WebSocket, event_id: str,
               since: str | None = Query(default=None, description="The last seq the client saw"),
               token: str | None = Query(default=None, include_in_schema=False,
                                         description="Refused: the token goes in the first frame")) -> None:
    # the path and query are read as text and checked here, after the handshake: every refusal is a close code
    await ws.accept()
    try:
        eid, after = _params(event_id, since, token)
        bearer = await _auth_frame(ws)
        watch = await run_in_threadpool(check, ws.app, bearer, eid)
    except Refused as r:
        await _refuse(ws, r.code, r.reason)
        return
    except WebSocketDisconnect:
        return
    await _stream(ws, eid, after, bearer, watch)


async def _stream(ws: WebSocket, event_id: int, since: int | None, token: str, watch: Watch) -> None:
    bus: InProcessBus = ws.app.state.bus
    prefix = f"event/{event_id}"
    sub = bus.subscribe_queue(prefix)  # subscribe first, then replay: nothing falls between the two
    assert sub.queue is not None
    loop = asyncio.get_running_loop()
    units = watch.units
    receiver: asyncio.Future[Any] = asyncio.ensure_future(_drain(ws))
    getter: asyncio.Future[Any] | None = None

    async def send(msg: Message) -> None:
        frame = scoped(msg, units)
        if frame is not None:
            await ws.send_json(frame)

    try:
        if since is not None and since > bus.last_seq:  # from a replica a little ahead (docs/scale-out.md)?
            await run_in_threadpool(bus.wait_for, since, 1.0)
        if since is not None and since > bus.last_seq:
            # a number this server never gave out: it restarted and counts from 1 again
            await ws.send_json({"type": "resync", "seq": bus.last_seq})
            floor = bus.last_seq
        elif since is not None:
            replay = bus.since(prefix, since)
            if not replay.complete:
                await ws.send_json({"type": "resync", "seq": bus.last_seq})
            for msg in replay.messages:
                await send(msg)
            floor = replay.messages[-1].seq if replay.messages else since
        else:
            floor = bus.last_seq
        await ws.send_json({"type": "hello", "seq": floor})
        next_check = loop.time() + RECHECK_S
        while True:
            if getter is None:
                getter = asyncio.ensure_future(sub.queue.get())
            done, _ = await asyncio.wait({getter, receiver}, timeout=max(0.0, next_check - loop.time()),
                                         return_when=asyncio.FIRST_COMPLETED)
            if receiver in done:
                return
            if getter in done:
                got: Message = getter.result()
                getter = None
                if got.seq > floor:  # already sent in the replay otherwise
                    await send(got)
            if loop.time() >= next_check:
                try:
                    watch = await run_in_threadpool(check, ws.app, token, event_id)
                except Refused as r:
                    await _refuse(ws, r.code, r.reason)
                    return
                units = watch.units
                next_check = loop.time() + RECHECK_S
    except WebSocketDisconnect:
        pass
    finally:
        for task in (receiver, getter):
            if task is not None:
                task.cancel()
        sub.close()
