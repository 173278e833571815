"""Zone dynamics 区域动态: flow in and out at a zone's gates, density trend and a short forecast.

Computed from the stored readings of a recent window, so any time can be asked for:

* **Flow** (persons/min): the sum of ``values.in`` / ``values.out`` of the zone's gate counters
  over the last ``flow_window_s`` (60 s), scaled to one minute. Gate counters report persons
  through the gate since their previous reading, so the sum over a window is the window's flow.
* **Trend** (persons/m2 per minute): the least-squares slope (:func:`anbao.algorithms.density.trend`)
  of the zone's density series over ``window_s`` (180 s). The series takes, per 10 s bucket, the
  largest video count (the fusion rule's default ``max``), or failing video the largest probe
  count times the probe ratio, divided by the zone's area.
* **Forecast**: the density expected ``horizon_s`` (120 s) ahead by linear extrapolation of the
  same series (:func:`anbao.algorithms.density.forecast`, a baseline).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, cast, func, select
from sqlalchemy.orm import Session

from anbao.algorithms.density import FusionConfig, forecast, trend
from anbao.sensing.models import Reading
from anbao.venue.models import Device, Zone

VIDEO_KINDS = ("video_count", "camera")
PROBE_KINDS = ("wifi_probe", "bluetooth")
BUCKET_S = 10.0


@dataclass(frozen=True)
class ZoneDynamics:
    flow_in_per_min: float | None  # None: the zone has no gate counter with data
    flow_out_per_min: float | None
    trend_per_min: float | None  # None: fewer than two points in the window
    direction: str  # rising | falling | steady | unknown
    forecast_density: float | None


#: seconds added before a bucket is cut: SQLite's julianday carries about 40 us of rounding at today's dates,
#: so a reading stamped exactly on a bucket's edge would otherwise fall into the bucket before it at random
EDGE_S = 0.001


def _bucket(db: Session, start: float) -> ColumnElement[Any]:
    """The index of a reading's 10 s bucket counted from ``start`` (epoch seconds), in the database's SQL
    (a reading on an edge opens the next bucket, as ``(t - start) // BUCKET_S`` does)."""
    if db.get_bind().dialect.name == "sqlite":  # julianday: days since noon, 24 November 4714 BC
        since = (func.julianday(Reading.at) - 2440587.5) * 86400.0 - start + EDGE_S
        return cast(since / BUCKET_S, Integer)  # readings after start: truncation is floor
    return func.floor((func.extract("epoch", Reading.at) - start + EDGE_S) / BUCKET_S)


def gate_counter_zones(*, db: Session, event_id: int) -> dict[int, int]:
    """The zone of each gate counter of the event that has one."""
    return {device_id: zone_id for device_id, zone_id in db.execute(select(Device.id, Device.zone_id).where(
        Device.event_id == event_id, Device.zone_id.is_not(None), Device.kind == "gate_counter")).all()
        if zone_id is not None}


def zone_flows(*, db: Session, event_id: int, now: datetime, flow_window_s: float = 60.0,
               zone_of: dict[int, int] | None = None) -> dict[int, tuple[float, float]]:
    """Persons/min in and out per zone at its gate counters over the last ``flow_window_s`` (zones without a
    counter with data are left out). ``zone_of``: the counters' zones, if the caller has them."""
    if zone_of is None:
        zone_of = gate_counter_zones(db=db, event_id=event_id)
    flow_from = now - timedelta(seconds=flow_window_s)
    flows: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    counters = list(zone_of)
    for start_i in range(0, len(counters), 500):  # gate counters are few: their in/out (JSON) are summed here
        for device_id, values in db.execute(
                select(Reading.device_id, Reading.values)
                .where(Reading.event_id == event_id, Reading.device_id.in_(counters[start_i:start_i + 500]),
                       Reading.at > flow_from, Reading.at <= now)).all():
            if isinstance(values, dict):
                f = flows[zone_of[device_id]]
                f[0] += float(values.get("in") or 0)
                f[1] += float(values.get("out") or 0)
    scale = 60.0 / flow_window_s
    return {z: (round(f[0] * scale, 1), round(f[1] * scale, 1)) for z, f in flows.items()}


def zone_dynamics(*, db: Session, event_id: int, now: datetime, window_s: float = 180.0,
                  flow_window_s: float = 60.0, horizon_s: float = 120.0,
                  config: FusionConfig | None = None) -> dict[int, ZoneDynamics]:
    config = config or FusionConfig()
    areas = dict(db.execute(select(Zone.id, Zone.area_m2).where(Zone.event_id == event_id)).all())
    flows = zone_flows(db=db, event_id=event_id, now=now, flow_window_s=flow_window_s)
    video: dict[int, dict[int, float]] = defaultdict(dict)
    probe: dict[int, dict[int, float]] = defaultdict(dict)
    start = now.timestamp() - window_s
    # the density series: the largest count per zone, device kind and 10 s bucket, aggregated by the database
    # (issue 14: reading every raw row of 180 s took 5 s at 500 zones / 5,000 sensors)
    bucket = _bucket(db, start)
    for zone_id, kind, b, top in db.execute(
            select(Device.zone_id, Device.kind, bucket, func.max(Reading.value))
            .join(Device, Device.id == Reading.device_id)
            .where(Reading.event_id == event_id, Device.event_id == event_id, Device.zone_id.is_not(None),
                   Device.kind.in_((*VIDEO_KINDS, *PROBE_KINDS)), Reading.at > datetime.fromtimestamp(start, UTC),
                   Reading.at <= now, Reading.value >= 0)
            .group_by(Device.zone_id, Device.kind, bucket)).all():
        if top is None or b is None:
            continue
        into = video if kind in VIDEO_KINDS else probe
        count = float(top) if kind in VIDEO_KINDS else float(top) * config.probe_ratio
        key = int(b)
        into[zone_id][key] = max(into[zone_id].get(key, 0.0), count)
    out: dict[int, ZoneDynamics] = {}
    for zone_id, area in areas.items():
        buckets = video.get(zone_id) or probe.get(zone_id) or {}
        series = [(start + (b + 0.5) * BUCKET_S, c / area) for b, c in buckets.items()] if area else []
        tr = trend(series, window_s) if len(series) >= 2 else None
        fl = flows.get(zone_id)
        out[zone_id] = ZoneDynamics(
            flow_in_per_min=fl[0] if fl else None,
            flow_out_per_min=fl[1] if fl else None,
            trend_per_min=round(tr.slope_per_min, 4) if tr is not None and tr.points >= 2 else None,
            direction=tr.direction if tr is not None and tr.points >= 2 else "unknown",
            forecast_density=(round(fc, 3) if (fc := forecast(series, horizon_s, window_s)) is not None else None)
            if len(series) >= 2 else None)
    return out
