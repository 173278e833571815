"""The warning engine: zone states and sensor values → rules → level trackers → warnings → plans.

One pass (:func:`evaluate`) for one event:

1. **Density** per zone: the fused zone state (:mod:`anbao.crowd.state`) against the density
   rule of the zone's kind; a seated stand (seats, no standing capacity) against the **occupancy**
   rule instead (% of its seats). While a zone's density rises, the straight-line forecast 2 minutes ahead
   over the last 3 minutes of passes (:func:`anbao.algorithms.density.forecast`) can raise a level
   early; the warning is then marked ``forecast`` and its message gives the expected density.
2. **Gas, smoke, temperature** per detector: its newest value, when fresh, against the rule of its
   zone's kind. **Queues** per place from its gate counters: ``values.queue`` (persons) and ``values.wait_s``
   (seconds, compared in minutes), one warning per place (the counters' zone, else gate) and kind with
   the counters named as evidence. **Device silence** per device that has reported: seconds since
   its newest reading reached the server.
3. Each watched quantity has a :class:`LevelTracker` (hysteresis, hold time); a transition raises,
   moves or releases the one open warning of its key (deduplication). Each step is a typed change
   (:mod:`anbao.core.events`) carrying the cause id of the reading batch behind it; a rise is handled
   by the response package, which starts the plans the rule names
   (:func:`anbao.response.service.start_warning_plans`).
4. Active warnings nobody acknowledged within the rule's ``escalate_after_min`` go one step up the
   command tree (:func:`anbao.alert.service.escalate`).
5. Zone states and sensor health go out as compact deltas, at most every ``state_every_s``
   (500 ms); warnings, plan activations and tasks go out at once when the pass commits.

:class:`Watcher` keeps the trackers between passes. It runs a pass every ``interval_s`` and at once
when a :class:`~anbao.core.events.ReadingsStored` change arrives on the bus (any door: HTTP, MQTT,
GB/T 28181, the simulator) (passes at least ``min_gap_s`` = 100 ms apart,
so that a stream of ingest batches does not keep the SQLite write lock busy with passes).

With several replicas on PostgreSQL each runs a Watcher, and exactly one evaluates: the holder of
the ``warning-engine`` lease (:class:`anbao.core.lease.AdvisoryLease`); the others stand by and try
to take it every ``standby_retry_s``. Each pass of the holder is fenced in its own transaction
(:meth:`~anbao.core.lease.AdvisoryLease.fence`), so a holder that lost the lease mid-pass cannot
overlap the next one; one that loses it forgets its trackers (the next holder starts from the open
warnings in the database). SQLite has one process and no lease. docs/scale-out.md.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from anbao.alert import rules, service
from anbao.alert.models import EarlyWarning, WarningRule
from anbao.algorithms.density import forecast, trend
from anbao.algorithms.levels import LEVEL_NAMES_ZH, Level, LevelTracker, Thresholds, Transition, classify
from anbao.core import events, outbox
from anbao.core.bus import Bus
from anbao.core.db import reading
from anbao.core.lease import AdvisoryLease, LeaseLost
from anbao.core.time import utcnow
from anbao.core.vocab import DEVICE_KINDS
from anbao.crowd.live import DeviceNow, LiveZones
from anbao.crowd.state import LEVEL_CODES, ZoneState, relevel
from anbao.sensing.models import DeviceLatest
from anbao.venue.models import Zone

log = logging.getLogger("anbao.alert")

#: a detector value older than this is not judged (no data: the level stays where it is)
FRESH_S = 120.0
DETECTOR_KINDS = ("gas", "smoke", "temperature")


@dataclass
class Batches:
    """Stored-readings changes heard since the last pass of an event, newest per device and per zone."""

    devices: dict[int, events.ReadingsStored] = field(default_factory=dict)
    zones: dict[int, events.ReadingsStored] = field(default_factory=dict)
    #: per device, its newest reading in the batches heard: (time as stored UTC text, value, time received)
    newest: dict[int, tuple[str, float | None, float]] = field(default_factory=dict)

    def cause_of(self, obs: Observation) -> events.ReadingsStored | None:
        """The batch behind an observation (its device's, else its zone's), if one was heard."""
        if obs.kind == "device_silence":
            return None  # silence is caused by the clock, not by a batch
        if obs.device_id is not None:
            return self.devices.get(obs.device_id)
        return self.zones.get(obs.zone_id) if obs.zone_id is not None else None


@dataclass
class Watch:
    """State kept between passes: trackers by warning key, what was last sent, when."""

    trackers: dict[tuple[int, str], tuple[LevelTracker, float | None]] = field(default_factory=dict)
    #: thresholds per rule version (id, kind, zone kind, updated_at)
    thresholds: dict[tuple[Any, ...], Thresholds] = field(default_factory=dict)
    last_sent: dict[tuple[int, int], tuple[Any, ...]] = field(default_factory=dict)
    health_sent: dict[tuple[int, int], str] = field(default_factory=dict)
    last_push: dict[int, float] = field(default_factory=dict)
    state_every_s: float = 0.5
    #: recent fused densities per (event, zone) for the trend and the forecast
    history: dict[tuple[int, int], deque[tuple[float, float]]] = field(default_factory=dict)
    trend_window_s: float = 180.0
    horizon_s: float = 120.0
    #: the trend and forecast of a zone are fitted at most this often (its samples are all kept)
    fit_every_s: float = 1.0
    fitted: dict[tuple[int, int], tuple[float, tuple[float | None, str, float | None]]] = field(default_factory=dict)
    #: per event, the batches heard since its last pass, newest per device and per zone (:meth:`heard`):
    #: a change that pass makes about that device or zone was caused by that batch
    heard_batches: dict[int, Batches] = field(default_factory=dict)
    #: committing threads add batches while the watcher's thread takes them
    heard_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    #: True: passes observe what the batches heard named, and everything every ``sweep_s`` (the engine,
    #: subscribed to the bus); False: every pass observes everything (a caller driving passes itself)
    incremental: bool = False
    sweep_s: float = 2.0
    resync_s: float = 10.0
    #: per event: the live state (zones, devices, newest readings, fused states) and the pass clocks
    live: dict[int, LiveZones] = field(default_factory=dict)
    last_sweep: dict[int, float] = field(default_factory=dict)
    last_resync: dict[int, float] = field(default_factory=dict)
    #: per event: (zones, devices) the last pass observed (issue 14: a pass grows with what changed)
    touched: dict[int, tuple[int, int]] = field(default_factory=dict)
    #: per event: zone-state and sensor-health changes held back by the push pacing, by zone and device id
    held: dict[int, tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]] = field(default_factory=dict)

    def heard(self, change: events.ReadingsStored) -> None:
        """Remember a committed batch as the cause of what its devices and zones lead to in the next pass."""
        with self.heard_lock:
            batches = self.heard_batches.setdefault(change.event_id, Batches())
            for device_id in change.device_ids:
                batches.devices[device_id] = change
            for zone_id in change.zone_ids:
                batches.zones[zone_id] = change
            received = change.at.timestamp()
            newest = batches.newest
            for device_id, at, value in change.newest:
                seen = newest.get(device_id)
                if seen is None or at >= seen[0]:  # the storage form sorts as the time does
                    newest[device_id] = (at, value, received)

    def take(self, event_id: int) -> Batches:
        """The batches heard for ``event_id`` since the last call (a pass takes them once)."""
        with self.heard_lock:
            return self.heard_batches.pop(event_id, None) or Batches()

    def remember(self, event_id: int, zone_id: int, at: float,
                 density: float | None) -> tuple[float | None, str, float | None]:
        """Add a density sample; returns (trend per minute, direction, forecast) once the window holds enough,
        else (None, "unknown", None)."""
        key = (event_id, zone_id)
        series = self.history.setdefault(key, deque(maxlen=600))
        if density is not None and (not series or at > series[-1][0]):
            series.append((at, density))
        while series and series[0][0] < at - self.trend_window_s:
            series.popleft()
        if len(series) < 5 or series[-1][0] - series[0][0] < 30:
            return None, "unknown", None
        fitted = self.fitted.get(key)
        if fitted is not None and 0 <= at - fitted[0] < self.fit_every_s:
            return fitted[1]  # fitted less than fit_every_s ago (issue 14: a fit per zone and pass, 10 a second)
        points = list(series)
        tr = trend(points, self.trend_window_s)
        got = (round(tr.slope_per_min, 3), tr.direction, forecast(points, self.horizon_s, self.trend_window_s))
        self.fitted[key] = (at, got)
        return got

    def forget(self, event_id: int, keys: Iterable[str]) -> None:
        """Drop the trackers of ``keys``: the next pass builds them again from the open warnings in storage.

        For a pass whose changes were not stored (its write failed): its trackers had already moved, and
        kept, they would hold a level the stored warning never reached (issue 14: a zone at 4.5 persons/m2
        whose warning stayed blue, because the pass that moved its tracker to red could not write). The next
        pass is a sweep: the batches the failed pass took are not heard again, so it looks at everything."""
        for key in keys:
            self.trackers.pop((event_id, key), None)
        self.last_sweep.pop(event_id, None)
        self.last_resync.pop(event_id, None)  # the batches taken: their devices are read from storage again
        # the deltas this pass marked as sent may not have left: every zone and device is sent again
        for kept in (self.last_sent, self.health_sent):
            for k in [k for k in kept if k[0] == event_id]:
                del kept[k]


@dataclass(frozen=True)
class Observation:
    """One watched value in one pass."""

    key: str  # warning key, e.g. density:zone:12
    kind: str  # rule kind
    value: float | None
    zone_id: int | None
    zone_kind: str | None
    device_id: int | None
    what: str  # words for the message, e.g. "看台A区 人群密度 4.1 人/㎡（约 4100 人）"
    forecast: float | None = None


def _stamp(rule: WarningRule) -> float | None:
    return rule.updated_at.timestamp() if rule.updated_at else None


def _thresholds(watch: Watch, rule: WarningRule) -> Thresholds:
    """The rule's thresholds, built once per rule version (issue 14: they were rebuilt per observation)."""
    key = (rule.id, rule.kind, rule.zone_kind, _stamp(rule))
    th = watch.thresholds.get(key)
    if th is None:
        th = watch.thresholds[key] = rules.thresholds(rule)
    return th


