"""The road graph of :mod:`anbao.algorithms.routing`: its CSR arrays, building it from ways, joining two graphs.

Pure and typed (no I/O). Units: metres; lon/lat in WGS84 degrees (or local metres when the graph is
not ``geographic``). Nodes and edges are indexes into the arrays of a :class:`RoadGraph`; source ids
(OSM node and way ids) are kept in ``node_ids``/``way_ids``. A two-way street gives two directed
edges; a one-way street gives its forward edge for everyone and its backward edge for pedestrians
only (``car`` False).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

EARTH_RADIUS_M = 6_371_008.8
EDGE_FIELDS = ("length_m", "kind", "maxspeed_kmh", "foot", "car", "way_ids")


class RoutingError(ValueError):
    """A bad input to a routing function (unknown node, no nodes to snap to, k < 1...)."""


@dataclass(frozen=True)
class Way:
    """A road or path as imported: OSM node ids in order, the road class (OSM ``highway`` value),
    ``oneway`` 1 (vehicles along the node order only), -1 (against it only) or 0, the posted limit in
    km/h (None = untagged) and whether pedestrians and motor vehicles may use it."""

    way_id: int
    nodes: tuple[int, ...]
    kind: str
    oneway: int = 0
    maxspeed_kmh: float | None = None
    foot: bool = True
    car: bool = True


@dataclass(frozen=True, eq=False)
class RoadGraph:
    """A directed road graph in CSR form. Arrays are read-only; equality is identity (it keys caches).

    node_ids (n,): source ids (OSM ids; negative for generated nodes). xy (n, 2): lon, lat in degrees
    (``geographic``) or x, y in metres. indptr (n + 1,), heads (m,): edges of node u are
    ``indptr[u]:indptr[u+1]``. length_m (m,). kind (m,): index into ``kinds``. maxspeed_kmh (m,):
    NaN when untagged. foot, car (m,): who may pass. way_ids (m,): the source way of each edge.
    """

    node_ids: IntArray
    xy: FloatArray
    indptr: IntArray
    heads: IntArray
    length_m: FloatArray
    kind: IntArray
    kinds: tuple[str, ...]
    maxspeed_kmh: FloatArray
    foot: BoolArray
    car: BoolArray
    way_ids: IntArray
    geographic: bool = True
    _cache: dict[Any, Any] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        n, m = len(self.node_ids), len(self.heads)
        if self.xy.shape != (n, 2) or self.indptr.shape != (n + 1,) or int(self.indptr[-1]) != m \
                or any(len(getattr(self, name)) != m for name in EDGE_FIELDS):
            raise RoutingError("inconsistent graph arrays: xy, indptr, heads and edge fields do not match")
        for name in ("node_ids", "xy", "indptr", "heads", *EDGE_FIELDS):
            getattr(self, name).flags.writeable = False

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_edges(self) -> int:
        return len(self.heads)

    @property
    def tails(self) -> IntArray:
        """The tail node of each edge (m,)."""
        return self._cached(("tails",), lambda: np.repeat(np.arange(self.n_nodes), np.diff(self.indptr)))

    def _cached(self, key: Any, make: Any) -> Any:
        """A value derived from the graph, made once (a race makes it twice; both are equal)."""
        if key not in self._cache:
            self._cache.setdefault(key, make())
        return self._cache[key]




def build_graph(nodes: Mapping[int, tuple[float, float]], ways: Iterable[Way], *, geographic: bool = True) -> RoadGraph:
    """A graph from node coordinates (id -> (lon, lat), or (x, y) metres) and ways whose nodes are all
    in ``nodes`` (the importer checks). Only nodes used by some way become graph nodes."""
    index: dict[int, int] = {}
    rows: list[tuple[int, int, int, float, bool, bool, int]] = []  # tail, head, kind, maxspeed, foot, car, way
    kinds: dict[str, int] = {}
    for way in ways:
        code = kinds.setdefault(way.kind, len(kinds))
        speed = math.nan if way.maxspeed_kmh is None else float(way.maxspeed_kmh)
        ids = [index.setdefault(nid, len(index)) for nid in way.nodes]
        for a, b in zip(ids, ids[1:], strict=False):
            for u, v, along in ((a, b, 1), (b, a, -1)) if a != b else ():
                car = way.car and way.oneway in (0, along)
                if car or way.foot:
                    rows.append((u, v, code, speed, way.foot, car, way.way_id))
    if not rows:
        raise RoutingError("no usable edges")
    xy = np.array([nodes[nid] for nid in index], dtype=np.float64).reshape(-1, 2)
    t, h, *columns = (np.array(c) for c in zip(*rows, strict=True))
    edges = {"length_m": _lengths(xy, t, h, geographic), **dict(zip(EDGE_FIELDS[1:], columns, strict=True))}
    return _assemble(np.array(list(index), dtype=np.int64), xy, t, h, edges, tuple(kinds), geographic)


def _assemble(node_ids: IntArray, xy: FloatArray, tails: IntArray, heads: IntArray, edges: Mapping[str, Any],
              kinds: tuple[str, ...], geographic: bool) -> RoadGraph:
    order = np.argsort(tails, kind="stable")
    indptr = np.zeros(len(node_ids) + 1, dtype=np.int64)
    np.cumsum(np.bincount(tails, minlength=len(node_ids)), out=indptr[1:])
    types = {"length_m": np.float64, "kind": np.int64, "maxspeed_kmh": np.float64, "foot": bool, "car": bool,
             "way_ids": np.int64}
    fields = {name: np.asarray(edges[name]).astype(types[name])[order] for name in EDGE_FIELDS}
    return RoadGraph(node_ids, xy, indptr, np.asarray(heads, dtype=np.int64)[order], kinds=kinds,
                     geographic=geographic, **fields)


def _lengths(xy: FloatArray, tails: IntArray, heads: IntArray, geographic: bool) -> FloatArray:
    if not geographic:
        out: FloatArray = np.hypot(*(xy[heads] - xy[tails]).T)
        return out
    lon1, lat1 = np.radians(xy[tails]).T
    lon2, lat2 = np.radians(xy[heads]).T
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    hav: FloatArray = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return hav


def local_metres(graph: RoadGraph, xy: FloatArray) -> FloatArray:
    """Local metres: an equirectangular projection about the graph's centre (good to ~0.1% in a city)."""
    if not graph.geographic:
        return np.asarray(xy, dtype=np.float64)
    lon0, lat0 = graph._cached(("centre",), lambda: graph.xy.mean(axis=0))
    k = math.radians(1.0) * EARTH_RADIUS_M
    return np.column_stack(((xy[:, 0] - lon0) * k * math.cos(math.radians(lat0)), (xy[:, 1] - lat0) * k))


