"""Dispatch recommendation latency (k fastest units to an incident) against networkx. Prints one JSON line.

    python bench/dispatch.py [--tiles 3] [--units 2000] [--k 5] [--requests 200] [--seed 7]

The graph: the real OpenStreetMap extract of central Helsinki (tests/data/roads, about 6,750 nodes)
copied ``--tiles`` x ``--tiles`` times side by side and tied at the borders (loose ends within 80 m
of the next copy joined by connector edges): 60,777 nodes and about 148,000 directed edges for 3 x 3.
Units sit on random nodes of the mode's main network; targets are random nodes of it.

Figures (milliseconds per request, after 20 warm-up requests):
- p50_ms / p95_ms: :func:`anbao.algorithms.routing.nearest_units`, on foot (the whole walk network,
  ~59,000 nodes), with the predecessors for the route; car_p50_ms / car_p95_ms: the same by car
  (the ~16,700-node drivable network); closed_p95_ms: by car with a 600 m square of the centre closed
  to vehicles (closed_edges); closure_build_ms: the one-off cost of the first request on a new closure set.
- full_p95_ms: a full scipy Dijkstra from the target (no limit), the same library without the
  early stop.
- baseline_p95_ms: networkx single-source Dijkstra from the target on the reversed graph (on foot,
  ``--baseline-requests`` requests); speedup = baseline_p95_ms / p95_ms.
- mismatches: travel times of ``--pairs`` random (unit, target) pairs per mode (foot and car; car
  also under the closures) and the k nearest of each baseline request, compared with networkx on the
  same weighted graph (relative tolerance 1e-9); must be 0.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import shapely

from anbao.algorithms import routing as R
from anbao.dispatch.roadnet import load_osm

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "roads" / "helsinki-centre.osm.pbf"


def _shifted(g: R.RoadGraph, dx: float, dy: float, id_offset: int) -> R.RoadGraph:
    return R.RoadGraph(g.node_ids + id_offset, g.xy + np.array([dx, dy]), g.indptr.copy(), g.heads.copy(),
                       g.length_m.copy(), g.kind.copy(), g.kinds, g.maxspeed_kmh.copy(), g.foot.copy(),
                       g.car.copy(), g.way_ids + id_offset, g.geographic)


def tiled_city(path: Path, tiles: int) -> R.RoadGraph:
    """``tiles`` x ``tiles`` copies of the extract, side by side, joined at their borders."""
    base, _ = load_osm(path)
    width, height = base.xy.max(axis=0) - base.xy.min(axis=0)
    graph: R.RoadGraph | None = None
    for i in range(tiles):
        for j in range(tiles):
            tile = _shifted(base, i * width, j * height, (i * tiles + j) * 10**11)
            graph = tile if graph is None else R.join_graphs(graph, tile, tolerance_m=80.0)
    assert graph is not None
    return graph


def _nx_reversed(graph: R.RoadGraph, mode: R.Mode, closures: R.Closures = R.NO_CLOSURES) -> nx.DiGraph:
    """The same weighted graph for networkx, reversed (edge v -> u for each u -> v), fastest parallel edge."""
    tails, heads, secs = R.mode_edges(graph, mode, closures)
    best: dict[tuple[int, int], float] = {}
    for u, v, s in zip(tails.tolist(), heads.tolist(), secs.tolist(), strict=True):
        if s < best.get((v, u), math.inf):
            best[(v, u)] = s
    g = nx.DiGraph()
    g.add_nodes_from(range(graph.n_nodes))
    g.add_weighted_edges_from((a, b, s) for (a, b), s in best.items())
    return g


def _same(a: float, b: float) -> bool:
    return (math.isinf(a) and math.isinf(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _timed(fn: Any, targets: np.ndarray, warmup: int) -> list[float]:
    out = []
    for i, t in enumerate(targets):
        t0 = time.perf_counter()
        fn(int(t))
        if i >= warmup:
            out.append((time.perf_counter() - t0) * 1000)
    return out


def _pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 3)


def _pair_mismatches(graph: R.RoadGraph, mode: R.Mode, rng: np.random.Generator, pairs: int,
                     closures: R.Closures = R.NO_CLOSURES) -> int:
    core = np.flatnonzero(R.main_component(graph, mode))
    reference = _nx_reversed(graph, mode, closures)
    bad = 0
    per_target = 50
    for _ in range(max(pairs // per_target, 1)):
        target = int(rng.choice(core))
        sources = rng.choice(core, per_target)
        ours = R.travel_times(graph, mode, target, sources, closures=closures)
        theirs = nx.single_source_dijkstra_path_length(reference, target)
        bad += sum(not _same(float(o), theirs.get(int(s), math.inf)) for o, s in zip(ours, sources, strict=True))
    return bad


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--tiles", type=int, default=3)
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--baseline-requests", type=int, default=30)
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    graph = tiled_city(args.data, args.tiles)
    build_s = time.perf_counter() - t0
    result: dict[str, Any] = {"bench": "dispatch", "nodes": graph.n_nodes, "edges": graph.n_edges,
                              "units": args.units, "k": args.k, "requests": args.requests}
    foot_core = np.flatnonzero(R.main_component(graph, R.Mode.FOOT))
    units = rng.choice(foot_core, args.units, replace=False)
    targets = rng.choice(foot_core, args.requests + args.warmup)
    foot = _timed(lambda t: R.nearest_units(graph, R.Mode.FOOT, t, units, args.k), targets, args.warmup)
    full = _timed(lambda t: R.travel_times(graph, R.Mode.FOOT, t, units), targets[:80], args.warmup)

    car_core = np.flatnonzero(R.main_component(graph, R.Mode.CAR))
    car_units = rng.choice(car_core, args.units, replace=False)
    car_targets = rng.choice(car_core, args.requests + args.warmup)
    car = _timed(lambda t: R.nearest_units(graph, R.Mode.CAR, t, car_units, args.k), car_targets, args.warmup)
    metres = R.local_metres(graph, graph.xy)
    centre = metres.mean(axis=0)
    square = (np.abs(metres - centre) <= 300).all(axis=1)
    lonlat = graph.xy[square]
    area = shapely.box(*lonlat.min(axis=0), *lonlat.max(axis=0))
    closures = R.Closures(vehicles=R.edges_in_area(graph, area))
    t1 = time.perf_counter()
    R.nearest_units(graph, R.Mode.CAR, int(car_targets[0]), car_units, args.k, closures=closures)
    closure_build_ms = (time.perf_counter() - t1) * 1000
    closed = _timed(lambda t: R.nearest_units(graph, R.Mode.CAR, t, car_units, args.k, closures=closures),
                    car_targets, args.warmup)

    reference = _nx_reversed(graph, R.Mode.FOOT)
    baseline, mismatches = [], 0
    for target in rng.choice(foot_core, args.baseline_requests):
        t2 = time.perf_counter()
        theirs = nx.single_source_dijkstra_path_length(reference, int(target))
        times = np.array([theirs.get(int(u), math.inf) for u in units])
        order = np.lexsort((np.arange(len(units)), times))[:args.k]
        baseline.append((time.perf_counter() - t2) * 1000)
        ours = R.nearest_units(graph, R.Mode.FOOT, int(target), units, args.k)
        mismatches += sum(o.unit != int(i) or not _same(o.time_s, float(times[i]))
                          for o, i in zip(ours.units, order, strict=True)) + abs(len(ours.units) - len(order))
    for mode, cl in ((R.Mode.FOOT, R.NO_CLOSURES), (R.Mode.CAR, R.NO_CLOSURES), (R.Mode.CAR, closures)):
        mismatches += _pair_mismatches(graph, mode, rng, args.pairs, cl)

    p95 = _pct(foot, 95)
    result.update({
        "p50_ms": _pct(foot, 50), "p95_ms": p95, "baseline_p95_ms": _pct(baseline, 95),
        "speedup": round(_pct(baseline, 95) / p95, 1), "mismatches": mismatches,
        "car_p50_ms": _pct(car, 50), "car_p95_ms": _pct(car, 95), "closed_p95_ms": _pct(closed, 95),
        "closed_edges": len(closures.vehicles), "closure_build_ms": round(closure_build_ms, 2),
        "full_p95_ms": _pct(full, 95), "foot_nodes": len(foot_core), "car_nodes": len(car_core),
        "pairs_checked": 3 * (args.pairs // 50) * 50, "engine": "scipy.sparse.csgraph.dijkstra, doubling limit",
        "graph_build_s": round(build_s, 2),
    })
    print(json.dumps(result))


if __name__ == "__main__":
    main()
