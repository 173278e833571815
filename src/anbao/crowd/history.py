"""Zone history 区域态势回放: count, density and level of zones at regular steps, from the stored readings.

One pass over the counting readings of the window (ordered by device and time, through the
``(device_id, at)`` index) gives, for every step time ``t``, the newest reading of each device at
or before ``t``. Each zone's samples then go through the same fusion rule as the live zone state
(:func:`anbao.algorithms.density.fuse`, sensors older than the stale window dropped), so a replayed
state equals what ``GET …/zone-states?at=t`` answers, at a fraction of the cost of one call per step.

Levels are coded as integers 0-4 (none, blue, yellow, orange, red) to keep the answer compact.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.algorithms.density import FusionConfig, SensorSample, fuse
from anbao.algorithms.levels import DEFAULT_DENSITY, Thresholds, classify
from anbao.crowd.state import COUNTING_KINDS
from anbao.sensing.models import Reading
from anbao.venue.models import Device, Zone

LEVELS = ("none", "blue", "yellow", "orange", "red")
MAX_STEPS = 1000
MAX_SPAN = timedelta(hours=24)


@dataclass(frozen=True)
class ZoneSeries:
    zone_id: int
    count: list[float | None]
    density: list[float | None]  # persons/m2
    level: list[int]  # index into LEVELS


@dataclass(frozen=True)
class History:
    since: datetime
    until: datetime
    step_s: int
    times: list[datetime]
    zones: list[ZoneSeries]
    people: list[float | None]  # persons on site per step (see people_on_site)
    data_since: datetime | None  # the first reading inside the window, if any


def auto_step(span_s: float, *, target: int = 240, minimum: int = 5) -> int:
    """A round step (seconds) giving about ``target`` steps over ``span_s``."""
    raw = max(minimum, span_s / target)
    for nice in (5, 10, 15, 20, 30, 60, 120, 180, 300, 600, 900, 1800, 3600):
        if raw <= nice:
            return nice
    return int(math.ceil(raw / 3600) * 3600)


def people_on_site(counts: Mapping[int, float | None], parents: Mapping[int, int | None]) -> float | None:
    """Sum of zone counts without counting anybody twice: a zone whose ancestor has a count is left out
    (the outermost counted zone already holds its people). None when no zone has a count."""
    total, seen = 0.0, False
    for zone_id, count in counts.items():
        if count is None:
            continue
        parent, hops = parents.get(zone_id), 0
        nested = False
        while parent is not None and hops < 50:
            if counts.get(parent) is not None:
                nested = True
                break
            parent, hops = parents.get(parent), hops + 1
        if not nested:
            total += count
            seen = True
    return round(total, 1) if seen else None


def _newest_per_step(rows: Iterable[tuple[int, datetime, float | None]], steps: list[float],
                     window_s: float) -> tuple[dict[int, list[tuple[float, float] | None]], float | None]:
    """device -> per step the newest (at, value) at or before the step and at most ``window_s`` old.

    ``rows`` must be ordered by device, then time. Also returns the earliest reading time seen.
    """
    out: dict[int, list[tuple[float, float] | None]] = {}
    first: float | None = None
    current: int | None = None
    k = 0
    last: tuple[float, float] | None = None
    picks: list[tuple[float, float] | None] = []

    def finish() -> None:
        nonlocal k
        while k < len(steps):
            picks[k] = last if last is not None and steps[k] - last[0] <= window_s else None
            k += 1

    for device_id, at_dt, value in rows:
        if value is None:
            continue
        at = at_dt.timestamp()
        if device_id != current:
            if current is not None:
                finish()
            current, k, last = device_id, 0, None
            picks = [None] * len(steps)
            out[device_id] = picks
        while k < len(steps) and steps[k] < at:
            picks[k] = last if last is not None and steps[k] - last[0] <= window_s else None
            k += 1
        last = (at, float(value))
        seen = max(at, steps[0])  # a reading before the window means data from its start
        if first is None or seen < first:
            first = seen
    if current is not None:
        finish()
    return out, first


def zone_history(*, db: Session, event_id: int, since: datetime, until: datetime, step_s: int,
                 zone_id: int | None = None, config: FusionConfig | None = None,
                 thresholds: Thresholds | Mapping[str, Thresholds] = DEFAULT_DENSITY) -> History:
    """Zone states from ``since`` to ``until`` every ``step_s`` seconds (the last step is ``until``).

    ``thresholds``: one set for all zones or a set per zone kind (key ``""`` for the rest), as in
    :func:`anbao.crowd.state.zone_states`.
    """
    config = config or FusionConfig()
    by_kind = thresholds if isinstance(thresholds, Mapping) else {"": thresholds}
    fallback = by_kind.get("", DEFAULT_DENSITY)
    span = (until - since).total_seconds()
    n = int(span // step_s)
    times = [since + timedelta(seconds=i * step_s) for i in range(n + 1)]
    if times[-1] < until:
        times.append(until)
    steps = [t.timestamp() for t in times]
    zq = select(Zone.id, Zone.area_m2, Zone.parent_id, Zone.kind).where(Zone.event_id == event_id)
    if zone_id is not None:
        zq = zq.where(Zone.id == zone_id)
    zones = db.execute(zq.order_by(Zone.ring, Zone.code)).all()
    parents = {z.id: z.parent_id for z in zones}
    devices = {d.id: d for d in db.execute(
        select(Device.id, Device.code, Device.kind, Device.zone_id)
        .where(Device.event_id == event_id, Device.kind.in_(COUNTING_KINDS),
               Device.zone_id.in_([z.id for z in zones]))).all()}
    picks: dict[int, list[tuple[float, float] | None]] = {}
    first: float | None = None
    if devices:
        rows = db.execute(
            select(Reading.device_id, Reading.at, Reading.value)
            .where(Reading.device_id.in_(list(devices)), Reading.at > since - timedelta(seconds=config.stale_after_s),
                   Reading.at <= until, Reading.value.is_not(None))
            .order_by(Reading.device_id, Reading.at)
            .execution_options(yield_per=5000))
        picks, first = _newest_per_step(((r[0], r[1], r[2]) for r in rows), steps, config.stale_after_s)
    by_zone: dict[int, list[int]] = {}
    for device_id, d in devices.items():
        if device_id in picks:
            by_zone.setdefault(d.zone_id, []).append(device_id)
    series: list[ZoneSeries] = []
    for z in zones:
        counts: list[float | None] = []
        dens: list[float | None] = []
        levels: list[int] = []
        members = by_zone.get(z.id, [])
        for k, t in enumerate(steps):
            samples = []
            for device_id in members:
                pick = picks[device_id][k]
                if pick is not None and pick[1] >= 0:
                    d = devices[device_id]
                    samples.append(SensorSample(sensor_id=d.code, kind=COUNTING_KINDS[d.kind], value=pick[1],
                                                at=pick[0]))
            est = fuse(samples, z.area_m2, t, config) if samples else None
            if est is None or est.density is None:
                counts.append(None)
                dens.append(None)
                levels.append(0)
            else:
                counts.append(est.count)
                dens.append(round(est.density, 3))
                levels.append(int(classify(est.density, by_kind.get(z.kind, fallback))))
        series.append(ZoneSeries(zone_id=z.id, count=counts, density=dens, level=levels))
    people = [people_on_site({s.zone_id: s.count[k] for s in series}, parents) for k in range(len(steps))]
    data_since = None if first is None else datetime.fromtimestamp(first, tz=UTC)
    return History(since=since, until=until, step_s=step_s, times=times, zones=series, people=people,
                   data_since=data_since)
