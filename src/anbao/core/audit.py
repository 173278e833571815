"""Hash-chained audit log.

Every flush of an :class:`Audited` object appends a row per created, changed or deleted object
(who, when, what, before/after). Reads of personal data are appended with :func:`record`.
Rows carry consecutive ids and ``hash = sha256(prev_hash + canonical row)``; a one-row head table
holds the last id and hash. Editing, deleting or reordering any row, or cutting the tail, breaks
:func:`verify`. Appends are serialised: PostgreSQL locks the head row, SQLite runs every
transaction as ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import BigInteger, Integer, String, event, insert, inspect, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from anbao.core.db import Base, JSONType
from anbao.core.time import UTCDateTime, utcnow

GENESIS = "0" * 64
PERSONAL_MARK = "__personal__"


class Audited:
    """Mixin: changes to these rows land on the audit log."""

    __audit_personal__: bool = False
    #: columns whose values never reach the log (a change shows as "[redacted]")
    __audit_redact__: tuple[str, ...] = ()


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(60), index=True)
    entity_id: Mapped[str | None] = mapped_column(String(60))
    event_id: Mapped[int | None] = mapped_column(Integer, index=True)
    cause: Mapped[str | None] = mapped_column(String(80))
    before: Mapped[Any] = mapped_column(JSONType, nullable=True)
    after: Mapped[Any] = mapped_column(JSONType, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    #: the key that signed ``hash`` (HMAC); None: an unkeyed sha256 row
    key_id: Mapped[str | None] = mapped_column(String(16), nullable=True)


class AuditHead(Base):
    """The single row that names the newest audit entry; also the append lock on PostgreSQL."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_hash: Mapped[str] = mapped_column(String(64))


@dataclass(frozen=True)
class Record:
    action: str
    entity: str
    entity_id: str | None
    event_id: int | None
    before: Any
    after: Any


def jsonable(value: Any) -> Any:
    """A JSON-safe, canonical form of a column value."""
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo is not None else value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def row_hash(*, prev_hash: str, id: int, at: datetime, actor: str, action: str, entity: str,
             entity_id: str | None, event_id: int | None, cause: str | None, before: Any, after: Any) -> str:
    body = _canonical([id, at.isoformat(), actor, action, entity, entity_id, event_id, cause, before, after])
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _snapshot(obj: Any, *, committed: bool) -> dict[str, Any]:
    state = inspect(obj)
    out: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        hist = state.attrs[attr.key].history
        if committed:
            if hist.deleted:
                value = hist.deleted[0]
            elif hist.unchanged:
                value = hist.unchanged[0]
            else:
                value = getattr(obj, attr.key) if not hist.added else None
        else:
            value = getattr(obj, attr.key)
        out[attr.key] = jsonable(value)
    for key in getattr(obj, "__audit_redact__", ()):
        if out.get(key) is not None:
            out[key] = "[redacted:" + hashlib.sha256(str(out[key]).encode()).hexdigest()[:8] + "]"
    return out


def _identity(obj: Any) -> str | None:
    state = inspect(obj)
    ident = state.identity or state.mapper.primary_key_from_instance(obj)
    return None if ident is None or all(v is None for v in ident) else ",".join(str(v) for v in ident)


def _append(db: Session, records: list[Record]) -> None:
    if not records:
        return
    conn = db.connection()
    stmt = select(AuditHead).where(AuditHead.id == 1)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    head = conn.execute(stmt).first()
    if head is None:
        conn.execute(insert(AuditHead).values(id=1, last_id=None, last_hash=GENESIS))
        last_id, last_hash = 0, GENESIS
    else:
        last_id, last_hash = head.last_id or 0, head.last_hash
    actor = str(db.info.get("actor", "system"))
    cause = db.info.get("cause")
    rows = []
    for rec in records:
        last_id += 1
        at = utcnow()
        fields = dict(id=last_id, at=at, actor=actor, action=rec.action, entity=rec.entity,
                      entity_id=rec.entity_id, event_id=rec.event_id, cause=cause,
                      before=rec.before, after=rec.after)
        digest = row_hash(prev_hash=last_hash, **fields)
        rows.append({**fields, "prev_hash": last_hash, "hash": digest})
        last_hash = digest
    conn.execute(insert(AuditEntry), rows)
    conn.execute(update(AuditHead).where(AuditHead.id == 1).values(last_id=last_id, last_hash=last_hash))


def record(db: Session, *, action: str, entity: str, entity_id: str | None = None,
           event_id: int | None = None, after: Any = None) -> None:
    """Append one entry now (e.g. a read of personal data, a login)."""
    _append(db, [Record(action, entity, entity_id, event_id, None, jsonable(after))])


def _event_id_of(obj: Any) -> int | None:
    if obj.__class__.__name__ == "Event":
        return getattr(obj, "id", None)
    return getattr(obj, "event_id", None)


@event.listens_for(Session, "after_flush")
def _audit_flush(db: Session, _ctx: Any) -> None:
    records: list[Record] = []
    for obj in db.new:
        if isinstance(obj, Audited):
            records.append(Record("create", obj.__tablename__, _identity(obj), _event_id_of(obj),  # type: ignore[attr-defined]
                                  None, _snapshot(obj, committed=False)))
    for obj in db.dirty:
        if isinstance(obj, Audited) and db.is_modified(obj, include_collections=False):
            before = _snapshot(obj, committed=True)
            after = _snapshot(obj, committed=False)
            changed = {k for k in after if before.get(k) != after[k]}
            if changed:
                records.append(Record("update", obj.__tablename__, _identity(obj), _event_id_of(obj),  # type: ignore[attr-defined]
                                      {k: before[k] for k in sorted(changed)},
                                      {k: after[k] for k in sorted(changed)}))
    for obj in db.deleted:
        if isinstance(obj, Audited):
            records.append(Record("delete", obj.__tablename__, _identity(obj), _event_id_of(obj),  # type: ignore[attr-defined]
                                  _snapshot(obj, committed=True), None))
    _append(db, records)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str | None = None


def _rows(db: Session) -> Iterator[AuditEntry]:
    yield from db.execute(select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=2000)).scalars()


def verify(db: Session) -> VerifyResult:
    """Walk the chain from the first row; report the first row that does not hold."""
    prev_hash, expected_id, checked = GENESIS, 1, 0
    for row in _rows(db):
        if row.id != expected_id:
            return VerifyResult(False, checked, expected_id, f"row {expected_id} is missing (next row is {row.id})")
        if row.prev_hash != prev_hash:
            return VerifyResult(False, checked, row.id, "prev_hash does not match the previous row")
        digest = row_hash(prev_hash=row.prev_hash, id=row.id, at=row.at, actor=row.actor, action=row.action,
                          entity=row.entity, entity_id=row.entity_id, event_id=row.event_id, cause=row.cause,
                          before=row.before, after=row.after)
        if digest != row.hash:
            return VerifyResult(False, checked, row.id, "content does not match its hash (row edited)")
        prev_hash, expected_id, checked = row.hash, expected_id + 1, checked + 1
    head = db.get(AuditHead, 1)
    if head is not None and (head.last_id or 0) != checked:
        return VerifyResult(False, checked, checked + 1,
                            f"head names row {head.last_id} but the chain ends at row {checked} (rows cut)")
    if head is not None and head.last_hash != prev_hash:
        return VerifyResult(False, checked, checked, "head hash does not match the last row")
    return VerifyResult(True, checked)
