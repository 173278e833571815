"""The live simulator: a crowd-flow model of an event's venue that feeds readings through the real ingest.

:class:`Simulator` reads the event's zones, gates and devices from the database, builds the
network of :mod:`anbao.algorithms.crowdflow` with :func:`build_network`, and on every :meth:`tick
<Simulator.tick>` advances the model and posts one reading per device through
:func:`anbao.sensing.service.ingest` (one transaction per tick), exactly as real sensors do.

Clocks
------
Two clocks run side by side:

* the **scenario clock** (simulated, event time): ``sim_time = show_start + t_s``. It starts at
  ``start`` (default: 75 minutes before the first session of the event, when about a quarter of the
  crowd is in and the arrival peak is still ahead) and runs ``speed`` times faster than real time.
  The model begins at the start of the arrival window (150 min before the show, nobody there, or
  at ``start`` if that is earlier) and is fast-forwarded to ``start`` without writing readings.
  One simulator plays one session: the first that has not ended by ``start``.
* the **wall clock**: every reading is stamped with the real time of the tick that produced it, so
  ingest (which refuses readings more than 5 minutes in the future), zone-state freshness (60 s) and
  the warning watcher behave as with real sensors. The scenario clock only decides what the
  readings say. With ``speed=10`` the 2.5 h ingress plays in 15 minutes.

One tick advances the scenario clock by ``speed`` x the real seconds since the previous tick
(nothing on the first tick; at most ``max_catch_up_s`` simulated seconds, so a stalled thread does
not jump an hour). :func:`run` ticks every ``tick_sim_s / speed`` real seconds (30 simulated
seconds by default, clamped to 0.5-20 real seconds so that readings never go stale).

Network heuristic (:func:`build_network`)
-----------------------------------------
The database holds zones with a ring (1 core, 2 buffer, 3 outer), gates/checkpoints/exits that sit in
a zone, and no explicit links, so the links are inferred:

* **Nodes**: zones without child zones (containers such as the whole core area are sums of their
  children), except stages and service areas (staff only).
* **Levels**: depth = ``-10 * ring`` + a rank of the kind inside the ring: screening and entrance
  areas 1, concourses 2, standing floors 3, everything else 0. A spectator walks from the lowest
  level (the origins: metro exits, bus stops, car parks, roads) up to the seats and floor.
* **Gates**: a gate or checkpoint with direction ``in``/``both`` links the nearest node of the
  previous level (nearest to the gate's position) into the gate's zone, with capacity
  ``lanes x 660/h`` (one turnstile or screening lane each), capped by ``width x 82/min``. An
  exit, or a ``both`` gate for the way out, links the gate's zone to the nearest node of any lower
  level (``both`` gates: back to the node they come from) with ``width x 82/min`` (66 on stairs).
  Gates in zones that are not nodes (containers, staff areas) are left out.
* **Open boundaries**: zones that touch (within 2 m, along at least 4.5 m of boundary) on the same
  level, or on adjacent levels, are linked both ways with ``shared boundary length x 82/min``,
  except that a fenced zone (screening, concourse, entrance) that has gates is entered from below
  only through them, and left downwards only through its exits when it has any.
* **Nearest links**: a group of touching zones on one level that still cannot be entered from below
  gets an open two-way link between its member and the zone of the previous level that are nearest
  to each other; an origin that touches nothing gets one to the nearest node of the next level (the
  walk from the metro exit to the plaza).
* **Origins** share the arrivals by kind (transit 50 %, parking 20 %, roads 30 %, each split by
  area); transit origins get them in pulses, one train or bus every 4 minutes. **Destinations**
  are stands and standing floors weighted by seated + standing capacity; the attendance is the
  event's expected attendance. After the show everyone walks back to an origin, split by the same
  shares. Routes are the capacity-aware shortest paths of :mod:`anbao.algorithms.crowdflow`.

Sensor readings per tick
------------------------
Every reporting device sends one reading per tick. ``video_count`` and ``camera`` (those with person
analytics): the zone's model count, +-5 % noise; ``wifi_probe`` and ``bluetooth``: count / 0.6
devices (the fusion's persons-per-device ratio), +-5 % noise; ``gate_counter``: persons through its
gate (``properties.gate``, else the nearest gate in its zone) since the previous tick, with
``values={"in", "out"}``; ``temperature``: ambient + crowd heat; ``gas`` (CO ppm) and ``smoke``
(obscuration %/m): near zero. Drones and cameras with only vehicle or intrusion analytics send
nothing. Scripted incidents (:class:`Scenario`): sensor drop-outs (silent), a smoke detector fault
(alarm values), a crowd surge on the standing floor.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from anbao.algorithms.crowdflow import (
    FlowState,
    GateShare,
    Link,
    Network,
    Node,
    Surge,
    advance,
    aggregate_links,
    initial_state,
    lanes_capacity,
    width_capacity,
)
from anbao.core.errors import Invalid, NotFound
from anbao.core.geo import LocalProjection
from anbao.core.time import utcnow
from anbao.event.models import Event
from anbao.sensing.service import ingest
from anbao.venue.models import Device, Gate, Venue, Zone

log = logging.getLogger("anbao.sim")

#: zones the public does not enter
STAFF_KINDS = frozenset({"stage", "service"})
#: zones behind a fence: entered from below only through their gates when they have gates
FENCED_KINDS = frozenset({"screening", "concourse", "entrance"})
#: rank of a zone kind inside its ring: the order a spectator walks through
KIND_RANK = {"screening": 1, "entrance": 1, "concourse": 2, "standing": 3}
#: share of arrivals by origin kind (split inside a kind by area)
ORIGIN_SHARES = {"transit": 0.5, "parking": 0.2, "road": 0.3}
DESTINATION_KINDS = frozenset({"stand", "standing"})
#: seconds between trains (or shuttle buses) at transit origins: their people arrive in pulses
TRANSIT_HEADWAY_S = 240.0
TOUCH_M = 2.0
#: touching zones share at least this much boundary to be linked (not just a corner)
MIN_SHARED_M = 4.5
#: persons per detected WiFi/Bluetooth device assumed by the zone-state fusion
PROBE_RATIO = 0.6
NOISE = 0.05
PERSON_ANALYTICS = frozenset({"crowd_density", "flow_count", "people_count", "crowd_count"})
COUNT_KINDS = frozenset({"video_count", "camera", "wifi_probe", "bluetooth", "gate_counter"})
DEFAULT_LEAD = timedelta(minutes=75)


# --------------------------------------------------------------------------- the site, in local metres

@dataclass(frozen=True)
class ZoneSite:
    code: str
    kind: str
    ring: int
    shape: BaseGeometry  # local metres
    area_m2: float
    capacity: int = 0  # seated + standing capacity
    parent: str | None = None


@dataclass(frozen=True)
class GateSite:
    code: str
    kind: str  # gate | checkpoint | exit
    zone: str | None
    x: float
    y: float
    lanes: int = 1
    width_m: float = 1.0
    stair: bool = False
    direction: str = "both"


@dataclass(frozen=True)
class DeviceSite:
    code: str
    kind: str
    zone: str | None
    x: float
    y: float
    properties: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


def depth(zone: ZoneSite) -> int:
    """Walking order of a zone from outside in: ``-10 * ring`` + the rank of its kind in the ring."""
    return -10 * zone.ring + KIND_RANK.get(zone.kind, 0)


def _gate_capacity(g: GateSite) -> float:
    level = width_capacity(g.width_m, stair=g.stair)
    return min(lanes_capacity(max(g.lanes, 1)), level) if g.width_m > 0 else lanes_capacity(max(g.lanes, 1))


def build_network(zones: Sequence[ZoneSite], gates: Sequence[GateSite], *, attendance: float,
                  show_end_s: float = 3 * 3600.0, surges: Sequence[Surge] = (), seed: int = 0,
                  headway_s: float | None = TRANSIT_HEADWAY_S) -> Network:
    """The crowd-flow network of a venue by the heuristic in the module docstring.

    Raises :class:`~anbao.core.errors.Invalid` when no origin or no reachable destination is found.
    """
    parents = {z.parent for z in zones if z.parent}
    nodes = [z for z in zones if z.code not in parents and z.kind not in STAFF_KINDS and z.area_m2 > 0]
    if len(nodes) < 2:
        raise Invalid("the venue needs at least two zones the public walks through")
    by_code = {z.code: z for z in nodes}
    geoms = np.array([z.shape for z in nodes], dtype=object)
    dist = shapely.distance(geoms[:, None], geoms[None, :])
    depths = {z.code: depth(z) for z in nodes}
    levels = sorted(set(depths.values()))
    prev_level = {lv: levels[i - 1] if i else None for i, lv in enumerate(levels)}
    next_level = {lv: levels[i + 1] if i + 1 < len(levels) else None for i, lv in enumerate(levels)}

    def nearest(x: BaseGeometry, candidates: Iterable[ZoneSite]) -> ZoneSite | None:
        cands = sorted(candidates, key=lambda z: z.code)
        if not cands:
            return None
        d = shapely.distance(x, np.array([z.shape for z in cands], dtype=object))
        return cands[int(np.argmin(d))]

    links: list[Link] = []
    gated_in: set[str] = set()
    gated_out: set[str] = set()
    for g in gates:
        inside = by_code.get(g.zone or "")
        if inside is None:
            continue
        at = Point(g.x, g.y)
        lv = depths[inside.code]
        before = prev_level[lv]
        outer = nearest(at, (z for z in nodes if depths[z.code] == before)) if before is not None else None
        if g.kind != "exit" and g.direction in ("in", "both") and outer is not None:
            links.append(Link(outer.code, inside.code, _gate_capacity(g), (GateShare(g.code, 1.0, True),), "gate"))
            gated_in.add(inside.code)
        if g.kind == "exit" or g.direction in ("out", "both"):
            away = outer if g.kind != "exit" else nearest(at, (z for z in nodes if depths[z.code] < lv))
            if away is not None:
                links.append(Link(inside.code, away.code, width_capacity(g.width_m, stair=g.stair),
                                  (GateShare(g.code, 1.0, False),), "gate"))
                gated_out.add(inside.code)

    def fenced_in(z: ZoneSite) -> bool:
        return z.kind in FENCED_KINDS and z.code in gated_in

    def fenced_out(z: ZoneSite) -> bool:
        return z.kind in FENCED_KINDS and z.code in gated_out

    rate = width_capacity(1.0)
    for i, a in enumerate(nodes):
        for j in range(i + 1, len(nodes)):
            if dist[i, j] > TOUCH_M:
                continue
            b = nodes[j]
            da, db = depths[a.code], depths[b.code]
            lo, hi = (a, b) if da <= db else (b, a)
            if da != db and next_level[depths[lo.code]] != depths[hi.code]:
                continue
            shared = float(lo.shape.boundary.intersection(hi.shape.buffer(TOUCH_M)).length)
            if shared < MIN_SHARED_M:  # meeting at a corner only
                continue
            if da == db or not fenced_in(hi):
                links.append(Link(lo.code, hi.code, shared * rate, (), "open"))
            if da == db or not fenced_out(hi):
                links.append(Link(hi.code, lo.code, shared * rate, (), "open"))

    def entered_from_below(z: ZoneSite) -> bool:
        return any(lk.target == z.code and depths[lk.source] < depths[z.code] for lk in links)

    position = {z.code: i for i, z in enumerate(nodes)}
    first = levels[0]
    for lv in levels[1:]:
        members = [z for z in nodes if depths[z.code] == lv]
        below = [z for z in nodes if depths[z.code] == prev_level[lv]]
        for group in _groups(members, links):
            if not below or any(entered_from_below(z) for z in group):
                continue
            _, up, down = min((float(dist[position[z.code], position[y.code]]), z.code, y.code)
                              for z in group for y in below)
            links += [Link(down, up, None, (), "nearest"), Link(up, down, None, (), "nearest")]
    after = next_level[first]
    for z in nodes:
        if depths[z.code] != first or after is None:
            continue
        if any(lk.source == z.code and depths[lk.target] > first for lk in links):
            continue
        near = nearest(z.shape, (y for y in nodes if depths[y.code] == after))
        if near is not None:
            links += [Link(z.code, near.code, None, (), "nearest"), Link(near.code, z.code, None, (), "nearest")]

    origin_nodes = [z for z in nodes if depths[z.code] == first]
    origins: dict[str, float] = {}
    kinds_present = {z.kind for z in origin_nodes} & set(ORIGIN_SHARES)
    for kind in sorted(kinds_present):
        members = [z for z in origin_nodes if z.kind == kind]
        area = sum(z.area_m2 for z in members)
        for z in members:
            origins[z.code] = ORIGIN_SHARES[kind] * z.area_m2 / area
    if not origins:
        origins = {z.code: z.area_m2 for z in origin_nodes}

    merged = aggregate_links(links)
    reach = _reachable(merged, origins)
    destinations = {z.code: float(z.capacity) for z in nodes
                    if z.kind in DESTINATION_KINDS and z.capacity > 0 and z.code in reach}
    if not destinations:
        last = levels[-1]
        destinations = {z.code: z.area_m2 for z in nodes if depths[z.code] == last and z.code in reach}
    if not destinations:
        raise Invalid("no seat or standing zone can be reached from the outer zones")
    known = [s for s in surges if s.target in destinations]
    clean = tuple(replace(s, sources=tuple(c for c in s.sources if c in destinations and c != s.target))
                  for s in known)
    return Network(nodes=tuple(Node(z.code, z.area_m2, max(5.0, math.sqrt(z.area_m2))) for z in nodes),
                   links=merged, origins=origins, destinations=destinations, attendance=attendance,
                   show_end_s=show_end_s, surges=clean, seed=seed,
                   headways={c: headway_s for c in origins if headway_s and by_code[c].kind == "transit"})


def _groups(members: Sequence[ZoneSite], links: Sequence[Link]) -> list[list[ZoneSite]]:
    """``members`` split into groups joined by links among them (connected components, sorted by code)."""
    codes = {z.code for z in members}
    joined: dict[str, set[str]] = {c: set() for c in codes}
    for lk in links:
        if lk.source in codes and lk.target in codes:
            joined[lk.source].add(lk.target)
            joined[lk.target].add(lk.source)
    by_code = {z.code: z for z in members}
    seen: set[str] = set()
    out = []
    for code in sorted(codes):
        if code in seen:
            continue
        group, todo = [], [code]
        seen.add(code)
        while todo:
            c = todo.pop()
            group.append(by_code[c])
            for nxt in sorted(joined[c] - seen):
                seen.add(nxt)
                todo.append(nxt)
        out.append(sorted(group, key=lambda z: z.code))
    return out


def _reachable(links: Sequence[Link], origins: dict[str, float]) -> set[str]:
    """Nodes reachable from every origin with a positive weight."""
    out: dict[str, list[str]] = {}
    for lk in links:
        out.setdefault(lk.source, []).append(lk.target)
    common: set[str] | None = None
    for o, w in origins.items():
        if w <= 0:
            continue
        seen, todo = {o}, [o]
        while todo:
            for nxt in out.get(todo.pop(), []):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        common = seen if common is None else common & seen
    return common or set()


# --------------------------------------------------------------------------- the scenario

@dataclass(frozen=True)
class Dropout:
    """``sensors`` (device codes) send nothing from ``start_s`` to ``end_s`` (seconds after the show start)."""

    sensors: tuple[str, ...]
    start_s: float
    end_s: float


@dataclass(frozen=True)
class SmokeFault:
    """A smoke detector reports alarm values (``value`` %/m; default 1.5 x its alarm level) in the window."""

    sensor: str
    start_s: float
    end_s: float
    value: float | None = None


@dataclass(frozen=True)
class CrowdSurge:
    """``fraction`` of the people bound for the other standing zones rush into ``zone`` in the window."""

    zone: str
    start_s: float
    end_s: float
    fraction: float = 0.35


@dataclass(frozen=True)
class Scenario:
    """Scripted incidents; times in seconds after the show start (negative: before it)."""

    dropouts: tuple[Dropout, ...] = ()
    smoke_faults: tuple[SmokeFault, ...] = ()
    surges: tuple[CrowdSurge, ...] = ()


def default_scenario(*, zones: Sequence[ZoneSite], devices: Sequence[DeviceSite], start_s: float, speed: float,
                     show_end_s: float, seed: int) -> Scenario:
    """Incidents placed so that a demo launched at ``start_s`` shows each of them within minutes.

    Windows last long enough in real time to be seen (a drop-out at least 3 real minutes, beyond the
    60 s freshness window): their simulated length grows with ``speed``.
    * drop-outs 5 simulated minutes after the start: one camera or video counter, one WiFi or
      Bluetooth probe, one gate counter (picked with ``seed``);
    * a smoke detector fault 15 simulated minutes after the start;
    * a surge 10 minutes after the show start (when the floor is full) into the standing zone
      nearest to the stage (or the first standing zone), from the other standing zones.
    """
    rng = random.Random(seed)
    groups = (("video_count", "camera"), ("wifi_probe", "bluetooth"), ("gate_counter",))
    silent = []
    for kinds in groups:
        cands = sorted(d.code for d in devices if d.kind in kinds and d.zone is not None and _counts_people(d))
        if cands:
            silent.append(rng.choice(cands))
    drop_len = max(600.0, 180.0 * speed)
    dropouts = (Dropout(tuple(silent), start_s + 300.0, start_s + 300.0 + drop_len),) if silent else ()
    smokes = sorted(d.code for d in devices if d.kind == "smoke")
    smoke_len = max(480.0, 120.0 * speed)
    faults = (SmokeFault(rng.choice(smokes), start_s + 900.0, start_s + 900.0 + smoke_len),) if smokes else ()
    standing = sorted((z for z in zones if z.kind == "standing" and z.capacity > 0), key=lambda z: z.code)
    stages = [z.shape for z in zones if z.kind == "stage"]
    surges: tuple[CrowdSurge, ...] = ()
    if len(standing) >= 2:
        target = standing[0]
        if stages:
            stage = shapely.union_all(stages)
            target = min(standing, key=lambda z: (round(z.shape.distance(stage), 1), z.code))
        begin = max(600.0, start_s + 300.0)
        length = max(900.0, 180.0 * speed)
        if begin + length < show_end_s:
            surges = (CrowdSurge(target.code, begin, begin + length),)
    return Scenario(dropouts=dropouts, smoke_faults=faults, surges=surges)


def _counts_people(d: DeviceSite) -> bool:
    if d.kind != "camera":
        return d.kind in COUNT_KINDS
    analytics = d.properties.get("analytics")
    return not analytics or bool(PERSON_ANALYTICS & set(analytics))


# --------------------------------------------------------------------------- loading from the database

@dataclass(frozen=True)
class Site:
    """What the simulator needs of an event, in local metres."""

    event_id: int
    show_start: datetime
    show_end: datetime
    attendance: int
    zones: tuple[ZoneSite, ...]
    gates: tuple[GateSite, ...]
    devices: tuple[DeviceSite, ...]


class _Projector:
    def __init__(self, venue: Venue | None, fallback: tuple[float, float] | None) -> None:
        self.local = venue is not None and venue.crs == "local"
        ref = (venue.ref_lon, venue.ref_lat) if venue is not None and venue.ref_lon is not None \
            and venue.ref_lat is not None else fallback
        self.proj = LocalProjection(*ref) if ref is not None and not self.local else None

    def geometry(self, geojson: dict[str, Any]) -> BaseGeometry:
        geom = shape(geojson)
        if self.proj is None:
            return geom
        proj = self.proj

        def to_m(xy: np.ndarray) -> np.ndarray:
            x, y = proj.to_metres.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        return shapely.transform(geom, to_m)

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        return (lon, lat) if self.proj is None else self.proj.forward(lon, lat)


def load_site(*, db: Session, event_id: int, start: datetime | None = None) -> Site:
    """The event's zones, gates and devices in local metres and the session to simulate.

    The session is the first one that has not ended by ``start`` (default: the first one). An event
    without sessions gets a 3-hour show starting 75 minutes after ``start`` (or now).
    """
    event = db.get(Event, event_id)
    if event is None:
        raise NotFound(f"event {event_id} not found")
    sessions = sorted(event.sessions, key=lambda s: s.start)
    chosen = next((s for s in sessions if start is None or s.end > start), sessions[-1] if sessions else None)
    if chosen is not None:
        show_start, show_end = chosen.start, chosen.end
    else:
        show_start = (start or utcnow()) + DEFAULT_LEAD
        show_end = show_start + timedelta(hours=3)
    venues = {v.id: v for v in db.execute(select(Venue).where(Venue.event_id == event_id)).scalars()}
    rows = db.execute(select(Zone).where(Zone.event_id == event_id).order_by(Zone.code)).scalars().all()
    if not rows:
        raise Invalid(f"event {event_id} has no zones to simulate")
    fallback = shape(rows[0].geometry).centroid
    projectors = {vid: _Projector(v, (fallback.x, fallback.y)) for vid, v in venues.items()}
    default = _Projector(None, (fallback.x, fallback.y))
    codes = {z.id: z.code for z in rows}
    zones = tuple(ZoneSite(code=z.code, kind=z.kind, ring=z.ring,
                           shape=projectors.get(z.venue_id, default).geometry(z.geometry), area_m2=z.area_m2,
                           capacity=(z.seated_capacity or 0) + (z.standing_capacity or 0),
                           parent=codes.get(z.parent_id) if z.parent_id else None) for z in rows)
    gates = []
    for g in db.execute(select(Gate).where(Gate.event_id == event_id).order_by(Gate.code)).scalars():
        x, y = projectors.get(g.venue_id, default).point(g.lon, g.lat)
        gates.append(GateSite(code=g.code, kind=g.kind, zone=codes.get(g.zone_id) if g.zone_id else None, x=x, y=y,
                              lanes=g.lanes, width_m=g.width_m, stair=g.stair, direction=g.direction))
    devices = []
    for d in db.execute(select(Device).where(Device.event_id == event_id).order_by(Device.code)).scalars():
        x, y = projectors.get(d.venue_id, default).point(d.lon, d.lat)
        devices.append(DeviceSite(code=d.code, kind=d.kind, zone=codes.get(d.zone_id) if d.zone_id else None,
                                  x=x, y=y, properties=dict(d.properties or {})))
    attendance = event.expected_attendance or event.approved_attendance or sum(
        z.capacity for z in zones if z.kind in DESTINATION_KINDS)
    return Site(event_id=event_id, show_start=show_start, show_end=show_end, attendance=int(attendance),
                zones=zones, gates=tuple(gates), devices=tuple(devices))


# --------------------------------------------------------------------------- the simulator

@dataclass(frozen=True)
class Tick:
    """What one tick did. ``expected`` is the noise-free value behind each reading sent."""

    number: int
    at: datetime  # wall clock: the readings' time stamp
    sim_time: datetime  # scenario clock
    phase: str  # before | ingress | show | egress | over
    accepted: int
    rejected: int
    sent: dict[str, float]
    expected: dict[str, float]
    silent: tuple[str, ...]
    counts: dict[str, float]  # model persons per zone code (containers: sum of their children)
    pending: float
    present: float
    departed: float
    model_ms: float
    total_ms: float

    def summary(self) -> dict[str, Any]:
        """A small JSON-able digest (for the bus or a progress line)."""
        return {"tick": self.number, "at": self.at.isoformat(), "sim_time": self.sim_time.isoformat(),
                "phase": self.phase, "readings": self.accepted, "rejected": self.rejected,
                "silent": list(self.silent), "present": round(self.present), "pending": round(self.pending),
                "departed": round(self.departed), "ms": round(self.total_ms, 1)}


class Simulator:
    """A live crowd simulation of one event, fed into ingest. See the module docstring.

    ``start`` is the scenario-clock instant the simulation begins at (default 75 minutes before
    the show); ``scenario`` the scripted incidents (default :func:`default_scenario`; pass
    ``Scenario()`` for none). Construction reads the venue (one short session) and fast-forwards
    the model to ``start``.
    """

    def __init__(self, sessions: sessionmaker[Session], event_id: int, *, speed: float = 10.0,
                 start: datetime | None = None, seed: int = 20261219, scenario: Scenario | None = None,
                 tick_sim_s: float = 30.0, max_catch_up_s: float | None = None, ambient_c: float = 12.0,
                 source: str = "simulator") -> None:
        if not (math.isfinite(speed) and speed > 0):
            raise Invalid(f"speed must be > 0, got {speed}")
        if not (math.isfinite(tick_sim_s) and tick_sim_s > 0):
            raise Invalid(f"tick_sim_s must be > 0, got {tick_sim_s}")
        self.sessions, self.event_id, self.speed, self.seed = sessions, event_id, float(speed), seed
        self.tick_sim_s, self.ambient_c, self.source = tick_sim_s, ambient_c, source
        if max_catch_up_s is None:
            max_catch_up_s = max(600.0, 10 * self.speed * self.period_s)
        self.max_catch_up_s = max_catch_up_s
        with sessions() as db:
            self.site = load_site(db=db, event_id=event_id, start=start)
        self.show_start = self.site.show_start
        show_end_s = (self.site.show_end - self.show_start).total_seconds()
        self.start = start or self.show_start - DEFAULT_LEAD
        start_s = (self.start - self.show_start).total_seconds()
        self.scenario = scenario if scenario is not None else default_scenario(
            zones=self.site.zones, devices=self.site.devices, start_s=start_s, speed=self.speed,
            show_end_s=show_end_s, seed=seed)
        standing = tuple(z.code for z in self.site.zones if z.kind == "standing")
        surges = tuple(Surge(s.zone, s.start_s, s.end_s, s.fraction, tuple(c for c in standing if c != s.zone))
                       for s in self.scenario.surges)
        self.network = build_network(self.site.zones, self.site.gates, attendance=self.site.attendance,
                                     show_end_s=show_end_s, surges=surges, seed=seed)
        # the day starts empty at the start of the arrival window (or at ``start`` if earlier); a start
        # long after the show skips the empty hours after everybody has gone
        state = initial_state(self.network, min(start_s, -self.network.arrival.window_s))
        warm_until = min(start_s, show_end_s + 7200.0)
        state = advance(state, warm_until - state.t_s, max_dt_s=5.0)
        self.state: FlowState = replace(state, t_s=start_s) if warm_until < start_s else state
        self.rng = np.random.default_rng(seed)
        self.ticks = 0
        self._last_real: datetime | None = None
        self._gate_sent: dict[str, tuple[int, int]] = {}
        self._prepare()

    # ----------------------------------------------------------------- static lookups

    def _prepare(self) -> None:
        zones = {z.code: z for z in self.site.zones}
        node_index = self.network.index.node
        children: dict[str, list[str]] = {}
        for z in self.site.zones:
            if z.parent:
                children.setdefault(z.parent, []).append(z.code)

        def members(code: str) -> list[int]:
            if code in node_index:
                return [node_index[code]]
            return [i for c in children.get(code, []) for i in members(c)]

        self._members = {code: np.array(members(code), dtype=np.int64) for code in zones}
        self._area = {code: z.area_m2 for code, z in zones.items()}
        self._zone_kind = {code: z.kind for code, z in zones.items()}
        gates_by_zone: dict[str, list[GateSite]] = {}
        for g in self.site.gates:
            gates_by_zone.setdefault(g.zone or "", []).append(g)
        self._gate_of: dict[str, str] = {}
        for d in self.site.devices:
            if d.kind != "gate_counter":
                continue
            named = d.properties.get("gate")
            if named and any(g.code == named for g in self.site.gates):
                self._gate_of[d.code] = str(named)
            elif gates_by_zone.get(d.zone or ""):
                near = min(gates_by_zone[d.zone or ""], key=lambda g: ((g.x - d.x) ** 2 + (g.y - d.y) ** 2, g.code))
                self._gate_of[d.code] = near.code
        self._reporting = [d for d in self.site.devices
                         if (d.kind in COUNT_KINDS and _counts_people(d) and d.zone is not None
                             and (d.kind != "gate_counter" or d.code in self._gate_of))
                         or d.kind in ("temperature", "gas", "smoke")]

    # ----------------------------------------------------------------- clocks

    @property
    def t_s(self) -> float:
        """Scenario clock in seconds after the show start."""
        return self.state.t_s

    @property
    def sim_time(self) -> datetime:
        return self.show_start + timedelta(seconds=self.state.t_s)

    @property
    def phase(self) -> str:
        s = self.state
        if s.egress:
            return "over" if s.present < 0.5 and s.pending < 0.5 else "egress"
        if s.t_s >= 0:
            return "show"
        return "ingress" if s.pending < self.network.attendance else "before"

    @property
    def reporting(self) -> tuple[str, ...]:
        """Codes of the devices that send readings (drones and vehicle-only cameras do not)."""
        return tuple(d.code for d in self._reporting)

    @property
    def finished(self) -> bool:
        return self.phase == "over"

    def counts(self) -> dict[str, float]:
        """Model persons per zone code (containers: the sum of their children)."""
        per_node = self.state.occupancy.sum(axis=1)
        return {code: float(per_node[idx].sum()) for code, idx in self._members.items()}

    # ----------------------------------------------------------------- ticks

    def advance_to(self, now: datetime) -> float:
        """Move the scenario clock by ``speed`` x the real seconds since the last call; returns the seconds."""
        if self._last_real is None:
            self._last_real = now
            return 0.0
        real = (now - self._last_real).total_seconds()
        self._last_real = max(now, self._last_real)
        sim = min(max(0.0, real * self.speed), self.max_catch_up_s)
        self.state = advance(self.state, sim)
        return sim

    def silent(self) -> tuple[str, ...]:
        t = self.state.t_s
        return tuple(sorted({c for d in self.scenario.dropouts if d.start_s <= t < d.end_s for c in d.sensors}))

    def readings(self, now: datetime) -> tuple[list[dict[str, Any]], dict[str, float]]:
        """The readings of every live device at the current model state, stamped ``now``.

        Returns the ingest items and the noise-free value behind each one (by device code).
        """
        counts = self.counts()
        silent = set(self.silent())
        t = self.state.t_s
        flows = self.state.gate_flows()
        at = now.isoformat()
        items: list[dict[str, Any]] = []
        expected: dict[str, float] = {}
        noise = self.rng.uniform(-NOISE, NOISE, size=len(self._reporting))
        normal = self.rng.normal(0.0, 1.0, size=len(self._reporting))
        for d, u, z in zip(self._reporting, noise, normal, strict=True):
            if d.code in silent:
                continue
            count = counts.get(d.zone or "", 0.0)
            value: float
            values: dict[str, float] | None = None
            if d.kind in ("video_count", "camera"):
                expected[d.code] = count
                value = float(round(count * (1 + u)))
            elif d.kind in ("wifi_probe", "bluetooth"):
                expected[d.code] = count / PROBE_RATIO
                value = float(round(count / PROBE_RATIO * (1 + u)))
            elif d.kind == "gate_counter":
                inward, outward = flows.get(self._gate_of[d.code], (0.0, 0.0))
                last_in, last_out = self._gate_sent.get(d.code, (round(inward), round(outward)))
                now_in, now_out = round(inward), round(outward)
                self._gate_sent[d.code] = (now_in, now_out)
                values = {"in": float(now_in - last_in), "out": float(now_out - last_out)}
                value = values["in"] + values["out"]
                expected[d.code] = value
            elif d.kind == "temperature":
                density = count / self._area[d.zone] if d.zone and self._area.get(d.zone) else 0.0
                warm = 8.0 if self._zone_kind.get(d.zone or "") in STAFF_KINDS else 0.0
                expected[d.code] = self.ambient_c + warm + 1.2 * density
                value = round(expected[d.code] + 0.2 * float(z), 1)
            elif d.kind == "gas":
                base = 3.0 if self._zone_kind.get(d.zone or "") in STAFF_KINDS else 1.0
                expected[d.code] = base
                value = round(max(0.0, base + 0.4 * float(z)), 1)
            else:  # smoke
                fault = next((f for f in self.scenario.smoke_faults if f.sensor == d.code and f.start_s <= t < f.end_s),
                             None)
                if fault is not None:
                    alarm = float(d.properties.get("alarm_obscuration", 4.0))
                    expected[d.code] = fault.value if fault.value is not None else 1.5 * alarm
                    value = round(expected[d.code] * (1 + 0.1 * u / NOISE), 2)
                else:
                    expected[d.code] = 0.05
                    value = round(max(0.0, 0.05 + 0.02 * float(z)), 2)
            item: dict[str, Any] = {"sensor": d.code, "at": at, "value": value}
            if values is not None:
                item["values"] = values
            items.append(item)
        return items, expected

    def tick(self, now: datetime | None = None) -> Tick:
        """Advance the model to ``now`` (wall clock), send the readings through ingest and commit."""
        started = time.perf_counter()
        now = now or utcnow()
        if now.tzinfo is None or now.utcoffset() is None:
            raise Invalid("tick(now): now must be timezone-aware")
        self.advance_to(now)
        items, expected = self.readings(now)
        model_ms = (time.perf_counter() - started) * 1000
        with self.sessions() as db:
            db.info["actor"] = f"system:{self.source}"
            outcome = ingest(db=db, event_id=self.event_id, items=items, source=self.source)
            db.commit()
        if outcome.rejected:
            log.warning("simulator: %d readings rejected, first: %s", len(outcome.rejected), outcome.rejected[0])
        self.ticks += 1
        s = self.state
        return Tick(number=self.ticks, at=now, sim_time=self.sim_time, phase=self.phase, accepted=outcome.accepted,
                    rejected=len(outcome.rejected), sent={i["sensor"]: float(i["value"]) for i in items},
                    expected=expected, silent=self.silent(), counts=self.counts(), pending=s.pending,
                    present=s.present, departed=s.departed, model_ms=model_ms,
                    total_ms=(time.perf_counter() - started) * 1000)

    @property
    def period_s(self) -> float:
        """Real seconds between ticks in :func:`run`: ``tick_sim_s / speed`` clamped to 0.5-20 s."""
        return min(20.0, max(0.5, self.tick_sim_s / self.speed))


def _done(sim: Simulator, duration_s: float | None) -> bool:
    if sim.finished:
        return True
    return duration_s is not None and (sim.sim_time - sim.start).total_seconds() >= duration_s


def run(sessions: sessionmaker[Session], event_id: int, speed: float = 10.0, start: datetime | None = None,
        duration_s: float | None = None, on_tick: Callable[[Tick], Any] | None = None, *,
        stop: threading.Event | None = None, **options: Any) -> Simulator:
    """Run a simulation in this thread until ``stop`` is set, ``duration_s`` simulated seconds have
    passed since ``start``, or everybody has gone home. Returns the simulator.

    ``options`` go to :class:`Simulator` (``seed``, ``scenario``, ``tick_sim_s``...). A failing tick
    is logged and the next one tried. ``on_tick`` is called in this thread after each commit.
    """
    sim = Simulator(sessions, event_id, speed=speed, start=start, **options)
    stop = stop or threading.Event()
    while not stop.is_set():
        began = time.monotonic()
        try:
            report = sim.tick()
            if on_tick is not None:
                on_tick(report)
        except Exception:  # a bad tick (database busy...) must not stop the simulation
            log.exception("simulator tick failed")
        if _done(sim, duration_s):
            break
        stop.wait(max(0.0, sim.period_s - (time.monotonic() - began)))
    return sim


async def run_async(sessions: sessionmaker[Session], event_id: int, speed: float = 10.0,
                    start: datetime | None = None, duration_s: float | None = None,
                    on_tick: Callable[[Tick], Any] | None = None, **options: Any) -> Simulator:
    """:func:`run` as an asyncio task: ticks run in a worker thread, ``on_tick`` in the event loop.

    Cancel the task to stop it.
    """
    sim = await asyncio.to_thread(Simulator, sessions, event_id, speed=speed, start=start, **options)
    while True:
        began = time.monotonic()
        try:
            report = await asyncio.to_thread(sim.tick)
            if on_tick is not None:
                on_tick(report)
        except Exception:  # as in run(): log and go on
            log.exception("simulator tick failed")
        if _done(sim, duration_s):
            return sim
        await asyncio.sleep(max(0.0, sim.period_s - (time.monotonic() - began)))
