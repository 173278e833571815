"""Plan services (keyword-only): plans, activation into tasks, the task life cycle.

Activation turns each step of a plan into a task for its command node and posts the tasks to the
live stream (after commit, through :mod:`anbao.core.outbox`); every step lands on the timeline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.core import crud, outbox
from anbao.core.db import Base
from anbao.core.errors import Conflict, Invalid
from anbao.core.vocab import PLAN_KINDS, TASK_STATUSES
from anbao.org import service as org
from anbao.org.models import CommandNode, Unit
from anbao.plan.models import PlanActivation, ResponsePlan, Task
from anbao.review import service as timeline
from anbao.venue import service as venue
from anbao.venue.models import Gate, Zone

#: the task life cycle: which status may follow which
NEXT: dict[str, tuple[str, ...]] = {
    "open": ("accepted", "arrived", "done", "cancelled"),
    "accepted": ("arrived", "done", "cancelled"),
    "arrived": ("done", "cancelled"),
    "done": (),
    "cancelled": (),
}
FINAL = ("done", "cancelled")

#: called after a task changed status, in the same transaction: fn(db, task, before, now, by). Another
#: domain follows tasks this way (the incident domain moves a unit's assignment with its task) without
#: this domain knowing it.
TaskListener = Callable[[Session, Task, str, datetime, str], None]
TASK_LISTENERS: list[TaskListener] = []


def on_task_status(fn: TaskListener) -> TaskListener:
    """Register ``fn`` to follow task status changes (usable as a decorator)."""
    if fn not in TASK_LISTENERS:
        TASK_LISTENERS.append(fn)
    return fn


def _node_ids(db: Session, event_id: int) -> dict[str, int]:
    return dict(db.execute(select(CommandNode.code, CommandNode.id).where(CommandNode.event_id == event_id)).all())


def prepare_plan(*, db: Session, event_id: int, data: dict[str, Any], current: ResponsePlan | None) -> dict[str, Any]:
    crud.ref(db=db, kind=org.NODES, event_id=event_id, row_id=data.get("command_node_id"),
             field_name="command_node_id")
    for key in ("name", "kind", "description", "steps", "triggers", "unit_ids", "equipment", "partners", "map_refs",
                "evacuation_routes", "sections"):
        if key in data and data[key] is None:
            raise Invalid(f"{key} cannot be null", loc=["body", key])
    _check_elements(db, event_id, data)
    steps = data.get("steps")
    if steps:
        nodes = _node_ids(db, event_id)
        for i, step in enumerate(steps):
            code = step.get("node_code")
            if code is not None and code not in nodes:
                raise Invalid(f"command node {code!r} does not exist in this event",
                              loc=["body", "steps", i, "node_code"])
    return data


def _codes(db: Session, event_id: int, model: Any, wanted: set[str]) -> set[str]:
    if not wanted:
        return set()
    return set(db.execute(select(model.code).where(model.event_id == event_id, model.code.in_(wanted))).scalars())


def _check_elements(db: Session, event_id: int, data: dict[str, Any]) -> None:
    """The plan's units, zones and exits exist in the event (Invalid names the place)."""
    ids = data.get("unit_ids") or []
    if ids:
        known = set(db.execute(select(Unit.id).where(Unit.event_id == event_id, Unit.id.in_(ids))).scalars())
        for i, uid in enumerate(ids):
            if uid not in known:
                raise Invalid(f"unit {uid} does not exist in this event", loc=["body", "unit_ids", i])
        data["unit_ids"] = list(dict.fromkeys(ids))
    refs = data.get("map_refs") or {}
    routes = data.get("evacuation_routes") or []
    zone_codes = set(refs.get("zones") or []) | {c for r in routes for c in (r.get("from_zones") or [])} \
        | {r["to_zone"] for r in routes if r.get("to_zone")}
    exits = {c for r in routes for c in (r.get("exits") or [])}
    zones_known, gates_known = _codes(db, event_id, Zone, zone_codes), _codes(db, event_id, Gate, exits)
    for i, code in enumerate(refs.get("zones") or []):
        if code not in zones_known:
            raise Invalid(f"zone {code!r} does not exist in this event", loc=["body", "map_refs", "zones", i])
    for i, r in enumerate(routes):
        for j, code in enumerate(r.get("from_zones") or []):
            if code not in zones_known:
                raise Invalid(f"zone {code!r} does not exist in this event",
                              loc=["body", "evacuation_routes", i, "from_zones", j])
        if r.get("to_zone") and r["to_zone"] not in zones_known:
            raise Invalid(f"zone {r['to_zone']!r} does not exist in this event",
                          loc=["body", "evacuation_routes", i, "to_zone"])
        for j, code in enumerate(r.get("exits") or []):
            if code not in gates_known:
                raise Invalid(f"exit {code!r} does not exist in this event",
                              loc=["body", "evacuation_routes", i, "exits", j])


