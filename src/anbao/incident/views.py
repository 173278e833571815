"""Incident routes: field reports (idempotent by client_key), photos, unit positions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse

from anbao.core.auth import Perm, Principal
from anbao.core.errors import NotFound
from anbao.core.time import utcnow
from anbao.core.vocab import INCIDENT_TYPES
from anbao.deps import DB, EventDep, require
from anbao.incident import service
from anbao.incident.models import Incident, IncidentPhoto
from anbao.incident.schemas import IncidentOut, IncidentReport, PositionIn, PositionOut

router = APIRouter(tags=["警情 incidents"])
Reader = Annotated[Principal, Depends(require(Perm.event_read))]
Reporter = Annotated[Principal, Depends(require(Perm.field_report))]


def _out(i: Incident, photo: bool) -> dict[str, Any]:
    return {**IncidentOut.model_validate(i).model_dump(mode="json"), "type_zh": INCIDENT_TYPES[i.type][0],
            "has_photo": photo}


@router.post("/events/{event_id}/incidents", response_model=IncidentOut, status_code=201,
             responses={200: {"model": IncidentOut, "description": "Already stored under this client_key"}},
             summary="Report an incident from the field 上报警情 (idempotent by client_key)")
def report(event: EventDep, body: IncidentReport, db: DB, principal: Reporter) -> Any:
    incident, created = service.report(db=db, event_id=event.id, data=body, by=principal.actor, now=utcnow())
    photo = service.has_photo(db=db, incident_id=incident.id)
    return JSONResponse(_out(incident, photo), status_code=201 if created else 200)


@router.get("/events/{event_id}/incidents", response_model=list[IncidentOut], summary="Incidents, newest first")
def incidents(event: EventDep, db: DB, principal: Reader,
              status: Annotated[Literal["new", "dispatched", "en_route", "on_scene", "resolved", "closed"] | None,
                                Query()] = None,
              limit: Annotated[int, Query(ge=1, le=5000)] = 500, offset: Annotated[int, Query(ge=0)] = 0) -> Any:
    rows = service.list_incidents(db=db, event_id=event.id, status=status, limit=limit, offset=offset)
    photos = service.photo_ids(db=db, incident_ids=[r.id for r in rows])
    return [_out(r, r.id in photos) for r in rows]


@router.get("/events/{event_id}/incidents/{incident_id}/photo", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}}, summary="The photo of a report")
def photo(event: EventDep, incident_id: int, db: DB, principal: Reader) -> Response:
    incident = db.get(Incident, incident_id)
    stored = db.get(IncidentPhoto, incident_id) if incident is not None and incident.event_id == event.id else None
    if stored is None:
        raise NotFound(f"incident {incident_id} of event {event.id} has no photo")
    return Response(stored.data, media_type=stored.content_type, headers={"Cache-Control": "private, max-age=3600"})


@router.post("/events/{event_id}/positions", response_model=PositionOut, status_code=201,
             summary="A unit's position from a phone 位置上报 (idempotent by client_key)")
def position(event: EventDep, body: PositionIn, db: DB, principal: Reporter) -> Any:
    row, created = service.add_position(db=db, event_id=event.id, data=body, by=principal.actor, now=utcnow())
    out = PositionOut.model_validate(row).model_dump(mode="json")
    return JSONResponse(out, status_code=201 if created else 200)


@router.get("/events/{event_id}/unit-positions", response_model=list[PositionOut],
            summary="The newest position of every unit")
def unit_positions(event: EventDep, db: DB, principal: Reader) -> Any:
    return service.latest_positions(db=db, event_id=event.id)
