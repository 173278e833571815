"""Hash-chained, keyed audit log.

Every flush of an :class:`Audited` object appends a row per created, changed or deleted object
(who, when, what, before/after). Reads of personal data are appended with :func:`record`.
Rows carry consecutive ids and ``hash = HMAC-SHA256(key, prev_hash + canonical row)`` with a key
kept outside the database (``ANBAO_AUDIT_KEY`` or ``var/audit_key``, see docs/audit.md); the
row's ``key_id`` names the key, so keys can rotate. Rows written before keys existed
(``key_id`` NULL) hold ``sha256(prev_hash + canonical row)`` and verify as *unkeyed*; an unkeyed
row after a keyed one is a break. A one-row head table holds the last id and hash. Editing,
deleting or reordering any row, or cutting the tail, breaks :func:`verify`; without the key nobody
can re-hash the chain after an edit. A signed checkpoint (:func:`checkpoint`), kept off the
database, pins the head: verifying against it also catches a cut tail.

Appends are serialised: PostgreSQL locks the head row, SQLite writes in ``BEGIN IMMEDIATE``
transactions. In a read-only session (:func:`anbao.core.db.reading`) :func:`record` keeps the
entry and :func:`write_pending` appends it in a short write transaction of its own after the read.

Personal data: models with ``__audit_personal__`` name their personal columns in
``__audit_personal_fields__``; :func:`redact_personal` hides those values from callers without
``person:read`` when the log is read.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, Integer, String, event, insert, inspect, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from anbao.core.db import WRITER, Base, JSONType, is_read_only
from anbao.core.time import UTCDateTime, utcnow

GENESIS = "0" * 64
#: what a caller without person:read sees in place of a personal value in the audit log
PERSONAL_MARK = "[personal]"
#: ``Session.info`` keys: the signing key of a session, the entries a read-only session keeps for later
KEY_INFO = "audit_key"
PENDING_INFO = "audit_pending"


class Audited:
    """Mixin: changes to these rows land on the audit log."""

    #: rows hold personal data (个人信息): their ``__audit_personal_fields__`` are hidden in the audit log
    #: from callers without person:read, and a read of the log that shows them is itself audited
    __audit_personal__: bool = False
    __audit_personal_fields__: tuple[str, ...] = ()
    #: columns whose values never reach the log (a change shows as "[redacted]")
    __audit_redact__: tuple[str, ...] = ()


class AuditKeyMissing(RuntimeError):
    """An unkeyed append after keyed rows, or a key id nobody loaded: a configuration error."""


@dataclass(frozen=True)
class AuditKey:
    """An HMAC key of the chain; ``id`` (16 hex digits) is derived from the secret and names it in rows."""

    id: str
    secret: bytes = field(repr=False)

    @classmethod
    def of(cls, secret: str) -> AuditKey:
        raw = secret.strip().encode()
        if len(raw) < 16:
            raise ValueError("an audit key needs at least 16 characters")
        return cls(hashlib.sha256(b"anbao-audit-key-id\0" + raw).hexdigest()[:16], raw)

    def mac(self, message: str) -> str:
        return hmac.new(self.secret, message.encode(), hashlib.sha256).hexdigest()


_keys: dict[str, AuditKey] = {}
_current: list[AuditKey] = []
_keys_lock = threading.Lock()


def use_keys(secrets: Sequence[str]) -> AuditKey:
    """Load the keys of this process: the first signs new rows (of sessions that carry no key of their
    own), every one verifies the rows it signed. Keys loaded earlier stay known. Returns the first."""
    keys = [AuditKey.of(s) for s in secrets if s.strip()]
    if not keys:
        raise ValueError("no audit key given")
    with _keys_lock:
        for k in keys:
            _keys[k.id] = k
        _current[:] = [keys[0]]
    return keys[0]


def known_key(key_id: str) -> AuditKey | None:
    with _keys_lock:
        return _keys.get(key_id)


def foreign_signing_key(conn: Any) -> str | None:
    """The key id of the newest keyed audit row when this process does not hold that key, else None.

    Every process of an installation (replicas, workers, the command line) must sign with the same key:
    one that made up its own would write rows that the others cannot verify."""
    newest = conn.execute(select(AuditEntry.key_id).where(AuditEntry.key_id.is_not(None))
                          .order_by(AuditEntry.id.desc()).limit(1)).scalar()
    if newest is None or known_key(newest) is not None:
        return None
    return str(newest)


def signing_key(db: Session) -> AuditKey | None:
    """The key that signs ``db``'s appends: the session's own, else the process's current one."""
    key = db.info.get(KEY_INFO)
    if isinstance(key, AuditKey):
        return key
    with _keys_lock:
        return _current[0] if _current else None


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
             entity_id: str | None, event_id: int | None, cause: str | None, before: Any, after: Any,
             key: AuditKey | None = None) -> str:
    """HMAC-SHA256 with ``key`` over the previous hash and the row (its key id included); without a key
    the plain SHA-256 of the rows written before keys existed."""
    fields = [id, at.isoformat(), actor, action, entity, entity_id, event_id, cause, before, after]
    if key is None:
        return hashlib.sha256((prev_hash + _canonical(fields)).encode()).hexdigest()
    return key.mac(prev_hash + _canonical([*fields, key.id]))


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


