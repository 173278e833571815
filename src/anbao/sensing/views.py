"""Ingest and read routes: POST/GET /api/v1/events/{id}/readings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime
from starlette.concurrency import run_in_threadpool

from anbao.core.auth import Perm, Principal
from anbao.core.errors import AnBaoError
from anbao.core.schemas import Out, UTCTime
from anbao.core.time import utcnow
from anbao.deps import DB, EventDep, require
from anbao.sensing import service, state
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
