"""Zone state 区域态势: count and density per zone, fused from the zone's fresh sensor readings.

The fusion rule is :func:`anbao.algorithms.density.fuse` (video counts preferred, WiFi/Bluetooth
probe counts scaled by the calibrated ratio, stale sensors dropped); cameras that report counts
(video analytics, GB/T 28181 flow or density alarms) count as video. The level shown is the
memoryless classification of the density against the event's density thresholds, or for a seated
zone (看台: seats and no standing capacity) of its occupancy in % of seats against the occupancy
thresholds; the warning flow keeps the hysteresis state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from anbao.algorithms.density import FusionConfig, SensorSample, ZoneEstimate, fuse
from anbao.algorithms.levels import DEFAULT_DENSITY, DEFAULT_OCCUPANCY, LEVEL_NAMES_ZH, Level, Thresholds, classify
from anbao.core.vocab import WARNING_LEVELS
from anbao.sensing.models import DeviceLatest, Reading
from anbao.venue.models import Device, Zone

#: device kind -> sample kind of the fusion rule (gate counters measure flow, not occupancy)
COUNTING_KINDS = {"video_count": "video_count", "camera": "video_count", "wifi_probe": "wifi_probe",
                  "bluetooth": "bluetooth"}
LEVEL_CODES = {Level.NONE: "none", **{Level[code.upper()]: code for code in WARNING_LEVELS}}


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
    #: seats of a seated zone (看台: seats and no standing capacity), else None
    seats: int | None = None
    #: persons against seats in %, for a seated zone with a count (its level is by occupancy, not density)
    occupancy_pct: float | None = None


def seats_of(seated_capacity: int | None, standing_capacity: int | None) -> int | None:
    """The seats a zone's occupancy is judged against: a zone with seats and no standing capacity is
    seated (its warnings are on occupancy, issue 13 item 4); any other zone is judged on density."""
    return seated_capacity if seated_capacity and seated_capacity > 0 and not standing_capacity else None


def zone_states(*, db: Session, event_id: int, now: datetime, config: FusionConfig | None = None,
                thresholds: Thresholds | Mapping[str, Thresholds] = DEFAULT_DENSITY,
                occupancy: Thresholds | Mapping[str, Thresholds] = DEFAULT_OCCUPANCY) -> list[ZoneState]:
    """The state of every zone of the event at ``now``.

    ``thresholds`` classify the density: one set for every zone, or a set per zone kind where the key
    ``""`` serves the kinds without their own (the event's density warning rules,
    :func:`anbao.alert.rules.density_thresholds`). A seated zone (:func:`seats_of`) is classified by
    its occupancy in % of seats against ``occupancy`` (the same way, per zone kind) instead.
    """
    config = config or FusionConfig()
    zones = db.execute(select(Zone.id, Zone.code, Zone.name, Zone.area_m2, Zone.kind, Zone.seated_capacity,
                              Zone.standing_capacity).where(Zone.event_id == event_id)
                       .order_by(Zone.ring, Zone.code)).all()
    devices = {d.id: d for d in db.execute(
        select(Device.id, Device.code, Device.kind, Device.zone_id)
        .where(Device.event_id == event_id, Device.kind.in_(COUNTING_KINDS))).all()}
    # the newest reading per device; anything older than the stale window cannot count, but a silent
    # sensor still shows as stale when it has a reading within ten windows
    since = now - timedelta(seconds=config.stale_after_s * 10)
    newest = _newest_values(db, event_id, set(devices), since, now + timedelta(seconds=config.future_tolerance_s))
    by_zone: dict[int, list[SensorSample]] = {}
    for device_id, (at, value) in newest.items():
        d = devices[device_id]
        if d.zone_id is not None and value >= 0:
            by_zone.setdefault(d.zone_id, []).append(
                SensorSample(sensor_id=d.code, kind=COUNTING_KINDS[d.kind], value=value, at=at.timestamp()))
    out = []
    for zone_id, code, name, area, kind, seated, standing in zones:
        est = fuse(by_zone.get(zone_id, []), area, now.timestamp(), config)
        out.append(zone_state(zone_id, code, name, area, kind, seats_of(seated, standing), est, now, thresholds,
                              occupancy))
    return out


def zone_state(zone_id: int, code: str, name: str, area: float, kind: str, seats: int | None, est: ZoneEstimate,
               now: datetime, thresholds: Thresholds | Mapping[str, Thresholds],
               occupancy: Thresholds | Mapping[str, Thresholds]) -> ZoneState:
    """The state of one zone from its fused estimate: the level by occupancy for a seated zone, else by density
    (``thresholds``/``occupancy``: one set, or a set per zone kind with ``""`` for the rest)."""
    pct = round(est.count / seats * 100, 2) if seats is not None and est.count is not None else None
    density = None if est.density is None else round(est.density, 3)
    level = _level(kind, seats, pct, est.density, thresholds, occupancy)
    return ZoneState(zone_id=zone_id, code=code, name=name, area_m2=area, count=est.count, density=density,
                     source=est.source, level=LEVEL_CODES[level], level_zh=LEVEL_NAMES_ZH[level], sensors_used=est.used,
                     sensors_stale=est.stale, at=now, seats=seats, occupancy_pct=pct)


def relevel(s: ZoneState, kind: str, thresholds: Thresholds | Mapping[str, Thresholds],
            occupancy: Thresholds | Mapping[str, Thresholds]) -> ZoneState:
    """``s`` with its level classified again against ``thresholds``/``occupancy`` (rules changed since)."""
    level = _level(kind, s.seats, s.occupancy_pct, s.density, thresholds, occupancy)
    code = LEVEL_CODES[level]
    return s if code == s.level else replace(s, level=code, level_zh=LEVEL_NAMES_ZH[level])


def _level(kind: str, seats: int | None, pct: float | None, density: float | None,
           thresholds: Thresholds | Mapping[str, Thresholds],
           occupancy: Thresholds | Mapping[str, Thresholds]) -> Level:
    by_kind = thresholds if isinstance(thresholds, Mapping) else {"": thresholds}
    seated_by_kind = occupancy if isinstance(occupancy, Mapping) else {"": occupancy}
    if pct is not None:
        return classify(pct, seated_by_kind.get(kind) or seated_by_kind.get("", DEFAULT_OCCUPANCY))
    if seats is None and density is not None:
        return classify(density, by_kind.get(kind) or by_kind.get("", DEFAULT_DENSITY))
    return Level.NONE


def _newest_values(db: Session, event_id: int, device_ids: set[int], since: datetime, until: datetime
                   ) -> dict[int, tuple[datetime, float]]:
    """The newest reading with a ``value`` of each device, taken after ``since`` and up to ``until``.

    ``device_latest`` answers for nearly every device; only a device whose newest reading lies after
    ``until`` (a state asked for a past time) or carries no ``value`` is looked up in ``reading``.
    """
    if not device_ids:
        return {}
    newest: dict[int, tuple[datetime, float]] = {}
    again: list[int] = []
    future: dict[int, tuple[datetime, float]] = {}
    for device_id, at, value in db.execute(
            select(DeviceLatest.device_id, DeviceLatest.at, DeviceLatest.value)
            .where(DeviceLatest.event_id == event_id, DeviceLatest.at > since)).all():
        if device_id not in device_ids:
            continue
        if at > until or value is None:
            again.append(device_id)
            if value is not None:
                future[device_id] = (at, value)
        else:
            newest[device_id] = (at, value)
    newest.update(newest_valued(db, again, since, until))
    for device_id, sample in future.items():  # nothing before ``until``: fusion lists it as stale
        newest.setdefault(device_id, sample)
    return newest


def newest_valued(db: Session, device_ids: list[int], since: datetime, until: datetime
                  ) -> dict[int, tuple[datetime, float]]:
    """From ``reading``: the newest reading with a ``value`` of each device, taken after ``since`` and up to
    ``until`` (devices with none are left out); in chunks of 500 ids."""
    out: dict[int, tuple[datetime, float]] = {}
    for start in range(0, len(device_ids), 500):
        chunk = device_ids[start:start + 500]
        last = (select(Reading.device_id, func.max(Reading.at).label("at"))
                .where(Reading.device_id.in_(chunk), Reading.at > since, Reading.at <= until,
                       Reading.value.is_not(None))
                .group_by(Reading.device_id).subquery())
        for device_id, at, value in db.execute(
                select(Reading.device_id, Reading.at, Reading.value)
                .join(last, and_(Reading.device_id == last.c.device_id, Reading.at == last.c.at))
                .where(Reading.value.is_not(None))).all():
            if value is not None:
                out[device_id] = (at, value)
    return out


@dataclass(frozen=True)
class DeviceReading:
    """The newest reading of one device (``zone_id`` is the zone the device is in now)."""

    device_id: int
    code: str
    kind: str
    zone_id: int | None
    at: datetime
    value: float | None
    values: Any
    received_at: datetime
    properties: Any = None


def latest(*, db: Session, event_id: int, json_kinds: tuple[str, ...] | None = None) -> list[DeviceReading]:
    """The newest reading of every device of the event that has reported, ordered by device code.

    For the warning rules: gas and smoke levels, gate queues, and device silence (``now - at``).
    ``json_kinds``: only devices of these kinds carry ``values`` and ``properties`` (the others get None),
    which spares decoding two JSON documents per device (issue 14: the warning pass needs them for gate
    counters only); None: every device carries them.
    """
    wanted = Device.kind.in_(json_kinds) if json_kinds is not None else None
    values = DeviceLatest.values if wanted is None else case((wanted, DeviceLatest.values), else_=None)
    props = Device.properties if wanted is None else case((wanted, Device.properties), else_=None)
    rows = db.execute(
        select(Device.id, Device.code, Device.kind, Device.zone_id, DeviceLatest.at, DeviceLatest.value,
               values, DeviceLatest.received_at, props)
        .join(DeviceLatest, DeviceLatest.device_id == Device.id)
        .where(Device.event_id == event_id).order_by(Device.code)).all()
    return [DeviceReading(device_id=r[0], code=r[1], kind=r[2], zone_id=r[3], at=r[4], value=r[5], values=r[6],
                          received_at=r[7], properties=r[8]) for r in rows]