PLANS = crud.Kind(model=ResponsePlan, label="plan", prepare=prepare_plan, order_by=("code",))


def by_code(*, db: Session, event_id: int, code: str) -> ResponsePlan | None:
    return crud.by_unique(db=db, kind=PLANS, event_id=event_id, value=code)


def task_payload(t: Task) -> dict[str, Any]:
    """The task as a live-stream message payload."""
    return {"id": t.id, "title": t.title, "status": t.status, "status_zh": TASK_STATUSES[t.status][0],
            "command_node_id": t.command_node_id, "unit_id": t.unit_id, "zone_id": t.zone_id,
            "warning_id": t.warning_id, "incident_id": t.incident_id, "plan_id": t.plan_id,
            "due_at": t.due_at.isoformat() if t.due_at else None, "changed_by": t.changed_by}


def activation_for_incident(*, db: Session, plan_id: int, incident_id: int) -> PlanActivation | None:
    return db.execute(select(PlanActivation).where(PlanActivation.plan_id == plan_id,
                                                   PlanActivation.incident_id == incident_id)).scalars().first()


def activation_for(*, db: Session, plan_id: int, warning_id: int) -> PlanActivation | None:
    return db.execute(select(PlanActivation).where(PlanActivation.plan_id == plan_id,
                                                   PlanActivation.warning_id == warning_id)).scalars().first()


def activate(*, db: Session, event_id: int, plan: ResponsePlan, now: datetime, by: str,
             warning_id: int | None = None, zone_id: int | None = None, level: str | None = None,
             reason: str = "", incident_id: int | None = None) -> tuple[PlanActivation, list[Task]]:
    """Start ``plan``: one task per step for the step's node (else the plan's node).

    A plan starts at most once per warning and once per incident: a second activation is a Conflict.
    """
    if warning_id is not None and activation_for(db=db, plan_id=plan.id, warning_id=warning_id) is not None:
        raise Conflict(f"plan {plan.code!r} is already active for warning {warning_id}")
    if incident_id is not None and activation_for_incident(db=db, plan_id=plan.id, incident_id=incident_id):
        raise Conflict(f"plan {plan.code!r} is already active for incident {incident_id}")
    act = PlanActivation(event_id=event_id, plan_id=plan.id, warning_id=warning_id, incident_id=incident_id,
                         level=level, at=now, by=by, reason=reason[:500])
    db.add(act)
    db.flush()
    nodes = _node_ids(db, event_id)
    tasks = []
    for step in plan.steps or []:
        due = step.get("due_min")
        tasks.append(Task(event_id=event_id, activation_id=act.id, plan_id=plan.id, warning_id=warning_id,
                          incident_id=incident_id,
                          command_node_id=nodes.get(step.get("node_code") or "", plan.command_node_id),
                          zone_id=zone_id, title=step["title"], detail=step.get("detail", ""), status="open",
                          due_at=now + timedelta(minutes=due) if due is not None else None, changed_by=by, note=""))
    db.add_all(tasks)
    db.flush()
    kind_zh = PLAN_KINDS.get(plan.kind, ("", ""))[0]
    timeline.add(db=db, event_id=event_id, at=now, kind="plan.activated", subject=f"plan:{plan.id}", actor=by,
                 text=f"启动预案「{plan.name}」（{kind_zh}），下达 {len(tasks)} 项任务"
                      + (f"（{reason}）" if reason else ""),
                 data={"activation_id": act.id, "warning_id": warning_id, "incident_id": incident_id, "level": level,
                       "task_ids": [t.id for t in tasks]})
    outbox.post(db, f"event/{event_id}/plan-activation",
                {"id": act.id, "plan_id": plan.id, "code": plan.code, "name": plan.name, "warning_id": warning_id,
                 "incident_id": incident_id,
                 "level": level, "task_ids": [t.id for t in tasks], "reason": act.reason})
    for t in tasks:
        timeline.add(db=db, event_id=event_id, at=now, kind="task.created", subject=f"task:{t.id}", actor=by,
                     text=f"任务「{t.title}」下达", data={"command_node_id": t.command_node_id})
        outbox.post(db, f"event/{event_id}/task", task_payload(t))
    return act, tasks


