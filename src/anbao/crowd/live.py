"""Live state 实时态势 of one event, kept in memory by the warning engine (issue 14).

The engine used to read every zone and every device's newest reading twice per pass, and the
``zone-states`` route read every raw reading of the last 180 s per request: cost grew with the venue,
not with what changed. :class:`LiveZones` keeps, per event:

* the zones and devices (reloaded when the event's devices or zones change: the version query
  :data:`anbao.sensing.service.DEVICE_VERSION`, one small aggregate per pass);
* each device's newest reading (``device_latest``), read again only for the devices a stored batch
  named (:meth:`LiveZones.sync` with ``changed``), or all of them when asked (a start, a resync);
* each zone's fused state (:func:`anbao.algorithms.density.fuse`, the same rule as
  :func:`anbao.crowd.state.zone_states`) for the zones whose devices moved, and its trend and forecast as
  the engine computed them.

Storage stays the record: this is a cache of it, rebuilt from storage whenever the engine starts or
the event's devices change, and read again in full on the engine's resync timer.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Float, case, cast, func, select
from sqlalchemy.orm import Session

from anbao.algorithms.density import FusionConfig, SensorSample, fuse
from anbao.algorithms.levels import DEFAULT_DENSITY, DEFAULT_OCCUPANCY, Thresholds
from anbao.crowd.state import COUNTING_KINDS, ZoneState, newest_valued, seats_of, zone_state
from anbao.sensing.models import DeviceLatest
from anbao.sensing.service import DEVICE_VERSION
from anbao.venue.models import Device, Zone

#: device kinds whose ``values`` (JSON) and ``properties`` are kept: the gate counters (queues, gates)
JSON_KINDS = ("gate_counter",)
_CHUNK = 900  # ids per IN list (SQLite's default variable limit was 999 before 3.32)


@dataclass(slots=True)
class DeviceNow:
    """A device and its newest reading (times in epoch seconds; None before its first reading)."""

    id: int
    code: str
    kind: str
    zone_id: int | None
    properties: Any  # gate counters only, else None
    at: float | None = None
    value: float | None = None
    values: Any = None  # gate counters only
    received: float | None = None
    #: the newest reading with a value, for counting devices (the fusion needs a count)
    valued_at: float | None = None
    valued: float | None = None

    @property
    def at_dt(self) -> datetime:
        return datetime.fromtimestamp(self.at or 0.0, UTC)

    @property
    def received_dt(self) -> datetime:
        return datetime.fromtimestamp(self.received or 0.0, UTC)


@dataclass(frozen=True, slots=True)
class ZoneInfo:
    id: int
    code: str
    name: str
    area_m2: float
    kind: str
    seated: int | None
    standing: int | None


def _epoch(dialect: str, column: Any) -> Any:
    """``column`` (a stored time) as epoch seconds, computed by the database (issue 14: turning 20,000 stored
    times into datetimes and back took a third of a pass). On SQLite the whole seconds and the fraction of
    the stored text are added (julianday would round to the millisecond); exact to the microsecond either way."""
    if dialect == "sqlite":
        return cast(func.strftime("%s", column), Float) + cast(func.substr(column, 20), Float)
    return cast(func.extract("epoch", column), Float)


def _ts(value: Any) -> float | None:
    """Epoch seconds of a stored time: a datetime (PostgreSQL, or aware) or SQLite's naive UTC text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return float(value.timestamp())