def _quiet(th: Thresholds, obs: Observation) -> bool:
    """True when neither the value nor its forecast reaches any level of ``th``: with no tracker and no open
    warning for the key, such an observation changes nothing and needs no tracker (issue 14: one tracker
    step per device and pass, most of them device-silence observations of devices that report)."""
    return not any(v is not None and th.reaches_a_level(v) for v in (obs.value, obs.forecast))


def _tracker(watch: Watch, event_id: int, obs: Observation, rule: WarningRule,
             open_by_key: dict[str, EarlyWarning]) -> LevelTracker:
    """The tracker of ``obs.key``, built from the rule; it starts at the level of a warning still open."""
    th = _thresholds(watch, rule)
    stamp = _stamp(rule)
    got = watch.trackers.get((event_id, obs.key))
    if got is not None and got[1] == stamp:
        return got[0]
    if got is not None:  # the rule changed: same level, new thresholds
        tracker = LevelTracker(th, level=got[0].level, since=got[0].since, last_at=got[0].last_at,
                               dropped_at=got[0].dropped_at, recent=got[0].recent, clear_since=got[0].clear_since)
    else:
        w = open_by_key.get(obs.key)
        level = Level[w.level.upper()] if w is not None else Level.NONE
        if level not in (Level.NONE, *th.levels):
            level = max((lv for lv in th.levels if lv <= level), default=Level.NONE)
        tracker = LevelTracker(th, level=level, since=w.changed_at.timestamp() if w is not None else None)
    watch.trackers[(event_id, obs.key)] = (tracker, stamp)
    return tracker