def _append(db: Session, records: list[Record], *, actor: str | None = None, cause: str | None = None) -> None:
    if not records:
        return
    key = signing_key(db)
    conn = db.connection()
    stmt = select(AuditHead).where(AuditHead.id == 1)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    head = conn.execute(stmt).first()
    if head is None:  # the first entry ever: several transactions may get here at once (PostgreSQL)
        first = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(AuditHead)
        conn.execute(first.values(id=1, last_id=None, last_hash=GENESIS).on_conflict_do_nothing())
        head = conn.execute(stmt).first()  # the winner's head, locked, once it committed
    assert head is not None
    last_id, last_hash = head.last_id or 0, head.last_hash
    if key is None and last_id and conn.execute(select(AuditEntry.key_id).where(AuditEntry.id == last_id)).scalar():
        raise AuditKeyMissing("the audit log is keyed but this process has no audit key (ANBAO_AUDIT_KEY or "
                              "var/audit_key): an unkeyed row would break the chain")
    actor = actor if actor is not None else str(db.info.get("actor", "system"))
    cause = cause if cause is not None else db.info.get("cause")
    rows = []
    for rec in records:
        last_id += 1
        at = utcnow()
        fields = dict(id=last_id, at=at, actor=actor, action=rec.action, entity=rec.entity,
                      entity_id=rec.entity_id, event_id=rec.event_id, cause=cause,
                      before=rec.before, after=rec.after)
        digest = row_hash(prev_hash=last_hash, key=key, **fields)
        rows.append({**fields, "prev_hash": last_hash, "hash": digest, "key_id": key.id if key else None})
        last_hash = digest
    conn.execute(insert(AuditEntry), rows)
    conn.execute(update(AuditHead).where(AuditHead.id == 1).values(last_id=last_id, last_hash=last_hash))


def record(db: Session, *, action: str, entity: str, entity_id: str | None = None,
           event_id: int | None = None, after: Any = None) -> None:
    """Append one entry (e.g. a read of personal data, a login): now in a write session; in a read-only
    session kept, with the actor and cause of this moment, for :func:`write_pending`."""
    rec = Record(action, entity, entity_id, event_id, None, jsonable(after))
    if is_read_only(db):
        db.info.setdefault(PENDING_INFO, []).append((str(db.info.get("actor", "system")), db.info.get("cause"), rec))
        return
    _append(db, [rec])


def write_pending(db: Session) -> int:
    """Append what :func:`record` kept in the read-only session ``db``, in one short write transaction
    (on SQLite ``BEGIN IMMEDIATE``) of a new session; returns the number of entries. Call it after the
    read and before the answer leaves: an entry that cannot be written fails the request."""
    pending = db.info.pop(PENDING_INFO, None)
    if not pending:
        return 0
    factory = db.info[WRITER]
    with factory() as w:
        if KEY_INFO in db.info:
            w.info[KEY_INFO] = db.info[KEY_INFO]
        for actor, cause, rec in pending:
            _append(w, [rec], actor=actor, cause=cause)
        w.commit()
    return len(pending)


def personal_fields() -> dict[str, tuple[str, ...]]:
    """Table name -> personal columns of every :class:`Audited` model flagged ``__audit_personal__``
    (all columns but the keys when the model names none)."""
    return _personal_fields(len(Base.registry.mappers))


@cache
def _personal_fields(_models: int) -> dict[str, tuple[str, ...]]:  # cached per number of mapped models
    out: dict[str, tuple[str, ...]] = {}
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if issubclass(cls, Audited) and cls.__audit_personal__:
            named = cls.__audit_personal_fields__ or tuple(
                a.key for a in mapper.column_attrs if a.key not in ("id", "event_id"))
            out[mapper.local_table.name] = named  # type: ignore[attr-defined]
    return out


def has_personal(entity: str, value: Any) -> bool:
    """Whether a before/after value of an ``entity`` row shows a personal field."""
    fields = personal_fields().get(entity, ())
    return isinstance(value, dict) and any(value.get(f) not in (None, "") for f in fields)


def redact_personal(entity: str, value: Any) -> Any:
    """``value`` with the personal fields of ``entity`` replaced by :data:`PERSONAL_MARK`."""
    fields = personal_fields().get(entity)
    if not fields or not isinstance(value, dict):
        return value
    return {k: (PERSONAL_MARK if k in fields and v not in (None, "") else v) for k, v in value.items()}


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
    #: rows whose HMAC held with a known key / rows of the unkeyed (sha256) past
    keyed: int = 0
    unkeyed: int = 0
    #: the head id the checkpoint named, when one was given and held
    checkpoint_id: int | None = None


