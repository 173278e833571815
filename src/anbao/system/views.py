from __future__ import annotations

import asyncio
import weakref
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.pool import NullPool

from anbao import __version__
from anbao.alert.rules import DEFAULT_RULES
from anbao.algorithms.levels import DEFAULT_DENSITY, Level
from anbao.api.deps import DB, require
from anbao.core import audit
from anbao.core.auth import ROLE_LABELS, Perm, Principal
from anbao.core.schemas import Out, UTCTime
from anbao.core.vocab import VOCABULARIES, WARNING_COLOURS, WARNING_LEVELS

router = APIRouter(tags=["系统 system"])
Auditor = Annotated[Principal, Depends(require(Perm.audit_read))]
#: every role holds venue:read, so any logged-in user may read what every page needs to start
Reader = Annotated[Principal, Depends(require(Perm.venue_read))]


#: health checks run here, not in the request thread pool that a flood of slow requests (password checks,
#: documents) can fill; a connection of their own, not one from the pool those requests hold
_health_threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="anbao-health")
_health_engines: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def _check(engine: Engine) -> str:
    own = _health_engines.get(engine)
    if own is None:
        own = _health_engines[engine] = create_engine(engine.url, poolclass=NullPool)
    with own.connect() as conn:
        conn.execute(text("SELECT 1"))
    return engine.dialect.name


@router.get("/health", summary="Liveness and database check (no login needed)")
async def health(request: Request) -> dict[str, Any]:
    database = await asyncio.get_running_loop().run_in_executor(_health_threads, _check, request.app.state.engine)
    return {"status": "ok", "version": __version__, "database": database}


class VocabItem(BaseModel):
    code: str
    zh: str
    en: str


class WarningLevelOut(VocabItem):
    rank: int = Field(description="1 (blue) .. 4 (red): higher is more serious; 0 is no warning")
    colour: str = Field(description="Screen colour, #rrggbb")


class VocabOut(BaseModel):
    """Every code list by name at the top level (``police_type``, ``zone_kind``..., in display order, as
    this route has always served them), plus the warning levels and the default thresholds."""

    model_config = ConfigDict(extra="allow")

    warning_levels: list[WarningLevelOut] = Field(description="The four warning levels, least serious first")
    density_thresholds: dict[str, float | None] = Field(
        description="Persons/m2 at which each level starts for a zone whose event has no density rule")
    rule_thresholds: dict[str, dict[str, float | None]] = Field(
        description="Default thresholds of each warning-rule kind (a new event's rules start from them)")


@cache
def _vocab() -> VocabOut:
    lists = {name: [VocabItem(code=c, zh=zh, en=en).model_dump() for c, (zh, en) in items.items()]
             for name, items in VOCABULARIES.items()}
    lists["role"] = [VocabItem(code=r.value, zh=zh, en=r.value).model_dump() for r, zh in ROLE_LABELS.items()]
    levels = [WarningLevelOut(code=c, zh=zh, en=en, rank=Level[c.upper()].value, colour=WARNING_COLOURS[c])
              for c, (zh, en) in WARNING_LEVELS.items()]
    return VocabOut(**lists, warning_levels=levels,
                    density_thresholds={c: getattr(DEFAULT_DENSITY, c) for c in WARNING_LEVELS},
                    rule_thresholds={r["kind"]: {c: r[c] for c in WARNING_LEVELS} for r in DEFAULT_RULES})


@router.get("/meta/vocab", response_model=VocabOut,
            summary="Code lists with Chinese and English labels, warning levels and default thresholds")
def vocab(principal: Reader) -> VocabOut:
    return _vocab()


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
    key_id: str | None = Field(default=None, description="The audit key that signed the row; null: unkeyed (older)")
    redacted: bool = Field(default=False, description=f"Personal fields (个人信息) shown as {audit.PERSONAL_MARK!r}: "
                                                      "the caller lacks person:read")


def _entry_out(row: audit.AuditEntry, *, redact: bool) -> dict[str, Any]:
    out = {k: getattr(row, k) for k in AuditOut.model_fields if k != "redacted"}
    if redact and (audit.has_personal(row.entity, row.before) or audit.has_personal(row.entity, row.after)):
        out.update(before=audit.redact_personal(row.entity, row.before),
                   after=audit.redact_personal(row.entity, row.after), redacted=True)
    return out


@router.get("/audit", response_model=list[AuditOut],
            summary="Read the audit log, newest first; personal fields are hidden from callers without person:read, "
                    "and a read that shows them is itself audited")
def audit_log(db: DB, principal: Auditor,
              event_id: int | None = None, entity: str | None = None, actor: str | None = None,
              limit: Annotated[int, Query(ge=1, le=5000)] = 200,
              before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="Page: older entries")] = None,
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
    rows = db.execute(stmt).scalars().all()
    redact = not principal.can(Perm.person_read)
    if not redact:
        shown = [r.id for r in rows if audit.has_personal(r.entity, r.before) or audit.has_personal(r.entity, r.after)]
        if shown:  # personal data read through the log: audited like any read of it
            audit.record(db, action="read", entity="audit_log", entity_id=str(shown[0]) if len(shown) == 1 else None,
                         after={"count": len(shown), "ids": shown, "personal": True})
    return [_entry_out(r, redact=redact) for r in rows]


@router.get("/audit/verify", summary="Check the audit hash chain")
def audit_verify(db: DB, principal: Auditor) -> dict[str, Any]:
    result = audit.verify(db)
    return {"ok": result.ok, "checked": result.checked, "broken_id": result.broken_id, "reason": result.reason,
            "keyed": result.keyed, "unkeyed": result.unkeyed}
