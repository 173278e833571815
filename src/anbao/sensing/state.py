"""Zone state 区域态势: count and density per zone, fused from the zone's fresh sensor readings.

The fusion rule is :func:`anbao.algorithms.density.fuse` (video counts preferred, WiFi/Bluetooth
probe counts scaled by the calibrated ratio, stale sensors dropped); cameras that report counts
(video analytics, GB/T 28181 flow or density alarms) count as video. The level shown is the
memoryless classification of the density against the event's density thresholds; the warning
flow keeps the hysteresis state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from anbao.algorithms.density import FusionConfig, SensorSample, fuse
from anbao.algorithms.levels import DEFAULT_DENSITY, LEVEL_NAMES_ZH, Level, Thresholds, classify
from anbao.sensing.models import Reading
from anbao.venue.models import Device, Zone

#: device kind -> sample kind of the fusion rule (gate counters measure flow, not occupancy)
COUNTING_KINDS = {"video_count": "video_count", "camera": "video_count", "wifi_probe": "wifi_probe",
                  "bluetooth": "bluetooth"}
LEVEL_CODES = {Level.NONE: "none", Level.BLUE: "blue", Level.YELLOW: "yellow", Level.ORANGE: "orange",
               Level.RED: "red"}


@dataclass(frozen=True)
class ZoneState:
    zone_id: int
    code: str
    name: str
    area_m2: float
    count: float | None
    density: float | None  # persons/m2
    source: str
    level: str  # none | blue | yellow | orange | red
    level_zh: str
    sensors_used: tuple[str, ...]
    sensors_stale: tuple[str, ...]
    at: datetime


def zone_states(*, db: Session, event_id: int, now: datetime, config: FusionConfig | None = None,
                thresholds: Thresholds = DEFAULT_DENSITY) -> list[ZoneState]:
    """The state of every zone of the event at ``now``."""
    config = config or FusionConfig()
    zones = db.execute(select(Zone.id, Zone.code, Zone.name, Zone.area_m2).where(Zone.event_id == event_id)
                       .order_by(Zone.ring, Zone.code)).all()
    devices = {d.id: d for d in db.execute(
        select(Device.id, Device.code, Device.kind, Device.zone_id)
        .where(Device.event_id == event_id, Device.kind.in_(COUNTING_KINDS))).all()}
    # the newest reading per device; anything older than the stale window cannot count, but a silent
    # sensor still shows as stale when it has a reading within ten windows
    since = now - timedelta(seconds=config.stale_after_s * 10)
    newest: dict[int, tuple[datetime, float]] = {}
    rows = db.execute(select(Reading.device_id, Reading.at, Reading.value)
                      .where(Reading.event_id == event_id, Reading.at > since, Reading.value.is_not(None),
                             Reading.device_id.in_(devices))).all() if devices else []
    for device_id, at, value in rows:
        if value is not None and (device_id not in newest or at > newest[device_id][0]):
            newest[device_id] = (at, value)
    by_zone: dict[int, list[SensorSample]] = {}
    for device_id, (at, value) in newest.items():
        d = devices[device_id]
        if d.zone_id is not None and value is not None and value >= 0:
            by_zone.setdefault(d.zone_id, []).append(
                SensorSample(sensor_id=d.code, kind=COUNTING_KINDS[d.kind], value=value, at=at.timestamp()))
    out = []
    for zone_id, code, name, area in zones:
        est = fuse(by_zone.get(zone_id, []), area, now.timestamp(), config)
        level = classify(est.density, thresholds) if est.density is not None else Level.NONE
        out.append(ZoneState(zone_id=zone_id, code=code, name=name, area_m2=area, count=est.count,
                             density=None if est.density is None else round(est.density, 3), source=est.source,
                             level=LEVEL_CODES[level], level_zh=LEVEL_NAMES_ZH[level], sensors_used=est.used,
                             sensors_stale=est.stale, at=now))
    return out
