"""Travel-time routing (pure): modes, one-way streets, closures, k nearest units, paths, joins, corridors."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import shapely

from anbao.algorithms.routing import (
    NO_CLOSURES,
    Closures,
    Mode,
    RoadGraph,
    RoutingError,
    Way,
    boundary_nodes,
    build_graph,
    corridor_check,
    edge_times,
    edges_in_area,
    edges_of_ways,
    join_graphs,
    main_component,
    mode_edges,
    nearest_units,
    path_length,
    route,
    snap,
    travel_times,
)

CAR_MS = 36 * 0.8 / 3.6  # a 36 km/h street driven at the car profile's 0.8 of the limit: 8 m/s


def _graph(nodes: dict[int, tuple[float, float]], ways: list[Way]) -> RoadGraph:
    return build_graph(nodes, ways, geographic=False)


def _index(g: RoadGraph, node_id: int) -> int:
    return int(np.flatnonzero(g.node_ids == node_id)[0])


def _street(way_id: int, *nodes: int, kind: str = "residential", oneway: int = 0, foot: bool = True,
            car: bool = True, kmh: float | None = 36.0) -> Way:
    return Way(way_id, nodes, kind, oneway, kmh, foot, car)


def _reference(g: RoadGraph, mode: Mode, closures: Closures = NO_CLOSURES) -> nx.DiGraph:
    """networkx on the same weights, reversed (so a search from the target gives times TO it)."""
    ref = nx.DiGraph()
    ref.add_nodes_from(range(g.n_nodes))
    for u, v, s in zip(*(a.tolist() for a in mode_edges(g, mode, closures)), strict=True):
        if s < ref.get_edge_data(v, u, {"weight": math.inf})["weight"]:
            ref.add_edge(v, u, weight=s)
    return ref


def _path_time(g: RoadGraph, mode: Mode, path: tuple[int, ...], closures: Closures = NO_CLOSURES) -> float:
    """Time along ``path`` on its fastest usable edges; fails if two nodes are not joined."""
    t = edge_times(g, mode).copy()
    t[list(closures.closed(mode))] = np.inf
    total = 0.0
    for u, v in zip(path, path[1:], strict=False):
        e = np.arange(g.indptr[u], g.indptr[u + 1])
        e = e[g.heads[e] == v]
        assert len(e) and np.isfinite(t[e]).any(), f"no usable edge {u} -> {v}"
        total += float(t[e].min())
    return total


# a ladder: two parallel streets 0-1-2 (south) and 3-4-5 (north), 100 m apart, rungs 0-3, 1-4, 2-5
LADDER = {0: (0.0, 0.0), 1: (100.0, 0.0), 2: (200.0, 0.0), 3: (0.0, 100.0), 4: (100.0, 100.0), 5: (200.0, 100.0)}


def _ladder(south_oneway: int = 0) -> RoadGraph:
    return _graph(LADDER, [_street(1, 0, 1, 2, oneway=south_oneway), _street(2, 3, 4, 5),
                           _street(3, 0, 3), _street(4, 1, 4), _street(5, 2, 5)])


def test_edge_times_follow_the_mode_profile() -> None:
    nodes = {1: (0.0, 0.0), 2: (100.0, 0.0), 3: (200.0, 0.0), 4: (300.0, 0.0), 5: (400.0, 0.0)}
    g = _graph(nodes, [_street(1, 1, 2), _street(2, 2, 3, kind="footway", car=False, kmh=None),
                       _street(3, 3, 4, kind="motorway", foot=False, kmh=None), _street(4, 4, 5, kind="steps",
                                                                                         car=False, kmh=None)])
    a, b, c, d, e = (_index(g, i) for i in nodes)
    assert travel_times(g, Mode.CAR, b, [a])[0] == pytest.approx(100 / CAR_MS)
    assert travel_times(g, Mode.MOTORBIKE, b, [a])[0] == pytest.approx(100 / (36 * 0.9 / 3.6))
    assert travel_times(g, Mode.FOOT, b, [a])[0] == pytest.approx(100 / 1.3)
    assert travel_times(g, Mode.FOOT, e, [d])[0] == pytest.approx(100 / 0.6)  # steps are slower
    assert math.isinf(travel_times(g, Mode.CAR, c, [b])[0])  # footway: never by car
    assert math.isinf(travel_times(g, Mode.FOOT, d, [c])[0])  # motorway: never on foot
    # an untagged motorway is driven at its class default (100 km/h) x 0.8
    assert travel_times(g, Mode.CAR, d, [c])[0] == pytest.approx(100 / (100 * 0.8 / 3.6))


def test_oneway_binds_vehicles_but_not_pedestrians() -> None:
    g = _ladder(south_oneway=1)  # south street: 0 -> 1 -> 2 only, for vehicles
    n0, n2 = _index(g, 0), _index(g, 2)
    assert travel_times(g, Mode.CAR, n2, [n0])[0] == pytest.approx(200 / CAR_MS)
    # against the one-way: round by the north street (100 + 200 + 100 m)
    assert travel_times(g, Mode.CAR, n0, [n2])[0] == pytest.approx(400 / CAR_MS)
    assert travel_times(g, Mode.FOOT, n0, [n2])[0] == pytest.approx(200 / 1.3)
    reverse = _graph(LADDER, [_street(1, 0, 1, 2, oneway=-1), _street(2, 3, 4, 5), _street(3, 0, 3),
                              _street(4, 1, 4), _street(5, 2, 5)])
    assert travel_times(reverse, Mode.CAR, n0, [n2])[0] == pytest.approx(200 / CAR_MS)


def test_closures_bind_vehicles_and_optionally_pedestrians() -> None:
    g = _ladder()
    n0, n2 = _index(g, 0), _index(g, 2)
    south = edges_of_ways(g, [1])
    assert len(south) == 4  # two segments, both directions
    closed = Closures(vehicles=south)
    assert travel_times(g, Mode.CAR, n2, [n0], closures=closed)[0] == pytest.approx(400 / CAR_MS)
    assert travel_times(g, Mode.FOOT, n2, [n0], closures=closed)[0] == pytest.approx(200 / 1.3)
    everyone = Closures(everyone=south)
    assert travel_times(g, Mode.FOOT, n2, [n0], closures=everyone)[0] == pytest.approx(400 / 1.3)
    # the open-road answer is not disturbed by the cached closure matrices
    assert travel_times(g, Mode.CAR, n2, [n0])[0] == pytest.approx(200 / CAR_MS)


def test_nearest_units_order_ties_limit_and_missing_units() -> None:
    g = _ladder()
    n = {i: _index(g, i) for i in LADDER}
    # units: 0 at node 5 (200 m + 100 m from node 0), 1 at node 1 (100 m), 2 at node 3 (100 m), 3 at node 1
    units = [n[5], n[1], n[3], n[1]]
    got = nearest_units(g, Mode.CAR, n[0], units, 3)
    assert [u.unit for u in got.units] == [1, 2, 3]  # equal times: the order given
    assert [u.time_s for u in got.units] == pytest.approx([100 / CAR_MS] * 3)
    assert [u.node for u in got.units] == [n[1], n[3], n[1]]
    everyone = nearest_units(g, Mode.CAR, n[0], units, 10)
    assert [u.unit for u in everyone.units] == [1, 2, 3, 0]
    assert everyone.units[-1].time_s == pytest.approx(300 / CAR_MS)
    assert [u.unit for u in nearest_units(g, Mode.CAR, n[0], units, 10, limit_s=200 / CAR_MS).units] == [1, 2, 3]
    assert nearest_units(g, Mode.CAR, n[0], units, 2, limit_s=5.0).units == ()
    # a unit on a separate island never comes back
    island = _graph({**LADDER, 8: (5000.0, 0.0), 9: (5100.0, 0.0)},
                    [_street(1, 0, 1, 2), _street(2, 3, 4, 5), _street(3, 0, 3), _street(9, 8, 9)])
    found = nearest_units(island, Mode.CAR, _index(island, 0), [_index(island, 9), _index(island, 1)], 2)
    assert [u.unit for u in found.units] == [1]
    assert math.isfinite(found.searched_s)  # stopped once nothing more was reachable, no whole-graph search
    with pytest.raises(RoutingError):
        nearest_units(g, Mode.CAR, n[0], units, 0)
    with pytest.raises(RoutingError):
        nearest_units(g, Mode.CAR, n[0], [g.n_nodes], 1)


def test_paths_are_valid_and_match_the_times() -> None:
    g = _ladder(south_oneway=1)
    n0, n2, n4 = _index(g, 0), _index(g, 2), _index(g, 4)
    got = nearest_units(g, Mode.CAR, n0, [n2, n4], 2)
    for u in got.units:
        path = got.path(u.unit)
        assert path[0] == u.node and path[-1] == n0
        assert _path_time(g, Mode.CAR, path) == pytest.approx(u.time_s)
    assert got.path(0) == (n2, _index(g, 5), n4, _index(g, 3), n0)  # against the one-way: round the block
    with pytest.raises(RoutingError):
        nearest_units(g, Mode.CAR, n0, [n2, n4], 1).path(0)  # not among the nearest
    r = route(g, Mode.CAR, n2, n0, closures=Closures(vehicles=edges_of_ways(g, [4])))
    assert r.nodes == (n2, _index(g, 5), n4, _index(g, 3), n0)
    assert r.length_m == pytest.approx(400)
    assert r.time_s == pytest.approx(400 / CAR_MS)
    cut = Closures(vehicles=edges_of_ways(g, [2]))
    with pytest.raises(RoutingError):
        route(g, Mode.CAR, n2, n0, closures=cut)
    # the length along a path: on foot the one-way south street may be walked backwards, by car not
    assert path_length(g, Mode.FOOT, (n2, _index(g, 1), n0)) == pytest.approx(200)
    with pytest.raises(RoutingError, match="no usable car edge"):
        path_length(g, Mode.CAR, (n2, _index(g, 1), n0))
    with pytest.raises(RoutingError):
        path_length(g, Mode.FOOT, (n0, n2))  # not neighbours


def test_main_component_and_snapping() -> None:
    nodes = {**LADDER, 6: (300.0, 0.0), 8: (900.0, 900.0), 9: (950.0, 900.0)}
    # node 6 is a one-way dead end (reachable, no way back); 8-9 is an island
    g = _graph(nodes, [_street(1, 0, 1, 2), _street(2, 3, 4, 5), _street(3, 0, 3), _street(5, 2, 5),
                       _street(6, 2, 6, oneway=1), _street(9, 8, 9)])
    core = main_component(g, Mode.CAR)
    assert {int(g.node_ids[i]) for i in np.flatnonzero(core)} == {0, 1, 2, 3, 4, 5}
    got = snap(g, Mode.CAR, [(290.0, 5.0), (940.0, 905.0), (101.0, 98.0)])
    assert [int(g.node_ids[i]) for i in got] == [2, 5, 4]  # never the dead end or the island
    assert snap(g, Mode.CAR, [(100.0, 40.0)], max_distance_m=30.0).tolist() == [-1]
    assert main_component(g, Mode.FOOT).sum() == 7  # pedestrians may walk back from node 6


def test_geographic_lengths_and_closure_by_area() -> None:
    # 0.001 degree of latitude: 111.19 m; 0.002 degree of longitude at 60.171 N: 110.62 m
    g = build_graph({1: (24.94, 60.17), 2: (24.94, 60.171), 3: (24.942, 60.171)},
                    [Way(1, (1, 2), "residential", 0, 50.0), Way(2, (2, 3), "residential", 0, 50.0)])
    assert g.length_m[g.way_ids == 1] == pytest.approx([111.19, 111.19], abs=0.01)
    assert g.length_m[g.way_ids == 2] == pytest.approx([110.62, 110.62], abs=0.01)
    area = shapely.box(24.9405, 60.1705, 24.9425, 60.1715)  # around the second street only
    closed = edges_in_area(g, area)
    assert {int(g.way_ids[e]) for e in closed} == {2} and len(closed) == 2
    assert snap(g, Mode.CAR, [(24.9401, 60.1709)]).tolist() == [_index(g, 2)]


def test_join_ties_loose_ends_within_the_tolerance() -> None:
    roads = _graph({1: (0.0, 0.0), 2: (100.0, 0.0), 3: (200.0, 0.0)}, [_street(1, 1, 2, 3)])
    walk = build_graph({-1: (203.0, 4.0), -2: (203.0, 104.0), -3: (500.0, 0.0), -4: (600.0, 0.0)},
                       [Way(-1, (-1, -2), "footway", car=False), Way(-2, (-3, -4), "footway", car=False)],
                       geographic=False)
    g = join_graphs(roads, walk, tolerance_m=10.0)
    assert g.n_nodes == 7
    connectors = np.flatnonzero(g.kind == g.kinds.index("connector"))
    assert len(connectors) == 2  # 3 <-> -1 both ways; -3 is 300 m away and stays loose
    assert g.length_m[connectors] == pytest.approx([5.0, 5.0])
    assert not g.car[connectors].any() and g.foot[connectors].all()
    end, start = _index(g, -2), _index(g, 1)
    assert travel_times(g, Mode.FOOT, end, [start])[0] == pytest.approx(305 / 1.3)
    assert math.isinf(travel_times(g, Mode.CAR, end, [start])[0])
    assert math.isinf(travel_times(g, Mode.FOOT, _index(g, -4), [start])[0])
    with pytest.raises(RoutingError):
        join_graphs(roads, build_graph({1: (24.9, 60.1), 2: (24.91, 60.1)}, [Way(1, (1, 2), "footway")]))


def test_corridor_check_finds_cut_off_and_slowed_zones() -> None:
    # a main road 0-1-2-3 from the map edge; zone A at 4 hangs off 1 by one lane; zone B at 3
    nodes = {0: (0.0, 0.0), 1: (100.0, 0.0), 2: (200.0, 0.0), 3: (300.0, 0.0), 4: (100.0, 50.0),
             5: (0.0, 200.0), 6: (300.0, 200.0)}
    g = _graph(nodes, [_street(1, 0, 1, 2, 3), _street(2, 1, 4), _street(3, 0, 5, 6, 3)])
    access = [_index(g, 0)]
    zones = [_index(g, 4), _index(g, 3), _index(g, 2)]
    closures = Closures(vehicles=edges_of_ways(g, [2]) | frozenset(
        e for e in edges_of_ways(g, [1]) if {int(g.node_ids[g.tails[e]]), int(g.node_ids[g.heads[e]])} == {2, 3}))
    a, b, c = corridor_check(g, zones, access, closures=closures, factor=1.5)
    assert a.status == "unreachable" and math.isinf(a.in_closed_s) and a.in_open_s == pytest.approx(150 / CAR_MS)
    assert b.status == "slower"  # 300 m became 200 + 300 + 200 m round the loop
    assert b.in_closed_s == pytest.approx(700 / CAR_MS) and b.out_closed_s == pytest.approx(700 / CAR_MS)
    assert c.status == "ok" and c.in_closed_s == pytest.approx(c.in_open_s)
    on_foot = corridor_check(g, zones, access, closures=closures, mode=Mode.FOOT)
    assert [z.status for z in on_foot] == ["ok", "ok", "ok"]  # vehicle closures let pedestrians pass
    edge = boundary_nodes(g, Mode.CAR, margin_m=1.0)
    assert {int(g.node_ids[i]) for i in edge} == {0, 1, 2, 3, 5, 6}  # all but node 4, inside


def _random_city(seed: int, n: int = 400) -> RoadGraph:
    """Random streets: nodes on a jittered grid, streets to grid neighbours, mixed classes and one-ways."""
    rng = np.random.default_rng(seed)
    side = int(math.sqrt(n))
    nodes = {i: (float(i % side * 80 + rng.uniform(-20, 20)), float(i // side * 80 + rng.uniform(-20, 20)))
             for i in range(side * side)}
    kinds = ["primary", "residential", "footway", "service", "steps", "motorway"]
    ways = []
    for i in range(side * side):
        for j in (i + 1, i + side):
            if (j == i + 1 and j % side == 0) or j >= side * side or rng.random() < 0.15:
                continue
            kind = kinds[int(rng.choice(6, p=[0.2, 0.4, 0.2, 0.1, 0.05, 0.05]))]
            car = kind not in ("footway", "steps")
            oneway = int(rng.choice([0, 1, -1], p=[0.7, 0.15, 0.15])) if car else 0
            kmh = float(rng.choice([30, 40, 50])) if rng.random() < 0.5 else None
            ways.append(Way(len(ways), (i, j), kind, oneway, kmh, kind != "motorway", car))
    ways.append(Way(len(ways), (0, 1), "primary", 0, 70.0))  # a parallel edge, faster
    return _graph(nodes, ways)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("mode", [Mode.FOOT, Mode.CAR])
def test_exact_against_networkx_on_random_cities(seed: int, mode: Mode) -> None:
    g = _random_city(seed)
    rng = np.random.default_rng(seed)
    closures = Closures(vehicles=frozenset(rng.choice(g.n_edges, 40).tolist()),
                        everyone=frozenset(rng.choice(g.n_edges, 10).tolist()))
    for cl in (NO_CLOSURES, closures):
        ref = _reference(g, mode, cl)
        core = np.flatnonzero(main_component(g, mode))
        units = rng.choice(g.n_nodes, 60, replace=False)
        for target in rng.choice(core, 8):
            lengths = nx.single_source_dijkstra_path_length(ref, int(target))
            want = np.array([lengths.get(int(u), math.inf) for u in units])
            got = travel_times(g, mode, int(target), units, closures=cl)
            assert np.array_equal(np.isinf(got), np.isinf(want))
            assert np.allclose(got[np.isfinite(got)], want[np.isfinite(want)], rtol=1e-12, atol=0)
            found = nearest_units(g, mode, int(target), units, 7, closures=cl)
            order = [int(i) for i in np.lexsort((np.arange(len(units)), want)) if np.isfinite(want[i])][:7]
            assert [u.unit for u in found.units] == order
            assert [u.time_s for u in found.units] == pytest.approx([want[i] for i in order], rel=1e-12)
            for u in found.units:
                assert _path_time(g, mode, found.path(u.unit), cl) == pytest.approx(u.time_s, rel=1e-9)


def test_far_units_are_found_by_widening_the_search() -> None:
    g = _random_city(4, n=900)
    core = np.flatnonzero(main_component(g, Mode.FOOT))
    xy = g.xy[core]
    target = int(core[np.argmin(xy.sum(axis=1))])  # south-west corner
    units = core[np.argsort(-xy.sum(axis=1))[:20]]  # all in the north-east corner
    ref = nx.single_source_dijkstra_path_length(_reference(g, Mode.FOOT), target)
    found = nearest_units(g, Mode.FOOT, target, units, 3)
    want = sorted((ref[int(u)], i) for i, u in enumerate(units))[:3]
    assert [(u.time_s, u.unit) for u in found.units] == [pytest.approx(w) for w in want]
    assert want[-1][0] <= found.searched_s < math.inf
