"""Plan routes: plans (CRUD), activation by hand, activations, tasks and their life cycle."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.api.deps import DB, EventDep, require
from anbao.api.routing import ListQuery, resource_router
from anbao.core import crud
from anbao.core.auth import Perm, Principal
from anbao.core.db import Base
from anbao.core.errors import NotFound
from anbao.core.time import utcnow
from anbao.core.vocab import PlanKindIn, TaskStatusIn
from anbao.crowd import capacity, evacuation, flows
from anbao.documents import plans as export
from anbao.plan import regulation, service, templates
from anbao.plan.models import Task
from anbao.plan.schemas import (
    ActivateIn,
    ActivationOut,
    ActivationResult,
    CapacityOut,
    CapacitySettingsIn,
    CapacitySettingsOut,
    CheckOut,
    DocumentOut,
    EvacuationIn,
    EvacuationRunOut,
    FromTemplate,
    PlanCreate,
    PlanOut,
    PlanUpdate,
    TaskCreate,
    TaskOut,
    TaskStatusChange,
    TemplateIn,
    TemplateOut,
    TemplateUpdate,
)

TAG = "预案 plans"
Reader = Annotated[Principal, Depends(require(Perm.event_read))]
Handler = Annotated[Principal, Depends(require(Perm.warning_handle))]
Worker = Annotated[Principal, Depends(require(Perm.task_update))]
Planner = Annotated[Principal, Depends(require(Perm.plan_write))]


class PlanFilter(ListQuery):
    kind: PlanKindIn | None = None
    command_node_id: int | None = None


router = APIRouter()
router.include_router(resource_router(
    kind=service.PLANS, path="plans", tag=TAG, create=PlanCreate, update=PlanUpdate, out=PlanOut,
    read=Perm.event_read, write=Perm.plan_write, filters=PlanFilter))


def _warning(db: Session, event_id: int, warning_id: int) -> Any:
    warnings = Base.metadata.tables["warning"]
    row = db.execute(select(warnings.c.id, warnings.c.zone_id, warnings.c.level)
                     .where(warnings.c.id == warning_id, warnings.c.event_id == event_id)).first()
    if row is None:
        raise NotFound(f"warning {warning_id} not found in event {event_id}", loc=["body", "warning_id"])
    return row


@router.post("/events/{event_id}/plans/{plan_id}/activate", response_model=ActivationResult,
             status_code=status.HTTP_201_CREATED, tags=[TAG],
             summary="Activate a plan by hand 启动预案 (409 when already active for that warning)")
def activate(event: EventDep, plan_id: int, body: ActivateIn, db: DB, principal: Handler) -> Any:
    plan = crud.require_row(db=db, kind=service.PLANS, event_id=event.id, row_id=plan_id)
    zone_id = level = None
    if body.warning_id is not None:
        w = _warning(db, event.id, body.warning_id)
        zone_id, level = w.zone_id, w.level
    act, tasks = service.activate(db=db, event_id=event.id, plan=plan, now=utcnow(), by=principal.actor,
                                  warning_id=body.warning_id, zone_id=zone_id, level=level,
                                  reason=body.reason or "人工启动")
    return {"activation": act, "tasks": tasks}


@router.get("/events/{event_id}/plan-activations", response_model=list[ActivationOut], tags=[TAG],
            summary="Plan activations, oldest first")
def activations(event: EventDep, db: DB, principal: Reader,
                warning_id: Annotated[int | None, Query(description="Only those for this warning")] = None,
                incident_id: Annotated[int | None, Query(description="Only those for this incident")] = None) -> Any:
    return service.activations(db=db, event_id=event.id, warning_id=warning_id, incident_id=incident_id)


@router.get("/events/{event_id}/tasks", response_model=list[TaskOut], tags=[TAG], summary="Tasks, newest first")
def tasks(event: EventDep, db: DB, principal: Reader,
          status_: Annotated[TaskStatusIn | None, Query(alias="status")] = None,
          open_: Annotated[bool, Query(alias="open", description="Only tasks not done or cancelled")] = False,
          command_node_id: int | None = None, warning_id: int | None = None, unit_id: int | None = None,
          incident_id: int | None = None,
          limit: Annotated[int, Query(ge=1, le=5000)] = 1000, offset: Annotated[int, Query(ge=0)] = 0) -> Any:
    return service.list_tasks(db=db, event_id=event.id, status=status_, open_only=open_,
                              command_node_id=command_node_id, warning_id=warning_id, unit_id=unit_id,
                              incident_id=incident_id, limit=limit, offset=offset)


@router.post("/events/{event_id}/tasks", response_model=TaskOut, status_code=status.HTTP_201_CREATED, tags=[TAG],
             summary="Give a task by hand 下达任务")
def create_task(event: EventDep, body: TaskCreate, db: DB, principal: Handler) -> Any:
    return service.create_task(db=db, event_id=event.id, data=body.model_dump(), now=utcnow(), by=principal.actor)


def _task(db: Session, event_id: int, task_id: int) -> Task:
    t = service.get_task(db=db, event_id=event_id, task_id=task_id)
    if t is None:
        raise NotFound(f"task {task_id} not found in event {event_id}")
    return t


@router.get("/events/{event_id}/tasks/{task_id}", response_model=TaskOut, tags=[TAG], summary="One task")
def task(event: EventDep, task_id: int, db: DB, principal: Reader) -> Any:
    return _task(db, event.id, task_id)


@router.post("/events/{event_id}/tasks/{task_id}/status", response_model=TaskOut, tags=[TAG],
             summary="Accept, arrive, finish or cancel a task (409 lists the allowed next states)")
def task_status(event: EventDep, task_id: int, body: TaskStatusChange, db: DB, principal: Worker) -> Any:
    return service.set_status(db=db, task=_task(db, event.id, task_id), status=body.status, by=principal.actor,
                              note=body.note, now=utcnow())


@router.get("/plan-templates", response_model=list[TemplateOut], tags=[TAG],
            summary="Plan templates 预案模板: the master plan and the special plans (built in and added)")
def list_templates(db: DB, principal: Reader) -> Any:
    return templates.list_templates(db=db)


@router.get("/plan-templates/{code}", response_model=TemplateOut, tags=[TAG], summary="One plan template")
def get_template(code: str, db: DB, principal: Reader) -> Any:
    return templates.get(db=db, code=code)


@router.post("/plan-templates", response_model=TemplateOut, status_code=status.HTTP_201_CREATED, tags=[TAG],
             summary="Add a template (unknown fields are refused with 422)")
def create_template(body: TemplateIn, db: DB, principal: Planner) -> Any:
    return templates.create(db=db, code=body.code, content=body.content.model_dump(mode="json"))


@router.put("/plan-templates/{code}", response_model=TemplateOut, tags=[TAG], summary="Edit a template")
def update_template(code: str, body: TemplateUpdate, db: DB, principal: Planner) -> Any:
    return templates.update(db=db, row=templates.get(db=db, code=code), content=body.content.model_dump(mode="json"))


@router.delete("/plan-templates/{code}", status_code=status.HTTP_204_NO_CONTENT, tags=[TAG],
               summary="Delete an added template (built-in ones are edited, not deleted: 409)")
def delete_template(code: str, db: DB, principal: Planner) -> Response:
    templates.delete(db=db, row=templates.get(db=db, code=code))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/events/{event_id}/plans/from-template", response_model=PlanOut, status_code=status.HTTP_201_CREATED,
             tags=[TAG], summary="Start a plan of the event from a template (总体方案 or 专项预案)")
def plan_from_template(event: EventDep, body: FromTemplate, db: DB, principal: Planner) -> Any:
    return templates.instantiate(db=db, event_id=event.id, template=templates.get(db=db, code=body.template),
                                 code=body.code, name=body.name)


@router.get("/events/{event_id}/capacity", response_model=CapacityOut, tags=[TAG],
            summary="Safe capacity 容量核定 of every zone and of the venue (Green Guide), with the working")
def get_capacity(event: EventDep, db: DB, principal: Reader) -> Any:
    return capacity.compute(db=db, event_id=event.id)


@router.get("/events/{event_id}/capacity-settings", response_model=CapacitySettingsOut, tags=[TAG],
            summary="Times, density and safety factors used by the capacity calculation")
def get_capacity_settings(event: EventDep, db: DB, principal: Reader) -> Any:
    return capacity.settings(db=db, event_id=event.id)


@router.put("/events/{event_id}/capacity-settings", response_model=CapacitySettingsOut, tags=[TAG],
            summary="Set the capacity parameters (unknown zone codes are refused)")
def put_capacity_settings(event: EventDep, body: CapacitySettingsIn, db: DB, principal: Planner) -> Any:
    return capacity.save_settings(db=db, event_id=event.id, data=body.model_dump())


@router.get("/events/{event_id}/plan-check", response_model=CheckOut, tags=[TAG],
            summary="Regulation checks 合规检查 (条例 Art. 6, 7, 12, 13, 18), each finding citing its article")
def plan_check(event: EventDep, db: DB, principal: Reader) -> Any:
    findings = regulation.run(db=db, event_id=event.id)
    counts = {s: sum(1 for f in findings if f.severity == s) for s in regulation.SEVERITIES}
    return {"ok": counts["error"] == 0, "counts": counts, "findings": findings}


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@router.get("/events/{event_id}/plan-documents", response_model=list[DocumentOut], tags=[TAG],
            summary="The planning documents 方案文书 that can be downloaded as DOCX")
def plan_documents(event: EventDep, db: DB, principal: Reader) -> Any:
    return [{"name": d.name, "title": d.title, "url": f"/api/v1/events/{event.id}/plan-documents/{d.name}.docx"}
            for d in export.documents(db=db, event_id=event.id)]


@router.get("/events/{event_id}/plan-documents/{name}.docx", tags=[TAG], response_class=Response,
            responses={200: {"content": {DOCX: {}}}},
            summary="One planning document as DOCX (work-plan, plan-CODE, risk-report, assignments)")
def plan_document(event: EventDep, name: str, db: DB, principal: Reader) -> Response:
    body = export.render_one(db=db, event_id=event.id, name=name)
    return Response(body, media_type=DOCX,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{event.code}-{name}.docx"})


def _runs(request: Request) -> flows.Runs:
    runs: flows.Runs = request.app.state.evacuation_runs  # made with the app (anbao.app.create_app)
    return runs


@router.post("/events/{event_id}/evacuation-runs", response_model=EvacuationRunOut,
             status_code=status.HTTP_202_ACCEPTED, tags=[TAG],
             summary="Start an evacuation simulation 疏散推演 (macro: venue or zone; jupedsim: one zone); poll it")
def start_evacuation(event: EventDep, body: EvacuationIn, request: Request, db: DB, principal: Planner) -> Any:
    job = evacuation.prepare(db=db, event_id=event.id, model=body.model, zone=body.zone, people=body.people,
                             agents=body.agents, max_s=body.max_s)
    runs = _runs(request)
    run = runs.start(event.id, job)
    if job.model == "macro":
        runs.wait(run, 5.0)  # seconds at most: the answer usually comes with the request
    return run.view()


def _run(request: Request, event_id: int, run_id: str) -> flows.Run:
    run = _runs(request).get(event_id, run_id)
    if run is None:
        raise NotFound(f"evacuation run {run_id} not found in event {event_id} (runs are kept in memory)")
    return run


@router.get("/events/{event_id}/evacuation-runs/{run_id}", response_model=EvacuationRunOut, tags=[TAG],
            summary="An evacuation run: progress, then the result (clearance time, flow per exit, zones)")
def get_evacuation(event: EventDep, run_id: str, request: Request, principal: Reader) -> Any:
    return _run(request, event.id, run_id).view()


@router.get("/events/{event_id}/evacuation-runs/{run_id}/heatmap.png", tags=[TAG], response_class=Response,
            responses={200: {"content": {"image/png": {}}}},
            summary="Highest density per cell over a JuPedSim run (PNG heat-map)")
def evacuation_heatmap(event: EventDep, run_id: str, request: Request, principal: Reader) -> Response:
    run = _run(request, event.id, run_id)
    if run.png is None:
        raise NotFound(f"evacuation run {run_id} has no heat-map (" + ("still running" if run.status == "running"
                                                                       else "macro model runs have none") + ")")
    return Response(run.png, media_type="image/png")
