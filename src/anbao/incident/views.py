"""Incident routes: field reports (idempotent by client_key), photos, unit positions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, Field
from sqlalchemy import select

from anbao.api.deps import DB, EventDep, require
from anbao.core.auth import Perm, Principal
from anbao.core.errors import Invalid, NotFound
from anbao.core.schemas import Out
from anbao.core.time import utcnow
from anbao.core.vocab import INCIDENT_TYPES
from anbao.incident import lifecycle, service, stats
from anbao.incident.models import Assignment, Incident, IncidentPhoto
from anbao.incident.schemas import (
    AssignIn,
    AssignmentOut,
    AssignmentStatusChange,
    HandoverIn,
    IncidentLogOut,
    IncidentOut,
    IncidentReport,
    IncidentStatusChange,
    IncidentUpdate,
    MatchOut,
    PositionIn,
    PositionOut,
)
from anbao.org import service as org
from anbao.org.models import Unit
from anbao.org.scope import EVERY_UNIT, UnitScope, unit_scope
from anbao.response import service as response

router = APIRouter(tags=["警情 incidents"])
Reader = Annotated[Principal, Depends(require(Perm.event_read))]
Reporter = Annotated[Principal, Depends(require(Perm.field_report))]
Dispatcher = Annotated[Principal, Depends(require(Perm.incident_dispatch))]
Worker = Annotated[Principal, Depends(require(Perm.task_update))]


def incident_of(event: EventDep, incident_id: int, db: DB) -> Incident:
    i = db.get(Incident, incident_id)
    if i is None or i.event_id != event.id:
        raise NotFound(f"incident {incident_id} not found in event {event.id}")
    return i


IncidentDep = Annotated[Incident, Depends(incident_of)]


def _out(i: Incident, photo: bool, scope: UnitScope = EVERY_UNIT) -> dict[str, Any]:
    """The incident as the caller may see it: a reporting unit not shared with a partner shows as none."""
    out = {**IncidentOut.model_validate(i).model_dump(mode="json"), "type_zh": INCIDENT_TYPES[i.type][0],
           "has_photo": photo}
    if out["unit_id"] is not None and not scope.sees(out["unit_id"]):
        out["unit_id"] = None
    return out


def _unattended(db: DB, incidents: list[Incident]) -> set[int]:
    """On-scene incidents with no unit assigned, en route or on scene any more (e.g. the unit was released):
    shown as 无警力在场 in the list and on the map."""
    ids = [i.id for i in incidents if i.status == "on_scene"]
    if not ids:
        return set()
    manned = set(db.execute(select(Assignment.incident_id).where(
        Assignment.incident_id.in_(ids), Assignment.status.in_(("assigned", "en_route", "on_scene")))).scalars())
    return set(ids) - manned


def _visible_assignments(db: DB, incident: Incident, principal: Principal) -> list[dict[str, Any]]:
    """The incident's assignments of the units the caller may see (a partner: its own and shared ones)."""
    scope = unit_scope(db=db, event_id=incident.event_id, agency=principal.scoped_agency)
    return [_assignment(db, a) for a in scope.keep(lifecycle.assignments(db=db, incident_id=incident.id),
                                                   lambda a: a.unit_id)]


def _assignment(db: DB, a: Assignment) -> dict[str, Any]:
    unit = db.get(Unit, a.unit_id)
    return {**AssignmentOut.model_validate(a).model_dump(mode="json"), "call_sign": unit.call_sign if unit else ""}


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
    scope = unit_scope(db=db, event_id=event.id, agency=principal.scoped_agency)
    alone = _unattended(db, list(rows))
    return [{**_out(r, r.id in photos, scope), "unattended": r.id in alone} for r in rows]


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
    org.check_own_unit(db=db, principal=principal, event_id=event.id, unit_id=body.unit_id, what="the position")
    row, created = service.add_position(db=db, event_id=event.id, data=body, by=principal.actor, now=utcnow())
    out = PositionOut.model_validate(row).model_dump(mode="json")
    return JSONResponse(out, status_code=201 if created else 200)


@router.get("/events/{event_id}/unit-positions", response_model=list[PositionOut],
            summary="The newest position of every unit")
def unit_positions(event: EventDep, db: DB, principal: Reader) -> Any:
    scope = unit_scope(db=db, event_id=event.id, agency=principal.scoped_agency)
    return scope.keep(service.latest_positions(db=db, event_id=event.id), lambda f: f["unit_id"])


# --------------------------------------------------------------------------- 接处警 life cycle


class IncidentDetail(IncidentOut):
    assignments: list[AssignmentOut]
    plans: list[MatchOut]
    next_statuses: list[str] = Field(description="Statuses the incident may take next")


@router.get("/events/{event_id}/incidents/{incident_id}", response_model=IncidentDetail,
            summary="One incident with its units and the plans matched to it")
def incident(incident: IncidentDep, db: DB, principal: Reader) -> Any:
    started = {a.plan_id: a.id
               for a in response.activations(db=db, event_id=incident.event_id, incident_id=incident.id)}
    matched = [{**m.__dict__, "activation_id": started.get(m.plan_id)}
               for m in lifecycle.matches(db=db, incident=incident, now=utcnow())]
    scope = unit_scope(db=db, event_id=incident.event_id, agency=principal.scoped_agency)
    return {**_out(incident, service.has_photo(db=db, incident_id=incident.id), scope),
            "unattended": bool(_unattended(db, [incident])),
            "assignments": _visible_assignments(db, incident, principal),
            "plans": matched, "next_statuses": list(lifecycle.NEXT[incident.status])}