def create_task(*, db: Session, event_id: int, data: dict[str, Any], now: datetime, by: str) -> Task:
    """A task given by hand (not from a plan)."""
    crud.ref(db=db, kind=org.NODES, event_id=event_id, row_id=data.get("command_node_id"),
             field_name="command_node_id")
    crud.ref(db=db, kind=org.UNITS, event_id=event_id, row_id=data.get("unit_id"), field_name="unit_id")
    crud.ref(db=db, kind=venue.ZONES, event_id=event_id, row_id=data.get("zone_id"), field_name="zone_id")
    if data.get("warning_id") is not None:
        warnings = Base.metadata.tables["warning"]  # by table: the alert domain imports this one
        found = db.execute(select(warnings.c.id).where(warnings.c.id == data["warning_id"],
                                                       warnings.c.event_id == event_id)).first()
        if found is None:
            raise Invalid(f"warning {data['warning_id']} does not exist in this event", loc=["body", "warning_id"])
    due = data.pop("due_min", None)
    task = Task(event_id=event_id, status="open", changed_by=by, note="",
                due_at=now + timedelta(minutes=due) if due is not None else None, **data)
    db.add(task)
    db.flush()
    timeline.add(db=db, event_id=event_id, at=now, kind="task.created", subject=f"task:{task.id}", actor=by,
                 text=f"任务「{task.title}」下达")
    outbox.post(db, f"event/{event_id}/task", task_payload(task))
    return task


def set_status(*, db: Session, task: Task, status: str, by: str, note: str, now: datetime) -> Task:
    """Move a task along its life cycle; an illegal step is a Conflict naming the allowed ones.

    Asking for the status the task already has changes nothing (a phone may send a change twice).
    """
    if status == task.status:  # a replay from a phone's offline queue: nothing to do
        return task
    allowed = NEXT[task.status]
    if status not in allowed:
        nxt = ", ".join(allowed) if allowed else "none (the task is finished)"
        raise Conflict(f"task {task.id} is {task.status}; it cannot become {status}. Allowed next: {nxt}")
    before = task.status
    task.status, task.changed_by = status, by
    if status in FINAL:
        task.done_at = now
    if note:
        task.note = (task.note + "\n" if task.note else "") + note
    db.flush()
    timeline.add(db=db, event_id=task.event_id, at=now, kind=f"task.{status}", subject=f"task:{task.id}", actor=by,
                 text=f"任务「{task.title}」{TASK_STATUSES[status][0]}" + (f"：{note}" if note else ""))
    outbox.post(db, f"event/{task.event_id}/task", task_payload(task))
    for fn in TASK_LISTENERS:
        fn(db, task, before, now, by)
    return task


def list_tasks(*, db: Session, event_id: int, status: str | None = None, open_only: bool = False,
               command_node_id: int | None = None, warning_id: int | None = None, unit_id: int | None = None,
               incident_id: int | None = None, limit: int = 1000, offset: int = 0) -> Sequence[Task]:
    stmt = select(Task).where(Task.event_id == event_id)
    if status is not None:
        stmt = stmt.where(Task.status == status)
    if open_only:
        stmt = stmt.where(Task.status.not_in(FINAL))
    if command_node_id is not None:
        stmt = stmt.where(Task.command_node_id == command_node_id)
    if warning_id is not None:
        stmt = stmt.where(Task.warning_id == warning_id)
    if unit_id is not None:
        stmt = stmt.where(Task.unit_id == unit_id)
    if incident_id is not None:
        stmt = stmt.where(Task.incident_id == incident_id)
    return db.execute(stmt.order_by(Task.id.desc()).limit(limit).offset(offset)).scalars().all()


def get_task(*, db: Session, event_id: int, task_id: int) -> Task | None:
    t = db.get(Task, task_id)
    return t if t is not None and t.event_id == event_id else None


def activations(*, db: Session, event_id: int, warning_id: int | None = None,
                incident_id: int | None = None) -> Sequence[PlanActivation]:
    stmt = select(PlanActivation).where(PlanActivation.event_id == event_id)
    if warning_id is not None:
        stmt = stmt.where(PlanActivation.warning_id == warning_id)
    if incident_id is not None:
        stmt = stmt.where(PlanActivation.incident_id == incident_id)
    return db.execute(stmt.order_by(PlanActivation.id)).scalars().all()