def _live(watch: Watch, event_id: int) -> LiveZones:
    live = watch.live.get(event_id)
    if live is None:
        live = watch.live[event_id] = LiveZones(event_id)
    return live


def _observations(db: Session, event_id: int, now: datetime, watch: Watch, book: rules.RuleBook,
                  batches: Batches, open_by_key: dict[str, EarlyWarning]) -> list[Observation]:
    """The pass's observations from the event's live state (:class:`anbao.crowd.live.LiveZones`).

    With ``watch.incremental`` (the engine, told of every stored batch on the bus) a pass reads the newest
    readings of the devices the batches named and observes those devices and the zones they count; every
    ``sweep_s`` a sweep observes every zone and device (staleness and silence are the clock's, not a batch's),
    and every ``resync_s`` every device's newest reading is read again. Without it (a caller driving passes
    itself) every pass reads and observes everything.
    """
    live = _live(watch, event_id)
    now_s = now.timestamp()
    last_sweep = watch.last_sweep.get(event_id)
    last_resync = watch.last_resync.get(event_id)
    resync = (not watch.incremental or last_resync is None or not 0 <= now_s - last_resync < watch.resync_s)
    sweep = resync or last_sweep is None or not 0 <= now_s - last_sweep < watch.sweep_s
    until = now + timedelta(seconds=live.config.future_tolerance_s)
    moved, reloaded = live.sync(db, None if resync else list(batches.devices), until,
                                heard=None if resync else batches.newest)
    if resync:
        watch.last_resync[event_id] = now_s
    if sweep or reloaded:
        watch.last_sweep[event_id] = now_s
        zone_ids: Iterable[int] = live.order
        devices = list(live.devices.values())
    else:
        zone_ids = live.zones_of(moved)
        devices = sorted((live.devices[i] for i in moved), key=lambda d: d.code)
    kinds = {z.id: z.kind for z in live.zones.values()}
    names = {z.id: z.name for z in live.zones.values()}
    out: list[Observation] = []
    changed: list[dict[str, Any]] = []
    states = live.fuse(zone_ids, now, thresholds=book.thresholds_by_zone_kind("density"),
                       occupancy=book.thresholds_by_zone_kind("occupancy"))
    for s in states:
        slope, direction, expected = watch.remember(event_id, s.zone_id, now_s, s.density)
        ahead = expected if direction == "rising" else None
        live.dynamics[s.zone_id] = (slope, direction, expected)
        snapshot = (s.count, s.density, s.level, s.sensors_stale, slope)
        if watch.last_sent.get((event_id, s.zone_id)) == snapshot:
            watch.held.get(event_id, ({}, {}))[0].pop(s.zone_id, None)  # back to what was sent: nothing to send
        else:
            changed.append({"zone_id": s.zone_id, "code": s.code, "count": s.count, "density": s.density,
                            "level": s.level, "source": s.source, "stale": list(s.sensors_stale),
                            "trend_per_min": slope})
        if s.seats is not None:  # a seated stand: occupancy against its seats, not persons/m2 of its area
            # no forecast: a stand fills to its seats and stops (tickets are seats), so the straight line of
            # a filling stand overshoots (issue 13: a stand at 88 % was raised to red by a "112 %" forecast)
            what = f"{s.name} 上座率 {s.occupancy_pct}%（约 {round(s.count or 0)} 人 / {s.seats} 座）"
            out.append(Observation(f"occupancy:zone:{s.zone_id}", "occupancy", s.occupancy_pct, s.zone_id,
                                   kinds.get(s.zone_id), None, what))
            continue
        what = f"{s.name} 人群密度 {s.density} 人/㎡（约 {round(s.count or 0)} 人）"
        if ahead is not None:
            what += f"，{watch.horizon_s / 60:g} 分钟后预计 {ahead:.2f} 人/㎡"
        out.append(Observation(f"density:zone:{s.zone_id}", "density", s.density, s.zone_id, kinds.get(s.zone_id),
                               None, what, forecast=ahead if s.density is not None else None))
    health: list[dict[str, Any]] = []
    counters: dict[int, DeviceNow] = {}
    places: set[str] = set()
    silence_th: dict[str | None, Thresholds | None] = {}
    # devices whose silence has a tracker or an open warning: observed whatever their silence
    watched = {int(k.rsplit(":", 1)[1]) for k in (*(k for e, k in watch.trackers if e == event_id), *open_by_key)
               if k.startswith("device_silence:device:")}
    health_sent = watch.health_sent
    for d in devices:
        if d.received is None or d.at is None:
            continue  # has not reported
        zone_kind = kinds.get(d.zone_id) if d.zone_id is not None else None
        silence = max(0.0, now_s - d.received)
        status = "ok" if silence < 60 else "stale" if silence < 120 else "silent"
        if health_sent.get((event_id, d.id)) == status:
            watch.held.get(event_id, ({}, {}))[1].pop(d.id, None)
        else:
            health.append({"device_id": d.id, "code": d.code, "status": status, "last_at": d.received_dt.isoformat()})
        if zone_kind not in silence_th:
            rule = book.find("device_silence", zone_kind)
            silence_th[zone_kind] = _thresholds(watch, rule) if rule is not None else None
        th = silence_th[zone_kind]
        # a silence no level watches, of a device with no tracker and no open warning, needs no observation
        # (issue 14: 20,000 of them per sweep at 20,000 sensors)
        if th is not None and (d.id in watched or th.reaches_a_level(silence)):
            zone = names.get(d.zone_id, "") if d.zone_id is not None else ""
            out.append(Observation(f"device_silence:device:{d.id}", "device_silence", silence, d.zone_id, zone_kind,
                                   d.id, f"{zone} 设备 {d.code} 已 {silence:.0f} 秒无数据".lstrip()))
        if d.kind in DETECTOR_KINDS:
            zone = names.get(d.zone_id, "") if d.zone_id is not None else ""
            unit = rules.UNITS[d.kind][0]
            fresh = now_s - d.at <= FRESH_S
            out.append(Observation(f"{d.kind}:device:{d.id}", d.kind, d.value if fresh else None, d.zone_id,
                                   zone_kind, d.id,
                                   f"{zone} {DEVICE_KINDS[d.kind][0]} {d.code} 读数 {d.value} {unit}".lstrip()))
        if d.kind == "gate_counter":
            places.add(_place(d))
    for i in live.counters:  # every counter of a touched place: a place's queue adds up its counters
        d = live.devices[i]
        if d.at is not None and isinstance(d.values, dict) and now_s - d.at <= FRESH_S and _place(d) in places:
            counters[i] = d
    out.extend(_queue_observations(sorted(counters.values(), key=lambda d: d.code), names, kinds))
    watch.touched[event_id] = (len(states), len(devices))
    _push_states(db, event_id, now, watch, changed, health)
    return out


