"""Incident life cycle 接处警: status, dispatch of units, their progress, hand-over, edits and plan matching.

Status: new → dispatched → en_route → on_scene → resolved → closed (see :data:`NEXT`). Assigning a
unit dispatches a new incident; the first unit under way makes it en route; the first unit on scene
makes it on scene. Resolving releases the units still assigned. Every change lands on the incident's
own log (``GET …/incidents/{id}/log``), on the event timeline, and on the live stream.

A unit is assigned with a conditional update (``status = 'available'`` → ``'assigned'``): of two
dispatchers sending the same unit at once, one wins and the other gets a Conflict. The assignment
gives the unit a task, so the officer sees it on the phone (/m/); the phone's 接收 / 到场 / 完成 move
the assignment to en route / on scene / released through :func:`follow_task`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from anbao.core import crud, events, outbox
from anbao.core.errors import Conflict, Invalid
from anbao.core.vocab import ASSIGNMENT_STATUSES, INCIDENT_GRADES, INCIDENT_STATUSES, INCIDENT_TYPES, POLICE_TYPES
from anbao.event.models import Event
from anbao.incident import matching
from anbao.incident.models import Assignment, Incident, IncidentLog
from anbao.org import service as org
from anbao.org.models import Unit
from anbao.plan.models import ResponsePlan
from anbao.response import service as response
from anbao.response.models import Task
from anbao.venue.models import Zone

NEXT: dict[str, tuple[str, ...]] = {
    "new": ("dispatched", "resolved", "closed"),
    "dispatched": ("en_route", "on_scene", "resolved"),
    "en_route": ("on_scene", "resolved"),
    "on_scene": ("resolved",),
    "resolved": ("on_scene", "closed"),  # re-opened when it flares up again
    "closed": (),
}
ASSIGNMENT_NEXT: dict[str, tuple[str, ...]] = {
    "assigned": ("en_route", "on_scene", "released", "cancelled"),
    "en_route": ("on_scene", "released", "cancelled"),
    "on_scene": ("released",),
    "released": (),
    "cancelled": (),
}
ACTIVE = ("assigned", "en_route", "on_scene")
#: the phone's task status -> the assignment's status
TASK_TO_ASSIGNMENT = {"accepted": "en_route", "arrived": "on_scene", "done": "released", "cancelled": "cancelled"}
#: lead police type by incident type when the report names none
LEAD = {"traffic": "traffic", "terror": "special", "suspicious_item": "special", "fire": "fire",
        "medical": "medical", "opinion": "cyber"}


def zh(table: dict[str, tuple[str, str]], code: str | None) -> str:
    return table.get(code or "", (code or "", ""))[0]


def incident_payload(i: Incident) -> dict[str, Any]:
    return {"id": i.id, "event_id": i.event_id, "type": i.type, "type_zh": zh(INCIDENT_TYPES, i.type),
            "grade": i.grade, "source": i.source, "status": i.status, "status_zh": zh(INCIDENT_STATUSES, i.status),
            "text": i.text, "lon": i.lon, "lat": i.lat, "zone_id": i.zone_id, "police_type": i.police_type,
            "reported_at": i.reported_at.isoformat(), "reported_by": i.reported_by,
            "dispatched_at": i.dispatched_at.isoformat() if i.dispatched_at else None,
            "on_scene_at": i.on_scene_at.isoformat() if i.on_scene_at else None,
            "resolved_at": i.resolved_at.isoformat() if i.resolved_at else None}


def log(*, db: Session, incident: Incident, kind: str, text: str, by: str, now: datetime,
        before: Any = None, after: Any = None, publish: bool = True) -> IncidentLog:
    """One entry on the incident's own log, and one typed change (timeline, live message on commit)."""
    entry = IncidentLog(event_id=incident.event_id, incident_id=incident.id, at=now, kind=kind, text=text[:2000],
                        before=before, after=after, by=by[:120])
    db.add(entry)
    db.flush()
    events.record(db, events.IncidentChange(
        event_id=incident.event_id, at=now, actor=by, incident_id=incident.id, step=kind,
        line=f"警情 #{incident.id}：{text}", incident=incident_payload(incident) if publish else None,
        extra={"before": before, "after": after}))
    return entry


def lead_for(incident_type: str) -> str:
    return LEAD.get(incident_type, "public_order")


# --------------------------------------------------------------------------- status


