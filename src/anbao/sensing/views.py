"""Ingest and read routes: POST/GET /api/v1/events/{id}/readings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime
from starlette.concurrency import run_in_threadpool

from anbao.alert import service as warnings
from anbao.core.auth import Perm, Principal
from anbao.core.errors import AnBaoError
from anbao.core.schemas import Out, UTCTime
from anbao.core.time import utcnow
from anbao.deps import DB, EventDep, require
from anbao.sensing import flows, gb28181, service, state
from anbao.sensing.schemas import IngestResult, ReadingIn, ReadingOut

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
async def post_readings(event: EventDep, request: Request, principal: Writer,
                        db: DB) -> Any:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise PayloadTooLarge(f"body of {len(body)} bytes exceeds {MAX_BODY}")
    items = service.parse_body(body, request.headers.get("content-type", "application/json"))
    outcome = await run_in_threadpool(service.ingest, db=db, event_id=event.id, items=items, source=principal.actor)
    result = IngestResult(accepted=outcome.accepted, duplicates=outcome.duplicates,
                          rejected=outcome.rejected)
    status = 422 if outcome.rejected and not (outcome.accepted or outcome.duplicates) else 200
    return JSONResponse(result.model_dump(mode="json"), status_code=status)


@router.get("/events/{event_id}/readings", response_model=list[ReadingOut], summary="Recent readings, newest first")
def get_readings(event: EventDep, db: DB, principal: Reader,
                 device_id: int | None = None, zone_id: int | None = None,
                 since: Annotated[AwareDatetime | None, Query(description="Only readings after this time")] = None,
                 limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> Any:
    return service.recent(db=db, event_id=event.id, device_id=device_id, zone_id=zone_id, since=since, limit=limit)



class ZoneStateOut(Out):
    zone_id: int
    code: str
    name: str
    area_m2: float
    count: float | None
    density: float | None
    source: str
    level: str
    level_zh: str
    sensors_used: list[str]
    sensors_stale: list[str]
    at: UTCTime


@router.get("/events/{event_id}/zone-states", response_model=list[ZoneStateOut],
            summary="Count, density (persons/m2) and level of every zone, fused from fresh readings")
def get_zone_states(event: EventDep, db: DB, principal: Reader,
                    at: Annotated[AwareDatetime | None, Query(description="State at this time (default: now)")] = None,
                    ) -> Any:
    return state.zone_states(db=db, event_id=event.id, now=at or utcnow())


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
    if outcome.warning is not None:
        await run_in_threadpool(db.commit)
        request.app.state.bus.publish(f"event/{event.id}/warning", warnings.payload(outcome.warning))
    return Response(gb28181.alarm_response(outcome.alarm.sn, outcome.alarm.device_id),
                    media_type=gb28181.CONTENT_TYPE, headers={"X-AnBao-Stored": outcome.stored})