@dataclass
class LiveZones:
    """The live state of one event (see the module docstring). Only the engine's pass changes it (under the
    watcher's lock); request threads read copies of its dicts (``dict(live.states)``), which CPython makes
    whole, and may see one device's fields from two passes (harmless for a view)."""

    event_id: int
    config: FusionConfig = field(default_factory=FusionConfig)
    version: tuple[Any, ...] | None = None
    devices: dict[int, DeviceNow] = field(default_factory=dict)
    zones: dict[int, ZoneInfo] = field(default_factory=dict)
    #: zone order of the screens (ring, code)
    order: list[int] = field(default_factory=list)
    #: place of each zone in :attr:`order`
    ranks: dict[int, int] = field(default_factory=dict)
    #: counting devices per zone
    counting: dict[int, list[int]] = field(default_factory=dict)
    #: gate counters (their queues are judged per place)
    counters: list[int] = field(default_factory=list)
    states: dict[int, ZoneState] = field(default_factory=dict)
    #: per zone: (trend persons/m2 per minute, direction, forecast density) as the engine last computed them
    dynamics: dict[int, tuple[float | None, str, float | None]] = field(default_factory=dict)
    #: wall-clock time (time.time) of the last pass that updated the states
    updated: float = 0.0

    # -- storage -> memory -------------------------------------------------------------------------------
    def sync(self, db: Session, changed: Collection[int] | None, until: datetime,
             heard: Mapping[int, tuple[str, float | None, float]] | None = None) -> tuple[set[int], bool]:
        """Read the newest readings of the ``changed`` devices (None: of every device) from storage.

        ``heard``: the newest readings the stored batches carried (device -> (time as stored UTC text, value,
        time received)); a changed device with a value there, not a gate counter (whose ``values`` the batch
        does not carry), is moved from it without a read. Returns (the devices whose newest reading moved,
        whether the zones and devices were loaded again). A counting device whose newest reading lies after
        ``until`` (a pass for a past time) or has no value is looked up in ``reading`` for the newest one with
        a value up to ``until``.
        """
        version = tuple(tuple(r) for r in db.execute(DEVICE_VERSION, {"event_id": self.event_id}))
        reloaded = version != self.version
        if reloaded:
            self._load_meta(db)
            self.version = version
            changed = None
        until_ts = until.timestamp()
        moved: set[int] = set()
        again: list[int] = []
        if changed is not None and heard:
            changed = self._take_heard(changed, heard, until_ts, moved, again)
        values = case((Device.kind.in_(JSON_KINDS), DeviceLatest.values), else_=None)
        dialect = db.get_bind().dialect.name
        stmt = (select(DeviceLatest.device_id, _epoch(dialect, DeviceLatest.at), DeviceLatest.value, values,
                       _epoch(dialect, DeviceLatest.received_at))
                .join(Device, Device.id == DeviceLatest.device_id).where(DeviceLatest.event_id == self.event_id))
        if changed is not None and len(changed) * 4 > len(self.devices):
            changed = None  # most of them: one read of all is cheaper than the IN lists
        if changed is None:
            rows: Iterable[Any] = db.execute(stmt).all()
        else:
            ids = sorted(i for i in changed if i in self.devices)
            rows = [r for k in range(0, len(ids), _CHUNK)
                    for r in db.execute(stmt.where(DeviceLatest.device_id.in_(ids[k:k + _CHUNK]))).all()]
        devices = self.devices
        for device_id, at, value, vals, received in rows:
            d = devices.get(device_id)
            if d is None:
                continue
            at_s, rec_s = at, received
            if at_s == d.at and rec_s == d.received and value == d.value:
                continue
            d.at, d.value, d.values, d.received = at_s, value, vals, rec_s
            moved.add(device_id)
            if d.kind in COUNTING_KINDS:
                if value is None or (at_s is not None and at_s > until_ts):
                    again.append(device_id)
                else:
                    d.valued_at, d.valued = at_s, value
        if again:
            self._older_values(db, again, until)
        return moved, reloaded

    def _take_heard(self, changed: Collection[int], heard: Mapping[int, tuple[str, float | None, float]],
                    until_ts: float, moved: set[int], again: list[int]) -> list[int]:
        """Move the changed devices the batches told about; returns those left to read from storage."""
        left: list[int] = []
        stamps: dict[str, float] = {}  # a batch's readings often share one time
        for device_id in changed:
            d = self.devices.get(device_id)
            got = heard.get(device_id)
            if d is None:
                continue
            if got is None or got[1] is None or d.kind in JSON_KINDS:
                left.append(device_id)
                continue
            text, value, received = got
            at = stamps.get(text)
            if at is None:
                at = stamps[text] = datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()
            if d.at is not None and at <= d.at:
                continue  # storage keeps the newest: an older or equal reading does not move it
            d.at, d.value, d.values, d.received = at, value, None, received
            moved.add(device_id)
            if d.kind in COUNTING_KINDS:
                if at > until_ts:
                    again.append(device_id)
                else:
                    d.valued_at, d.valued = at, value
        return left

    def _older_values(self, db: Session, ids: list[int], until: datetime) -> None:
        """The newest reading with a value up to ``until`` of each of ``ids`` (counting devices whose newest
        row cannot be used); one stamped after ``until`` stays as the sample (the fusion lists it as stale)."""
        since = until - timedelta(seconds=self.config.stale_after_s * 10)
        found = newest_valued(db, ids, since, until)
        for device_id, (at, value) in found.items():
            d = self.devices[device_id]
            d.valued_at, d.valued = _ts(at), value
        for device_id in ids:
            d = self.devices[device_id]
            if device_id not in found:
                if d.value is not None:  # only a reading after ``until``: kept, and stale for the fusion
                    d.valued_at, d.valued = d.at, d.value
                elif d.valued_at is not None and d.valued_at > until.timestamp():
                    d.valued_at = d.valued = None

    def _load_meta(self, db: Session) -> None:
        zones = db.execute(select(Zone.id, Zone.code, Zone.name, Zone.area_m2, Zone.kind, Zone.seated_capacity,
                                  Zone.standing_capacity).where(Zone.event_id == self.event_id)
                           .order_by(Zone.ring, Zone.code)).all()
        self.zones = {z[0]: ZoneInfo(*z) for z in zones}
        self.order = [z[0] for z in zones]
        self.ranks = {z: i for i, z in enumerate(self.order)}
        props = case((Device.kind.in_(JSON_KINDS), Device.properties), else_=None)
        old = self.devices
        devices: dict[int, DeviceNow] = {}
        for device_id, code, kind, zone_id, p in db.execute(
                select(Device.id, Device.code, Device.kind, Device.zone_id, props)
                .where(Device.event_id == self.event_id).order_by(Device.code)).all():
            d = DeviceNow(device_id, code, kind, zone_id, p)
            if (was := old.get(device_id)) is not None and was.kind == kind:  # keep what is known; read again
                d.at, d.value, d.values, d.received = was.at, was.value, was.values, was.received
                d.valued_at, d.valued = was.valued_at, was.valued
            devices[device_id] = d
        self.devices = devices
        self.counting = {}
        for d in devices.values():
            if d.kind in COUNTING_KINDS and d.zone_id is not None and d.zone_id in self.zones:
                self.counting.setdefault(d.zone_id, []).append(d.id)
        self.counters = [d.id for d in devices.values() if d.kind in JSON_KINDS]
        self.states = {k: v for k, v in self.states.items() if k in self.zones}

    # -- memory -> zone states ---------------------------------------------------------------------------
    def zones_of(self, device_ids: Iterable[int]) -> set[int]:
        """The zones whose fused state depends on any of ``device_ids`` (their counting devices' zones)."""
        out = set()
        for i in device_ids:
            d = self.devices.get(i)
            if d is not None and d.zone_id is not None and d.kind in COUNTING_KINDS and d.zone_id in self.zones:
                out.add(d.zone_id)
        return out

    def fuse(self, zone_ids: Iterable[int], now: datetime, *,
             thresholds: Thresholds | Mapping[str, Thresholds] = DEFAULT_DENSITY,
             occupancy: Thresholds | Mapping[str, Thresholds] = DEFAULT_OCCUPANCY) -> list[ZoneState]:
        """The states of ``zone_ids`` at ``now`` from the devices' newest readings, in screen order; kept in
        :attr:`states`. The same rule as :func:`anbao.crowd.state.zone_states` reading storage."""
        wanted = set(zone_ids)
        now_s, config = now.timestamp(), self.config
        since = now_s - config.stale_after_s * 10
        out = []
        ranks = self.ranks
        ordered = self.order if len(wanted) * 4 > len(self.order) else sorted(wanted, key=lambda z: ranks.get(z, 0))
        for zone_id in ordered:
            if zone_id not in wanted:
                continue
            z = self.zones[zone_id]
            samples = []
            for device_id in self.counting.get(zone_id, ()):
                d = self.devices[device_id]
                if d.valued_at is not None and d.valued is not None and d.valued_at > since and d.valued >= 0:
                    samples.append(SensorSample(sensor_id=d.code, kind=COUNTING_KINDS[d.kind], value=d.valued,
                                                at=d.valued_at))
            est = fuse(samples, z.area_m2, now_s, config)
            s = zone_state(zone_id, z.code, z.name, z.area_m2, z.kind, seats_of(z.seated, z.standing), est, now,
                           thresholds, occupancy)
            self.states[zone_id] = s
            out.append(s)
        self.updated = time.time()
        return out