def _place(d: DeviceNow) -> str:
    """Where a gate counter's queue is: its zone (the 安检区), else its gate, else the device itself."""
    if d.zone_id is not None:
        return f"zone:{d.zone_id}"
    gate = d.properties.get("gate") if isinstance(d.properties, dict) else None
    return f"gate:{gate}" if gate else f"device:{d.id}"


def _queue_observations(counters: list[DeviceNow], names: dict[int, str],
                        kinds: dict[int, str]) -> list[Observation]:
    """One queue-length and one queue-wait observation per place and kind (issue 13: two counters at one
    checkpoint made four warnings), with the counters as evidence in the message.

    Queue length: counters at different gates see different queues, which add up; counters at the same
    gate see the same queue, of which the larger count is taken. Wait: the longest of the counters.
    """
    places: dict[str, list[DeviceNow]] = {}
    for d in counters:
        places.setdefault(_place(d), []).append(d)
    out: list[Observation] = []
    for place, group in places.items():
        first = group[0]
        zone = names.get(first.zone_id, "") if first.zone_id is not None else ""
        zone_kind = kinds.get(first.zone_id) if first.zone_id is not None else None
        device = first.id if len(group) == 1 else None
        per_gate: dict[str, float] = {}
        waits: list[float] = []
        for d in group:
            queue, wait = d.values.get("queue"), d.values.get("wait_s")
            gate = d.properties.get("gate") if isinstance(d.properties, dict) else None
            if isinstance(queue, int | float):
                g = str(gate or d.code)
                per_gate[g] = max(per_gate.get(g, 0.0), float(queue))
            if isinstance(wait, int | float):
                waits.append(float(wait))
        codes = "、".join(d.code for d in group)
        evidence = f"（计数器 {codes}）"
        if per_gate:
            total = sum(per_gate.values())
            out.append(Observation(f"queue_length:{place}", "queue_length", total, first.zone_id, zone_kind,
                                   device, f"{zone} 排队 {total:.0f} 人{evidence}"))
        if waits:
            longest = max(waits)
            out.append(Observation(f"queue_wait:{place}", "queue_wait", longest / 60, first.zone_id, zone_kind,
                                   device, f"{zone} 预计等待 {longest / 60:.0f} 分钟{evidence}"))
    return out


