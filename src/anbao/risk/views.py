"""Risk register routes: risks with their assessment, expert scores, the matrix (heat-map), zone levels."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status

from anbao.api.deps import DB, EventDep, require
from anbao.core import crud
from anbao.core.auth import Perm, Principal
from anbao.core.errors import NotFound
from anbao.core.time import utcnow
from anbao.core.vocab import RiskCategoryIn, RiskLevelIn
from anbao.risk import service
from anbao.risk.models import Risk, RiskScore
from anbao.risk.schemas import MatrixIn, MatrixOut, RiskCreate, RiskOut, RiskUpdate, ScoreIn, ScoreOut, ZoneRiskOut

TAG = "风险评估 risks"
Reader = Annotated[Principal, Depends(require(Perm.event_read))]
Writer = Annotated[Principal, Depends(require(Perm.plan_write))]

router = APIRouter(tags=[TAG])


def _risk(db: DB, event_id: int, risk_id: int) -> Risk:
    row: Risk = crud.require_row(db=db, kind=service.RISKS, event_id=event_id, row_id=risk_id)
    return row


def _one(db: DB, row: Risk) -> dict[str, Any]:
    return service.assess(db=db, event_id=row.event_id, risks=[row])[0]


@router.get("/events/{event_id}/risks", response_model=list[RiskOut],
            summary="The risk register 风险清单 with expert scores, aggregate, residual and current level")
def list_risks(event: EventDep, db: DB, principal: Reader,
               category: Annotated[RiskCategoryIn | None, Query(description="Only this category")] = None,
               level: Annotated[RiskLevelIn | None, Query(description="Only risks at this current level")] = None,
               zone_id: Annotated[int | None, Query(description="Only risks linked to this zone")] = None,
               disagreement: Annotated[bool | None, Query(description="Only risks the experts disagree on")] = None,
               ) -> Any:
    out = service.assess(db=db, event_id=event.id)
    if category is not None:
        out = [a for a in out if a["category"] == category]
    if level is not None:
        out = [a for a in out if a["level"] == level]
    if zone_id is not None:
        out = [a for a in out if zone_id in (a["zone_ids"] or [])]
    if disagreement is not None:
        out = [a for a in out if bool(a["aggregate"] and a["aggregate"]["disagreement"]) == disagreement]
    return out


@router.post("/events/{event_id}/risks", response_model=RiskOut, status_code=status.HTTP_201_CREATED,
             summary="Add a risk 识别风险")
def create_risk(event: EventDep, body: RiskCreate, db: DB, principal: Writer) -> Any:
    return _one(db, crud.create_row(db=db, kind=service.RISKS, event_id=event.id, data=body.model_dump()))


@router.get("/events/{event_id}/risks/{risk_id}", response_model=RiskOut, summary="One risk with its assessment")
def get_risk(event: EventDep, risk_id: int, db: DB, principal: Reader) -> Any:
    return _one(db, _risk(db, event.id, risk_id))


@router.patch("/events/{event_id}/risks/{risk_id}", response_model=RiskOut,
              summary="Change a risk: text, zones, controls, residual score")
def update_risk(event: EventDep, risk_id: int, body: RiskUpdate, db: DB, principal: Writer) -> Any:
    row = _risk(db, event.id, risk_id)
    return _one(db, crud.update_row(db=db, kind=service.RISKS, row=row, data=body.model_dump(exclude_unset=True)))


@router.delete("/events/{event_id}/risks/{risk_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Delete a risk and its scores")
def delete_risk(event: EventDep, risk_id: int, db: DB, principal: Writer) -> Response:
    crud.delete_row(db=db, row=_risk(db, event.id, risk_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/events/{event_id}/risks/{risk_id}/scores", response_model=ScoreOut,
             summary="An expert's score 专家打分 (likelihood and impact 1-5); the same expert again replaces it")
def add_score(event: EventDep, risk_id: int, body: ScoreIn, db: DB, principal: Writer) -> Any:
    row = service.score(db=db, risk=_risk(db, event.id, risk_id), expert=body.expert, likelihood=body.likelihood,
                        impact=body.impact, note=body.note, by=principal.actor, now=utcnow())
    m, _, _ = service.matrix(db=db, event_id=event.id)
    return {**{c: getattr(row, c) for c in ("id", "risk_id", "expert", "likelihood", "impact", "note", "scored_at",
                                             "by")}, "level": m.level(row.likelihood, row.impact)}


@router.delete("/events/{event_id}/risks/{risk_id}/scores/{score_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Withdraw an expert's score")
def delete_score(event: EventDep, risk_id: int, score_id: int, db: DB, principal: Writer) -> Response:
    _risk(db, event.id, risk_id)
    row = db.get(RiskScore, score_id)
    if row is None or row.risk_id != risk_id:
        raise NotFound(f"score {score_id} not found on risk {risk_id}")
    service.remove_score(db=db, row=row)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _matrix_out(db: DB, event_id: int) -> dict[str, Any]:
    m, spread, gap = service.matrix(db=db, event_id=event_id)
    before, after = service.heat_counts(service.assess(db=db, event_id=event_id))
    return {"rows": service.matrix_rows(m), "spread_limit": spread, "level_gap": gap,
            "default": service.matrix_row(db=db, event_id=event_id) is None, "counts": before,
            "residual_counts": after}


@router.get("/events/{event_id}/risk-matrix", response_model=MatrixOut,
            summary="The event's risk matrix 风险矩阵 and how many risks sit in each cell (heat-map)")
def get_matrix(event: EventDep, db: DB, principal: Reader) -> Any:
    return _matrix_out(db, event.id)


@router.put("/events/{event_id}/risk-matrix", response_model=MatrixOut,
            summary="Set the matrix: all 25 cells, never lower for a worse cell (422 names the cell)")
def put_matrix(event: EventDep, body: MatrixIn, db: DB, principal: Writer) -> Any:
    service.set_matrix(db=db, event_id=event.id, rows=[[str(c) for c in r] for r in body.rows],
                       spread_limit=body.spread_limit, level_gap=body.level_gap)
    return _matrix_out(db, event.id)


@router.delete("/events/{event_id}/risk-matrix", response_model=MatrixOut,
               summary="Go back to the built-in matrix (levels by likelihood x impact)")
def reset_matrix(event: EventDep, db: DB, principal: Writer) -> Any:
    service.reset_matrix(db=db, event_id=event.id)
    return _matrix_out(db, event.id)


@router.get("/events/{event_id}/zone-risks", response_model=list[ZoneRiskOut],
            summary="Each zone's risk level (worst current level of its risks), for deployment")
def zone_risks(event: EventDep, db: DB, principal: Reader) -> Any:
    return service.zone_levels(db=db, event_id=event.id)
