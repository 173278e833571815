from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from anbao.core.audit import Audited
from anbao.core.db import Base
from anbao.core.models import Timestamps
from anbao.core.time import UTCDateTime


class Event(Audited, Timestamps, Base):
    __tablename__ = "event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    organiser: Mapped[str] = mapped_column(String(200), default="")
    expected_attendance: Mapped[int] = mapped_column(Integer, default=0)
    approved_attendance: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="preparing")
    timezone: Mapped[str] = mapped_column(String(60), default="Asia/Shanghai")
    description: Mapped[str] = mapped_column(Text, default="")
    shared_agencies: Mapped[list[str]] = mapped_column(default=list)
    # the permit (条例 Art. 12-13, 7): when the organiser applied, who approves, tickets issued
    applied_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    approval_authority: Mapped[str] = mapped_column(String(20), default="")
    cross_province: Mapped[bool] = mapped_column(default=False)
    tickets_issued: Mapped[int | None] = mapped_column(Integer, nullable=True)

    sessions: Mapped[list[EventSession]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="EventSession.start",
        lazy="selectin",
    )


class EventSession(Audited, Base):
    """One session 场次 of an event."""

    __tablename__ = "event_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())

    event: Mapped[Event] = relationship(back_populates="sessions")
