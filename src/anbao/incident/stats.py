"""Response figures 接处警效能: time to dispatch, to arrival and to resolution, p50 and p90 by type and by zone.

Times run from the report (``reported_at``): to the first unit assigned (``dispatched_at``), to the
first unit on scene (``on_scene_at``), and to ``resolved_at``. An incident that has not reached a
stage does not count for it (``n`` says how many did). Percentiles are numpy's linear interpolation.
The after-action review reads the same figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.incident.models import Incident
from anbao.venue.models import Zone

STAGES = ("dispatch", "arrival", "resolution")


@dataclass(frozen=True)
class Figures:
    n: int  # incidents that reached the stage
    p50_s: float | None
    p90_s: float | None
    max_s: float | None


@dataclass(frozen=True)
class Group:
    key: str  # incident type code, zone code, or "all"
    label: str
    incidents: int
    open: int
    dispatch: Figures
    arrival: Figures
    resolution: Figures


def figures(values: Iterable[float]) -> Figures:
    arr = np.asarray(list(values), dtype=float)
    if arr.size == 0:
        return Figures(0, None, None, None)
    p50, p90 = np.percentile(arr, [50, 90])
    return Figures(int(arr.size), round(float(p50), 1), round(float(p90), 1), round(float(arr.max()), 1))


def _since(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else max(0.0, (end - start).total_seconds())


def _group(key: str, label: str, rows: list[Incident]) -> Group:
    def stage(attr: str) -> Figures:
        return figures(v for v in (_since(i.reported_at, getattr(i, attr)) for i in rows) if v is not None)

    return Group(key=key, label=label, incidents=len(rows),
                 open=sum(1 for i in rows if i.status not in ("resolved", "closed")),
                 dispatch=stage("dispatched_at"), arrival=stage("on_scene_at"), resolution=stage("resolved_at"))


def response_stats(*, db: Session, event_id: int, since: datetime | None = None,
                   until: datetime | None = None) -> dict[str, list[Group]]:
    """Figures for all incidents, by type and by zone (reported within [since, until) when given)."""
    from anbao.core.vocab import INCIDENT_TYPES

    stmt = select(Incident).where(Incident.event_id == event_id)
    if since is not None:
        stmt = stmt.where(Incident.reported_at >= since)
    if until is not None:
        stmt = stmt.where(Incident.reported_at < until)
    rows = list(db.execute(stmt).scalars())
    zones = {z.id: (z.code, z.name) for z in db.execute(select(Zone).where(Zone.event_id == event_id)).scalars()}
    by_type: dict[str, list[Incident]] = {}
    by_zone: dict[int | None, list[Incident]] = {}
    for i in rows:
        by_type.setdefault(i.type, []).append(i)
        by_zone.setdefault(i.zone_id, []).append(i)
    types = [_group(t, INCIDENT_TYPES.get(t, (t, ""))[0], r) for t, r in sorted(by_type.items())]
    places = [_group(zones[z][0] if z in zones else "-", zones[z][1] if z in zones else "区域外", r)
              for z, r in sorted(by_zone.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))]
    return {"all": [_group("all", "全部", rows)], "by_type": types, "by_zone": places}
