"""Plan routes: the 1+N plans (CRUD), templates, plans from templates, regulation checks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status

from anbao.api.deps import DB, EventDep, require
from anbao.api.routing import ListQuery, resource_router
from anbao.core.auth import Perm, Principal
from anbao.core.vocab import PlanKindIn
from anbao.plan import regulation, service, templates
from anbao.plan.schemas import (
    CheckOut,
    FromTemplate,
    PlanCreate,
    PlanOut,
    PlanUpdate,
    TemplateIn,
    TemplateOut,
    TemplateUpdate,
)

TAG = "预案 plans"
Reader = Annotated[Principal, Depends(require(Perm.event_read))]
Planner = Annotated[Principal, Depends(require(Perm.plan_write))]


class PlanFilter(ListQuery):
    kind: PlanKindIn | None = None
    command_node_id: int | None = None


router = APIRouter()
router.include_router(resource_router(
    kind=service.PLANS, path="plans", tag=TAG, create=PlanCreate, update=PlanUpdate, out=PlanOut,
    read=Perm.event_read, write=Perm.plan_write, filters=PlanFilter))


















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








@router.get("/events/{event_id}/plan-check", response_model=CheckOut, tags=[TAG],
            summary="Regulation checks 合规检查 (条例 Art. 6, 7, 12, 13, 18), each finding citing its article")
def plan_check(event: EventDep, db: DB, principal: Reader) -> Any:
    findings = regulation.run(db=db, event_id=event.id)
    counts = {s: sum(1 for f in findings if f.severity == s) for s in regulation.SEVERITIES}
    return {"ok": counts["error"] == 0, "counts": counts, "findings": findings}
