def _rows(db: Session) -> Iterator[AuditEntry]:
    yield from db.execute(select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=2000)).scalars()


CHECKPOINT_KIND = "anbao-audit-checkpoint/1"


def _checkpoint_body(cp: dict[str, Any]) -> str:
    return _canonical([cp.get("kind"), cp.get("last_id"), cp.get("last_hash"), cp.get("at"), cp.get("key_id")])


def checkpoint(db: Session, key: AuditKey | None = None) -> dict[str, Any]:
    """The head of the chain (last id and hash) signed with ``key`` (default: the session's signing key).
    Keep it off the database (another machine, paper, a ticket): :func:`verify` against it proves that the
    rows up to that head are still the ones signed, and that none was cut."""
    key = key or signing_key(db)
    if key is None:
        raise AuditKeyMissing("a checkpoint is signed with the audit key: none is loaded")
    last = db.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    cp: dict[str, Any] = {"kind": CHECKPOINT_KIND, "last_id": last.id if last else 0,
                          "last_hash": last.hash if last else GENESIS, "at": utcnow().isoformat(), "key_id": key.id}
    cp["mac"] = key.mac(_checkpoint_body(cp))
    return cp


def _checkpoint_problem(cp: dict[str, Any]) -> str | None:
    if not isinstance(cp, dict) or cp.get("kind") != CHECKPOINT_KIND:
        return f"not an audit checkpoint (kind must be {CHECKPOINT_KIND!r})"
    if not isinstance(cp.get("last_id"), int) or not isinstance(cp.get("last_hash"), str):
        return "checkpoint lacks last_id or last_hash"
    key = known_key(str(cp.get("key_id")))
    if key is None:
        return f"checkpoint signed with key {cp.get('key_id')!r}, which is not loaded"
    if not hmac.compare_digest(key.mac(_checkpoint_body(cp)), str(cp.get("mac", ""))):
        return "checkpoint signature does not hold (file edited or wrong key)"
    return None


def verify(db: Session, *, checkpoint: dict[str, Any] | None = None) -> VerifyResult:
    """Walk the chain from the first row; report the first row that does not hold.

    A keyed row must hold its HMAC under the key its ``key_id`` names (a key of this process); an
    unkeyed row its SHA-256, and only before the first keyed row. With ``checkpoint`` (see
    :func:`checkpoint`), the row it names must carry the hash it signed."""
    if checkpoint is not None:
        problem = _checkpoint_problem(checkpoint)
        if problem is not None:
            return VerifyResult(False, 0, None, problem)
    cp_id = checkpoint["last_id"] if checkpoint is not None else None
    prev_hash, expected_id, keyed, unkeyed = GENESIS, 1, 0, 0

    def result(ok: bool, broken: int | None = None, reason: str | None = None) -> VerifyResult:
        return VerifyResult(ok, keyed + unkeyed, broken, reason, keyed, unkeyed,
                            cp_id if ok and checkpoint is not None else None)

    for row in _rows(db):
        if row.id != expected_id:
            return result(False, expected_id, f"row {expected_id} is missing (next row is {row.id})")
        if row.prev_hash != prev_hash:
            return result(False, row.id, "prev_hash does not match the previous row")
        key: AuditKey | None = None
        if row.key_id is not None:
            key = known_key(row.key_id)
            if key is None:
                return result(False, row.id, f"row signed with key {row.key_id!r}, which is not loaded")
        elif keyed:
            return result(False, row.id, "unkeyed row after keyed rows (rewritten without the key)")
        digest = row_hash(prev_hash=row.prev_hash, id=row.id, at=row.at, actor=row.actor, action=row.action,
                          entity=row.entity, entity_id=row.entity_id, event_id=row.event_id, cause=row.cause,
                          before=row.before, after=row.after, key=key)
        if not hmac.compare_digest(digest, row.hash):
            return result(False, row.id, "content does not match its hash (row edited)")
        if key is None:
            unkeyed += 1
        else:
            keyed += 1
        if cp_id is not None and row.id == cp_id and checkpoint is not None and row.hash != checkpoint["last_hash"]:
            return result(False, row.id, "row differs from the signed checkpoint (chain rewritten)")
        prev_hash, expected_id = row.hash, expected_id + 1
    checked = keyed + unkeyed
    if cp_id is not None and checked < cp_id:
        return result(False, checked + 1, f"the signed checkpoint names row {cp_id} but the chain ends at row "
                                          f"{checked} (rows cut)")
    head = db.get(AuditHead, 1)
    if head is not None and (head.last_id or 0) != checked:
        return result(False, checked + 1,
                      f"head names row {head.last_id} but the chain ends at row {checked} (rows cut)")
    if head is not None and head.last_hash != prev_hash:
        return result(False, checked, "head hash does not match the last row")
    return result(True)
