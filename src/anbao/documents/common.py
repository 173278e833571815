"""What the planning documents share: the event's record read once from the database, the Chinese
label of a vocabulary code, and the planner's own text of a plan section.

Each document is built by its own module (:mod:`anbao.documents.workplan`,
:mod:`anbao.documents.special_plans`, :mod:`anbao.documents.risk_report`,
:mod:`anbao.documents.assignments`) from one :class:`Record`; :mod:`anbao.documents.plans` lists them.
Personal data stays out: units are counted, people are not named.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anbao.alert.models import WarningRule
from anbao.core.errors import AnBaoError, NotFound
from anbao.core.time import utcnow
from anbao.crowd import capacity
from anbao.event.models import Event
from anbao.org.models import CommandNode, Person, Unit
from anbao.org.scope import unit_scope
from anbao.plan.models import ResponsePlan
from anbao.plan.schemas import TO_FILL
from anbao.venue.models import Gate, Post, Zone


def zh(vocab: dict[str, tuple[str, str]], code: str | None) -> str:
    """The Chinese label of ``code`` in a vocabulary (the code itself when unknown, "" for None)."""
    return vocab.get(code or "", (code or "", ""))[0]


class Record:
    """What the documents read from the database, loaded once; a partner agency's (``agency``) record holds
    only the units it may see (:mod:`anbao.org.scope`), so every document leaves the others out."""

    def __init__(self, db: Session, event_id: int, *, agency: str | None = None) -> None:
        event = db.get(Event, event_id)
        if event is None:
            raise NotFound(f"event {event_id} not found")
        self.db, self.event = db, event
        self.tz = ZoneInfo(event.timezone)
        self.plans = list(
            db.execute(
                select(ResponsePlan).where(ResponsePlan.event_id == event_id).order_by(ResponsePlan.code)
            ).scalars()
        )
        self.nodes = list(
            db.execute(select(CommandNode).where(CommandNode.event_id == event_id).order_by(CommandNode.code)).scalars()
        )
        self.units = unit_scope(db=db, event_id=event_id, agency=agency).keep(
            db.execute(select(Unit).where(Unit.event_id == event_id).order_by(Unit.code)).scalars(), lambda u: u.id)
        self.people = dict(
            db.execute(
                select(Person.unit_id, func.count()).where(Person.event_id == event_id).group_by(Person.unit_id)
            ).all()
        )
        self.zones = list(
            db.execute(select(Zone).where(Zone.event_id == event_id).order_by(Zone.ring, Zone.code)).scalars()
        )
        self.gates = list(db.execute(select(Gate).where(Gate.event_id == event_id).order_by(Gate.code)).scalars())
        self.posts = list(db.execute(select(Post).where(Post.event_id == event_id).order_by(Post.code)).scalars())
        self.rules = list(db.execute(select(WarningRule).where(WarningRule.event_id == event_id)).scalars())
        try:
            self.capacity: dict[str, Any] | None = capacity.compute(db=db, event_id=event_id)
            self.capacity_error = ""
        except AnBaoError as exc:
            self.capacity, self.capacity_error = None, exc.message
        self.today = utcnow().astimezone(self.tz).date()
        self.node_name = {n.id: n.name for n in self.nodes}
        self.node_by_code = {n.code: n for n in self.nodes}

    @property
    def master(self) -> ResponsePlan | None:
        return next((p for p in self.plans if p.kind == "master"), None)

    @property
    def specials(self) -> list[ResponsePlan]:
        return [p for p in self.plans if p.kind != "master"]

    def local(self, when: Any) -> str:
        return when.astimezone(self.tz).strftime("%Y年%m月%d日 %H:%M")


def written(text: str | None) -> list[str]:
    """The paragraphs of a planner's text; none while it still holds the template's to-fill mark."""
    if not text or TO_FILL in text:
        return []
    return [p.strip() for p in text.splitlines() if p.strip()]
