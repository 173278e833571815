"""An event's routing graph and its traffic control, cached in process memory.

The graph of an event joins all its road networks (:class:`anbao.dispatch.models.RoadNetwork`): OSM
files first, then GeoJSON files (walkways), each in upload order, tied at loose ends within 10 m
(:func:`anbao.dispatch.roadnet.join_loaded`). Two caches, both guarded by a lock:

- files: sha256 of a stored file -> (graph, report), the last :data:`FILE_CACHE` files read (an
  upload puts its graph there, so the first request after it does not read the file again);
- events: event id -> :class:`EventGraph`, valid while the event's networks (ids, update times,
  hashes) are the same: the *version*. Another replica sees the same rows and builds its own copy.

Closures active at a moment become edge sets once per closure set (ids and update times) and graph
version: a Polygon / MultiPolygon closes every edge that touches it
(:func:`anbao.algorithms.routing.edges_in_area`); a LineString closes the edges within
:data:`LINE_BUFFER_M` metres of it, crossings included (crossing a closed road is closed as well),
and sidewalks mapped on their own next to it when the closure applies to everyone.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from anbao.algorithms.routing import EARTH_RADIUS_M, Closures, RoadGraph, edges_in_area
from anbao.dispatch.roadnet import ImportReport, RoadNetError, join_loaded, load

FILE_CACHE = 16
EVENT_CACHE = 16
LINE_BUFFER_M = 10.0
CLOSURE_CACHE = 32

_lock = threading.Lock()
_build_locks: dict[int, threading.Lock] = {}
_files: OrderedDict[str, tuple[RoadGraph, ImportReport]] = OrderedDict()
_events: OrderedDict[int, EventGraph] = OrderedDict()


@dataclass(frozen=True, eq=False)
class EventGraph:
    """The joined graph of an event's networks, the version it was built from, and its closure sets."""

    event_id: int
    version: tuple[Any, ...]
    graph: RoadGraph
    report: ImportReport
    _closures: OrderedDict[tuple[Any, ...], Closures] = field(default_factory=OrderedDict, repr=False)

    def closures(self, rows: Sequence[Any]) -> Closures:
        """Edges closed by ``rows`` (closure rows with id, updated_at, geometry, applies_to), cached per set."""
        key = tuple(sorted((r.id, r.updated_at.isoformat()) for r in rows))
        with _lock:
            found = self._closures.get(key)
        if found is not None:
            return found
        vehicles: set[int] = set()
        everyone: set[int] = set()
        for r in rows:
            (everyone if r.applies_to == "everyone" else vehicles).update(closed_edges(self.graph, r.geometry))
        made = Closures(vehicles=frozenset(vehicles - everyone), everyone=frozenset(everyone))
        with _lock:
            self._closures[key] = made
            while len(self._closures) > CLOSURE_CACHE:
                self._closures.popitem(last=False)
        return made


def closed_edges(graph: RoadGraph, geometry: dict[str, Any]) -> frozenset[int]:
    """Edge indexes a closure geometry (GeoJSON, WGS-84) closes; see the module notes."""
    geom = shape(geometry)
    if geom.geom_type in ("LineString", "MultiLineString"):
        geom = buffer_m(geom, LINE_BUFFER_M)
    return edges_in_area(graph, geom)


def buffer_m(geom: BaseGeometry, metres: float) -> BaseGeometry:
    """``geom`` (lon/lat) buffered by ``metres``, through an equirectangular projection about its centre."""
    c = geom.centroid
    k = math.radians(1.0) * EARTH_RADIUS_M
    kx = k * math.cos(math.radians(c.y))

    def to_m(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(((xy[:, 0] - c.x) * kx, (xy[:, 1] - c.y) * k))

    def to_deg(xy: np.ndarray) -> np.ndarray:
        return np.column_stack((xy[:, 0] / kx + c.x, xy[:, 1] / k + c.y))

    return shapely.transform(shapely.transform(geom, to_m).buffer(metres), to_deg)


def file_graph(path: Path, sha256: str) -> tuple[RoadGraph, ImportReport]:
    """A stored file's graph, from the cache or read now (:class:`RoadNetError` if missing or unreadable)."""
    with _lock:
        hit = _files.get(sha256)
        if hit is not None:
            _files.move_to_end(sha256)
            return hit
    if not path.is_file():
        raise RoadNetError(f"road network file {path} is missing on this server; upload the network again")
    loaded = load(path)
    remember_file(sha256, loaded)
    return loaded


def remember_file(sha256: str, loaded: tuple[RoadGraph, ImportReport]) -> None:
    with _lock:
        _files[sha256] = loaded
        _files.move_to_end(sha256)
        while len(_files) > FILE_CACHE:
            _files.popitem(last=False)


def event_graph(event_id: int, networks: Sequence[Any], where: Callable[[Any], Path]) -> EventGraph | None:
    """The joined graph of ``networks`` (RoadNetwork rows of the event, any order; ``where(row)`` is the row's
    file); None when there are none."""
    rows = sorted(networks, key=lambda r: (r.kind != "osm", r.id))
    if not rows:
        return None
    version = tuple((r.id, r.updated_at.isoformat(), r.sha256) for r in rows)
    with _lock:
        cached = _events.get(event_id)
        lock = _build_locks.setdefault(event_id, threading.Lock())
    if cached is not None and cached.version == version:
        return cached
    with lock:  # one build per event at a time; others wait and take it
        with _lock:
            cached = _events.get(event_id)
        if cached is not None and cached.version == version:
            return cached
        graph, report = join_loaded([file_graph(where(r), r.sha256) for r in rows])
        built = EventGraph(event_id, version, graph, report)
        with _lock:
            _events[event_id] = built
            _events.move_to_end(event_id)
            while len(_events) > EVENT_CACHE:
                _events.popitem(last=False)
        return built


def clear() -> None:
    """Forget every cached graph (tests)."""
    with _lock:
        _files.clear()
        _events.clear()
