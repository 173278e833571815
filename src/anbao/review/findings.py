"""Problems found automatically 存在的问题与不足 (issue 15): each with the records that show it.

Every finding is computed from the record and the :class:`FindingRules` given (defaults below, documented in
docs/review.md); nothing is inferred beyond them. A finding lists its evidence: the record (warning, task,
zone, device, incident, activation), its id, the times and the figure that crossed the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.alert.models import EarlyWarning
from anbao.core.vocab import WARNING_LEVEL_ZH, WARNING_LEVELS
from anbao.incident.models import Assignment, Incident
from anbao.response.models import PlanActivation, Task
from anbao.review.stats import Review

LEVEL_ORDER = tuple(WARNING_LEVELS)


@dataclass(frozen=True)
class FindingRules:
    """Thresholds of the findings; each can be set per request (API query, CLI option)."""

    #: a warning acknowledged more than this many seconds after it was raised (or not at all while open longer)
    ack_s: float = 300.0
    #: a zone at or above ``zone_level`` for more than ``zone_minutes`` minutes in the window
    zone_level: str = "orange"
    zone_minutes: float = 10.0
    #: a sensor silent (no reading) for more than this many seconds at a stretch
    silent_s: float = 300.0
    #: a warning key raised this many times or more in the window (a rule that flaps)
    flapping: int = 3

    def __post_init__(self) -> None:
        if self.zone_level not in LEVEL_ORDER:
            raise ValueError(f"zone_level must be one of {', '.join(LEVEL_ORDER)}, got {self.zone_level!r}")
        for name in ("ack_s", "zone_minutes", "silent_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.flapping < 2:
            raise ValueError(f"flapping must be >= 2, got {self.flapping}")


def _finding(code: str, zh: str, en: str, evidence: list[dict[str, Any]]) -> dict[str, Any]:
    return {"code": code, "title_zh": zh, "title_en": en, "count": len(evidence), "evidence": evidence}


def findings(*, db: Session, event_id: int, review: Review, rules: FindingRules | None = None) -> list[dict[str, Any]]:
    """The problems the record of ``review`` shows under ``rules``, the ones with evidence only."""
    rules = rules or FindingRules()
    since, until = review.window["since"], review.window["until"]
    ids = set(review.warnings.get("ids", []))
    warnings = [w for w in db.execute(select(EarlyWarning).where(EarlyWarning.event_id == event_id)
                                      .order_by(EarlyWarning.started_at, EarlyWarning.id)).scalars() if w.id in ids]
    out: list[dict[str, Any]] = []

    slow = []
    for w in warnings:
        end = w.acknowledged_at or w.closed_at or until
        waited = (end - w.started_at).total_seconds()
        if waited > rules.ack_s:  # acknowledged late, or not before it closed or the window ended
            slow.append({"record": "warning", "id": w.id, "at": w.started_at, "acknowledged_at": w.acknowledged_at,
                         "seconds": round(waited), "detail": w.message})
    if slow:
        out.append(_finding("slow_acknowledgement", f"预警确认超过 {rules.ack_s / 60:g} 分钟",
                            f"warnings acknowledged after more than {rules.ack_s / 60:g} min", slow))

    overdue = []
    if review.tasks.get("overdue_ids"):
        for t in db.execute(select(Task).where(Task.id.in_(review.tasks["overdue_ids"])).order_by(Task.id)).scalars():
            overdue.append({"record": "task", "id": t.id, "at": t.due_at, "done_at": t.done_at, "status": t.status,
                            "detail": t.title})
    if overdue:
        out.append(_finding("overdue_tasks", "任务超时未完成", "tasks done late or not done by their deadline",
                            overdue))

    above = [{"record": "zone", "id": z["zone_id"], "code": z["code"], "detail": z["name"],
              "minutes": z["minutes_at_or_above"][rules.zone_level]}
             for z in review.crowd.get("zones", []) if z["minutes_at_or_above"][rules.zone_level] > rules.zone_minutes]
    if above:
        zh = WARNING_LEVEL_ZH[rules.zone_level]
        out.append(_finding("zone_above_level", f"区域处于{zh}及以上超过 {rules.zone_minutes:g} 分钟",
                            f"zones at {rules.zone_level} or above for more than {rules.zone_minutes:g} min", above))

    silent = [{"record": "device", "id": s["device_id"], "code": s["code"], "at": s["since"], "until": s["until"],
               "seconds": s["seconds"]} for s in review.devices.get("silent", []) if s["seconds"] > rules.silent_s]
    if silent:
        out.append(_finding("silent_sensors", f"传感器中断超过 {rules.silent_s / 60:g} 分钟",
                            f"sensors silent for more than {rules.silent_s / 60:g} min", silent))

    by_key: dict[str, list[EarlyWarning]] = {}
    for w in warnings:
        by_key.setdefault(w.key, []).append(w)
    flapping = [{"record": "warning", "id": ws[0].id, "key": key, "times": len(ws), "ids": [w.id for w in ws],
                 "at": ws[0].started_at, "detail": ws[-1].message}
                for key, ws in by_key.items() if len(ws) >= rules.flapping]
    if flapping:
        out.append(_finding("flapping", f"同一预警反复触发 {rules.flapping} 次及以上",
                            f"the same warning raised {rules.flapping} times or more", flapping))

    # dispatching goes through assignments (Incident.unit_id is the unit that reported it)
    assigned = set(db.execute(select(Assignment.incident_id).where(Assignment.event_id == event_id,
                                                                   Assignment.status != "cancelled")).scalars())
    bare = [{"record": "incident", "id": i.id, "at": i.on_scene_at, "detail": i.type}
            for i in db.execute(select(Incident).where(Incident.event_id == event_id, Incident.on_scene_at.is_not(None))
                                .order_by(Incident.id)).scalars()
            if i.id not in assigned and _inside(i.reported_at, since, until)]
    if bare:
        out.append(_finding("incident_without_unit", "警情到场但未关联处置警力",
                            "incidents on scene with no unit recorded", bare))

    unfinished: list[dict[str, Any]] = []
    for a in db.execute(select(PlanActivation).where(PlanActivation.event_id == event_id)
                        .order_by(PlanActivation.at)).scalars():
        if not _inside(a.at, since, until):
            continue
        open_tasks = [t.id for t in db.execute(select(Task).where(Task.activation_id == a.id)).scalars()
                      if t.status not in ("done", "cancelled")]
        if open_tasks:
            unfinished.append({"record": "plan_activation", "id": a.id, "at": a.at, "tasks": open_tasks,
                               "detail": a.reason})
    if unfinished:
        out.append(_finding("plan_steps_not_done", "启动的预案有步骤未完成",
                            "plans started whose steps were not all done", unfinished))

    att = review.attendance
    over = []
    for what, limit in (("approved", att.get("approved")), ("safe_capacity", att.get("safe_capacity"))):
        if att.get("peak_on_site") is not None and limit and att["peak_on_site"] > limit:
            over.append({"record": "event", "id": event_id, "at": att.get("peak_at"), "limit": what,
                         "value": att["peak_on_site"], "bound": limit})
    if over:
        out.append(_finding("capacity_exceeded", "在场人数超过核准人数或安全容量",
                            "people on site above the approved attendance or the safe capacity", over))
    return out


def _inside(at: datetime | None, since: datetime, until: datetime) -> bool:
    return at is not None and since <= at <= until