@router.patch("/events/{event_id}/incidents/{incident_id}", response_model=IncidentOut,
              summary="Correct type, grade, text or place; plans are matched again")
def update_incident(incident: IncidentDep, body: IncidentUpdate, db: DB, principal: Dispatcher) -> Any:
    data = body.model_dump(exclude_unset=True)
    for key in ("type", "grade", "text"):
        if key in data and data[key] is None:
            raise Invalid(f"{key} cannot be null", loc=["body", key])
    lifecycle.update_incident(db=db, incident=incident, data=data, by=principal.actor, now=utcnow())
    return _out(incident, service.has_photo(db=db, incident_id=incident.id))


@router.post("/events/{event_id}/incidents/{incident_id}/status", response_model=IncidentOut,
             summary="Move the incident along: new → dispatched → en_route → on_scene → resolved → closed",
             responses={409: {"description": "Not allowed from the current status (the allowed ones are listed)"}})
def incident_status(incident: IncidentDep, body: IncidentStatusChange, db: DB, principal: Dispatcher) -> Any:
    lifecycle.set_status(db=db, incident=incident, status=body.status, by=principal.actor, now=utcnow(),
                         note=body.note)
    return _out(incident, service.has_photo(db=db, incident_id=incident.id))


@router.post("/events/{event_id}/incidents/{incident_id}/assignments", response_model=AssignmentOut,
             status_code=201, summary="Send a unit 派警 (it gets a task on its phone)",
             responses={409: {"description": "The unit is not available (another dispatcher was first)"}})
def assign(incident: IncidentDep, body: AssignIn, db: DB, principal: Dispatcher) -> Any:
    a = lifecycle.assign(db=db, incident=incident, unit_id=body.unit_id, by=principal.actor, now=utcnow(),
                         eta_s=body.eta_s, note=body.note)
    return _assignment(db, a)


@router.get("/events/{event_id}/incidents/{incident_id}/assignments", response_model=list[AssignmentOut],
            summary="Units sent to the incident, first first")
def assignments(incident: IncidentDep, db: DB, principal: Reader) -> Any:
    return _visible_assignments(db, incident, principal)


@router.post("/events/{event_id}/incidents/{incident_id}/assignments/{assignment_id}/status",
             response_model=AssignmentOut, summary="A unit's progress: en_route, on_scene, released, cancelled")
def assignment_status(incident: IncidentDep, assignment_id: int, body: AssignmentStatusChange, db: DB,
                      principal: Worker) -> Any:
    a = db.get(Assignment, assignment_id)
    if a is None or a.incident_id != incident.id:
        raise NotFound(f"assignment {assignment_id} not found at incident {incident.id}")
    org.check_own_unit(db=db, principal=principal, event_id=incident.event_id, unit_id=a.unit_id,
                       what=f"assignment {a.id}")
    lifecycle.progress(db=db, assignment=a, status=body.status, by=principal.actor, now=utcnow(), note=body.note)
    return _assignment(db, a)


@router.post("/events/{event_id}/incidents/{incident_id}/handover", response_model=IncidentOut,
             summary="Hand over to another police type (and unit) 移交; the history stays")
def handover(incident: IncidentDep, body: HandoverIn, db: DB, principal: Dispatcher) -> Any:
    lifecycle.handover(db=db, incident=incident, police_type=body.police_type, unit_id=body.unit_id,
                       by=principal.actor, now=utcnow(), note=body.note)
    return _out(incident, service.has_photo(db=db, incident_id=incident.id))


@router.get("/events/{event_id}/incidents/{incident_id}/log", response_model=list[IncidentLogOut],
            summary="The incident's own timeline: report, status, units, hand-over, edits, plans")
def incident_log(incident: IncidentDep, db: DB, principal: Reader) -> Any:
    return lifecycle.logs(db=db, incident_id=incident.id)


class FiguresOut(Out):
    n: int
    p50_s: float | None
    p90_s: float | None
    max_s: float | None


class GroupOut(Out):
    key: str
    label: str
    incidents: int
    open: int
    dispatch: FiguresOut
    arrival: FiguresOut
    resolution: FiguresOut


class StatsOut(Out):
    all: list[GroupOut]
    by_type: list[GroupOut]
    by_zone: list[GroupOut]


@router.get("/events/{event_id}/incident-stats", response_model=StatsOut,
            summary="Response figures: seconds from report to dispatch, arrival, resolution (p50, p90) "
            "for all, by type and by zone")
def incident_stats(event: EventDep, db: DB, principal: Reader,
                   since: Annotated[AwareDatetime | None, Query(description="Reported at or after")] = None,
                   until: Annotated[AwareDatetime | None, Query(description="Reported before")] = None) -> Any:
    if since is not None and until is not None and until <= since:
        raise Invalid("until must be after since", loc=["query", "until"])
    return stats.response_stats(db=db, event_id=event.id, since=since, until=until)
