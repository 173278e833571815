"""Generic keyword-only storage services for event-scoped rows (zones, gates, units, ...)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.core.audit import Audited
from anbao.core.db import Base
from anbao.core.errors import Invalid, NotFound

T = TypeVar("T")

Prepare = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class Kind:
    """How one kind of event-scoped row is checked and stored.

    ``prepare(db=, event_id=, data=, current=)`` validates references and computes derived columns
    (e.g. a zone's area); it raises :class:`Invalid` naming the field.
    """

    model: type[Any]
    label: str
    unique: str = "code"
    prepare: Prepare | None = None
    order_by: tuple[str, ...] = ("id",)
    filters: tuple[str, ...] = field(default_factory=tuple)


def list_rows(*, db: Session, kind: Kind, event_id: int, limit: int | None = 1000, offset: int = 0,
              where: dict[str, Any] | None = None) -> Sequence[Any]:
    stmt = select(kind.model).where(kind.model.event_id == event_id)
    for key, value in (where or {}).items():
        if value is not None:
            stmt = stmt.where(getattr(kind.model, key) == value)
    stmt = stmt.order_by(*(getattr(kind.model, c) for c in kind.order_by)).limit(limit).offset(offset)
    return db.execute(stmt).scalars().all()


def get_row(*, db: Session, kind: Kind, event_id: int, row_id: int) -> Any | None:
    row = db.get(kind.model, row_id)
    if row is None or row.event_id != event_id:
        return None
    return row


def require_row(*, db: Session, kind: Kind, event_id: int, row_id: int) -> Any:
    row = get_row(db=db, kind=kind, event_id=event_id, row_id=row_id)
    if row is None:
        raise NotFound(f"{kind.label} {row_id} not found in event {event_id}")
    return row


def by_unique(*, db: Session, kind: Kind, event_id: int, value: str) -> Any | None:
    col = getattr(kind.model, kind.unique)
    return db.execute(
        select(kind.model).where(kind.model.event_id == event_id, col == value)
    ).scalar_one_or_none()


def ref(*, db: Session, kind: Kind, event_id: int, row_id: int | None, field_name: str) -> Any | None:
    """Resolve a reference field to a row of the same event, or raise Invalid naming the field."""
    if row_id is None:
        return None
    row = get_row(db=db, kind=kind, event_id=event_id, row_id=row_id)
    if row is None:
        raise Invalid(f"{kind.label} {row_id} does not exist in this event", loc=["body", field_name])
    return row


def create_row(*, db: Session, kind: Kind, event_id: int, data: dict[str, Any]) -> Any:
    value = data.get(kind.unique)
    if value is not None and by_unique(db=db, kind=kind, event_id=event_id, value=value) is not None:
        raise Invalid(f"{kind.label} {kind.unique} {value!r} already exists in this event",
                      loc=["body", kind.unique])
    if kind.prepare is not None:
        data = kind.prepare(db=db, event_id=event_id, data=data, current=None)
    row = kind.model(event_id=event_id, **data)
    db.add(row)
    db.flush()
    return row


def create_rows(*, db: Session, kind: Kind, event_id: int, items: Sequence[dict[str, Any]]) -> list[Any]:
    """Create many rows with one uniqueness query and one flush (one audit append for the batch).

    Same checks as :func:`create_row`; a bad item raises :class:`Invalid` whose loc starts with its index,
    and nothing of the batch is added.
    """
    values = [item.get(kind.unique) for item in items]
    seen: set[Any] = set()
    for i, value in enumerate(values):
        if value is not None and value in seen:
            raise Invalid(f"{kind.label} {kind.unique} {value!r} appears twice in this batch", loc=[i, kind.unique])
        seen.add(value)
    col = getattr(kind.model, kind.unique)
    wanted = [v for v in values if v is not None]
    taken = set(db.execute(select(col).where(kind.model.event_id == event_id, col.in_(wanted))).scalars()) \
        if wanted else set()
    rows = []
    for i, item in enumerate(items):
        if item.get(kind.unique) in taken:
            raise Invalid(f"{kind.label} {kind.unique} {item[kind.unique]!r} already exists in this event",
                          loc=[i, kind.unique])
        data = item
        if kind.prepare is not None:
            try:
                data = kind.prepare(db=db, event_id=event_id, data=item, current=None)
            except Invalid as exc:
                raise Invalid(exc.message, loc=[i, *exc.loc[1:]]) from exc
        rows.append(kind.model(event_id=event_id, **data))
    db.add_all(rows)
    db.flush()
    return rows


def update_row(*, db: Session, kind: Kind, row: Any, data: dict[str, Any]) -> Any:
    if kind.prepare is not None:
        data = kind.prepare(db=db, event_id=row.event_id, data=data, current=row)
    for key, value in data.items():
        setattr(row, key, value)
    db.flush()
    return row


def delete_row(*, db: Session, row: Any) -> None:
    """Delete a row and what depends on it, every step through the ORM so each lands on the audit log.

    The foreign keys' ON DELETE rules (CASCADE, SET NULL) would do the same silently inside the
    database; here audited dependents are deleted (dependent tables first) or unlinked one by one
    first. Unaudited bulk rows (readings) are left to the database's cascade.
    """
    _release_dependents(db, row)
    db.delete(row)
    db.flush()


def _release_dependents(db: Session, row: Any) -> None:
    classes = {m.local_table: m.class_ for m in Base.registry.mappers}
    touched = False
    for table in reversed(Base.metadata.sorted_tables):
        cls = classes.get(table)
        if cls is None or not issubclass(cls, Audited):
            continue  # unaudited bulk data (readings) goes with the database's own ON DELETE rule
        for fk in table.foreign_keys:
            if fk.column.table is not row.__table__ or fk.ondelete not in ("CASCADE", "SET NULL"):
                continue
            children = db.execute(select(cls).where(fk.parent == getattr(row, fk.column.key))).scalars().all()
            for child in children:
                if child is row:
                    continue
                if fk.ondelete == "CASCADE":
                    _release_dependents(db, child)
                    db.delete(child)
                else:
                    setattr(child, fk.parent.key, None)
                touched = True
            db.flush()
    if touched:
        db.expire(row)