def _push_states(db: Session, event_id: int, now: datetime, watch: Watch, zones: list[dict[str, Any]],
                 health: list[dict[str, Any]]) -> None:
    """Zone-state and sensor-health deltas, at most every ``watch.state_every_s`` (by the pass clock). A change
    held back waits in ``watch.held`` for the next push (a pass observes only what moved: the change would
    otherwise not be seen again)."""
    held = watch.held.setdefault(event_id, ({}, {}))
    if zones or health:
        held[0].update((z["zone_id"], z) for z in zones)
        held[1].update((h["device_id"], h) for h in health)
    if not held[0] and not held[1]:
        return
    last = watch.last_push.get(event_id)
    if last is not None and 0 <= now.timestamp() - last < watch.state_every_s:
        return  # not marked as sent: a later pass sends them
    watch.last_push[event_id] = now.timestamp()
    zones, health = list(held[0].values()), list(held[1].values())
    held[0].clear()
    held[1].clear()
    if zones:
        for z in zones:
            watch.last_sent[(event_id, z["zone_id"])] = (z["count"], z["density"], z["level"], tuple(z["stale"]),
                                                         z["trend_per_min"])
        outbox.post(db, f"event/{event_id}/zone-state", {"at": now.isoformat(), "zones": zones})
    if health:
        for h in health:
            watch.health_sent[(event_id, h["device_id"])] = h["status"]
        outbox.post(db, f"event/{event_id}/sensor-health", {"at": now.isoformat(), "devices": health})


def _why(t: Transition, tracker: LevelTracker, kind: str) -> str:
    """The transition in words (Chinese), with the threshold and its unit."""
    th, unit = tracker.thresholds, rules.UNITS.get(kind, ("", ""))[0]
    if t.after > t.before:
        word = "预计将达到" if t.forecast else "达到"
        return f"{word}{LEVEL_NAMES_ZH[t.after]}色阈值 {th.threshold(t.after):g} {unit}"
    return f"低于{LEVEL_NAMES_ZH[t.before]}色解除值 {th.release(t.before):g} {unit}"


@dataclass(frozen=True)
class Step:
    """A level transition decided by a pass's reading phase, for its writing phase."""

    obs: Observation
    level: Level  # the level after the transition; NONE releases
    message: str
    forecast: bool
    rule_id: int
    escalate_after_min: float | None
    batch: events.ReadingsStored | None


@dataclass(frozen=True)
class Decided:
    """What the reading phase of one event's pass found: transitions, and whether warnings are due to escalate."""

    event_id: int
    now: datetime
    pass_id: str
    steps: tuple[Step, ...]
    escalations_due: bool

    @property
    def writes(self) -> bool:
        return bool(self.steps) or self.escalations_due


