from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from anbao.core.audit import Audited
from anbao.core.db import Base, JSONType
from anbao.core.models import EventScoped, Timestamps
from anbao.core.time import UTCDateTime


class Risk(Audited, EventScoped, Timestamps, Base):
    """风险: one identified risk of an event (``name`` is its title), scored by experts.

    ``controls`` is a list of ``{"measure", "owner", "done"}`` (管控措施); the residual likelihood and
    impact are the planners' score after the controls (剩余风险).
    """

    __tablename__ = "risk"
    __table_args__ = (UniqueConstraint("event_id", "code"),)

    category: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    zone_ids: Mapped[Any] = mapped_column(JSONType, default=list)
    session_ids: Mapped[Any] = mapped_column(JSONType, default=list)
    controls: Mapped[Any] = mapped_column(JSONType, default=list)
    residual_likelihood: Mapped[int | None] = mapped_column(Integer, nullable=True)
    residual_impact: Mapped[int | None] = mapped_column(Integer, nullable=True)
    owner: Mapped[str] = mapped_column(String(120), default="")


class RiskScore(Audited, Base):
    """One expert's score of one risk (专家打分); an expert scoring again replaces the score."""

    __tablename__ = "risk_score"
    __table_args__ = (UniqueConstraint("risk_id", "expert"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    risk_id: Mapped[int] = mapped_column(ForeignKey("risk.id", ondelete="CASCADE"), index=True)
    expert: Mapped[str] = mapped_column(String(120))
    likelihood: Mapped[int] = mapped_column(Integer)
    impact: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime())
    by: Mapped[str] = mapped_column(String(120), default="")


class RiskMatrix(Audited, Timestamps, Base):
    """The event's risk matrix: 5 rows (likelihood 1..5) of 5 levels (impact 1..5), and the 会商 limits."""

    __tablename__ = "risk_matrix"

    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), primary_key=True)
    rows: Mapped[Any] = mapped_column(JSONType)
    spread_limit: Mapped[int] = mapped_column(Integer, default=2)
    level_gap: Mapped[int] = mapped_column(Integer, default=2)
