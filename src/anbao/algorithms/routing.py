"""Travel times on a road and walkway graph, for dispatch: which units reach an incident first.

Pure and typed (no I/O). Units: metres, seconds, km/h for speed limits; lon/lat in WGS84 degrees (or
local metres when the graph is not ``geographic``). Nodes and edges are indexes into the arrays of a
:class:`RoadGraph`; OSM ids are kept in ``node_ids``/``way_ids``.

The graph is directed, in CSR form. A two-way street gives two edges; a one-way street gives its
forward edge for everyone and its backward edge for pedestrians only: vehicles respect one-way
streets, emergency or not (driving against the traffic is a call on the spot, not a plan to
recommend). Edge time = length / speed of the mode's :class:`Profile`: vehicles drive the posted
``maxspeed`` (else a default by road class) times a traffic factor and never use footway-only edges;
pedestrians walk 1.3 m/s (0.6 m/s on steps) anywhere but motorways.

Searches run ``scipy.sparse.csgraph.dijkstra`` (compiled) on a sparse matrix of edge times per
(mode, closures, direction), built once and cached on the graph. :func:`nearest_units` searches the
reversed graph from the target with a time ``limit`` estimated from the unit density and doubled
until ``k`` units are settled; times within the limit are exact, so the answer equals a full search.
Traffic control (交通管制) is a :class:`Closures` (edges closed to vehicles; edges closed to everyone):
hashable, so each closure set costs one matrix build (a few ms per 100k edges), then nothing.

The graph itself (:class:`RoadGraph`, :class:`Way`, :func:`build_graph`, :func:`join_graphs`) lives in
:mod:`anbao.algorithms.roadgraph`; it is re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import shapely
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from anbao.algorithms.roadgraph import (
    EARTH_RADIUS_M,
    EDGE_FIELDS,
    BoolArray,
    FloatArray,
    IntArray,
    RoadGraph,
    RoutingError,
    Way,
    build_graph,
    join_graphs,
    local_metres,
)

__all__ = [
    "CACHE_SIZE", "DEFAULT_KMH", "EARTH_RADIUS_M", "EDGE_FIELDS", "NO_CLOSURES", "PROFILES", "BoolArray", "Closures",
    "FloatArray", "IntArray", "Mode", "Nearest", "Profile", "RoadGraph", "Route", "RoutingError", "UnitTime", "Way",
    "ZoneAccess", "boundary_nodes", "build_graph", "corridor_check", "edge_times", "edges_in_area", "edges_of_ways",
    "join_graphs", "local_metres", "main_component", "mode_edges", "nearest_units", "path_length", "route", "snap",
    "travel_times",
]

#: default vehicle speed by road class when no maxspeed is tagged, km/h
DEFAULT_KMH: Mapping[str, float] = {
    "motorway": 100, "motorway_link": 60, "trunk": 80, "trunk_link": 50, "primary": 60, "primary_link": 40,
    "secondary": 50, "secondary_link": 40, "tertiary": 40, "tertiary_link": 30, "unclassified": 30,
    "residential": 30, "road": 30, "living_street": 10, "service": 15, "pedestrian": 10, "track": 15,
    "connector": 20,
}
CACHE_SIZE = 16  # matrices kept per graph: (mode, closures, direction) sets


class Mode(StrEnum):
    FOOT = "foot"
    CAR = "car"
    MOTORBIKE = "motorbike"


@dataclass(frozen=True)
class Profile:
    """How a mode moves. Vehicles: speed = (maxspeed or ``default_kmh[kind]``) x ``factor``, capped at
    ``max_kmh``; pedestrians: ``walk_ms`` m/s (``steps_ms`` on steps), any posted limit ignored."""

    vehicle: bool
    factor: float = 1.0
    max_kmh: float = 130.0
    fallback_kmh: float = 20.0
    walk_ms: float = 1.3
    steps_ms: float = 0.6
    default_kmh: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_KMH))


#: car: 0.8 of the limit for signals, turns and traffic; police motorbikes 0.9 (they filter through)
PROFILES: Mapping[Mode, Profile] = {
    Mode.FOOT: Profile(vehicle=False),
    Mode.CAR: Profile(vehicle=True, factor=0.8),
    Mode.MOTORBIKE: Profile(vehicle=True, factor=0.9),
}


@dataclass(frozen=True)
class Closures:
    """Traffic control: edge indexes closed to vehicles (pedestrians may pass) and closed to everyone."""

    vehicles: frozenset[int] = frozenset()
    everyone: frozenset[int] = frozenset()

    def closed(self, mode: Mode) -> frozenset[int]:
        return self.everyone if mode is Mode.FOOT else self.vehicles | self.everyone


NO_CLOSURES = Closures()


# --------------------------------------------------------------------------- edge times, matrices

def edge_times(graph: RoadGraph, mode: Mode) -> FloatArray:
    """Travel time of each edge in seconds for ``mode``; inf where the mode may not pass."""
    def make() -> FloatArray:
        p = PROFILES[mode]
        kinds = np.array(graph.kinds)[graph.kind] if graph.n_edges else np.array([], dtype=str)
        if p.vehicle:
            default = np.array([p.default_kmh.get(k, p.fallback_kmh) for k in graph.kinds])[graph.kind]
            kmh = np.minimum(np.where(np.isnan(graph.maxspeed_kmh), default, graph.maxspeed_kmh) * p.factor,
                             p.max_kmh)
            allowed, speed_ms = graph.car, kmh / 3.6
        else:
            allowed = graph.foot & ~np.isin(kinds, ("motorway", "motorway_link"))
            speed_ms = np.where(kinds == "steps", p.steps_ms, p.walk_ms)
        out: FloatArray = np.where(allowed & (speed_ms > 0), graph.length_m / np.maximum(speed_ms, 1e-9), np.inf)
        out.flags.writeable = False
        return out
    out: FloatArray = graph._cached(("times", mode), make)
    return out


def _usable(graph: RoadGraph, mode: Mode, closures: Closures) -> BoolArray:
    usable: BoolArray = np.isfinite(edge_times(graph, mode))
    closed = closures.closed(mode)
    if closed:
        usable[np.fromiter(closed, dtype=np.int64, count=len(closed))] = False
    return usable


def mode_edges(graph: RoadGraph, mode: Mode, closures: Closures = NO_CLOSURES) -> tuple[IntArray, IntArray, FloatArray]:
    """(tails, heads, seconds) of the edges ``mode`` may use under ``closures``, parallel edges included."""
    usable = _usable(graph, mode, closures)
    return graph.tails[usable], graph.heads[usable], edge_times(graph, mode)[usable]


def _matrix(graph: RoadGraph, mode: Mode, closures: Closures, reverse: bool) -> csr_array:
    """The sparse time matrix (row = from), one entry per node pair (the fastest parallel edge)."""
    key = (mode, closures, reverse)
    cache: dict[Any, csr_array] = graph._cached(("matrices",), dict)
    if key in cache:
        return cache[key]
    tails, heads, secs = mode_edges(graph, mode, closures)
    rows, cols = (heads, tails) if reverse else (tails, heads)
    order = np.lexsort((secs, cols, rows))
    rows, cols, secs = rows[order], cols[order], secs[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    indptr = np.zeros(graph.n_nodes + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows[first], minlength=graph.n_nodes), out=indptr[1:])
    matrix = csr_array((secs[first], cols[first].astype(np.int32), indptr), shape=(graph.n_nodes,) * 2)
    with graph._lock:
        cache[key] = matrix
        while len(cache) > CACHE_SIZE:  # the oldest closure sets go first
            del cache[next(iter(cache))]
    return matrix


def main_component(graph: RoadGraph, mode: Mode) -> BoolArray:
    """Nodes of the largest strongly connected part of the ``mode`` network (no closures): from each
    of them every other is reachable and back. Snapping only picks these nodes."""
    def make() -> BoolArray:
        matrix = _matrix(graph, mode, NO_CLOSURES, False)
        used = np.diff(matrix.indptr) > 0
        used[matrix.indices] = True
        _, labels = connected_components(matrix, directed=True, connection="strong")
        sizes = np.bincount(labels[used], minlength=labels.max() + 1) if used.any() else np.zeros(1, int)
        out: BoolArray = (labels == int(np.argmax(sizes))) & used
        out.flags.writeable = False
        return out
    out: BoolArray = graph._cached(("core", mode), make)
    return out


# --------------------------------------------------------------------------- snapping, closures

def snap(graph: RoadGraph, mode: Mode, points: Sequence[tuple[float, float]] | FloatArray, *,
         max_distance_m: float = math.inf) -> IntArray:
    """Nearest node of the ``mode`` main network to each (lon, lat) point (metres if not geographic);
    -1 for a point farther than ``max_distance_m``."""
    nodes = np.flatnonzero(main_component(graph, mode))
    if len(nodes) == 0:
        raise RoutingError(f"the graph has no {mode.value} network")
    tree = graph._cached(("tree", mode), lambda: cKDTree(local_metres(graph, graph.xy[nodes])))
    query = local_metres(graph, np.asarray(points, dtype=np.float64).reshape(-1, 2))
    dist, near = tree.query(query, distance_upper_bound=max_distance_m)
    out: IntArray = np.where(np.isfinite(dist), nodes[np.minimum(near, len(nodes) - 1)], -1).astype(np.int64)
    return out


def edges_of_ways(graph: RoadGraph, way_ids: Iterable[int]) -> frozenset[int]:
    """Edge indexes (both directions) of the given source ways, e.g. to close a street."""
    return frozenset(np.flatnonzero(np.isin(graph.way_ids, list(way_ids))).tolist())


def edges_in_area(graph: RoadGraph, area: shapely.Geometry) -> frozenset[int]:
    """Edge indexes whose segment touches ``area`` (a shapely polygon in the graph's coordinates)."""
    a, b = graph.xy[graph.tails], graph.xy[graph.heads]
    (x0, y0, x1, y1), lo, hi = area.bounds, np.minimum(a, b), np.maximum(a, b)
    near = np.flatnonzero((hi[:, 0] >= x0) & (lo[:, 0] <= x1) & (hi[:, 1] >= y0) & (lo[:, 1] <= y1))
    hit = shapely.intersects(area, shapely.linestrings(np.stack([a[near], b[near]], axis=1)))
    return frozenset(near[hit].tolist())


# --------------------------------------------------------------------------- queries

@dataclass(frozen=True)
class UnitTime:
    """A unit (its position in the list given), its node and its travel time to the target in seconds."""

    unit: int
    node: int
    time_s: float


@dataclass(frozen=True, eq=False)
class Nearest:
    """The fastest units to ``target``, best first; ``searched_s`` is the search limit that settled
    the answer (inf: the whole graph); :meth:`path` gives a unit's route."""

    target: int
    units: tuple[UnitTime, ...]
    searched_s: float
    predecessors: IntArray = field(repr=False)

    def path(self, unit: int) -> tuple[int, ...]:
        """Node indexes from the unit's node to the target (``unit`` is a position in the unit list)."""
        node = next((u.node for u in self.units if u.unit == unit), None)
        if node is None:
            raise RoutingError(f"unit {unit} is not among the nearest units")
        return _walk(self.predecessors, node, self.target)


def _walk(pred: IntArray, start: int, end: int) -> tuple[int, ...]:
    path = [start]
    while path[-1] != end:
        path.append(int(pred[path[-1]]))
        if path[-1] < 0 or len(path) > len(pred):
            raise RoutingError(f"no path from {start} to {end}")
    return tuple(path)


def _nodes(graph: RoadGraph, nodes: Any, what: str) -> IntArray:
    out: IntArray = np.atleast_1d(np.asarray(nodes, dtype=np.int64))
    if len(out) and (out.min() < 0 or out.max() >= graph.n_nodes):
        raise RoutingError(f"{what}: node index out of range 0..{graph.n_nodes - 1}")
    return out


def _first_limit(graph: RoadGraph, mode: Mode, n_units: int, k: int) -> float:
    """A search radius in seconds likely to hold ``k`` units if they are spread over the network."""
    def stats() -> tuple[float, float]:
        core = main_component(graph, mode)
        xy = local_metres(graph, graph.xy[core]) if core.any() else np.zeros((1, 2))
        t = edge_times(graph, mode)
        ok = np.isfinite(t) & (t > 0)
        speed = float(graph.length_m[ok].sum() / t[ok].sum()) if ok.any() else 1.0
        return float(np.prod(np.ptp(xy, axis=0) + 1.0)), speed
    area, speed = graph._cached(("density", mode), stats)
    return max(2.0 * math.sqrt(k * area / (math.pi * max(n_units, 1))) / speed, 10.0)


def nearest_units(graph: RoadGraph, mode: Mode, target: int, unit_nodes: Sequence[int] | IntArray, k: int = 5, *,
                  limit_s: float | None = None, closures: Closures = NO_CLOSURES) -> Nearest:
    """The ``k`` units with the least travel time TO ``target`` (node index), best first.

    ``unit_nodes``: the node of each unit (several units may share a node). Units slower than
    ``limit_s`` seconds, or unable to reach the target, are left out, so fewer than ``k`` may come back.
    Ties are broken by position in ``unit_nodes``. Exact: the same times as a full Dijkstra.
    """
    if k < 1:
        raise RoutingError(f"k must be >= 1, got {k}")
    units, target = _nodes(graph, unit_nodes, "unit_nodes"), int(_nodes(graph, target, "target")[0])
    matrix = _matrix(graph, mode, closures, True)
    cap = math.inf if limit_s is None else float(limit_s)
    limit, want = min(_first_limit(graph, mode, len(units), k), cap), min(k, len(units))
    for attempt in range(8):  # the limit doubles; the 8th search has none
        bound = math.inf if attempt == 7 else limit
        dist, pred = dijkstra(matrix, directed=True, indices=target, limit=bound, return_predecessors=True)
        times = dist[units]
        if bound >= cap or np.count_nonzero(np.isfinite(times)) >= want or _exhausted(matrix, dist):
            break
        limit = min(limit * 2, cap)
    ok = np.flatnonzero(np.isfinite(times) & (times <= cap))
    best = ok[np.lexsort((ok, times[ok]))][:k]
    return Nearest(target, tuple(UnitTime(int(i), int(units[i]), float(times[i])) for i in best), bound, pred)


def _exhausted(matrix: csr_array, dist: FloatArray) -> bool:
    """True if no edge leaves the nodes reached: a wider limit would find nothing more."""
    reached = np.isfinite(dist)
    return bool(reached[matrix.indices[np.repeat(reached, np.diff(matrix.indptr))]].all())


def travel_times(graph: RoadGraph, mode: Mode, target: int, sources: Sequence[int] | IntArray, *,
                 limit_s: float | None = None, closures: Closures = NO_CLOSURES,
                 to_target: bool = True) -> FloatArray:
    """Seconds from each of ``sources`` to ``target`` (or from ``target`` to them if not ``to_target``);
    inf when unreachable or slower than ``limit_s``. One search, any number of sources."""
    nodes, target = _nodes(graph, sources, "sources"), int(_nodes(graph, target, "target")[0])
    dist = dijkstra(_matrix(graph, mode, closures, to_target), directed=True, indices=target,
                    limit=math.inf if limit_s is None else float(limit_s))
    out: FloatArray = dist[nodes]
    return out


@dataclass(frozen=True)
class Route:
    """A route: node indexes from source to target, its time (s) and length (m)."""

    nodes: tuple[int, ...]
    time_s: float
    length_m: float


def route(graph: RoadGraph, mode: Mode, source: int, target: int, *, closures: Closures = NO_CLOSURES) -> Route:
    """The fastest route from ``source`` to ``target``; :class:`RoutingError` if there is none."""
    found = nearest_units(graph, mode, target, [source], 1, closures=closures)
    if not found.units:
        raise RoutingError(f"no {mode.value} route from node {source} to node {target}")
    nodes = found.path(0)
    return Route(nodes, found.units[0].time_s, path_length(graph, mode, nodes, closures=closures))


def path_length(graph: RoadGraph, mode: Mode, nodes: Sequence[int], *, closures: Closures = NO_CLOSURES) -> float:
    """Metres along ``nodes`` (a path from :meth:`Nearest.path`), on the fastest usable edge of each step."""
    usable, times, length = _usable(graph, mode, closures), edge_times(graph, mode), 0.0
    for u, v in zip(nodes, nodes[1:], strict=False):
        e = np.arange(graph.indptr[u], graph.indptr[u + 1])
        e = e[usable[e] & (graph.heads[e] == v)]
        if len(e) == 0:
            raise RoutingError(f"no usable {mode.value} edge from node {u} to node {v}")
        length += float(graph.length_m[e[np.argmin(times[e])]])
    return length


# --------------------------------------------------------------------------- corridors

@dataclass(frozen=True)
class ZoneAccess:
    """Fastest times between a zone and the nearest access node, open roads vs under the closures (s).

    status: ``ok``; ``slower`` (in or out takes more than ``factor`` x the open time);
    ``unreachable`` (no way in or out under the closures, or none even with open roads).
    """

    zone: int
    in_open_s: float
    in_closed_s: float
    out_open_s: float
    out_closed_s: float
    status: str


def corridor_check(graph: RoadGraph, zones: Sequence[int] | IntArray, access: Sequence[int] | IntArray, *,
                   closures: Closures, factor: float = 1.5, mode: Mode = Mode.CAR) -> tuple[ZoneAccess, ...]:
    """For each zone node: can ``mode`` still get in from some ``access`` node (hospital, fire station,
    map edge, see :func:`boundary_nodes`) and back out under ``closures``, and how much slower?"""
    zone_a, access_a = _nodes(graph, zones, "zones"), _nodes(graph, access, "access")
    if len(access_a) == 0:
        raise RoutingError("corridor check needs at least one access node")
    # in: forward search from the access nodes; out: reversed search. Open roads, then closures.
    t = np.array([dijkstra(_matrix(graph, mode, cl, reverse), directed=True, indices=access_a, min_only=True)[zone_a]
                  for reverse in (False, True) for cl in (NO_CLOSURES, closures)])
    slower = (t[1] > factor * t[0] + 1e-9) | (t[3] > factor * t[2] + 1e-9)
    status = np.where(~np.isfinite(t).all(axis=0), "unreachable", np.where(slower, "slower", "ok"))
    return tuple(ZoneAccess(int(z), float(t[0, i]), float(t[1, i]), float(t[2, i]), float(t[3, i]), str(status[i]))
                 for i, z in enumerate(zone_a))


def boundary_nodes(graph: RoadGraph, mode: Mode, *, margin_m: float = 100.0) -> IntArray:
    """Main-network nodes of ``mode`` within ``margin_m`` of the edge of the graph's extent (map edge)."""
    nodes = np.flatnonzero(main_component(graph, mode))
    xy = local_metres(graph, graph.xy[nodes])
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    out: IntArray = nodes[((xy - lo) <= margin_m).any(axis=1) | ((hi - xy) <= margin_m).any(axis=1)]
    return out
