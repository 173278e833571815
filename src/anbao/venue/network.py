"""The crowd-flow network of a venue, inferred from its zones and gates (:func:`build_network`).

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
* **Nearest links** (guessed, kind ``nearest``): a group of touching zones on one level that still
  cannot be entered from below gets a link from the zone of the previous level into its member that
  are nearest to each other, and one back down unless a member already has a way down (a gate, an
  exit or an open boundary: the real way out is never doubled by a guess); an origin that touches
  nothing gets a link each way to the nearest node of the next level (the walk from the metro exit
  to the plaza). A guessed link never carries unlimited flow: its capacity is that of a passage as
  wide as the narrower of the two zones (the short side of each zone's minimum rotated rectangle) at
  82 persons/m/min, and it is never merged with a real link between the same zones (issue 13: a
  0.5 m exit merged with an unlimited guess cleared 75 people in 6.9 s instead of 110 s). Guessed
  links are no exits: :func:`is_guessed` is the one rule the evacuation and the capacity read.
* **Origins** share the arrivals by kind (transit 50 %, parking 20 %, roads 30 %, each split by
  area); transit origins get them in pulses, one train or bus every 4 minutes. **Destinations**
  are stands and standing floors weighted by seated + standing capacity; the attendance is the
  event's expected attendance. After the show everyone walks back to an origin, split by the same
  shares. Routes are the capacity-aware shortest paths of :mod:`anbao.algorithms.crowdflow`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from anbao.algorithms.crowdflow import (
    GateShare,
    Link,
    Network,
    Node,
    Slowdown,
    Surge,
    aggregate_links,
    lanes_capacity,
    width_capacity,
)
from anbao.core.errors import Invalid
from anbao.venue.layout import DESTINATION_KINDS, STAFF_KINDS, GateSite, ZoneSite

#: zones behind a fence: entered from below only through their gates when they have gates
FENCED_KINDS = frozenset({"screening", "concourse", "entrance"})
#: rank of a zone kind inside its ring: the order a spectator walks through
KIND_RANK = {"screening": 1, "entrance": 1, "concourse": 2, "standing": 3}
#: share of arrivals by origin kind (split inside a kind by area)
ORIGIN_SHARES = {"transit": 0.5, "parking": 0.2, "road": 0.3}
#: seconds between trains (or shuttle buses) at transit origins: their people arrive in pulses
TRANSIT_HEADWAY_S = 240.0
TOUCH_M = 2.0
#: touching zones share at least this much boundary to be linked (not just a corner)
MIN_SHARED_M = 4.5


def depth(zone: ZoneSite) -> int:
    """Walking order of a zone from outside in: ``-10 * ring`` + the rank of its kind in the ring."""
    return -10 * zone.ring + KIND_RANK.get(zone.kind, 0)


#: kind of the links the network guessed between zones that do not touch
GUESSED = "nearest"


def is_guessed(link: Link) -> bool:
    """Whether the network guessed ``link`` (zones that do not touch, no gate): never an exit."""
    return GUESSED in link.kind.split("+")


def narrow_side(shape: BaseGeometry) -> float:
    """The short side of ``shape``'s minimum rotated rectangle, metres (the width of a road or a room)."""
    box = shape.minimum_rotated_rectangle
    xy = np.asarray(box.exterior.coords) if hasattr(box, "exterior") else np.zeros((0, 2))
    sides = np.hypot(*np.diff(xy, axis=0).T) if len(xy) > 1 else np.zeros(0)
    sides = sides[sides > 1e-9]
    return float(sides.min()) if len(sides) else 0.0


def guessed_capacity(a: ZoneSite, b: ZoneSite) -> float:
    """Persons/s of a guessed link between ``a`` and ``b``: a passage as wide as the narrower zone
    (at least 1 m), at 82 persons/m/min."""
    return width_capacity(max(1.0, min(narrow_side(a.shape), narrow_side(b.shape))))


def _gate_capacity(g: GateSite) -> float:
    level = width_capacity(g.width_m, stair=g.stair)
    return min(lanes_capacity(max(g.lanes, 1)), level) if g.width_m > 0 else lanes_capacity(max(g.lanes, 1))


def build_network(zones: Sequence[ZoneSite], gates: Sequence[GateSite], *, attendance: float,
                  show_end_s: float = 3 * 3600.0, surges: Sequence[Surge] = (), seed: int = 0,
                  headway_s: float | None = TRANSIT_HEADWAY_S, slowdowns: Sequence[Slowdown] = ()) -> Network:
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
            cap = guessed_capacity(by_code[up], by_code[down])
            links.append(Link(down, up, cap, (), GUESSED))
            members_of = {z.code for z in group}
            if not any(lk.source in members_of and depths[lk.target] < lv for lk in links):
                links.append(Link(up, down, cap, (), GUESSED))
    after = next_level[first]
    for z in nodes:
        if depths[z.code] != first or after is None:
            continue
        if any(lk.source == z.code and depths[lk.target] > first for lk in links):
            continue
        near = nearest(z.shape, (y for y in nodes if depths[y.code] == after))
        if near is not None:
            cap = guessed_capacity(z, near)
            links += [Link(z.code, near.code, cap, (), GUESSED), Link(near.code, z.code, cap, (), GUESSED)]

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

    real = {(lk.source, lk.target) for lk in links if lk.kind != GUESSED}
    merged = aggregate_links([lk for lk in links if lk.kind != GUESSED or (lk.source, lk.target) not in real])
    reach = _reachable(merged, origins)
    destinations = {z.code: float(z.capacity) for z in nodes
                    if z.kind in DESTINATION_KINDS and z.capacity > 0 and z.code in reach}
    if not destinations:
        last = levels[-1]
        destinations = {z.code: z.area_m2 for z in nodes if depths[z.code] == last and z.code in reach}
    if not destinations:
        raise Invalid("no seat or standing zone can be reached from the outer zones")
    network = Network(nodes=tuple(Node(z.code, z.area_m2, max(5.0, math.sqrt(z.area_m2))) for z in nodes),
                      links=merged, origins=origins, destinations=destinations, attendance=attendance,
                      show_end_s=show_end_s, seed=seed,
                      headways={c: headway_s for c in origins if headway_s and by_code[c].kind == "transit"})
    return add_incidents(network, surges=surges, slowdowns=slowdowns) if surges or slowdowns else network


def add_incidents(network: Network, *, surges: Sequence[Surge] = (), slowdowns: Sequence[Slowdown] = ()) -> Network:
    """``network`` with these surges and gate slowdowns (the routes stay the same).

    Surges into a zone that is not a destination are left out, and so are their sources that are not
    destinations. Raises :class:`~anbao.core.errors.Invalid` for a slowdown of a gate that no link
    carries (a gate outside the public's zones).
    """
    destinations = network.destinations
    known = [s for s in surges if s.target in destinations]
    clean = tuple(replace(s, sources=tuple(c for c in s.sources if c in destinations and c != s.target))
                  for s in known)
    carried = {g.code for lk in network.links for g in lk.gates}
    unknown = sorted({sd.gate for sd in slowdowns} - carried)
    if unknown:
        raise Invalid(f"slowdown of gate {', '.join(unknown)}: not a gate the public walks through")
    return replace(network, surges=clean, slowdowns=tuple(slowdowns))


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
