"""Which units to send 派警推荐, and which posts can spare officers 增援, by travel time.

**Mode of a unit** (its equipment, as in the demo's lists): ``car`` when it carries a vehicle
other than a motorbike (a name with 车 but not 摩托车: 防暴车, 消防车, 救护车, 无线电监测车...),
``motorbike`` when it carries 摩托车, else ``foot``. The vehicle is assumed to be with the unit.

**Travel time** to a point: the unit's newest position and the point snap to the nearest node of
the mode's main network within :data:`SNAP_M` metres; the ETA is the network time plus both
off-network legs walked at :data:`WALK_MS`. Farther than :data:`SNAP_M` (or no road network at
all): the straight-line distance x :data:`DETOUR` at the mode's :data:`STRAIGHT_MS` speed, flagged
``straight_line``. Closures active now apply, except those the unit is exempt from (its vehicle is an
emergency vehicle, a police car or an accredited vehicle: :func:`anbao.dispatch.service.exempt_as`, as
real 交通管制 lets them through); a route that crosses such a closure says so in ``note``
(经管制路段（应急车辆放行）). On foot every closure of everyone applies. Units are grouped by mode: one
:func:`~anbao.algorithms.routing.nearest_units` search per mode, plus a second search bounded by
the k-th best ETA when the off-network legs could reorder the k best, so the answer is exact.

**Who is left out** (first reason that applies): ``not_available`` (status other than available:
assigned, busy, off duty), ``no_position``, ``stale_position`` (newest position older than
:data:`MAX_POSITION_AGE_S`), ``police_type`` / ``skill`` / ``equipment`` / ``mode`` (the request's
filters), ``min_cover`` (the unit stands at a critical post whose officers present would fall
below its minimum staff without it), ``unreachable`` (no path under the closures). A post's
officers present follow the command map's rule (:mod:`anbao.live.mapdata`): the units whose newest
position is at most 5 min old and within 75 m of it, each at its nearest post only, counting the
unit's persons (a unit without persons counts 1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import Geod
from shapely.geometry import Point, shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anbao.algorithms.reinforce import PostState, UnitAtPost, plan_reinforcement
from anbao.algorithms.routing import (
    Closures,
    Mode,
    Nearest,
    RoadGraph,
    RoutingError,
    nearest_units,
    path_length,
    snap,
)
from anbao.core.errors import Invalid
from anbao.dispatch import service
from anbao.dispatch.graphs import EventGraph
from anbao.dispatch.models import EXEMPTIONS
from anbao.incident.models import Incident
from anbao.incident.service import at_posts, latest_positions
from anbao.org.models import Person, Unit
from anbao.org.service import unit_visible
from anbao.venue.models import Post, Venue, Zone

SNAP_M = 500.0
WALK_MS = 1.3
DETOUR = 1.3
#: straight-line speeds, m/s: walking; 25 km/h by car and 30 km/h by motorbike in event traffic
STRAIGHT_MS = {Mode.FOOT: 1.3, Mode.CAR: 25 / 3.6, Mode.MOTORBIKE: 30 / 3.6}
MAX_POSITION_AGE_S = 1800.0
GEOD = Geod(ellps="WGS84")


def unit_mode(equipment: Sequence[str] | None) -> Mode:
    """car / motorbike / foot from a unit's equipment (see the module notes)."""
    items = [str(e) for e in equipment or ()]
    if any("车" in e and "摩托车" not in e for e in items):
        return Mode.CAR
    if any("摩托车" in e for e in items):
        return Mode.MOTORBIKE
    return Mode.FOOT


@dataclass(frozen=True)
class Mover:
    """Something to route: ``key`` (a unit id), its mode and its position (lon, lat)."""

    key: int
    mode: Mode
    lon: float
    lat: float
    exempt: str | None = None


@dataclass(frozen=True)
class Leg:
    """A routed mover: ETA (s), length (m), ``road`` or ``straight_line``, the path as lon/lat points."""

    key: int
    mode: Mode
    eta_s: float
    distance_m: float
    route: str
    path: tuple[tuple[float, float], ...]
    note: str = ""

    def out(self) -> dict[str, Any]:
        return {"mode": self.mode.value, "eta_s": round(self.eta_s, 1), "distance_m": round(self.distance_m, 1),
                "route": self.route, "path": {"type": "LineString", "coordinates": [list(p) for p in self.path]},
                "note": self.note}


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return service.distance_m(a, b)


def _straight(m: Mover, target: tuple[float, float]) -> Leg:
    d = _metres((m.lon, m.lat), target) * DETOUR
    return Leg(m.key, m.mode, d / STRAIGHT_MS[m.mode], d, "straight_line", ((m.lon, m.lat), target))


