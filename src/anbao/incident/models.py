from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from anbao.core.audit import Audited
from anbao.core.db import Base
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
