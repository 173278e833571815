"""Response services (keyword-only): starting a plan (预案启动) into tasks, and the task life cycle.

Activation turns each step of a plan into a task for its command node. Every change is one typed
event (:mod:`anbao.core.events`): the timeline entry and the live message are derived from it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.alert.models import EarlyWarning, WarningRule
from anbao.core import crud, events
from anbao.core.auth import Principal
from anbao.core.errors import Conflict, Forbidden, Invalid
from anbao.core.vocab import PLAN_KINDS, TASK_STATUSES, WARNING_LEVEL_RANK, WARNING_LEVEL_ZH
from anbao.org import service as org
from anbao.plan import service as plans
from anbao.plan.models import ResponsePlan
from anbao.response.models import PlanActivation, Task
from anbao.venue import service as venue

log = logging.getLogger("anbao.response")

#: the task life cycle: which status may follow which
NEXT: dict[str, tuple[str, ...]] = {
    "open": ("accepted", "arrived", "done", "cancelled"),
    "accepted": ("arrived", "done", "cancelled"),
    "arrived": ("done", "cancelled"),
    "done": (),
    "cancelled": (),
}
FINAL = ("done", "cancelled")


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
    nodes = plans.node_ids(db, event_id)
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
    if warning_id is not None:  # escalation starts from the node of the warning's latest plan
        warning = db.get(EarlyWarning, warning_id)
        if warning is not None:
            warning.command_node_id = plan.command_node_id
            db.flush()
    kind_zh = PLAN_KINDS.get(plan.kind, ("", ""))[0]
    started = events.record(db, events.PlanActivated(
        event_id=event_id, at=now, actor=by, activation_id=act.id, plan_id=plan.id, code=plan.code, name=plan.name,
        warning_id=warning_id, incident_id=incident_id, level=level, task_ids=tuple(t.id for t in tasks),
        reason=act.reason,
        line=f"启动预案「{plan.name}」（{kind_zh}），下达 {len(tasks)} 项任务" + (f"（{reason}）" if reason else "")))
    for t in tasks:
        events.record(db, events.TaskCreated(event_id=event_id, at=now, actor=by, parent=started.id, task_id=t.id,
                                             task=task_payload(t), line=f"任务「{t.title}」下达",
                                             extra={"command_node_id": t.command_node_id}))
    return act, tasks


def create_task(*, db: Session, event_id: int, data: dict[str, Any], now: datetime, by: str) -> Task:
    """A task given by hand (not from a plan)."""
    crud.ref(db=db, kind=org.NODES, event_id=event_id, row_id=data.get("command_node_id"),
             field_name="command_node_id")
    crud.ref(db=db, kind=org.UNITS, event_id=event_id, row_id=data.get("unit_id"), field_name="unit_id")
    crud.ref(db=db, kind=venue.ZONES, event_id=event_id, row_id=data.get("zone_id"), field_name="zone_id")
    if data.get("warning_id") is not None:
        found = db.get(EarlyWarning, data["warning_id"])
        if found is None or found.event_id != event_id:
            raise Invalid(f"warning {data['warning_id']} does not exist in this event", loc=["body", "warning_id"])
    due = data.pop("due_min", None)
    task = Task(event_id=event_id, status="open", changed_by=by, note="",
                due_at=now + timedelta(minutes=due) if due is not None else None, **data)
    db.add(task)
    db.flush()
    events.record(db, events.TaskCreated(event_id=event_id, at=now, actor=by, task_id=task.id, task=task_payload(task),
                                         line=f"任务「{task.title}」下达"))
    return task


def check_task_owner(*, db: Session, task: Task, principal: Principal) -> None:
    """Field roles (一线民警) act on their own units' tasks only: a task given to one of the caller's units,
    or, when the task names no unit, to the command node of one of them. Dispatchers, commanders and admins
    act on every task. Forbidden (403) names the rule otherwise."""
    if not principal.in_field:
        return
    mine = org.user_units(db=db, user_id=principal.user_id, event_id=task.event_id)
    if task.unit_id is not None:
        if task.unit_id in {u.id for u in mine}:
            return
        target = f"unit {task.unit_id}"
    elif task.command_node_id is not None:
        if task.command_node_id in {u.command_node_id for u in mine}:
            return
        target = f"command node {task.command_node_id}"
    else:
        target = "no unit or command node"
    have = (f"your units here are {', '.join(f'{u.id} ({u.call_sign})' for u in mine)}" if mine else
            "you are linked to no unit of this event (PUT /api/v1/users/{user_id}/units/{unit_id})")
    raise Forbidden(f"role {principal.role.value} acts only on its own units' tasks: task {task.id} is for {target}; "
                    f"{have}")


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
    events.record(db, events.TaskStatusChanged(
        event_id=task.event_id, at=now, actor=by, task_id=task.id, task=task_payload(task), before=before, after=status,
        line=f"任务「{task.title}」{TASK_STATUSES[status][0]}" + (f"：{note}" if note else "")))
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



def start_warning_plans(db: Session, change: events.WarningRaised | events.WarningLevelChanged) -> None:
    """A warning raised or risen by a rule starts, once per warning, the plan its rule names for every level
    reached (a jump to red starts the orange plan too). Registered by :mod:`anbao.wiring`."""
    if change.rule_id is None:
        return
    before = change.before if isinstance(change, events.WarningLevelChanged) else None
    after = change.after if isinstance(change, events.WarningLevelChanged) else change.level
    if before is not None and WARNING_LEVEL_RANK[after] <= WARNING_LEVEL_RANK[before]:
        return
    rule = db.get(WarningRule, change.rule_id)
    if rule is None:
        return
    w = change.warning
    for level, code in sorted((rule.plans or {}).items(), key=lambda kv: WARNING_LEVEL_RANK.get(kv[0], 9)):
        if WARNING_LEVEL_RANK.get(level, 9) > WARNING_LEVEL_RANK[after]:
            continue
        plan = plans.by_code(db=db, event_id=change.event_id, code=code)
        if plan is None:
            log.warning("rule %s names plan %r, which event %s does not have", rule.id, code, change.event_id)
            continue
        if activation_for(db=db, plan_id=plan.id, warning_id=change.warning_id) is not None:
            continue
        try:
            activate(db=db, event_id=change.event_id, plan=plan, now=change.at, by="system:warnings",
                     warning_id=change.warning_id, zone_id=w.get("zone_id"), level=after,
                     reason=f"{WARNING_LEVEL_ZH[after]}{w.get('kind_zh', '预警')}自动启动")
        except Conflict:  # started by hand meanwhile
            continue