def join_graphs(base: RoadGraph, other: RoadGraph, *, tolerance_m: float = 10.0) -> RoadGraph:
    """``base`` and ``other`` (e.g. a venue's walkways) as one graph, tied by two-way ``connector`` edges.

    Each loose end (a node with one neighbour) of either graph is tied to the nearest node of the
    other graph within ``tolerance_m`` metres. A connector is open to pedestrians if both its nodes
    have a foot edge, to vehicles if both have a vehicle edge. Nodes of ``other`` come after those of
    ``base``; node ids are kept as they are (they may repeat).
    """
    if base.geographic != other.geographic:
        raise RoutingError("cannot join a geographic graph with one in local metres")
    n0, n = base.n_nodes, base.n_nodes + other.n_nodes
    xy = np.vstack([base.xy, other.xy])
    kinds = tuple(dict.fromkeys((*base.kinds, *other.kinds, "connector")))
    remap = np.array([kinds.index(k) for k in other.kinds] or [0], dtype=np.int64)
    tails = np.concatenate([base.tails, other.tails + n0])
    heads = np.concatenate([base.heads, other.heads + n0])
    edges = {name: np.concatenate([getattr(base, name), remap[other.kind] if name == "kind" else getattr(other, name)])
             for name in EDGE_FIELDS}
    metres = local_metres(base, xy)
    pairs: set[tuple[int, int]] = set()
    for ends, lo, hi in ((_loose_ends(other) + n0, 0, n0), (_loose_ends(base), n0, n)):
        if len(ends) and hi > lo:
            dist, near = cKDTree(metres[lo:hi]).query(metres[ends], distance_upper_bound=tolerance_m)
            pairs.update((min(e, j + lo), max(e, j + lo)) for e, d, j in zip(ends.tolist(), dist, near.tolist(),
                                                                           strict=True) if math.isfinite(d))
    if pairs:
        a = np.array(sorted(pairs), dtype=np.int64)
        u, v = np.concatenate([a[:, 0], a[:, 1]]), np.concatenate([a[:, 1], a[:, 0]])
        reach = {}
        for flag in ("foot", "car"):
            has = np.zeros(n, dtype=bool)
            has[tails[edges[flag]]] = has[heads[edges[flag]]] = True
            reach[flag] = has[u] & has[v]
        new = {"length_m": _lengths(xy, u, v, base.geographic), "kind": np.full(len(u), kinds.index("connector")),
               "maxspeed_kmh": np.full(len(u), math.nan), "way_ids": np.zeros(len(u), dtype=np.int64), **reach}
        edges = {name: np.concatenate([edges[name], new[name]]) for name in EDGE_FIELDS}
        tails, heads = np.concatenate([tails, u]), np.concatenate([heads, v])
    return _assemble(np.concatenate([base.node_ids, other.node_ids]), xy, tails, heads, edges, kinds,
                     base.geographic)


def _loose_ends(graph: RoadGraph) -> IntArray:
    pairs = np.unique(np.sort(np.column_stack([graph.tails, graph.heads]), axis=1), axis=0)
    degree = np.bincount(pairs.ravel(), minlength=graph.n_nodes)
    out: IntArray = np.flatnonzero(degree == 1)
    return out

