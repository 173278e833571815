"""The event timeline 时间线: one row per step that a reviewer reads back (append-only).

The audit log holds every field change of every table; the timeline holds the steps of the
operation in words (warning raised, escalated, acknowledged, plan activated, task done...), each
pointing at its subject, so the after-action review reads a story rather than a change log.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

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
    #: what started the chain of changes this step belongs to (reading batch, request, warning pass)
    cause: Mapped[str | None] = mapped_column(String(80), nullable=True)


#: Chinese names of the timeline kinds (the UI and the after-action report use them)
KIND_ZH = {
    "warning.raised": "预警发布", "warning.level": "预警调级", "warning.escalated": "预警升级上报",
    "warning.acknowledged": "预警确认", "warning.closed": "预警解除", "plan.activated": "预案启动",
    "task.created": "任务下达", "task.accepted": "任务接收", "task.arrived": "到达现场", "task.done": "任务完成",
    "task.cancelled": "任务取消", "rule.changed": "预警规则修改", "incident.reported": "警情上报",
    "incident.status": "警情状态", "incident.assign": "派警", "incident.unit": "警力动态",
    "incident.handover": "警情移交", "incident.update": "警情更新", "incident.plan": "警情匹配预案",
}


def add(*, db: Session, event_id: int, at: datetime, kind: str, subject: str, text: str,
        actor: str = "system", data: dict[str, Any] | None = None, cause: str | None = None) -> TimelineEntry:
    """One timeline row; called by :func:`anbao.core.events.record`, which derives it from a change."""
    entry = TimelineEntry(event_id=event_id, at=at, kind=kind, subject=subject, text=text[:1000],
                          actor=actor[:120], data=data, cause=cause[:80] if cause else None)
    db.add(entry)
    return entry


def entries(*, db: Session, event_id: int, since: datetime | None = None, until: datetime | None = None,
            kind: str | None = None, subject: str | None = None, cause: str | None = None, limit: int = 1000,
            offset: int = 0) -> Sequence[TimelineEntry]:
    """Oldest first; ``kind`` matches a prefix (``warning`` gives every warning step)."""
    stmt = select(TimelineEntry).where(TimelineEntry.event_id == event_id)
    if since is not None:
        stmt = stmt.where(TimelineEntry.at >= since)
    if until is not None:
        stmt = stmt.where(TimelineEntry.at < until)
    if kind:
        stmt = stmt.where(TimelineEntry.kind.startswith(kind, autoescape=True))
    if subject:
        stmt = stmt.where(TimelineEntry.subject == subject)
    if cause:
        stmt = stmt.where(TimelineEntry.cause == cause)
    stmt = stmt.order_by(TimelineEntry.at, TimelineEntry.id).limit(limit).offset(offset)
    return db.execute(stmt).scalars().all()
