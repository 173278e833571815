"""Review statistics 复盘统计: what the record says about one event (or one of its sessions), every figure taken
from stored rows (issue 15). docs/review.md defines each figure.

Times are from the record: a warning's ``started_at`` to ``acknowledged_at`` and ``closed_at``; a task's
creation to its first ``task.accepted``, ``task.arrived``, ``task.done`` timeline steps; an incident's
``reported_at`` to ``dispatched_at``, ``on_scene_at``, ``resolved_at``. Crowd figures come from the zone
history (:func:`anbao.crowd.history.zone_history`, the fused state every ``step_s``), device figures from the
gaps between a device's readings (one SQL pass with ``LAG`` over the window).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Float, cast, func, select
from sqlalchemy.orm import Session

from anbao.alert import rules
from anbao.alert.models import EarlyWarning
from anbao.core.errors import AnBaoError
from anbao.core.time import utcnow
from anbao.core.timeline import TimelineEntry
from anbao.core.vocab import WARNING_LEVELS
from anbao.crowd import capacity
from anbao.crowd.history import LEVELS, MAX_SPAN, zone_history
from anbao.event.models import Event, EventSession
from anbao.incident import stats as incident_stats
from anbao.incident.models import Incident
from anbao.org.models import Person, Unit
from anbao.org.scope import EVERY_UNIT, UnitScope
from anbao.plan.models import ResponsePlan
from anbao.response.models import PlanActivation, Task
from anbao.sensing.models import Reading
from anbao.venue.models import Device, Zone

#: a gap between two readings of a device longer than this is a silent period (the stale limit of the fusion)
SILENT_AFTER_S = 120.0


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime
    session_id: int | None = None
    label: str = ""

    @property
    def seconds(self) -> float:
        return max(0.0, (self.until - self.since).total_seconds())


def window(*, db: Session, event: Event, session_id: int | None = None, now: datetime | None = None) -> Window:
    """The time the review covers: one session, else the event's sessions from the first start to the last end,
    else the first to the last record (warnings, incidents, timeline entries); never past ``now``."""
    now = now or utcnow()
    sessions = list(db.execute(select(EventSession).where(EventSession.event_id == event.id)
                               .order_by(EventSession.start)).scalars())
    if session_id is not None:
        chosen = next((s for s in sessions if s.id == session_id), None)
        if chosen is None:
            raise LookupError(f"session {session_id} is not a session of event {event.id}")
        return Window(chosen.start, min(chosen.end, now), chosen.id, chosen.label)
    if sessions:
        return Window(sessions[0].start, min(max(s.end for s in sessions), now), None, "")
    firsts = [db.execute(select(func.min(col), func.max(col)).where(model.event_id == event.id)).one()
              for model, col in ((EarlyWarning, EarlyWarning.started_at), (Incident, Incident.reported_at),
                                 (TimelineEntry, TimelineEntry.at))]
    starts = [a for a, _ in firsts if a is not None]
    ends = [b for _, b in firsts if b is not None]
    if not starts:
        return Window(now - timedelta(hours=1), now)
    return Window(min(starts), min(max(ends), now))


def _figures(values: list[float]) -> dict[str, Any]:
    return asdict(incident_stats.figures(values))


def _within(w: Window, at: datetime | None) -> bool:
    return at is not None and w.since <= at <= w.until


@dataclass
class Review:
    """Everything :func:`review` found, as plain data (the API and the report read it)."""

    event: dict[str, Any]
    window: dict[str, Any]
    attendance: dict[str, Any] = field(default_factory=dict)
    crowd: dict[str, Any] = field(default_factory=dict)
    warnings: dict[str, Any] = field(default_factory=dict)
    plans: dict[str, Any] = field(default_factory=dict)
    tasks: dict[str, Any] = field(default_factory=dict)
    incidents: dict[str, Any] = field(default_factory=dict)
    police: dict[str, Any] = field(default_factory=dict)
    devices: dict[str, Any] = field(default_factory=dict)


#: zone-history steps at most: a longer window takes longer steps (the step used is in ``window.step_s``)
MAX_STEPS = 5_000


def review(*, db: Session, event_id: int, session_id: int | None = None, now: datetime | None = None,
           step_s: int = 60, units: UnitScope = EVERY_UNIT) -> Review:
    """The review statistics of an event (or of one session): see the module docstring and docs/review.md.
    ``units``: the units the caller may see (a partner agency's figures of police strength cover its own)."""
    event = db.get(Event, event_id)
    if event is None:
        raise LookupError(f"event {event_id} does not exist")
    w = window(db=db, event=event, session_id=session_id, now=now)
    step_s = max(step_s, math.ceil(w.seconds / MAX_STEPS))
    out = Review(
        event={"id": event.id, "code": event.code, "name": event.name, "kind": event.kind,
               "approved_attendance": event.approved_attendance, "expected_attendance": event.expected_attendance,
               "tickets_issued": event.tickets_issued},
        window={"since": w.since, "until": w.until, "seconds": w.seconds, "session_id": w.session_id,
                "label": w.label, "step_s": max(step_s, math.ceil(w.seconds / MAX_STEPS))})
    zones = {z.id: z for z in db.execute(select(Zone).where(Zone.event_id == event_id)).scalars()}
    _crowd(db, event, w, step_s, zones, out)
    _warnings(db, event_id, w, zones, out)
    _plans_and_tasks(db, event_id, w, out)
    _incidents(db, event_id, w, zones, out)
    _police(db, event_id, units, out)
    _devices(db, event_id, w, zones, out)
    return out


def _crowd(db: Session, event: Event, w: Window, step_s: int, zones: dict[int, Zone], out: Review) -> None:
    thresholds = rules.density_thresholds(db=db, event_id=event.id)
    peak: dict[int, tuple[float, datetime]] = {}
    seconds_at: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    people: list[tuple[datetime, float]] = []
    live_steps: Counter[int] = Counter()
    steps = 0
    start = w.since
    while start < w.until:  # zone_history covers at most MAX_SPAN per call
        end = min(w.until, start + MAX_SPAN)
        h = zone_history(db=db, event_id=event.id, since=start, until=end, step_s=step_s, thresholds=thresholds)
        for i, t in enumerate(h.times):
            if start != w.since and i == 0:
                continue  # the first step of a later chunk is the last of the one before
            steps += 1
            # a step stands for the time to the next one (the window's last step for none)
            lasts = (h.times[i + 1] - t).total_seconds() if i + 1 < len(h.times) else 0.0
            on_site = h.people[i]
            if on_site is not None:
                people.append((t, on_site))
            for s in h.zones:
                d, lv = s.density[i], s.level[i]
                if d is not None:
                    live_steps[s.zone_id] += 1
                    if s.zone_id not in peak or d > peak[s.zone_id][0]:
                        peak[s.zone_id] = (d, t)
                for k in range(1, lv + 1):  # at or above each level up to the one reached
                    seconds_at[s.zone_id][LEVELS[k]] += lasts
        start = end
    out.crowd = {"zones": [
        {"zone_id": z.id, "code": z.code, "name": z.name,
         "peak_density": None if z.id not in peak else round(peak[z.id][0], 3),
         "peak_at": None if z.id not in peak else peak[z.id][1],
         "minutes_at_or_above": {lv: round(seconds_at[z.id][lv] / 60, 1) for lv in WARNING_LEVELS},
         "live_share": round(live_steps[z.id] / steps, 3) if steps else 0.0}
        for z in sorted(zones.values(), key=lambda z: (z.ring, z.code))], "steps": steps}
    top = max(people, key=lambda p: p[1], default=None)
    try:
        computed = capacity.compute(db=db, event_id=event.id)
        safe, why = computed.get("safe_capacity"), computed.get("error")
    except AnBaoError as exc:  # a venue the capacity model cannot take: said, not invented
        safe, why = None, exc.message
    approved = event.approved_attendance
    out.attendance = {
        "peak_on_site": None if top is None else round(top[1]), "peak_at": None if top is None else top[0],
        "approved": approved, "safe_capacity": safe, "safe_capacity_note": why,
        "peak_pct_of_approved": round(top[1] / approved * 100, 1) if top is not None and approved else None,
        "peak_pct_of_safe": round(top[1] / safe * 100, 1) if top is not None and safe else None,
        "curve": [{"at": t, "people": round(p)} for t, p in people]}


def _warnings(db: Session, event_id: int, w: Window, zones: dict[int, Zone], out: Review) -> None:
    rows = [x for x in db.execute(select(EarlyWarning).where(EarlyWarning.event_id == event_id)
                                  .order_by(EarlyWarning.started_at, EarlyWarning.id)).scalars()
            if _within(w, x.started_at) and not x.exercise]
    ack = [(x.acknowledged_at - x.started_at).total_seconds() for x in rows if x.acknowledged_at is not None]
    closed = [(x.closed_at - x.started_at).total_seconds() for x in rows if x.closed_at is not None]
    per_key = Counter(x.key for x in rows)
    forecast = [x for x in rows if x.forecast]
    out.warnings = {
        "total": len(rows),
        "by_level": {lv: sum(1 for x in rows if x.peak_level == lv) for lv in WARNING_LEVELS},
        "by_kind": dict(sorted(Counter(x.kind for x in rows).items())),
        "by_zone": dict(sorted(Counter(zones[x.zone_id].code for x in rows if x.zone_id in zones).items())),
        "acknowledge_s": _figures(ack), "close_s": _figures(closed),
        "never_acknowledged": sum(1 for x in rows if x.acknowledged_at is None),
        "escalations": sum(x.escalations or 0 for x in rows),
        "escalated_warnings": sum(1 for x in rows if x.escalations),
        "keys_raised_again": {k: n for k, n in sorted(per_key.items()) if n > 1},
        "forecast_raised": len(forecast),
        "exercise_left_out": sum(1 for x in db.execute(select(EarlyWarning.started_at).where(
            EarlyWarning.event_id == event_id, EarlyWarning.exercise.is_(True))).scalars() if _within(w, x)),
        "ids": [x.id for x in rows]}


def _first_steps(db: Session, event_id: int, kinds: tuple[str, ...]) -> dict[tuple[str, str], datetime]:
    """(subject, kind) -> the first timeline step of that kind for that subject."""
    out: dict[tuple[str, str], datetime] = {}
    for subject, kind, at in db.execute(
            select(TimelineEntry.subject, TimelineEntry.kind, func.min(TimelineEntry.at))
            .where(TimelineEntry.event_id == event_id, TimelineEntry.kind.in_(kinds))
            .group_by(TimelineEntry.subject, TimelineEntry.kind)).all():
        out[(subject, kind)] = at
    return out


def _plans_and_tasks(db: Session, event_id: int, w: Window, out: Review) -> None:
    names = dict(db.execute(select(ResponsePlan.id, ResponsePlan.name).where(ResponsePlan.event_id == event_id)).all())
    acts = [a for a in db.execute(select(PlanActivation).where(PlanActivation.event_id == event_id)
                                  .order_by(PlanActivation.at)).scalars() if _within(w, a.at)]
    out.plans = {"activations": len(acts),
                 "by_plan": dict(sorted(Counter(names.get(a.plan_id, str(a.plan_id)) for a in acts).items()))}
    # a task dates from its activation (the pass that started the plan), else from when it was stored
    activated: dict[int | None, datetime] = dict(db.execute(select(PlanActivation.id, PlanActivation.at)
                                                             .where(PlanActivation.event_id == event_id)).all())

    def dated(t: Task) -> datetime:
        return activated.get(t.activation_id, t.created_at)

    tasks = [t for t in db.execute(select(Task).where(Task.event_id == event_id).order_by(Task.id)).scalars()
             if _within(w, dated(t))]
    steps = _first_steps(db, event_id, ("task.accepted", "task.arrived", "task.done"))

    def after(kind: str) -> list[float]:
        got = []
        for t in tasks:
            at = steps.get((f"task:{t.id}", kind))
            if at is not None:
                got.append(max(0.0, (at - dated(t)).total_seconds()))
        return got

    overdue = [t.id for t in tasks if _overdue(t, w.until)]
    out.tasks = {"total": len(tasks), "by_status": dict(sorted(Counter(t.status for t in tasks).items())),
                 "overdue": len(overdue), "overdue_ids": overdue,
                 "accept_s": _figures(after("task.accepted")), "arrive_s": _figures(after("task.arrived")),
                 "finish_s": _figures(after("task.done"))}


def _overdue(t: Task, until: datetime) -> bool:
    """A task with a deadline that was done after it, or not done (nor cancelled) by the end of the window."""
    if t.due_at is None or t.status == "cancelled":
        return False
    if t.done_at is not None:
        return t.done_at > t.due_at
    return until > t.due_at


def _incidents(db: Session, event_id: int, w: Window, zones: dict[int, Zone], out: Review) -> None:
    rows = [i for i in db.execute(select(Incident).where(Incident.event_id == event_id)).scalars()
            if _within(w, i.reported_at)]

    def since(attr: str) -> list[float]:
        return [max(0.0, (getattr(i, attr) - i.reported_at).total_seconds()) for i in rows
                if getattr(i, attr) is not None]

    out.incidents = {
        "total": len(rows),
        "by_type": dict(sorted(Counter(i.type for i in rows).items())),
        "by_grade": dict(sorted(Counter(i.grade for i in rows).items())),
        "by_source": dict(sorted(Counter(i.source for i in rows).items())),
        "by_zone": dict(sorted(Counter(zones[i.zone_id].code for i in rows if i.zone_id in zones).items())),
        "dispatch_s": _figures(since("dispatched_at")), "arrival_s": _figures(since("on_scene_at")),
        "resolution_s": _figures(since("resolved_at")),
        "open": sum(1 for i in rows if i.closed_at is None and i.resolved_at is None)}


def _police(db: Session, event_id: int, scope: UnitScope, out: Review) -> None:
    units = [u for u in db.execute(select(Unit).where(Unit.event_id == event_id)).scalars() if scope.sees(u.id)]
    seen = {u.id for u in units}
    people = Counter(u for u in db.execute(select(Person.unit_id).where(Person.event_id == event_id)).scalars()
                     if u in seen)
    by_type: dict[str, dict[str, int]] = {}
    for u in units:
        row = by_type.setdefault(u.police_type, {"units": 0, "people": 0})
        row["units"] += 1
        row["people"] += people.get(u.id, 0)
    out.police = {"units": len(units), "people": sum(people.values()), "by_police_type": dict(sorted(by_type.items())),
                  "scoped": scope.scoped}


def _devices(db: Session, event_id: int, w: Window, zones: dict[int, Zone], out: Review) -> None:
    """Per device kind: devices, devices that reported, silent periods (gaps over ``SILENT_AFTER_S`` between
    readings, and from the window's start to the first and from the last to its end) and uptime."""
    kinds = dict(db.execute(select(Device.id, Device.kind).where(Device.event_id == event_id)).all())
    codes = dict(db.execute(select(Device.id, Device.code).where(Device.event_id == event_id)).all())
    silent: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    seen: dict[int, tuple[datetime, datetime]] = {}
    inside = (Reading.event_id == event_id, Reading.at >= w.since, Reading.at <= w.until)
    for device_id, first, last in db.execute(select(Reading.device_id, func.min(Reading.at), func.max(Reading.at))
                                             .where(*inside).group_by(Reading.device_id)).all():
        seen[device_id] = (first, last)
    # each reading with the one before it of the same device (one ordered pass, LAG); only the long gaps come back
    prev = func.lag(Reading.at, type_=Reading.at.type).over(partition_by=Reading.device_id, order_by=Reading.at)
    pairs = select(Reading.device_id, Reading.at, prev.label("prev")).where(*inside).subquery()
    for device_id, at, before in db.execute(
            select(pairs.c.device_id, pairs.c.at, pairs.c.prev)
            .where(pairs.c.prev.is_not(None), _seconds(db, pairs.c.at, pairs.c.prev) > SILENT_AFTER_S)
            .order_by(pairs.c.device_id, pairs.c.at)).all():
        silent[device_id].append((before, at))
    per_kind: dict[str, dict[str, Any]] = {}
    span = w.seconds or 1.0
    for device_id, kind in kinds.items():
        row = per_kind.setdefault(kind, {"devices": 0, "reported": 0, "silent_periods": 0, "_up": 0.0})
        row["devices"] += 1
        if device_id not in seen:
            continue
        row["reported"] += 1
        first, last = seen[device_id]
        gaps = list(silent[device_id])
        if (first - w.since).total_seconds() > SILENT_AFTER_S:
            gaps.insert(0, (w.since, first))
        if (w.until - last).total_seconds() > SILENT_AFTER_S:
            gaps.append((last, w.until))
        silent[device_id] = gaps
        row["silent_periods"] += len(gaps)
        row["_up"] += max(0.0, span - sum((b - a).total_seconds() for a, b in gaps)) / span
    for row in per_kind.values():
        up = row.pop("_up")
        row["uptime_pct"] = round(up / row["reported"] * 100, 1) if row["reported"] else None
    out.devices = {"by_kind": dict(sorted(per_kind.items())),
                   "silent": [{"device_id": d, "code": codes.get(d, str(d)), "since": a, "until": b,
                               "seconds": round((b - a).total_seconds())}
                              for d, gaps in sorted(silent.items()) for a, b in gaps],
                   "never_reported": sorted(codes[d] for d in kinds if d not in seen)}


def _seconds(db: Session, later: Any, earlier: Any) -> Any:
    """Seconds from ``earlier`` to ``later`` (two stored times) in the database's SQL."""
    if db.get_bind().dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return cast(func.extract("epoch", later - earlier), Float)
