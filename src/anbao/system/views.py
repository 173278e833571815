from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select, text

from anbao import __version__
from anbao.api.deps import DB, require
from anbao.core import audit
from anbao.core.auth import ROLE_LABELS, Perm, Principal
from anbao.core.schemas import Out, UTCTime
from anbao.core.vocab import VOCABULARIES

router = APIRouter(tags=["系统 system"])
Auditor = Annotated[Principal, Depends(require(Perm.audit_read))]
Anyone = Annotated[Principal, Depends(require())]


@router.get("/health", summary="Liveness and database check (no login needed)")
def health(db: DB) -> dict[str, Any]:
    db.execute(text("SELECT 1"))
    return {"status": "ok", "version": __version__, "database": db.get_bind().dialect.name}


@router.get("/meta/vocab", summary="Controlled vocabularies with Chinese and English labels")
def vocab(principal: Anyone) -> dict[str, Any]:
    out: dict[str, Any] = {name: [{"code": c, "zh": zh, "en": en} for c, (zh, en) in items.items()]
                           for name, items in VOCABULARIES.items()}
    out["role"] = [{"code": r.value, "zh": zh, "en": r.value} for r, zh in ROLE_LABELS.items()]
    return out


class AuditOut(Out):
    id: int
    at: UTCTime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    event_id: int | None
    cause: str | None
    before: Any
    after: Any
    hash: str


@router.get("/audit", response_model=list[AuditOut], summary="Read the audit log, newest first")
def audit_log(db: DB, principal: Auditor,
              event_id: int | None = None, entity: str | None = None, actor: str | None = None,
              limit: Annotated[int, Query(ge=1, le=5000)] = 200,
              before_id: Annotated[int | None, Query(description="Page: entries older than this id")] = None,
              ) -> Any:
    stmt = select(audit.AuditEntry).order_by(audit.AuditEntry.id.desc()).limit(limit)
    if event_id is not None:
        stmt = stmt.where(audit.AuditEntry.event_id == event_id)
    if entity is not None:
        stmt = stmt.where(audit.AuditEntry.entity == entity)
    if actor is not None:
        stmt = stmt.where(audit.AuditEntry.actor == actor)
    if before_id is not None:
        stmt = stmt.where(audit.AuditEntry.id < before_id)
    return db.execute(stmt).scalars().all()


@router.get("/audit/verify", summary="Check the audit hash chain")
def audit_verify(db: DB, principal: Auditor) -> dict[str, Any]:
    result = audit.verify(db)
    return {"ok": result.ok, "checked": result.checked, "broken_id": result.broken_id, "reason": result.reason}