def _search(graph: RoadGraph, mode: Mode, target: int, nodes: np.ndarray, access_s: np.ndarray, k: int | None,
            closures: Closures) -> tuple[Nearest, list[tuple[int, float]], bool]:
    """(search, [(index, network s)] best first by network + access time, complete: every reachable one found)."""
    n = len(nodes)
    want = n if k is None else min(k, n)
    first = nearest_units(graph, mode, target, nodes, want, closures=closures)
    complete = len(first.units) < want or want == n
    found = first
    if k is not None and len(first.units) == want and want < n and access_s.any():
        bound = sorted(u.time_s + access_s[u.unit] for u in first.units)[want - 1]
        found = nearest_units(graph, mode, target, nodes, n, limit_s=float(bound), closures=closures)
    ranked = sorted(((u.unit, u.time_s) for u in found.units), key=lambda p: (p[1] + access_s[p[0]], p[0]))
    return found, ranked[:want], complete


def _crosses(graph: RoadGraph, path: Sequence[int], waived: frozenset[int]) -> bool:
    """Whether a node path steps along an edge in ``waived`` (a closed edge the mover is exempt from)."""
    if not waived:
        return False
    for u, v in zip(path, path[1:], strict=False):
        e = np.arange(graph.indptr[u], graph.indptr[u + 1])
        e = e[graph.heads[e] == v]
        if len(e) and all(int(i) in waived for i in e):
            return True
    return False


def travel(eg: EventGraph | None, closures: Closures, target: tuple[float, float], movers: Sequence[Mover],
           k: int | None = None, exempt: Mapping[str, Closures] | None = None) -> tuple[list[Leg], list[int]]:
    """The ``k`` fastest movers to ``target`` (all when None), best first, and the keys found unreachable.

    ``closures`` stop everyone; ``exempt[c]`` are the closures that still stop a vehicle of class ``c``
    (a mover with ``exempt=c`` not on foot)."""
    legs: list[Leg] = []
    unreachable: list[int] = []
    classes = sorted({m.exempt for m in movers
                      if m.mode is not Mode.FOOT and m.exempt is not None and m.exempt in (exempt or {})})
    groups: list[tuple[Mode, str | None]] = [(mode, None) for mode in Mode]
    groups += [(mode, c) for mode in Mode if mode is not Mode.FOOT for c in classes]
    for mode, cls in groups:
        if cls is None:
            group = [m for m in movers if m.mode is mode and (mode is Mode.FOOT or m.exempt not in (exempt or {}))]
            used = closures
        else:
            group = [m for m in movers if m.mode is mode and m.exempt == cls]
            used = (exempt or {})[cls]
        if not group:
            continue
        waived = closures.closed(mode) - used.closed(mode)
        note = service.EXEMPT_NOTE.get(cls or "", "")
        graph = eg.graph if eg is not None else None
        t_node = -1
        if graph is not None:
            try:
                t_node = int(snap(graph, mode, [target], max_distance_m=SNAP_M)[0])
            except RoutingError:  # no network for this mode at all
                t_node = -1
        if graph is None or t_node < 0:
            legs.extend(_straight(m, target) for m in group)
            continue
        nodes = snap(graph, mode, [(m.lon, m.lat) for m in group], max_distance_m=SNAP_M)
        near = np.flatnonzero(nodes >= 0)
        legs.extend(_straight(group[i], target) for i in np.flatnonzero(nodes < 0))
        if not len(near):
            continue
        t_xy = (float(graph.xy[t_node][0]), float(graph.xy[t_node][1]))
        t_walk = _metres(target, t_xy)
        walk = np.array([_metres((group[i].lon, group[i].lat), tuple(graph.xy[nodes[i]])) for i in near])
        found, ranked, complete = _search(graph, mode, t_node, nodes[near], walk / WALK_MS, k, used)
        if complete:
            got = {i for i, _ in ranked} if k is None else {u.unit for u in found.units}
            unreachable.extend(group[near[j]].key for j in range(len(near)) if j not in got)
        for j, seconds in ranked:
            m = group[near[j]]
            path = found.path(j)
            points = [(m.lon, m.lat), *((float(x), float(y)) for x, y in graph.xy[list(path)]), target]
            dedup = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
            if len(dedup) == 1:
                dedup.append(dedup[0])
            length = path_length(graph, mode, path, closures=used) + walk[j] + t_walk
            legs.append(Leg(m.key, mode, seconds + (walk[j] + t_walk) / WALK_MS, length, "road", tuple(dedup),
                            note if _crosses(graph, path, waived) else ""))
    legs.sort(key=lambda leg: (leg.eta_s, leg.key))
    return (legs if k is None else legs[:k]), unreachable


