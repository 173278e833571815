"""Dispatch routes 智慧调度: road networks, traffic control, unit recommendations, reinforcement, corridors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from anbao.algorithms.routing import Mode
from anbao.api.deps import DB, EventDep, require
from anbao.api.routing import ListQuery, resource_router
from anbao.core.auth import Perm, Principal
from anbao.core.errors import Invalid, NotFound
from anbao.core.time import utcnow
from anbao.core.vocab import POLICE_TYPES
from anbao.dispatch import recommend, service
from anbao.dispatch.models import RoadNetwork
from anbao.dispatch.schemas import (
    ClosureCreate,
    ClosureOut,
    ClosureUpdate,
    Corridors,
    Recommendation,
    Reinforcement,
    RoadNetworkOut,
    Vehicle,
)
from anbao.incident.models import Incident
from anbao.venue.models import Zone

router = APIRouter(tags=["智慧调度 dispatch"])
ROADS_TAG = "路网 road networks"
VenueReader = Annotated[Principal, Depends(require(Perm.venue_read))]
VenueWriter = Annotated[Principal, Depends(require(Perm.venue_write))]
OrgReader = Annotated[Principal, Depends(require(Perm.org_read))]
UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "OpenStreetMap .osm / .osm.pbf, or GeoJSON .geojson lines (at most 200 MB)"},
        "name": {"type": "string", "maxLength": 200, "description": "Display name (default: the file name)"}}}}}}}


def _var_dir(request: Request) -> Path:
    return Path(request.app.state.settings.var_dir)


@router.post("/events/{event_id}/road-networks", response_model=RoadNetworkOut, status_code=201, tags=[ROADS_TAG],
             openapi_extra=UPLOAD_BODY,
             summary="Upload a road or walkway network 上传路网 (multipart; 413 over 200 MB)")
async def upload_network(request: Request, event: EventDep, db: DB, principal: VenueWriter) -> Any:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > service.MAX_UPLOAD_BYTES + 65_536:
        raise service.TooLarge(f"upload of {int(declared) // (1024 * 1024)} MB: larger than the "
                               f"{service.MAX_UPLOAD_BYTES // (1024 * 1024)} MB limit for road files")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise Invalid("send the file as multipart/form-data in a field named 'file'", loc=["body", "file"])
    form = await request.form(max_files=1, max_fields=4)
    try:
        upload, name = form.get("file"), form.get("name")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise Invalid("a file is required (multipart field 'file')", loc=["body", "file"])
        if name is not None and (not isinstance(name, str) or len(name) > 200):
            raise Invalid("name must be text of at most 200 characters", loc=["body", "name"])
        var_dir = _var_dir(request)
        filename = upload.filename
        received = await run_in_threadpool(service.receive, upload.file, var_dir=var_dir, filename=filename)
        return await run_in_threadpool(lambda: service.add_network(
            db=db, event_id=event.id, received=received, filename=filename, name=(name or None), var_dir=var_dir,
            by=principal.actor, now=utcnow()))
    finally:
        await form.close()


@router.get("/events/{event_id}/road-networks", response_model=list[RoadNetworkOut], tags=[ROADS_TAG],
            summary="The event's road networks and their import reports")
def list_networks(event: EventDep, db: DB, principal: VenueReader) -> Any:
    return service.list_networks(db=db, event_id=event.id)


def _network(event: EventDep, network_id: int, db: DB) -> RoadNetwork:
    row = service.get_network(db=db, event_id=event.id, network_id=network_id)
    if row is None:
        raise NotFound(f"road network {network_id} not found in event {event.id}")
    return row


@router.delete("/events/{event_id}/road-networks/{network_id}", status_code=204, tags=[ROADS_TAG],
               summary="Delete a road network (its file goes when no event uses it)")
def delete_network(row: Annotated[RoadNetwork, Depends(_network)], db: DB, principal: VenueWriter) -> Response:
    service.delete_network(db=db, row=row)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class ClosureFilter(ListQuery):
    enabled: bool | None = None


router.include_router(resource_router(
    kind=service.CLOSURES, path="road-closures", tag="交通管制 road closures", create=ClosureCreate,
    update=ClosureUpdate, out=ClosureOut, read=Perm.venue_read, write=Perm.plan_write, filters=ClosureFilter))


def _incident(event: EventDep, incident_id: int, db: DB) -> Incident:
    i = db.get(Incident, incident_id)
    if i is None or i.event_id != event.id:
        raise NotFound(f"incident {incident_id} not found in event {event.id}")
    return i


def _police_type(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    by_label = {zh: code for code, (zh, _en) in POLICE_TYPES.items()}
    code = by_label.get(value, value)
    if code not in POLICE_TYPES:
        raise Invalid(f"unknown police type {value!r} (one of {', '.join(POLICE_TYPES)})",
                      loc=["query", "police_type"])
    return code


@router.get("/events/{event_id}/incidents/{incident_id}/recommendations", response_model=Recommendation,
            summary="派警推荐: the k available units that reach the incident first, and who was left out")
def recommendations(request: Request, event: EventDep, incident: Annotated[Incident, Depends(_incident)], db: DB,
                    principal: OrgReader,
                    k: Annotated[int, Query(ge=1, le=50, description="How many units")] = 5,
                    police_type: Annotated[str | None, Query(description="Only this police type (code or 中文)")]
                    = None,
                    skill: Annotated[str | None, Query(max_length=40, description="Only units with this skill")] = None,
                    equipment: Annotated[str | None, Query(max_length=40, description="Only units with this item")]
                    = None,
                    mode: Annotated[Mode | None, Query(description="Only units moving so: foot, car, motorbike")]
                    = None) -> Any:
    return recommend.recommend(db=db, event_id=event.id, incident=incident, var_dir=_var_dir(request), now=utcnow(),
                               k=k, police_type=_police_type(police_type), skill=skill or None,
                               equipment=equipment or None, mode=mode, agency=principal.scoped_agency)


@router.get("/events/{event_id}/reinforcement", response_model=Reinforcement,
            summary="增援: which posts can release officers to a zone, with the least loss of cover")
def reinforcement(request: Request, event: EventDep, db: DB, principal: OrgReader,
                  zone_id: Annotated[int, Query(description="The zone that needs officers")],
                  need: Annotated[int, Query(ge=1, le=1000, description="Officers needed")],
                  below_min: Annotated[bool, Query(description="Also take non-critical posts below their minimum")]
                  = False) -> Any:
    zone = db.get(Zone, zone_id)
    if zone is None or zone.event_id != event.id:
        raise NotFound(f"zone {zone_id} not found in event {event.id}")
    return recommend.reinforcement(db=db, event_id=event.id, zone=zone, need=need, var_dir=_var_dir(request),
                                   now=utcnow(), below_min=below_min, agency=principal.scoped_agency)


@router.get("/events/{event_id}/corridors", response_model=Corridors,
            summary="应急通道: car access to every zone from the map edge, open roads vs the closures now (409 "
                    "without a road network)")
def corridors(request: Request, event: EventDep, db: DB, principal: VenueReader,
              vehicle: Annotated[Vehicle, Query(description="Vehicles checked: emergency 应急车辆 (default), police "
                                                            "警车, accredited 持证车辆 (closures exempting them are "
                                                            "ignored), civilian 社会车辆 (every closure applies)")]
              = "emergency") -> Any:
    return service.corridors(db=db, event_id=event.id, var_dir=_var_dir(request), now=utcnow(), vehicle=vehicle)
