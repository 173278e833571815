from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from anbao.core.audit import Audited
from anbao.core.db import Base, JSONType
from anbao.core.models import Timestamps
from anbao.core.time import UTCDateTime


class Incident(Audited, Timestamps, Base):
    """警情: one incident; ``client_key`` makes a report from a phone idempotent."""

    __tablename__ = "incident"
    __table_args__ = (UniqueConstraint("event_id", "client_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    client_key: Mapped[str] = mapped_column(String(80))
    type: Mapped[str] = mapped_column(String(20))
    grade: Mapped[str] = mapped_column(String(20), default="ordinary")
    source: Mapped[str] = mapped_column(String(20), default="officer")
    status: Mapped[str] = mapped_column(String(20), default="new")
    text: Mapped[str] = mapped_column(Text, default="")
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    accuracy_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id", ondelete="SET NULL"), nullable=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="SET NULL"), nullable=True)
    reported_by: Mapped[str] = mapped_column(String(120))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # 接处警 lifecycle: the lead police type (治安 → 刑侦 on hand-over) and when each stage was first reached
    police_type: Mapped[str] = mapped_column(String(20), default="public_order")
    warning_id: Mapped[int | None] = mapped_column(ForeignKey("warning.id", ondelete="SET NULL"), nullable=True)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    on_scene_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class IncidentPhoto(Base):
    """The photo of a report (JPEG or PNG), kept apart so that incident lists stay light."""

    __tablename__ = "incident_photo"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class UnitPosition(Base):
    """A unit's position as sent by a phone (append-only; not audited row by row: it is telemetry)."""

    __tablename__ = "unit_position"
    __table_args__ = (UniqueConstraint("event_id", "client_key"), Index("ix_unit_position_unit_at", "unit_id", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    client_key: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reported_by: Mapped[str] = mapped_column(String(120))


class IncidentLog(Base):
    """One change of an incident (its own timeline): status, assignment, unit progress, hand-over, edit, plan."""

    __tablename__ = "incident_log"
    __table_args__ = (Index("ix_incident_log_incident_at", "incident_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(20))  # report | status | assign | unit | handover | update | plan
    text: Mapped[str] = mapped_column(Text)
    before: Mapped[Any] = mapped_column(JSONType, nullable=True)
    after: Mapped[Any] = mapped_column(JSONType, nullable=True)
    by: Mapped[str] = mapped_column(String(120))


class Assignment(Audited, Base):
    """派警: one unit sent to one incident; its task is what the officer sees on the phone."""

    __tablename__ = "incident_assignment"
    __table_args__ = (Index("ix_incident_assignment_incident", "incident_id"),
                      Index("ix_incident_assignment_unit", "unit_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default="assigned")  # assigned en_route on_scene released cancelled
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id", ondelete="SET NULL"), nullable=True)
    eta_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    en_route_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    on_scene_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    by: Mapped[str] = mapped_column(String(120))
    note: Mapped[str] = mapped_column(Text, default="")