def _stamp(incident: Incident, status: str, now: datetime) -> None:
    if status == "dispatched" and incident.dispatched_at is None:
        incident.dispatched_at = now
    if status == "on_scene" and incident.on_scene_at is None:
        incident.on_scene_at = now
    if status == "resolved":
        incident.resolved_at = now
    if status == "closed":
        incident.closed_at = now


def set_status(*, db: Session, incident: Incident, status: str, by: str, now: datetime, note: str = "") -> Incident:
    """Move the incident along its life cycle; an illegal step is a Conflict listing the allowed ones.

    The status it already has changes nothing. Resolving releases every unit still assigned.
    """
    if status == incident.status:
        return incident
    allowed = NEXT[incident.status]
    if status not in allowed:
        nxt = ", ".join(allowed) if allowed else "none (the incident is closed)"
        raise Conflict(f"incident {incident.id} is {incident.status}; it cannot become {status}. Allowed next: {nxt}",
                       loc=["body", "status"])
    before = incident.status
    incident.status = status
    _stamp(incident, status, now)
    if status == "resolved":
        for a in active_assignments(db=db, incident_id=incident.id):
            progress(db=db, assignment=a, status="released", by=by, now=now, note="警情处置完毕，撤回", publish=False)
    log(db=db, incident=incident, kind="status", by=by, now=now, before=before, after=status,
        text=f"{zh(INCIDENT_STATUSES, before)} → {zh(INCIDENT_STATUSES, status)}" + (f"：{note}" if note else ""))
    return incident


def _advance(db: Session, incident: Incident, status: str, by: str, now: datetime) -> None:
    """Move the incident forward because of a unit (never backward, never out of resolved/closed)."""
    order = ("new", "dispatched", "en_route", "on_scene")
    if incident.status in order and order.index(status) > order.index(incident.status):
        set_status(db=db, incident=incident, status=status, by=by, now=now)


# --------------------------------------------------------------------------- assignments


def active_assignments(*, db: Session, incident_id: int) -> Sequence[Assignment]:
    return db.execute(select(Assignment).where(Assignment.incident_id == incident_id,
                                               Assignment.status.in_(ACTIVE)).order_by(Assignment.id)).scalars().all()


def assignments(*, db: Session, incident_id: int) -> Sequence[Assignment]:
    return db.execute(select(Assignment).where(Assignment.incident_id == incident_id)
                      .order_by(Assignment.id)).scalars().all()


def _zone_name(db: Session, zone_id: int | None) -> str:
    if zone_id is None:
        return ""
    z = db.get(Zone, zone_id)
    return z.name if z is not None else ""


def assign(*, db: Session, incident: Incident, unit_id: int, by: str, now: datetime, eta_s: float | None = None,
           note: str = "") -> Assignment:
    """Send a unit 派警. The unit must be available: a unit taken meanwhile is a Conflict naming where it went."""
    if incident.status in ("resolved", "closed"):
        raise Conflict(f"incident {incident.id} is {incident.status}: no unit can be sent to it",
                       loc=["body", "unit_id"])
    unit = crud.ref(db=db, kind=org.UNITS, event_id=incident.event_id, row_id=unit_id, field_name="unit_id")
    assert isinstance(unit, Unit)
    taken = db.execute(update(Unit).where(Unit.id == unit_id, Unit.event_id == incident.event_id,
                                          Unit.status == "available").values(status="assigned")
                       .execution_options(synchronize_session=False))
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        db.refresh(unit)
        where = db.execute(select(Assignment.incident_id).where(Assignment.unit_id == unit_id,
                                                                Assignment.status.in_(ACTIVE))).scalars().first()
        raise Conflict(f"unit {unit.call_sign} is {unit.status}" + (f" (at incident {where})" if where else "")
                       + ": only an available unit can be sent", loc=["body", "unit_id"])
    db.refresh(unit)
    zone = _zone_name(db, incident.zone_id)
    title = f"出警：{zh(INCIDENT_TYPES, incident.type)}" + (f"（{zone}）" if zone else "")
    task = response.create_task(db=db, event_id=incident.event_id, now=now, by=by, data={
        "title": title[:200], "detail": (incident.text or "")[:2000], "unit_id": unit.id,
        "command_node_id": unit.command_node_id, "zone_id": incident.zone_id, "incident_id": incident.id})
    a = Assignment(event_id=incident.event_id, incident_id=incident.id, unit_id=unit.id, status="assigned",
                   task_id=task.id, eta_s=eta_s, assigned_at=now, by=by[:120], note=note)
    db.add(a)
    db.flush()
    outbox.post(db, f"event/{incident.event_id}/unit", {"id": unit.id, "status": unit.status})
    eta = f"，预计 {eta_s / 60:.1f} 分钟到达" if eta_s is not None else ""
    log(db=db, incident=incident, kind="assign", by=by, now=now, after={"unit_id": unit.id, "assignment_id": a.id},
        text=f"派警 {unit.call_sign}（{zh(POLICE_TYPES, unit.police_type)}）{eta}" + (f"：{note}" if note else ""))
    _advance(db, incident, "dispatched", by, now)
    return a


