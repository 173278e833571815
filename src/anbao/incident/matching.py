"""Plan matching 专项预案智能匹配: which special plans fit an incident, and why.

A plan's ``triggers`` (see :class:`anbao.plan.schemas.PlanTriggers`) are conditions that must all
hold: the incident's type is one of ``incident_types`` (a plan without types is never matched to
incidents), its grade is at least ``min_grade``, its zone's kind is one of ``zone_kinds`` (when
given), and the local hour lies in ``hours`` = [from, to) (wrapping midnight when from > to). The
reason lists each condition in Chinese, so the dispatcher sees why a plan was started.

Pure: no database; :mod:`anbao.incident.lifecycle` feeds it and starts the matched plans.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from anbao.core.vocab import INCIDENT_GRADES, INCIDENT_TYPES, ZONE_KINDS

GRADE_ORDER = {code: i for i, code in enumerate(INCIDENT_GRADES)}  # ordinary < larger < major < especially_major


@dataclass(frozen=True)
class Facts:
    """What the match looks at."""

    type: str
    grade: str
    zone_kind: str | None
    local_time: datetime  # in the event's time zone


@dataclass(frozen=True)
class Match:
    plan_id: int
    code: str
    name: str
    reason: str  # Chinese, one clause per condition


def _zh(table: Mapping[str, tuple[str, str]], code: str | None) -> str:
    return table.get(code or "", (code or "—", ""))[0]


def _in_hours(hour: int, hours: Iterable[int]) -> bool:
    start, end = list(hours)
    if start == end:
        return True
    return start <= hour < end if start < end else hour >= start or hour < end


def check(triggers: Mapping[str, Any] | None, facts: Facts) -> str | None:
    """The reason the triggers fit ``facts``, or None when they do not."""
    t = triggers or {}
    types = list(t.get("incident_types") or [])
    if facts.type not in types:
        return None
    why = [f"类型「{_zh(INCIDENT_TYPES, facts.type)}」在预案适用类型内"]
    min_grade = t.get("min_grade")
    if min_grade:
        if GRADE_ORDER.get(facts.grade, -1) < GRADE_ORDER.get(min_grade, 99):
            return None
        why.append(f"等级{_zh(INCIDENT_GRADES, facts.grade)}不低于{_zh(INCIDENT_GRADES, min_grade)}")
    kinds = list(t.get("zone_kinds") or [])
    if kinds:
        if facts.zone_kind not in kinds:
            return None
        why.append(f"发生在{_zh(ZONE_KINDS, facts.zone_kind)}区域")
    hours = t.get("hours")
    if hours:
        if not _in_hours(facts.local_time.hour, hours):
            return None
        why.append(f"时间在 {hours[0]}:00–{hours[1]}:00 内")
    return "；".join(why)


def match(plans: Iterable[Any], facts: Facts) -> list[Match]:
    """The plans (objects with id, code, name, triggers) that fit, in the order given."""
    out = []
    for p in plans:
        reason = check(p.triggers, facts)
        if reason is not None:
            out.append(Match(plan_id=p.id, code=p.code, name=p.name, reason=reason))
    return out