def decide(*, db: Session, event_id: int, now: datetime, watch: Watch) -> Decided:
    """The reading phase of a pass: zone states and sensor values against the rules, trackers stepped.
    Writes nothing (a read-only session will do: no SQLite write lock while zone states are fused);
    the zone-state and sensor-health deltas leave through ``db``'s outbox when it commits."""
    batches = watch.take(event_id)
    steps: list[Step] = []
    stepped: list[str] = []
    try:
        book = rules.RuleBook.load(db=db, event_id=event_id)
        open_by_key: dict[str, EarlyWarning] = {}  # the open warnings, in one query per pass (was one per key)
        for w in db.execute(select(EarlyWarning).where(EarlyWarning.event_id == event_id,
                                                       EarlyWarning.status != "closed")).scalars():
            open_by_key.setdefault(w.key, w)
        _step_all(db, event_id, now, watch, book, batches, open_by_key, steps, stepped)
        due = bool(service.due_for_escalation(db=db, event_id=event_id, now=now))
    except BaseException:
        # nothing of this pass is written: its trackers go back to storage's, and the next pass sweeps (the
        # batches it took are not heard again)
        watch.forget(event_id, stepped)
        raise
    return Decided(event_id, now, events.new_id("pass"), tuple(steps), due)


def _step_all(db: Session, event_id: int, now: datetime, watch: Watch, book: rules.RuleBook, batches: Batches,
              open_by_key: dict[str, EarlyWarning], steps: list[Step], stepped: list[str]) -> None:
    for obs in _observations(db, event_id, now, watch, book, batches, open_by_key):
        rule = book.find(obs.kind, obs.zone_kind)
        if rule is None:
            continue
        if (event_id, obs.key) not in watch.trackers and obs.key not in open_by_key \
                and _quiet(_thresholds(watch, rule), obs):
            continue
        tracker = _tracker(watch, event_id, obs, rule, open_by_key)
        if tracker.last_at is not None and now.timestamp() < tracker.last_at:
            continue  # a pass for an earlier time (replay): the tracker has moved on
        t = tracker.step(obs.value, now.timestamp(), obs.forecast)
        if t is None:
            continue
        stepped.append(obs.key)
        if t.after == Level.NONE:
            message = f"自动解除：{obs.what}，{_why(t, tracker, obs.kind)}"
        else:
            message = f"{obs.what}，{_why(t, tracker, obs.kind)}，{service.LEVEL_ZH[LEVEL_CODES[t.after]]}预警"
        steps.append(Step(obs, t.after, message, t.forecast, rule.id, rule.escalate_after_min, batches.cause_of(obs)))


def apply(*, db: Session, decided: Decided) -> int:
    """The writing phase of a pass (short: a write transaction): raise, move or release the warnings the
    reading phase decided, and escalate those due. Returns the number of warning changes.

    A change a reading batch led to carries that batch's cause id (and the batch as its parent);
    changes of the clock (silence, escalation, release of stale values) carry the pass's own id.
    """
    event_id, now, changes = decided.event_id, decided.now, 0
    for step in decided.steps:
        obs, batch = step.obs, step.batch
        changes += 1
        with events.caused_by(db, batch.cause if batch else decided.pass_id, batch.id if batch else None):
            if step.level == Level.NONE:
                service.release(db=db, event_id=event_id, key=obs.key, now=now, reason=step.message)
                continue
            # a rise starts the plans the rule names: the response package handles the change
            service.raise_level(
                db=db, event_id=event_id, key=obs.key, kind=obs.kind, level=LEVEL_CODES[step.level], now=now,
                zone_id=obs.zone_id, value=None if obs.value is None else round(obs.value, 3), forecast=step.forecast,
                rule_id=step.rule_id, device_id=obs.device_id, escalate_after_min=step.escalate_after_min,
                message=step.message)
    if decided.escalations_due:
        with events.caused_by(db, decided.pass_id):
            for w in service.due_for_escalation(db=db, event_id=event_id, now=now):
                service.escalate(db=db, warning=w, now=now)
                changes += 1
    return changes


def evaluate(*, db: Session, event_id: int, now: datetime, watch: Watch) -> int:
    """One pass for one event in one session (:func:`decide`, then :func:`apply`); returns the number of
    warning changes. Messages leave on commit. The watcher runs the two phases in two transactions."""
    decided = decide(db=db, event_id=event_id, now=now, watch=watch)
    with forgetting(watch, decided):
        return apply(db=db, decided=decided)


@contextmanager
def forgetting(watch: Watch, decided: Decided) -> Iterator[None]:
    """Forget the trackers a pass stepped when its writing phase fails (:meth:`Watch.forget`)."""
    try:
        yield
    except BaseException:
        watch.forget(decided.event_id, (s.obs.key for s in decided.steps))
        raise


#: GB/T 28181 AlarmPriority -> warning level (1 is the most urgent) when the event has no camera rule
PRIORITY_LEVEL = {1: "red", 2: "orange", 3: "yellow", 4: "blue"}


