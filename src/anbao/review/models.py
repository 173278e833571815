"""The event timeline 时间线: one row per step that a reviewer reads back (append-only).

The audit log holds every field change of every table; the timeline holds the steps of the
operation in words (warning raised, escalated, acknowledged, plan activated, task done...), each
pointing at its subject, so the after-action review reads a story rather than a change log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from anbao.core.db import Base, JSONType
from anbao.core.time import UTCDateTime


class TimelineEntry(Base):
    __tablename__ = "timeline_entry"
    __table_args__ = (Index("ix_timeline_event_at", "event_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(40))  # e.g. warning.raised, plan.activated, task.done
    subject: Mapped[str] = mapped_column(String(60))  # e.g. warning:12, task:7
    text: Mapped[str] = mapped_column(String(1000))
    actor: Mapped[str] = mapped_column(String(120), default="system")
    data: Mapped[Any] = mapped_column(JSONType, nullable=True)
