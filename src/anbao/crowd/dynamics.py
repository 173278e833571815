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
from datetime import datetime, timedelta

from sqlalchemy import select
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


def zone_dynamics(*, db: Session, event_id: int, now: datetime, window_s: float = 180.0,
                  flow_window_s: float = 60.0, horizon_s: float = 120.0,
                  config: FusionConfig | None = None) -> dict[int, ZoneDynamics]:
    config = config or FusionConfig()
    areas = dict(db.execute(select(Zone.id, Zone.area_m2).where(Zone.event_id == event_id)).all())
    devices = {d.id: d for d in db.execute(
        select(Device.id, Device.kind, Device.zone_id)
        .where(Device.event_id == event_id, Device.zone_id.is_not(None),
               Device.kind.in_((*VIDEO_KINDS, *PROBE_KINDS, "gate_counter")))).all()}
    since = now - timedelta(seconds=max(window_s, flow_window_s))
    rows = db.execute(select(Reading.device_id, Reading.at, Reading.value, Reading.values)
                      .where(Reading.event_id == event_id, Reading.device_id.in_(devices), Reading.at > since,
                             Reading.at <= now)).all() if devices else []
    flow_from = now - timedelta(seconds=flow_window_s)
    flows: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    video: dict[int, dict[int, float]] = defaultdict(dict)
    probe: dict[int, dict[int, float]] = defaultdict(dict)
    start = now.timestamp() - window_s
    for device_id, at, value, values in rows:
        d = devices[device_id]
        if d.kind == "gate_counter":
            if at > flow_from and isinstance(values, dict):
                f = flows[d.zone_id]
                f[0] += float(values.get("in") or 0)
                f[1] += float(values.get("out") or 0)
            continue
        t = at.timestamp()
        if value is None or value < 0 or t < start:
            continue
        bucket = int((t - start) // BUCKET_S)
        into = video if d.kind in VIDEO_KINDS else probe
        count = value if d.kind in VIDEO_KINDS else value * config.probe_ratio
        into[d.zone_id][bucket] = max(into[d.zone_id].get(bucket, 0.0), count)
    scale = 60.0 / flow_window_s
    out: dict[int, ZoneDynamics] = {}
    for zone_id, area in areas.items():
        buckets = video.get(zone_id) or probe.get(zone_id) or {}
        series = [(start + (b + 0.5) * BUCKET_S, c / area) for b, c in buckets.items()] if area else []
        tr = trend(series, window_s) if len(series) >= 2 else None
        fl = flows.get(zone_id)
        out[zone_id] = ZoneDynamics(
            flow_in_per_min=round(fl[0] * scale, 1) if fl else None,
            flow_out_per_min=round(fl[1] * scale, 1) if fl else None,
            trend_per_min=round(tr.slope_per_min, 4) if tr is not None and tr.points >= 2 else None,
            direction=tr.direction if tr is not None and tr.points >= 2 else "unknown",
            forecast_density=(round(fc, 3) if (fc := forecast(series, horizon_s, window_s)) is not None else None)
            if len(series) >= 2 else None)
    return out
