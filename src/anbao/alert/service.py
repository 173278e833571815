"""Warning services (keyword-only): raise, escalate, release, acknowledge, close, CAP export."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.alert import cap
from anbao.alert.models import EarlyWarning
from anbao.core.errors import Conflict

RANK = {"blue": 1, "yellow": 2, "orange": 3, "red": 4}
LEVEL_ZH = {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}
KIND_ZH = {"density": "人群密度预警", "device": "设备离线预警", "smoke": "烟感报警", "gas": "燃气报警",
           "camera": "视频报警"}


def get(*, db: Session, event_id: int, warning_id: int) -> EarlyWarning | None:
    w = db.get(EarlyWarning, warning_id)
    return w if w is not None and w.event_id == event_id else None


def list_warnings(*, db: Session, event_id: int, status: str | None = None, limit: int = 500) -> Sequence[EarlyWarning]:
    stmt = select(EarlyWarning).where(EarlyWarning.event_id == event_id)
    if status == "open":
        stmt = stmt.where(EarlyWarning.status != "closed")
    elif status is not None:
        stmt = stmt.where(EarlyWarning.status == status)
    stmt = stmt.order_by(EarlyWarning.changed_at.desc(), EarlyWarning.id.desc()).limit(limit)
    return db.execute(stmt).scalars().all()


def payload(w: EarlyWarning) -> dict[str, Any]:
    """The warning as a live-stream message payload."""
    return {"id": w.id, "key": w.key, "kind": w.kind, "zone_id": w.zone_id, "level": w.level, "status": w.status,
            "value": w.value, "message": w.message, "forecast": w.forecast, "changed_at": w.changed_at.isoformat()}


def open_for(*, db: Session, event_id: int, key: str) -> EarlyWarning | None:
    return db.execute(select(EarlyWarning).where(EarlyWarning.event_id == event_id, EarlyWarning.key == key,
                                                 EarlyWarning.status != "closed")).scalars().first()


def raise_level(*, db: Session, event_id: int, key: str, kind: str, level: str, now: datetime,
                zone_id: int | None = None, value: float | None = None, message: str = "",
                forecast: bool = False, exercise: bool = False) -> EarlyWarning:
    """Open a warning for ``key`` or move the open one to ``level``.

    A rise above what was acknowledged makes the warning active again: a new level needs a new
    acknowledgement. One open warning per key (deduplication).
    """
    w = open_for(db=db, event_id=event_id, key=key)
    if w is None:
        w = EarlyWarning(event_id=event_id, key=key, kind=kind, zone_id=zone_id, level=level, peak_level=level,
                         status="active", value=value, message=message, forecast=forecast, exercise=exercise,
                         started_at=now, changed_at=now, comment="")
        db.add(w)
    else:
        rising = RANK[level] > RANK[w.level]
        w.level, w.value, w.message, w.forecast, w.changed_at = level, value, message, forecast, now
        if RANK[level] > RANK[w.peak_level]:
            w.peak_level = level
        if rising and w.status == "acknowledged":
            w.status = "active"
    db.flush()
    return w


def release(*, db: Session, event_id: int, key: str, now: datetime, reason: str) -> EarlyWarning | None:
    """Close the open warning of ``key`` because the watched value is back to normal."""
    w = open_for(db=db, event_id=event_id, key=key)
    return close(db=db, warning=w, by="system", comment=reason, now=now) if w is not None else None


def _note(warning: EarlyWarning, comment: str) -> None:
    if comment:
        warning.comment = (warning.comment + "\n" if warning.comment else "") + comment


def acknowledge(*, db: Session, warning: EarlyWarning, by: str, comment: str, now: datetime) -> EarlyWarning:
    if warning.status == "closed":
        raise Conflict(f"warning {warning.id} is closed; nothing to acknowledge")
    warning.status, warning.acknowledged_at, warning.acknowledged_by = "acknowledged", now, by
    _note(warning, comment)
    db.flush()
    return warning


def close(*, db: Session, warning: EarlyWarning, by: str, comment: str, now: datetime) -> EarlyWarning:
    if warning.status == "closed":
        raise Conflict(f"warning {warning.id} is already closed")
    warning.status, warning.closed_at, warning.closed_by, warning.changed_at = "closed", now, by, now
    _note(warning, comment)
    db.flush()
    return warning


def to_cap(w: EarlyWarning, *, sender: str, area_desc: str,
           polygon: Sequence[tuple[float, float]] | None) -> cap.CapAlert:
    """The warning as a CAP 1.2 alert: Cancel once closed, Update after the first change, else Alert."""
    level = cap.Level(w.level)
    first = cap.warning_to_cap(identifier=f"anbao-{w.event_id}-{w.id}-0", sender=sender, sent=w.started_at,
                               level=level, event_type=KIND_ZH.get(w.kind, "预警"), headline="", description="",
                               area_desc=area_desc, exercise=w.exercise)
    msg_type = cap.MsgType.alert
    if w.status == "closed":
        msg_type = cap.MsgType.cancel
    elif w.changed_at > w.started_at:
        msg_type = cap.MsgType.update
    stamp = int(w.changed_at.timestamp())
    headline = f"{area_desc}{LEVEL_ZH[w.level]}{KIND_ZH.get(w.kind, '预警')}"
    return cap.warning_to_cap(
        identifier=first.identifier if msg_type is cap.MsgType.alert else f"anbao-{w.event_id}-{w.id}-{stamp}",
        sender=sender, sent=w.changed_at if msg_type is not cap.MsgType.alert else w.started_at, level=level,
        event_type=KIND_ZH.get(w.kind, "预警"), headline=headline, description=w.message or headline,
        area_desc=area_desc, polygon=polygon, exercise=w.exercise, msg_type=msg_type,
        references=[first] if msg_type is not cap.MsgType.alert else [], forecast=w.forecast,
        parameters=[("value", f"{w.value:.3f}")] if w.value is not None else [],
    )
