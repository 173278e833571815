"""Response routes: start a plan by hand, plan activations, tasks and their life cycle."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy.orm import Session

from anbao.alert.models import EarlyWarning
from anbao.api.deps import DB, EventDep, require
from anbao.core import crud
from anbao.core.auth import Perm, Principal
from anbao.core.errors import NotFound
from anbao.core.time import utcnow
from anbao.core.vocab import TaskStatusIn
from anbao.org.scope import UnitScope, unit_scope
from anbao.plan import service as plans
from anbao.response import service as response
from anbao.response.models import Task
from anbao.response.schemas import ActivateIn, ActivationOut, ActivationResult, TaskCreate, TaskOut, TaskStatusChange

TAG = "预案 plans"
Reader = Annotated[Principal, Depends(require(Perm.event_read))]
Handler = Annotated[Principal, Depends(require(Perm.warning_handle))]
Worker = Annotated[Principal, Depends(require(Perm.task_update))]

router = APIRouter()



def _warning(db: Session, event_id: int, warning_id: int) -> EarlyWarning:
    w = db.get(EarlyWarning, warning_id)
    if w is None or w.event_id != event_id:
        raise NotFound(f"warning {warning_id} not found in event {event_id}", loc=["body", "warning_id"])
    return w


@router.post("/events/{event_id}/plans/{plan_id}/activate", response_model=ActivationResult,
             status_code=status.HTTP_201_CREATED, tags=[TAG],
             summary="Activate a plan by hand 启动预案 (409 when already active for that warning)")
def activate(event: EventDep, plan_id: int, body: ActivateIn, db: DB, principal: Handler) -> Any:
    plan = crud.require_row(db=db, kind=plans.PLANS, event_id=event.id, row_id=plan_id)
    zone_id = level = None
    if body.warning_id is not None:
        w = _warning(db, event.id, body.warning_id)
        zone_id, level = w.zone_id, w.level
    act, tasks = response.activate(db=db, event_id=event.id, plan=plan, now=utcnow(), by=principal.actor,
                                  warning_id=body.warning_id, zone_id=zone_id, level=level,
                                  reason=body.reason or "人工启动")
    return {"activation": act, "tasks": tasks}


@router.get("/events/{event_id}/plan-activations", response_model=list[ActivationOut], tags=[TAG],
            summary="Plan activations, oldest first")
def activations(event: EventDep, db: DB, principal: Reader,
                warning_id: Annotated[int | None, Query(description="Only those for this warning")] = None,
                incident_id: Annotated[int | None, Query(description="Only those for this incident")] = None) -> Any:
    return response.activations(db=db, event_id=event.id, warning_id=warning_id, incident_id=incident_id)


@router.get("/events/{event_id}/tasks", response_model=list[TaskOut], tags=[TAG], summary="Tasks, newest first")
def tasks(event: EventDep, db: DB, principal: Reader,
          status_: Annotated[TaskStatusIn | None, Query(alias="status")] = None,
          open_: Annotated[bool, Query(alias="open", description="Only tasks not done or cancelled")] = False,
          command_node_id: int | None = None, warning_id: int | None = None, unit_id: int | None = None,
          incident_id: int | None = None,
          limit: Annotated[int, Query(ge=1, le=5000)] = 1000, offset: Annotated[int, Query(ge=0)] = 0) -> Any:
    scope = unit_scope(db=db, event_id=event.id, agency=principal.scoped_agency)
    if unit_id is not None and not scope.sees(unit_id):
        return []  # a partner asking for a unit not shared with it learns nothing about it
    rows = response.list_tasks(db=db, event_id=event.id, status=status_, open_only=open_,
                               command_node_id=command_node_id, warning_id=warning_id, unit_id=unit_id,
                               incident_id=incident_id, limit=limit, offset=offset)
    return [_scoped(t, scope) for t in rows]


def _scoped(task: Task, scope: UnitScope) -> TaskOut:
    """The task as the caller may see it: a unit not shared with a partner is shown as no unit."""
    out = TaskOut.model_validate(task)
    return out if scope.sees(out.unit_id) or out.unit_id is None else out.model_copy(update={"unit_id": None})


@router.post("/events/{event_id}/tasks", response_model=TaskOut, status_code=status.HTTP_201_CREATED, tags=[TAG],
             summary="Give a task by hand 下达任务")
def create_task(event: EventDep, body: TaskCreate, db: DB, principal: Handler) -> Any:
    return response.create_task(db=db, event_id=event.id, data=body.model_dump(), now=utcnow(), by=principal.actor)


def _task(db: Session, event_id: int, task_id: int) -> Task:
    t = response.get_task(db=db, event_id=event_id, task_id=task_id)
    if t is None:
        raise NotFound(f"task {task_id} not found in event {event_id}")
    return t


@router.get("/events/{event_id}/tasks/{task_id}", response_model=TaskOut, tags=[TAG], summary="One task")
def task(event: EventDep, task_id: int, db: DB, principal: Reader) -> Any:
    return _scoped(_task(db, event.id, task_id), unit_scope(db=db, event_id=event.id, agency=principal.scoped_agency))


@router.post("/events/{event_id}/tasks/{task_id}/status", response_model=TaskOut, tags=[TAG],
             summary="Accept, arrive, finish or cancel a task (409 lists the allowed next states; an officer acts "
                     "on the tasks of its own units only, else 403)")
def task_status(event: EventDep, task_id: int, body: TaskStatusChange, db: DB, principal: Worker) -> Any:
    task = _task(db, event.id, task_id)
    response.check_task_owner(db=db, task=task, principal=principal)  # an officer: own units' tasks only
    return response.set_status(db=db, task=task, status=body.status, by=principal.actor, note=body.note, now=utcnow())
