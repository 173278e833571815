"""Event services (keyword-only)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.core import crud
from anbao.core.errors import Invalid
from anbao.event.models import Event, EventSession
from anbao.event.schemas import EventCreate, EventUpdate, SessionIn


def visible(event: Event, *, agency: str | None) -> bool:
    """A partner (``agency`` set) sees only events shared with its agency."""
    return agency is None or agency in (event.shared_agencies or [])


def list_events(*, db: Session, agency: str | None = None) -> Sequence[Event]:
    events = db.execute(select(Event).order_by(Event.id)).scalars().all()
    return [e for e in events if visible(e, agency=agency)]


def get(*, db: Session, event_id: int) -> Event | None:
    return db.get(Event, event_id)


def get_by_code(*, db: Session, code: str) -> Event | None:
    return db.execute(select(Event).where(Event.code == code)).scalar_one_or_none()


def _sessions(items: list[SessionIn]) -> list[EventSession]:
    """Sessions in start order, as every later read returns them."""
    return [EventSession(**s.model_dump()) for s in sorted(items, key=lambda s: s.start)]


def create(*, db: Session, data: EventCreate) -> Event:
    if get_by_code(db=db, code=data.code) is not None:
        raise Invalid(f"event code {data.code!r} already exists", loc=["body", "code"])
    fields = data.model_dump(exclude={"sessions"})
    fields["approval_authority"] = fields["approval_authority"] or ""
    event = Event(**fields, sessions=_sessions(data.sessions))
    db.add(event)
    db.flush()
    return event


def update(*, db: Session, event: Event, data: EventUpdate) -> Event:
    fields = data.model_dump(exclude_unset=True, exclude={"sessions"})
    for key, value in fields.items():
        if value is None and key not in ("approved_attendance", "applied_on", "tickets_issued", "approval_authority"):
            raise Invalid(f"{key} cannot be null", loc=["body", key])
        setattr(event, key, "" if key == "approval_authority" and value is None else value)
    if data.sessions is not None:
        event.sessions = _sessions(data.sessions)
    db.flush()
    return event


def delete(*, db: Session, event: Event) -> None:
    """Delete an event and everything it holds, each row through the ORM so each lands on the audit log."""
    crud.delete_row(db=db, row=event)
