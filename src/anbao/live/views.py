"""WebSocket /api/v1/events/{id}/live.

Browsers cannot set headers on a WebSocket, so the token comes as ``?token=``. The first frame is
``{"type": "hello", "seq": N}``; then every bus message under ``event/{id}`` follows as
``{"type": "message", "topic", "seq", "at", "payload"}``. A client that reconnects passes
``?since=<last seq it saw>`` and first gets what it missed; when the replay buffer no longer reaches
back that far it gets ``{"type": "resync"}`` and should reload state over REST.
Close codes: 4401 not logged in, 4403 no permission, 4404 no such event (or not shared).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from anbao.account import service as accounts
from anbao.core.auth import Perm, Principal, Role, decode_token
from anbao.core.bus import InProcessBus
from anbao.core.errors import Unauthorized
from anbao.event import service as events

router = APIRouter(tags=["实时 live"])


def _authorise(app: Any, token: str, event_id: int) -> int:
    """0 when the caller may watch the event, else the WebSocket close code."""
    try:
        user_id = decode_token(token, key=app.state.signing_key)
    except Unauthorized:
        return 4401
    with app.state.sessions() as db:
        user = accounts.get(db=db, user_id=user_id)
        if user is None or not user.active:
            return 4401
        principal = Principal(user_id=user.id, username=user.username, role=Role(user.role), agency=user.agency)
        if not principal.can(Perm.event_read):
            return 4403
        event = events.get(db=db, event_id=event_id)
        if event is None or not events.visible(event, agency=principal.scoped_agency):
            return 4404
    return 0


@router.websocket("/events/{event_id}/live")
async def live(ws: WebSocket, event_id: int, token: str = Query(default=""),
               since: int | None = Query(default=None, ge=0)) -> None:
    code = await run_in_threadpool(_authorise, ws.app, token, event_id)
    if code:
        await ws.close(code=code)
        return
    await ws.accept()
    bus: InProcessBus = ws.app.state.bus
    prefix = f"event/{event_id}"
    sub = bus.subscribe_queue(prefix)  # subscribe first, then replay: nothing falls between the two
    assert sub.queue is not None
    try:
        if since is not None and since > bus.last_seq:
            # a number this server never gave out: it restarted and counts from 1 again
            await ws.send_json({"type": "resync", "seq": bus.last_seq})
            floor = bus.last_seq
        elif since is not None:
            replay = bus.since(prefix, since)
            if not replay.complete:
                await ws.send_json({"type": "resync", "seq": bus.last_seq})
            for msg in replay.messages:
                await ws.send_json({"type": "message", **msg.as_dict()})
            floor = replay.messages[-1].seq if replay.messages else since
        else:
            floor = bus.last_seq
        await ws.send_json({"type": "hello", "seq": floor})
        while True:
            msg = await sub.queue.get()
            if msg.seq > floor:  # already sent in the replay otherwise
                await ws.send_json({"type": "message", **msg.as_dict()})
    except WebSocketDisconnect:
        pass
    finally:
        sub.close()
