"""Risk register services (keyword-only): risks, expert scores, the event's matrix, zone risk levels.

The levels come from :mod:`anbao.algorithms.risk`: the event's matrix (or the built-in one, levels
by likelihood x impact, a catastrophic impact at least 高), the experts' aggregate (median, spread,
disagreement) and the residual score after the controls. A risk's current level is its residual level
when that is scored, else the aggregate; a zone's level is the worst current level of the risks linked
to it (for deployment).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.algorithms import risk as alg
from anbao.core import crud
from anbao.core.errors import Invalid
from anbao.event.models import EventSession
from anbao.risk.models import Risk, RiskMatrix, RiskScore
from anbao.venue.models import Zone


def prepare_risk(*, db: Session, event_id: int, data: dict[str, Any], current: Risk | None) -> dict[str, Any]:
    for key in ("name", "category", "source", "description", "zone_ids", "session_ids", "controls", "owner"):
        if key in data and data[key] is None:
            raise Invalid(f"{key} cannot be null", loc=["body", key])
    for field, model in (("zone_ids", Zone), ("session_ids", EventSession)):
        ids = data.get(field)
        if not ids:
            continue
        known = set(db.execute(select(model.id).where(model.event_id == event_id, model.id.in_(ids))).scalars())
        for i, value in enumerate(ids):
            if value not in known:
                what = "zone" if field == "zone_ids" else "session"
                raise Invalid(f"{what} {value} does not exist in this event", loc=["body", field, i])
        data[field] = list(dict.fromkeys(ids))
    return data


RISKS = crud.Kind(model=Risk, label="risk", prepare=prepare_risk, order_by=("code",))


def matrix_row(*, db: Session, event_id: int) -> RiskMatrix | None:
    return db.get(RiskMatrix, event_id)


def matrix(*, db: Session, event_id: int) -> tuple[alg.Matrix, int, int]:
    """The event's matrix and its 会商 limits (spread_limit, level_gap); the built-in one when none is set."""
    row = matrix_row(db=db, event_id=event_id)
    if row is None:
        return alg.DEFAULT_MATRIX, 2, 2
    return alg.matrix_from_rows(row.rows), row.spread_limit, row.level_gap


def matrix_rows(m: alg.Matrix) -> list[list[str]]:
    return [[m.cells[(li, im)] for im in alg.SCALE] for li in alg.SCALE]


def set_matrix(*, db: Session, event_id: int, rows: list[list[str]], spread_limit: int, level_gap: int) -> RiskMatrix:
    """Store the event's matrix; Invalid (422) naming the row and cell when it is incomplete or inconsistent."""
    try:
        alg.matrix_from_rows(rows)
    except alg.RiskError as exc:
        raise Invalid(str(exc), loc=["body", "rows"]) from exc
    row = matrix_row(db=db, event_id=event_id)
    if row is None:
        row = RiskMatrix(event_id=event_id, rows=rows, spread_limit=spread_limit, level_gap=level_gap)
        db.add(row)
    else:
        row.rows, row.spread_limit, row.level_gap = rows, spread_limit, level_gap
    db.flush()
    return row


def reset_matrix(*, db: Session, event_id: int) -> None:
    row = matrix_row(db=db, event_id=event_id)
    if row is not None:
        db.delete(row)
        db.flush()


def scores(*, db: Session, event_id: int, risk_id: int | None = None) -> list[RiskScore]:
    stmt = select(RiskScore).where(RiskScore.event_id == event_id)
    if risk_id is not None:
        stmt = stmt.where(RiskScore.risk_id == risk_id)
    return list(db.execute(stmt.order_by(RiskScore.risk_id, RiskScore.expert)).scalars())


