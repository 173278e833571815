"""Timeline services (keyword-only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.review.models import TimelineEntry

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
        actor: str = "system", data: dict[str, Any] | None = None) -> TimelineEntry:
    entry = TimelineEntry(event_id=event_id, at=at, kind=kind, subject=subject, text=text[:1000],
                          actor=actor[:120], data=data)
    db.add(entry)
    return entry


def entries(*, db: Session, event_id: int, since: datetime | None = None, until: datetime | None = None,
            kind: str | None = None, subject: str | None = None, limit: int = 1000,
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
    stmt = stmt.order_by(TimelineEntry.at, TimelineEntry.id).limit(limit).offset(offset)
    return db.execute(stmt).scalars().all()