def progress(*, db: Session, assignment: Assignment, status: str, by: str, now: datetime, note: str = "",
             publish: bool = True, from_task: bool = False) -> Assignment:
    """A unit's progress: en route, on scene, released (back to available) or cancelled."""
    if status == assignment.status:
        return assignment
    allowed = ASSIGNMENT_NEXT[assignment.status]
    if status not in allowed:
        nxt = ", ".join(allowed) if allowed else "none (the assignment is over)"
        raise Conflict(f"assignment {assignment.id} is {assignment.status}; it cannot become {status}. "
                       f"Allowed next: {nxt}", loc=["body", "status"])
    before = assignment.status
    assignment.status = status
    if status == "en_route":
        assignment.en_route_at = now
    elif status == "on_scene":
        assignment.on_scene_at = now
        assignment.en_route_at = assignment.en_route_at or now
    else:
        assignment.released_at = now
    unit = db.get(Unit, assignment.unit_id)
    if unit is not None:
        unit.status = "busy" if status in ("en_route", "on_scene") else "available"
        outbox.post(db, f"event/{assignment.event_id}/unit", {"id": unit.id, "status": unit.status})
    task = db.get(Task, assignment.task_id) if assignment.task_id is not None else None
    if task is not None and not from_task:
        want = {"en_route": "accepted", "on_scene": "arrived", "released": "done", "cancelled": "cancelled"}[status]
        if want in response.NEXT[task.status]:
            response.set_status(db=db, task=task, status=want, by=by, note=note, now=now)
    db.flush()
    incident = db.get(Incident, assignment.incident_id)
    assert incident is not None
    call_sign = unit.call_sign if unit is not None else f"#{assignment.unit_id}"
    log(db=db, incident=incident, kind="unit", by=by, now=now, before=before, after=status, publish=publish,
        text=f"{call_sign} {zh(ASSIGNMENT_STATUSES, status)}" + (f"：{note}" if note else ""))
    if status in ("en_route", "on_scene"):
        _advance(db, incident, status, by, now)
    return assignment


def follow_task(db: Session, change: events.TaskStatusChanged) -> None:
    """The officer's 接收 / 到场 / 完成 on the phone move the unit's assignment (a handler of task
    changes, registered by :mod:`anbao.wiring`)."""
    task = db.get(Task, change.task_id)
    if task is None or task.incident_id is None or task.unit_id is None:
        return
    now, by = change.at, change.actor
    a = db.execute(select(Assignment).where(Assignment.task_id == task.id)).scalars().first()
    want = TASK_TO_ASSIGNMENT.get(task.status)
    if a is None or want is None or want == a.status or want not in ASSIGNMENT_NEXT[a.status]:
        return
    progress(db=db, assignment=a, status=want, by=by, now=now, from_task=True)


def handover(*, db: Session, incident: Incident, police_type: str, by: str, now: datetime,
             unit_id: int | None = None, note: str = "") -> Incident:
    """移交: another police type takes the lead (e.g. 治安 → 刑侦), optionally with a unit of its own.

    The history stays: the log keeps who had it before; units already there are released once the
    new unit is assigned.
    """
    if incident.status == "closed":
        raise Conflict(f"incident {incident.id} is closed: nothing to hand over", loc=["body", "police_type"])
    before = incident.police_type
    previous = list(active_assignments(db=db, incident_id=incident.id))
    incident.police_type = police_type
    log(db=db, incident=incident, kind="handover", by=by, now=now, before=before, after=police_type,
        text=f"移交：{zh(POLICE_TYPES, before)} → {zh(POLICE_TYPES, police_type)}" + (f"：{note}" if note else ""))
    if unit_id is not None:
        assign(db=db, incident=incident, unit_id=unit_id, by=by, now=now, note="移交接手")
        for a in previous:
            progress(db=db, assignment=a, status="released" if a.status == "on_scene" else "cancelled", by=by,
                     now=now, note="已移交", publish=False)
    return incident