def score(*, db: Session, risk: Risk, expert: str, likelihood: int, impact: int, note: str, by: str,
          now: datetime) -> RiskScore:
    """Record one expert's score of ``risk``; the same expert scoring again replaces the score."""
    for what, value in (("likelihood", likelihood), ("impact", impact)):
        try:
            alg.check_score(value, what)
        except alg.RiskError as exc:
            raise Invalid(str(exc), loc=["body", what]) from exc
    name = (expert or by).strip()[:120]
    row = db.execute(select(RiskScore).where(RiskScore.risk_id == risk.id, RiskScore.expert == name)).scalars().first()
    if row is None:
        row = RiskScore(event_id=risk.event_id, risk_id=risk.id, expert=name, likelihood=likelihood, impact=impact,
                        note=note, scored_at=now, by=by)
        db.add(row)
    else:
        row.likelihood, row.impact, row.note, row.scored_at, row.by = likelihood, impact, note, now, by
    db.flush()
    return row


def remove_score(*, db: Session, row: RiskScore) -> None:
    db.delete(row)
    db.flush()


def assess(*, db: Session, event_id: int, risks: list[Risk] | None = None) -> list[dict[str, Any]]:
    """Each risk with its scores (with each expert's level), aggregate, residual level and current level."""
    m, spread, gap = matrix(db=db, event_id=event_id)
    rows = risks if risks is not None else list(crud.list_rows(db=db, kind=RISKS, event_id=event_id, limit=None))
    by_risk: dict[int, list[RiskScore]] = {}
    for s in scores(db=db, event_id=event_id):
        by_risk.setdefault(s.risk_id, []).append(s)
    out = []
    for r in rows:
        mine = by_risk.get(r.id, [])
        agg = alg.aggregate([alg.Score(s.expert, s.likelihood, s.impact) for s in mine], m, spread_limit=spread,
                            level_gap=gap) if mine else None
        residual = m.level(r.residual_likelihood, r.residual_impact) \
            if r.residual_likelihood is not None and r.residual_impact is not None else None
        out.append({
            **{c: getattr(r, c) for c in ("id", "event_id", "code", "name", "category", "source", "description",
                                          "zone_ids", "session_ids", "controls", "residual_likelihood",
                                          "residual_impact", "owner", "created_at", "updated_at")},
            "scores": [{"id": s.id, "risk_id": s.risk_id, "expert": s.expert, "likelihood": s.likelihood,
                        "impact": s.impact, "level": m.level(s.likelihood, s.impact), "note": s.note,
                        "scored_at": s.scored_at, "by": s.by} for s in mine],
            "aggregate": {k: v for k, v in asdict(agg).items() if k != "levels"} if agg else None,
            "residual_level": residual,
            "level": residual or (agg.level if agg else None),
        })
    return out


def heat_counts(assessed: list[dict[str, Any]]) -> tuple[list[list[int]], list[list[int]]]:
    """Risks per matrix cell (likelihood row, impact column) before and after the controls."""
    before = [[0] * 5 for _ in alg.SCALE]
    after = [[0] * 5 for _ in alg.SCALE]
    for a in assessed:
        if a["aggregate"]:
            before[a["aggregate"]["likelihood"] - 1][a["aggregate"]["impact"] - 1] += 1
        if a["residual_likelihood"] is not None and a["residual_impact"] is not None:
            after[a["residual_likelihood"] - 1][a["residual_impact"] - 1] += 1
    return before, after


def zone_levels(*, db: Session, event_id: int) -> list[dict[str, Any]]:
    """Every zone with the worst current level of the risks linked to it (None: no scored risk)."""
    assessed = [a for a in assess(db=db, event_id=event_id) if a["level"]]
    rank = {lv: i for i, lv in enumerate(alg.LEVELS)}
    out = []
    for z in db.execute(select(Zone).where(Zone.event_id == event_id).order_by(Zone.code)).scalars():
        mine = sorted((a for a in assessed if z.id in (a["zone_ids"] or [])),
                      key=lambda a: (-rank[a["level"]], a["code"]))
        out.append({"zone_id": z.id, "code": z.code, "name": z.name,
                    "level": mine[0]["level"] if mine else None, "risks": [a["code"] for a in mine]})
    return out
