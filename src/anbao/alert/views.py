"""Warning routes: list, acknowledge, close, CAP 1.2 per warning and an Atom feed of open ones."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from anbao.alert import cap, cap_export, rules, service
from anbao.alert.models import EarlyWarning
from anbao.alert.schemas import CommentIn, RuleCreate, RuleOut, RuleUpdate, WarningOut
from anbao.api.deps import DB, EventDep, require
from anbao.api.routing import resource_router
from anbao.core import crud
from anbao.core.auth import Perm, Principal
from anbao.core.errors import NotFound
from anbao.core.time import utcnow
from anbao.core.vocab import RuleKindIn
from anbao.venue.models import Venue, Zone

router = APIRouter(tags=["预警 warnings"])
RULE_TAG = "预警规则 warning rules"


@router.get("/events/{event_id}/warning-rules", response_model=list[RuleOut], tags=[RULE_TAG],
            summary="The event's warning rules (reading writes nothing: the defaults come from POST …/defaults "
                    "or the warning watcher's first pass)")
def list_rules(event: EventDep, db: DB, principal: Annotated[Principal, Depends(require(Perm.event_read))],
               kind: RuleKindIn | None = None) -> Any:
    return crud.list_rows(db=db, kind=rules.RULES, event_id=event.id, limit=None, where={"kind": kind})


@router.post("/events/{event_id}/warning-rules/defaults", response_model=list[RuleOut], tags=[RULE_TAG],
             summary="Give an event without rules the default rules and the default plans they name "
                     "(nothing changes when it has rules); the event's rules")
def default_rules(event: EventDep, db: DB, principal: Annotated[Principal, Depends(require(Perm.plan_write))]) -> Any:
    rules.ensure_defaults(db=db, event_id=event.id)
    return crud.list_rows(db=db, kind=rules.RULES, event_id=event.id, limit=None)


router.include_router(resource_router(
    kind=rules.RULES, path="warning-rules", tag=RULE_TAG, create=RuleCreate, update=RuleUpdate, out=RuleOut,
    read=Perm.event_read, write=Perm.plan_write, list_route=False))
Reader = Annotated[Principal, Depends(require(Perm.sensing_read))]
Handler = Annotated[Principal, Depends(require(Perm.warning_handle))]
CAP_TYPE = "application/cap+xml"


def _warning(db: Any, event_id: int, warning_id: int) -> EarlyWarning:
    w = service.get(db=db, event_id=event_id, warning_id=warning_id)
    if w is None:
        raise NotFound(f"warning {warning_id} not found in event {event_id}")
    return w


def _cap(db: Any, w: EarlyWarning, request: Request, event: Any) -> cap.CapAlert:
    zone = db.get(Zone, w.zone_id) if w.zone_id else None
    polygon = None
    if zone is not None and db.get(Venue, zone.venue_id).crs == "wgs84" and zone.geometry["type"] == "Polygon":
        polygon = [(float(x), float(y)) for x, y, *_ in zone.geometry["coordinates"][0]]
    settings = request.app.state.settings
    return cap_export.to_cap(w, sender=settings.cap_sender, sender_name=settings.cap_sender_name or
                             f"{event.name}安保指挥部", area_desc=zone.name if zone else "活动现场", polygon=polygon)


@router.get("/events/{event_id}/warnings", response_model=list[WarningOut], summary="Warnings, newest change first")
def list_warnings(event: EventDep, db: DB, principal: Reader,
                  status: Annotated[Literal["open", "active", "acknowledged", "closed"] | None,
                                    Query(description="open = not closed")] = None,
                  limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> Any:
    return service.list_warnings(db=db, event_id=event.id, status=status, limit=limit)


@router.post("/events/{event_id}/warnings/{warning_id}/ack", response_model=WarningOut,
             summary="Acknowledge a warning 确认 (409 when closed)")
def acknowledge(event: EventDep, warning_id: int, body: CommentIn, db: DB, principal: Handler) -> Any:
    return service.acknowledge(db=db, warning=_warning(db, event.id, warning_id), by=principal.actor,
                               comment=body.comment, now=utcnow())


@router.post("/events/{event_id}/warnings/{warning_id}/close", response_model=WarningOut,
             summary="Close a warning with a comment 解除 (409 when already closed)")
def close(event: EventDep, warning_id: int, body: CommentIn, db: DB, principal: Handler) -> Any:
    return service.close(db=db, warning=_warning(db, event.id, warning_id), by=principal.actor,
                         comment=body.comment, now=utcnow())


@router.get("/events/{event_id}/warnings/{warning_id}/cap", response_class=Response,
            responses={200: {"content": {CAP_TYPE: {}}}}, summary="The warning as a CAP 1.2 alert")
def warning_cap(request: Request, event: EventDep, warning_id: int, db: DB, principal: Reader) -> Response:
    return Response(cap.to_xml(_cap(db, _warning(db, event.id, warning_id), request, event)), media_type=CAP_TYPE)


@router.get("/events/{event_id}/warnings-feed", response_class=Response,
            responses={200: {"content": {"application/atom+xml": {}}}},
            summary="Atom feed of open warnings as CAP 1.2 alerts")
def warning_feed(request: Request, event: EventDep, db: DB, principal: Reader) -> Response:
    alerts = [_cap(db, w, request, event) for w in service.list_warnings(db=db, event_id=event.id, status="open")]
    body = cap.feed_xml(alerts, title=f"{event.name} 预警", updated=utcnow())
    return Response(body, media_type="application/atom+xml")