def on_camera_alarm(db: Session, change: events.CameraAlarmReceived) -> None:
    """A video-analytics alarm (intrusion, tripwire...) is an observation for the rules: one open camera
    warning per camera and alarm kind. Registered by :mod:`anbao.wiring`.

    The observed value is the alarm's severity, ``5 - AlarmPriority`` (priority 1 = severity 4). A
    ``camera`` rule of the event (per zone kind, or event-wide) sets the level by its thresholds,
    may leave low severities out, escalates and starts the plans it names. Without a camera rule the
    priority gives the level directly (1 red ... 4 blue) and no plan starts.
    """
    severity = 5 - change.priority
    zone = db.get(Zone, change.zone_id) if change.zone_id is not None else None
    zone_kind = zone.kind if zone is not None else None
    rule = rules.RuleBook.load(db=db, event_id=change.event_id, create_defaults=True).find("camera", zone_kind)
    if rule is not None:
        found = classify(float(severity), rules.thresholds(rule))
        if found == Level.NONE:
            return  # the rule does not watch alarms this mild
        level, rule_id, escalate = LEVEL_CODES[found], rule.id, rule.escalate_after_min
    else:
        level, rule_id, escalate = PRIORITY_LEVEL[change.priority], None, None
    service.raise_level(db=db, event_id=change.event_id, key=f"camera:{change.device_id}:{change.alarm}",
                        kind="camera", level=level, now=change.at, zone_id=change.zone_id,
                        device_id=change.device_id, value=float(severity), rule_id=rule_id,
                        escalate_after_min=escalate, message=change.message)


def events_with_fresh_readings(*, db: Session, now: datetime, window_s: float = 6 * 3600) -> list[int]:
    """Events with a reading taken or received in the last ``window_s`` (six hours: long enough to see
    sensors fall silent and warnings run out, short enough to leave finished events alone)."""
    since = now - timedelta(seconds=window_s)
    return list(db.execute(select(DeviceLatest.event_id)
                           .where(or_(DeviceLatest.at > since, DeviceLatest.received_at > since))
                           .distinct()).scalars())


