"""Crowd-safety tables: the capacity settings 容量核定参数 of an event."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from anbao.core.audit import Audited
from anbao.core.db import Base, JSONType
from anbao.core.models import Timestamps


class CapacitySetting(Audited, Timestamps, Base):
    """容量核定参数 of an event: entry and evacuation times, holding density, safety factor per zone code."""

    __tablename__ = "capacity_setting"

    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), primary_key=True)
    entry_min: Mapped[float] = mapped_column(Float, default=60.0)
    egress_min: Mapped[float] = mapped_column(Float, default=8.0)
    emergency_min: Mapped[float] = mapped_column(Float, default=8.0)
    density: Mapped[float] = mapped_column(Float, default=4.7)
    safety_factors: Mapped[Any] = mapped_column(JSONType, default=dict)