# --------------------------------------------------------------------------- presence at posts

def _wgs84_posts(db: Session, event_id: int) -> list[Any]:
    """The event's posts (id, code, name, lon, lat, min_staff, critical rows) of WGS-84 venues."""
    return list(db.execute(select(Post.id, Post.code, Post.name, Post.lon, Post.lat, Post.min_staff, Post.critical)
                           .join(Venue, Post.venue_id == Venue.id)
                           .where(Post.event_id == event_id, Venue.crs == "wgs84").order_by(Post.id)).all())


def _sizes(db: Session, event_id: int) -> dict[int, int]:
    rows = db.execute(select(Person.unit_id, func.count()).where(Person.event_id == event_id)
                      .group_by(Person.unit_id)).all()
    return {int(u): int(n) for u, n in rows if u is not None}


# --------------------------------------------------------------------------- recommendation

def target_of(db: Session, incident: Incident) -> tuple[tuple[float, float], str]:
    """The incident's position, else its zone's centre; :class:`Invalid` when it has neither."""
    if incident.lon is not None and incident.lat is not None:
        return (float(incident.lon), float(incident.lat)), "incident"
    zone = db.get(Zone, incident.zone_id) if incident.zone_id is not None else None
    venue = db.get(Venue, zone.venue_id) if zone is not None else None
    if zone is None or venue is None or venue.crs != "wgs84":
        raise Invalid(f"incident {incident.id} has no position and no WGS-84 zone: nothing to route to",
                      loc=["path", "incident_id"])
    return service.zone_point(zone.geometry), "zone"


def _routing(db: Session, event_id: int, var_dir: Path,
             now: datetime) -> tuple[EventGraph | None, Closures, dict[str, Closures], int]:
    """(graph, closures in force, closures still binding each exempt class, how many are in force)."""
    eg = service.event_graph(db=db, event_id=event_id, var_dir=var_dir)
    if eg is None:
        return None, Closures(), {}, 0
    active = service.active_closures(db=db, event_id=event_id, now=now)
    exempt = {c: eg.closures(service.binding(active, c)) for c in EXEMPTIONS}
    return eg, eg.closures(active), exempt, len(active)


def recommend(*, db: Session, event_id: int, incident: Incident, var_dir: Path, now: datetime, k: int = 5,
              police_type: str | None = None, skill: str | None = None, equipment: str | None = None,
              mode: Mode | None = None, agency: str | None = None) -> dict[str, Any]:
    """The ``k`` available units with the least travel time to the incident, and who was left out and why."""
    target, target_from = target_of(db, incident)
    units = [u for u in db.execute(select(Unit).where(Unit.event_id == event_id).order_by(Unit.id)).scalars()
             if unit_visible(u, agency=agency)]
    fixes = {int(f["unit_id"]): f for f in latest_positions(db=db, event_id=event_id)}
    sizes = _sizes(db, event_id)
    posts = _wgs84_posts(db, event_id)
    where = at_posts(posts, fixes, now)
    present: dict[int, int] = {}
    for unit_id, at in where.items():
        present[at.id] = present.get(at.id, 0) + max(1, sizes.get(unit_id, 0))
    excluded: list[dict[str, Any]] = []
    movers: list[Mover] = []
    by_id = {u.id: u for u in units}

    def leave(u: Unit, reason: str, detail: str = "") -> None:
        excluded.append({"unit_id": u.id, "call_sign": u.call_sign, "reason": reason, "detail": detail})

    for u in units:
        fix = fixes.get(u.id)
        u_mode = unit_mode(u.equipment)
        post = where.get(u.id)
        if u.status != "available":
            leave(u, "not_available", u.status)
        elif fix is None:
            leave(u, "no_position")
        elif (age := (now - fix["at"]).total_seconds()) > MAX_POSITION_AGE_S:
            leave(u, "stale_position", f"{age / 60:.0f} min old")
        elif police_type is not None and u.police_type != police_type:
            leave(u, "police_type", u.police_type)
        elif skill is not None and skill not in (u.skills or []):
            leave(u, "skill", f"no {skill}")
        elif equipment is not None and equipment not in (u.equipment or []):
            leave(u, "equipment", f"no {equipment}")
        elif mode is not None and u_mode is not mode:
            leave(u, "mode", u_mode.value)
        elif post is not None and post.critical and present[post.id] - max(1, sizes.get(u.id, 0)) < post.min_staff:
            leave(u, "min_cover", f"{post.code} {post.name}：在岗 {present[post.id]} 人，最少 {post.min_staff} 人")
        else:
            movers.append(Mover(u.id, u_mode, float(fix["lon"]), float(fix["lat"]),
                                service.exempt_as(u.police_type, u.equipment)))
    eg, closures, exempt, active = _routing(db, event_id, var_dir, now)
    legs, unreachable = travel(eg, closures, target, movers, k, exempt)
    for key in unreachable:
        leave(by_id[key], "unreachable", "no path under the closures in force")
    out = []
    for leg in legs:
        u = by_id[leg.key]
        age = (now - fixes[u.id]["at"]).total_seconds()
        out.append({"unit_id": u.id, "call_sign": u.call_sign, "police_type": u.police_type, **leg.out(),
                    "position_age_s": round(age, 1),
                    "exempt_as": service.exempt_as(u.police_type, u.equipment) if leg.mode is not Mode.FOOT else None})
    return {"incident_id": incident.id, "target": target, "target_from": target_from,
            "network": "road" if eg is not None else "straight_line", "closures": active, "units": out,
            "excluded": excluded}