class Watcher:
    """Runs :func:`evaluate` for every event with fresh readings: every ``interval_s``, and on :meth:`poke`."""

    def __init__(self, sessions: sessionmaker[Session], bus: Bus, interval_s: float,
                 min_gap_s: float = 0.1, *, lease: AdvisoryLease | None = None,
                 standby_retry_s: float = 1.0) -> None:
        self.sessions, self.bus, self.interval_s, self.min_gap_s = sessions, bus, interval_s, min_gap_s
        #: several replicas: only the holder of this lease runs the background passes; None (SQLite): always
        self.lease, self.standby_retry_s = lease, standby_retry_s
        self.watch = Watch(incremental=True)  # told of every batch by the bus
        self._wake = threading.Event()
        #: every door's stored readings reach the watcher the same way: as typed changes on the bus
        self._unsubscribe = bus.subscribe_changes(events.ReadingsStored, self.heard)
        self._lock = threading.Lock()
        #: events whose default rules this watcher has made sure of
        self._ruled: set[int] = set()
        self.passes = 0
        #: the events with fresh readings, and when storage was last asked (:meth:`_events`)
        self.events_every_s = 5.0
        self._event_ids: list[int] = []
        self._events_at: float | None = None
        #: True stops the background passes (a test or a replay then drives :meth:`run_once` itself)
        self.paused = False

    def poke(self, event_id: int | None = None) -> None:
        """New readings are stored: run a pass now (thread-safe, coalesced)."""
        self._wake.set()

    def live_states(self, event_id: int, now: datetime, thresholds: Thresholds | Mapping[str, Thresholds],
                    occupancy: Thresholds | Mapping[str, Thresholds], max_age_s: float = 5.0
                    ) -> list[tuple[ZoneState, tuple[float | None, str, float | None]]] | None:
        """The zone states of ``event_id`` as this engine's passes keep them, with (trend per minute, direction,
        forecast) each, in screen order, the level classified against ``thresholds``/``occupancy`` (the rules
        now); None when this process does not keep them fresh (it stands by, is paused, or its last pass is
        more than ``max_age_s`` from ``now``): then storage answers."""
        live = self.watch.live.get(event_id)
        if live is None or self.paused or not self.leading:
            return None
        states = dict(live.states)  # the pass replaces entries of this dict, in place: a copy is consistent
        if not states or len(states) != len(live.order):
            return None
        if any(abs((s.at - now).total_seconds()) > max_age_s for s in states.values()):
            return None
        dynamics = dict(live.dynamics)
        none: tuple[float | None, str, float | None] = (None, "unknown", None)
        zones = live.zones
        return [(relevel(states[z], zones[z].kind, thresholds, occupancy), dynamics.get(z, none))
                for z in live.order if z in states and z in zones]

    def live_devices(self, event_id: int, now: datetime, max_age_s: float = 5.0) -> dict[int, DeviceNow] | None:
        """The devices of ``event_id`` with their newest readings as this engine keeps them, or None when it does
        not keep them fresh (see :meth:`live_states`). The entries are the engine's own, moved forward by its
        passes (a reader may see one device's fields from two passes: for a status view, harmless)."""
        live = self.watch.live.get(event_id)
        if live is None or self.paused or not self.leading or not live.states:
            return None
        if abs(time.time() - live.updated) > max_age_s or abs(time.time() - now.timestamp()) > max_age_s:
            return None
        return dict(live.devices)

    def resync(self) -> None:
        """Read every device's newest reading from storage at the next pass (storage changed other than by
        stored batches: a restore, a correction; the engine also does it every ``resync_s``)."""
        with self._lock:
            self.watch.last_resync.clear()

    def heard(self, change: events.ReadingsStored) -> None:
        """A batch was committed (HTTP, MQTT, GB/T 28181 or the simulator): note its cause, run a pass soon."""
        self.watch.heard(change)
        self.poke(change.event_id)

    def close(self) -> None:
        self._unsubscribe()
        if self.lease is not None:
            self.lease.close()

    def _session(self) -> Session:
        db = self.sessions(info={"bus": self.bus})
        db.info["actor"] = "system:warnings"
        return db

    def run_once(self, now: datetime | None = None, *, fenced: bool = False) -> int:
        """One pass over every event with fresh readings; returns the number of warning changes.

        ``fenced`` (the background loop, with a lease): each event's transaction first checks that this
        process still holds the lease, and raises :class:`~anbao.core.lease.LeaseLost` if not."""
        now = now or utcnow()
        changes = 0
        with self._lock:
            with reading(self.sessions) as db:
                if fenced and self.lease is not None:
                    self.lease.fence(db)  # a pass of a process that lost the lease stops here
                event_ids = self._events(db, now)
            for event_id in event_ids:
                if event_id not in self._ruled:  # an event's default rules are stored once, in a write of its own
                    with self._session() as db:
                        if fenced and self.lease is not None:
                            self.lease.fence(db)
                        rules.ensure_defaults(db=db, event_id=event_id)
                        db.commit()
                    self._ruled.add(event_id)
                # read without the write lock (SQLite: deferred), then write what changed in a short transaction
                with reading(self.sessions, info={"bus": self.bus}) as db:
                    decided = decide(db=db, event_id=event_id, now=now, watch=self.watch)
                    with forgetting(self.watch, decided):
                        db.commit()  # the zone-state deltas leave
                if not decided.writes:
                    continue
                with self._session() as db, forgetting(self.watch, decided):
                    if fenced and self.lease is not None:
                        self.lease.fence(db)
                    changes += apply(db=db, decided=decided)
                    db.commit()
            self.passes += 1
        return changes

    def _events(self, db: Session, now: datetime) -> list[int]:
        """The events to evaluate: those with fresh readings, asked of storage every ``events_every_s`` (a scan of
        every device's newest reading: issue 14, at 20,000 devices and ten passes a second a cost of its own);
        in between the same events and any whose batches were heard (a new event is taken at once)."""
        t = now.timestamp()
        if self.watch.incremental and self._events_at is not None and 0 <= t - self._events_at < self.events_every_s:
            with self.watch.heard_lock:
                heard = set(self.watch.heard_batches)
            return sorted(set(self._event_ids) | heard)
        self._event_ids = events_with_fresh_readings(db=db, now=now)
        self._events_at = t
        return self._event_ids

    def _wait(self) -> None:
        self._wake.wait(self.interval_s)
        self._wake.clear()

    def _stand_down(self) -> None:
        """Forget what was kept between passes: another engine moved on meanwhile, the database knows."""
        with self._lock:
            w = self.watch
            for kept in (w.trackers, w.last_sent, w.health_sent, w.last_push, w.history, w.live, w.last_sweep,
                         w.last_resync, w.touched, w.fitted, w.held):
                kept.clear()
            self._events_at = None

    @property
    def leading(self) -> bool:
        """True when this watcher runs the background passes (it holds the lease, or needs none)."""
        return self.lease is None or self.lease.held

    async def run(self) -> None:
        lease = self.lease
        while True:
            started = time.monotonic()
            try:
                if lease is not None and lease.held and not await asyncio.to_thread(lease.alive):
                    await asyncio.to_thread(self._stand_down)  # its connection was cut: the lock went with it
                if lease is not None and not lease.held:
                    if not await asyncio.to_thread(lease.try_acquire):
                        await asyncio.sleep(self.standby_retry_s)  # standing by
                        continue
                    log.info("warning engine: this process evaluates now (lease %s)", lease.describe())
                if not self.paused:
                    await asyncio.to_thread(self.run_once, fenced=True)
            except LeaseLost as exc:
                log.warning("warning engine: %s; standing by", exc)
                await asyncio.to_thread(self._stand_down)
                continue
            except Exception:  # a bad pass must not stop the watcher; it is logged and retried
                log.exception("warning pass failed")
            gap = self.min_gap_s - (time.monotonic() - started)
            if gap > 0:
                await asyncio.sleep(gap)
            await asyncio.to_thread(self._wait)
