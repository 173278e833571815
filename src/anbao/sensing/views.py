"""Ingest and read routes: POST/GET /api/v1/events/{id}/readings."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from anbao.api.deps import DB, EventDep, reads_only, require
from anbao.core.auth import Perm, Principal
from anbao.core.db import writer
from anbao.core.errors import AnBaoError, Conflict
from anbao.sensing import flows, gb28181, service
from anbao.sensing.schemas import DeadLetterOut, IngestResult, ReadingIn, ReadingOut

log = logging.getLogger("anbao.ingest")
router = APIRouter(tags=["感知 sensing"])
Writer = Annotated[Principal, Depends(require(Perm.sensing_write))]
Reader = Annotated[Principal, Depends(require(Perm.sensing_read))]
MAX_BODY = 20 * 1024 * 1024


class PayloadTooLarge(AnBaoError):
    status = 413


@router.post(
    "/events/{event_id}/readings", response_model=IngestResult,
    summary="Post readings: a JSON array, {\"readings\": [...]}, or NDJSON (application/x-ndjson)",
    description="Good items are stored even when others in the batch are bad; each bad item is listed with its "
    "index and reason. 200 when at least one item was stored or was a duplicate; 422 when every item was bad.",
    openapi_extra={"requestBody": {"content": {
        "application/json": {"schema": {"type": "array", "items": ReadingIn.model_json_schema()}},
        "application/x-ndjson": {"schema": {"type": "string"}}}, "required": True}},
)
@reads_only
async def post_readings(event: EventDep, request: Request, principal: Writer,
                        db: DB) -> Any:
    # the login and event checks read in a deferred transaction (no SQLite write lock: issue 14, every batch
    # took the write lock twice); end it, so the body is received and decoded holding no snapshot either
    await run_in_threadpool(db.commit)
    body = await request.body()
    if len(body) > MAX_BODY:
        raise PayloadTooLarge(f"body of {len(body)} bytes exceeds {MAX_BODY}")
    outcome = await run_in_threadpool(_store_body, db, event.id, body,
                                      request.headers.get("content-type", "application/json"), principal.actor)
    if outcome.accepted:
        notify_listeners(request, event.id)
    result = IngestResult(accepted=outcome.accepted, duplicates=outcome.duplicates,
                          rejected=outcome.rejected)
    status = 422 if outcome.rejected and not (outcome.accepted or outcome.duplicates) else 200
    return JSONResponse(result.model_dump(mode="json"), status_code=status)


def _store_body(db: Session, event_id: int, body: bytes, content_type: str, source: str) -> service.Outcome:
    """Store and commit in a write transaction of its own, the devices read before it (in ``db``, the request's
    read session): the answer goes out only after the readings are durable."""
    devices = service.event_devices(db=db, event_id=event_id)
    db.commit()
    with writer(db) as w:
        w.info.update({k: v for k, v in db.info.items() if k in ("actor", "cause")})
        try:
            outcome = service.ingest_body(db=w, event_id=event_id, body=body, content_type=content_type,
                                          source=source, devices=devices)
            w.commit()
        except IntegrityError as exc:  # a device deleted between the read and the write: nothing was stored
            w.rollback()
            raise Conflict("a device of the batch was deleted while it was stored; nothing of the batch was "
                           "stored, send it again") from exc
    return outcome


def notify_listeners(request: Request, event_id: int) -> None:
    """Tell every ``app.state.ingest_listeners`` callable that ``event_id`` has new readings (after commit).

    A failing listener is logged; it never fails the request whose readings are already stored.
    """
    for listener in getattr(request.app.state, "ingest_listeners", []):
        try:
            listener(event_id)
        except Exception:
            log.exception("ingest listener %r failed for event %s", listener, event_id)


@router.get("/events/{event_id}/readings", response_model=list[ReadingOut],
            summary="Readings stored last, newest first")
def get_readings(event: EventDep, db: DB, principal: Reader,
                 device_id: int | None = None, zone_id: int | None = None,
                 since: Annotated[AwareDatetime | None, Query(description="Only readings after this time")] = None,
                 limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> Any:
    return service.recent(db=db, event_id=event.id, device_id=device_id, zone_id=zone_id, since=since, limit=limit)







class UnsupportedMediaType(AnBaoError):
    status = 415


@router.post(
    "/events/{event_id}/gb28181/alarms", response_class=Response,
    responses={200: {"content": {gb28181.CONTENT_TYPE: {}}}},
    summary="GB/T 28181 camera alarm (MANSCDP XML, Content-Type Application/MANSCDP+xml)",
    description="AlarmMethod 5 with AlarmType 9 (flow count) or 10 (density) becomes a reading of the camera; "
    "intrusion, tripwire, loitering and other alarms become camera warnings (AlarmPriority 1 red ... 4 blue). "
    "Answers with a MANSCDP Response carrying the alarm's SN.",
    openapi_extra={"requestBody": {"content": {gb28181.CONTENT_TYPE: {"schema": {"type": "string"}}},
                                   "required": True}},
)
async def post_gb28181_alarm(event: EventDep, request: Request, principal: Writer, db: DB) -> Response:
    content_type = request.headers.get("content-type", "")
    if not gb28181.is_manscdp(content_type):
        raise UnsupportedMediaType(f"Content-Type must be {gb28181.CONTENT_TYPE}, got {content_type or 'none'!r}")
    body = await request.body()
    outcome = await run_in_threadpool(flows.ingest_alarm, db=db, event_id=event.id, data=body,
                                      source=principal.actor)
    await run_in_threadpool(db.commit)  # a camera warning goes out on the live stream with this commit
    if outcome.stored == "reading":
        notify_listeners(request, event.id)
    return Response(gb28181.alarm_response(outcome.alarm.sn, outcome.alarm.device_id),
                    media_type=gb28181.CONTENT_TYPE, headers={"X-AnBao-Stored": outcome.stored})


# dead letters hold raw device payloads for fixing gateways: the administrator's job, and user:admin is the
# one permission only the admin role holds
Admin = Annotated[Principal, Depends(require(Perm.user_admin))]


@router.get("/dead-letters", response_model=list[DeadLetterOut],
            summary="Ingest messages that could not be (fully) used, with the reason; newest first (admin)",
            description="MQTT messages that are not JSON, are for an unknown event, or had rejected items (their "
            "good items were stored). Page with before_id: pass the smallest id of the previous page.")
def get_dead_letters(db: DB, principal: Admin,
                     event_id: Annotated[int | None, Query(description="Only messages for this event")] = None,
                     source: Annotated[str | None, Query(max_length=40, description="Only this door, e.g. mqtt")]
                     = None,
                     before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="Page: older messages")]
                     = None,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Any:
    return service.dead_letters(db=db, event_id=event_id, source=source, before_id=before_id, limit=limit)