# --------------------------------------------------------------------------- reinforcement

def reinforcement(*, db: Session, event_id: int, zone: Zone, need: int, var_dir: Path, now: datetime,
                  below_min: bool = False, agency: str | None = None) -> dict[str, Any]:
    """增援: officers the posts outside ``zone`` can release to it (:mod:`anbao.algorithms.reinforce`)."""
    venue = db.get(Venue, zone.venue_id)
    if venue is None or venue.crs != "wgs84":
        raise Invalid(f"zone {zone.code} is drawn in local metres: no travel times", loc=["query", "zone_id"])
    target = service.zone_point(zone.geometry)
    area = shape(zone.geometry)
    units = {u.id: u for u in db.execute(select(Unit).where(Unit.event_id == event_id)).scalars()}
    fixes = {int(f["unit_id"]): f for f in latest_positions(db=db, event_id=event_id)}
    sizes = _sizes(db, event_id)
    posts = [p for p in _wgs84_posts(db, event_id) if not area.covers(Point(p.lon, p.lat))]
    where = at_posts(posts, fixes, now)

    def releasable(unit_id: int) -> bool:
        u = units.get(unit_id)
        return u is not None and u.status == "available" and unit_visible(u, agency=agency)

    movers = [Mover(uid, unit_mode(units[uid].equipment), float(fixes[uid]["lon"]), float(fixes[uid]["lat"]),
                    service.exempt_as(units[uid].police_type, units[uid].equipment))
              for uid in where if releasable(uid)]
    eg, closures, exempt, _ = _routing(db, event_id, var_dir, now)
    legs = {leg.key: leg for leg in travel(eg, closures, target, movers, None, exempt)[0]}
    states = []
    for post in posts:
        here = sorted(uid for uid, p in where.items() if p.id == post.id)
        states.append(PostState(post.id, post.min_staff, post.critical, tuple(
            UnitAtPost(uid, max(1, sizes.get(uid, 0)), legs[uid].eta_s if uid in legs else math.inf,
                       releasable=uid in legs) for uid in here)))
    plan = plan_reinforcement(states, need, below_min=below_min)
    by_post = {p.id: p for p in posts}
    moves = []
    for m in plan.moves:
        post, u = by_post[m.post_id], units[m.unit_id]
        moves.append({"post_id": post.id, "post_code": post.code, "post_name": post.name, "critical": post.critical,
                      "unit_id": u.id, "call_sign": u.call_sign, "officers": m.officers,
                      "unit_officers": m.unit_officers, "below_min": m.below_min, **legs[u.id].out()})
    released = {m.post_id: 0 for m in plan.moves}
    for m in plan.moves:
        released[m.post_id] += m.officers
    cover: list[dict[str, Any]] = [
        {"post_id": s.post_id, "post_code": by_post[s.post_id].code, "post_name": by_post[s.post_id].name,
         "critical": s.critical, "min_staff": s.min_staff, "present": s.present,
         "releases": released.get(s.post_id, 0), "left": plan.left[s.post_id]}
        for s in states if s.units]
    cover.sort(key=lambda c: (-int(c["releases"]), str(c["post_code"])))
    if plan.short:
        rule = "" if below_min else "（不使任何岗位低于最少在岗人数）"
        message = f"需 {need} 人，仅可抽调 {plan.released} 人{rule}，尚缺 {plan.short} 人"
    else:
        message = f"可抽调 {plan.released} 人，满足增援需求（需 {need} 人）"
    return {"zone_id": zone.id, "zone_code": zone.code, "need": need, "released": plan.released,
            "short": plan.short, "message": message, "network": "road" if eg is not None else "straight_line",
            "moves": moves, "posts": cover}
