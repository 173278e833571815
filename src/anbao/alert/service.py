"""Warning services (keyword-only): raise, escalate, release, acknowledge, close, CAP export."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.alert.models import EarlyWarning, WarningRule
from anbao.core import events
from anbao.core.errors import Conflict
from anbao.core.vocab import WARNING_LEVEL_RANK, WARNING_LEVEL_ZH
from anbao.org.models import CommandNode

RANK = WARNING_LEVEL_RANK
LEVEL_ZH = WARNING_LEVEL_ZH
KIND_ZH = {"density": "人群密度预警", "device_silence": "设备离线预警", "smoke": "烟感报警", "gas": "燃气报警",
           "temperature": "高温预警", "queue_wait": "排队等待预警", "queue_length": "排队人数预警",
           "camera": "视频报警", "external": "外部预警"}


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
    return {"id": w.id, "key": w.key, "kind": w.kind, "kind_zh": KIND_ZH.get(w.kind, "预警"), "zone_id": w.zone_id,
            "device_id": w.device_id, "level": w.level, "level_zh": LEVEL_ZH[w.level], "peak_level": w.peak_level,
            "status": w.status, "value": w.value, "message": w.message, "forecast": w.forecast,
            "exercise": w.exercise, "escalations": w.escalations, "escalated_to": w.escalated_to,
            "started_at": w.started_at.isoformat(), "changed_at": w.changed_at.isoformat()}


def _record(db: Session, cls: type[events.WarningChange], w: EarlyWarning, line: str, now: datetime,
            actor: str = "system", **extra: Any) -> None:
    """One typed change of ``w``: its timeline line and its live message come from it."""
    events.record(db, cls(event_id=w.event_id, at=now, actor=actor, warning_id=w.id, warning=payload(w), line=line,
                          **extra))


def open_for(*, db: Session, event_id: int, key: str) -> EarlyWarning | None:
    return db.execute(select(EarlyWarning).where(EarlyWarning.event_id == event_id, EarlyWarning.key == key,
                                                 EarlyWarning.status != "closed")).scalars().first()


def raise_level(*, db: Session, event_id: int, key: str, kind: str, level: str, now: datetime,
                zone_id: int | None = None, value: float | None = None, message: str = "",
                forecast: bool = False, exercise: bool = False, rule_id: int | None = None,
                device_id: int | None = None, escalate_after_min: float | None = None) -> EarlyWarning:
    """Open a warning for ``key`` or move the open one to ``level``.

    A rise above what was acknowledged makes the warning active again: a new level needs a new
    acknowledgement, and the escalation clock (``escalate_after_min``) starts again. One open
    warning per key (deduplication). Every change lands on the timeline and the live stream.
    """
    w = open_for(db=db, event_id=event_id, key=key)
    due = now + timedelta(minutes=escalate_after_min) if escalate_after_min else None
    if w is None:
        w = EarlyWarning(event_id=event_id, key=key, kind=kind, zone_id=zone_id, level=level, peak_level=level,
                         status="active", value=value, message=message, forecast=forecast, exercise=exercise,
                         started_at=now, changed_at=now, comment="", rule_id=rule_id, device_id=device_id,
                         escalate_due_at=due, escalations=0, escalated_to="")
        db.add(w)
        db.flush()
        _record(db, events.WarningRaised, w, f"发布{LEVEL_ZH[level]}{KIND_ZH.get(kind, '预警')}：{message}", now,
                level=level, rule_id=rule_id)
    else:
        before = w.level
        rising = RANK[level] > RANK[w.level]
        w.level, w.value, w.message, w.forecast, w.changed_at = level, value, message, forecast, now
        if RANK[level] > RANK[w.peak_level]:
            w.peak_level = level
        if rising and w.status == "acknowledged":
            w.status = "active"
        if rising:
            w.escalate_due_at = due
        db.flush()
        line = ""
        if before != level:
            word = "升级" if rising else "降级"
            line = f"{KIND_ZH.get(kind, '预警')}由{LEVEL_ZH[before]}{word}为{LEVEL_ZH[level]}：{message}"
        _record(db, events.WarningLevelChanged, w, line, now, before=before, after=level, rule_id=rule_id)
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
    warning.escalate_due_at = None
    _note(warning, comment)
    db.flush()
    _record(db, events.WarningAcknowledged, warning, f"{by} 确认预警" + (f"：{comment}" if comment else ""), now, by)
    return warning


def close(*, db: Session, warning: EarlyWarning, by: str, comment: str, now: datetime) -> EarlyWarning:
    if warning.status == "closed":
        raise Conflict(f"warning {warning.id} is already closed")
    warning.status, warning.closed_at, warning.closed_by, warning.changed_at = "closed", now, by, now
    warning.escalate_due_at = None
    warning.close_comment = comment
    _note(warning, comment)
    db.flush()
    who = "系统" if by == "system" else by
    _record(db, events.WarningClosed, warning, f"{who} 解除预警" + (f"：{comment}" if comment else ""), now, by)
    return warning


def _chain(db: Session, event_id: int, start_id: int | None) -> list[CommandNode]:
    """The command node ``start_id`` and its ancestors up to the 指挥部, or just the 指挥部."""
    node = db.get(CommandNode, start_id) if start_id is not None else None
    if node is None:
        node = db.execute(select(CommandNode).where(CommandNode.event_id == event_id, CommandNode.level == "hq")
                          ).scalars().first()
    chain: list[CommandNode] = []
    while node is not None and node not in chain:
        chain.append(node)
        node = db.get(CommandNode, node.parent_id) if node.parent_id is not None else None
    return chain


def escalate(*, db: Session, warning: EarlyWarning, now: datetime) -> EarlyWarning:
    """One step up the command tree for an active warning nobody acknowledged in time.

    The first step goes to the parent of the node responsible for the warning (that of its latest
    plan, :attr:`EarlyWarning.command_node_id`; the 指挥部 when there is no plan); each further step
    one level higher, ending at the 指挥部.
    """
    rule = db.get(WarningRule, warning.rule_id) if warning.rule_id is not None else None
    period = rule.escalate_after_min if rule is not None and rule.escalate_after_min else None
    chain = _chain(db, warning.event_id, warning.command_node_id)
    warning.escalations += 1
    target = chain[min(warning.escalations, len(chain) - 1)] if chain else None
    warning.escalated_to = target.name if target is not None else "指挥部"
    warning.escalate_due_at = now + timedelta(minutes=period) if period else None
    db.flush()
    waited = f"超过 {period:g} 分钟" if period else "逾时"
    _record(db, events.WarningEscalated, warning,
            f"{LEVEL_ZH[warning.level]}{KIND_ZH.get(warning.kind, '预警')}{waited}未确认，"
            f"第 {warning.escalations} 次升级上报至{warning.escalated_to}", now, to=warning.escalated_to)
    return warning


def due_for_escalation(*, db: Session, event_id: int, now: datetime) -> Sequence[EarlyWarning]:
    return db.execute(select(EarlyWarning).where(EarlyWarning.event_id == event_id, EarlyWarning.status == "active",
                                                 EarlyWarning.escalate_due_at.is_not(None),
                                                 EarlyWarning.escalate_due_at <= now)).scalars().all()