# --------------------------------------------------------------------------- edits and plans


def update_incident(*, db: Session, incident: Incident, data: dict[str, Any], by: str, now: datetime) -> Incident:
    """Correct type, grade, text or place; the plans are matched again."""
    if incident.status == "closed":
        raise Conflict(f"incident {incident.id} is closed and cannot be changed", loc=["body"])
    if ("lon" in data) != ("lat" in data):
        raise Invalid("give both lon and lat", loc=["body", "lat" if "lat" not in data else "lon"])
    if data.get("zone_id") is not None:
        from anbao.venue import service as venue

        crud.ref(db=db, kind=venue.ZONES, event_id=incident.event_id, row_id=data["zone_id"], field_name="zone_id")
    changed = {k: v for k, v in data.items() if getattr(incident, k) != v}
    if not changed:
        return incident
    if "lon" in changed and changed.get("lon") is not None and "zone_id" not in data:
        from anbao.venue import service as venue

        changed["zone_id"] = venue.zone_at(db=db, event_id=incident.event_id, lon=data["lon"], lat=data["lat"])
    before = {k: getattr(incident, k) for k in changed}
    for k, v in changed.items():
        setattr(incident, k, v)
    words = []
    if "type" in changed:
        words.append(f"类型 {zh(INCIDENT_TYPES, before['type'])} → {zh(INCIDENT_TYPES, changed['type'])}")
    if "grade" in changed:
        words.append(f"等级 {zh(INCIDENT_GRADES, before['grade'])} → {zh(INCIDENT_GRADES, changed['grade'])}")
    if "zone_id" in changed:
        words.append(f"位置 → {_zone_name(db, changed['zone_id']) or '（区域外）'}")
    if "text" in changed:
        words.append("案情更新")
    log(db=db, incident=incident, kind="update", by=by, now=now, before=before, after=changed, text="；".join(words))
    apply_plans(db=db, incident=incident, by=by, now=now)
    return incident


def facts(db: Session, incident: Incident, now: datetime) -> matching.Facts:
    event = db.get(Event, incident.event_id)
    tz = ZoneInfo(event.timezone if event is not None and event.timezone else "Asia/Shanghai")
    zone = db.get(Zone, incident.zone_id) if incident.zone_id is not None else None
    return matching.Facts(type=incident.type, grade=incident.grade, zone_kind=zone.kind if zone else None,
                          local_time=incident.reported_at.astimezone(tz))


def matches(*, db: Session, incident: Incident, now: datetime) -> list[matching.Match]:
    rows = db.execute(select(ResponsePlan).where(ResponsePlan.event_id == incident.event_id)
                      .order_by(ResponsePlan.code)).scalars().all()
    return matching.match(rows, facts(db, incident, now))


def apply_plans(*, db: Session, incident: Incident, by: str, now: datetime) -> list[tuple[matching.Match, int]]:
    """Start every matched plan not yet started for this incident; returns (match, activation id) of those started."""
    started = []
    for m in matches(db=db, incident=incident, now=now):
        if response.activation_for_incident(db=db, plan_id=m.plan_id, incident_id=incident.id) is not None:
            continue
        plan = db.get(ResponsePlan, m.plan_id)
        assert plan is not None
        act, tasks = response.activate(db=db, event_id=incident.event_id, plan=plan, now=now, by="system:incidents",
                                    zone_id=incident.zone_id, incident_id=incident.id,
                                    reason=f"警情 #{incident.id} 匹配：{m.reason}")
        log(db=db, incident=incident, kind="plan", by="system:incidents", now=now,
            after={"plan_id": plan.id, "activation_id": act.id},
            text=f"启动预案「{plan.name}」（{m.reason}），下达 {len(tasks)} 项任务")
        started.append((m, act.id))
    return started


def logs(*, db: Session, incident_id: int) -> Sequence[IncidentLog]:
    return db.execute(select(IncidentLog).where(IncidentLog.incident_id == incident_id)
                      .order_by(IncidentLog.at, IncidentLog.id)).scalars().all()
