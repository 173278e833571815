"""Road network import: the real Helsinki extract, broken OSM ways, unreadable files, GeoJSON walkways."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from anbao.algorithms.routing import Mode, RoadGraph, main_component, mode_edges, nearest_units, snap, travel_times
from anbao.dispatch.roadnet import (
    RoadNetError,
    load,
    load_geojson,
    load_network,
    load_osm,
    parse_maxspeed,
    way_from_tags,
)

HELSINKI = Path(__file__).resolve().parents[1] / "data" / "roads" / "helsinki-centre.osm.pbf"
needs_helsinki = pytest.mark.skipif(not HELSINKI.is_file(), reason=f"the Helsinki OSM extract is not at {HELSINKI}")


@pytest.fixture(scope="module")
def helsinki():
    return load_osm(HELSINKI)


def _reversed(g: RoadGraph, mode: Mode) -> nx.DiGraph:
    ref = nx.DiGraph()
    for u, v, s in zip(*(a.tolist() for a in mode_edges(g, mode)), strict=True):
        if s < ref.get_edge_data(v, u, {"weight": math.inf})["weight"]:
            ref.add_edge(v, u, weight=s)
    return ref


@needs_helsinki
def test_helsinki_import_is_plausible(helsinki) -> None:
    g, report = helsinki
    assert report.sources == (str(HELSINKI),)
    # about 1.0 x 1.7 km of city centre: thousands of nodes, two-way streets give ~2 edges per segment
    assert 5_000 < g.n_nodes < 10_000 and 2 * g.n_nodes < g.n_edges < 3 * g.n_nodes
    assert (report.nodes, report.edges) == (g.n_nodes, g.n_edges)
    assert report.ways_read == 2650 and report.ways_used + sum(report.skipped.values()) == report.ways_read
    assert set(report.skipped) <= {"missing_nodes", "no_access", "not_routable", "unknown_highway"}
    assert report.skipped["not_routable"] == 5  # 3 under construction, 2 elevators
    assert report.notes["cut_at_missing_nodes"] > 50  # ways leaving the extract keep their inside part
    assert 1_000 < report.main_nodes["car"] < report.main_nodes["foot"] <= g.n_nodes
    assert report.main_nodes["foot"] > 0.9 * g.n_nodes
    lon, lat = g.xy.mean(axis=0)
    assert 24.9 < lon < 25.0 and 60.1 < lat < 60.2
    assert set(np.unique(g.maxspeed_kmh[~np.isnan(g.maxspeed_kmh)])) <= {5, 10, 20, 30, 40, 50}
    assert (g.foot & ~g.car).sum() > 0.5 * g.n_edges  # Helsinki maps sidewalks and paths on their own
    assert (g.car & ~g.foot).sum() > 50  # ... so some roads say foot=no / use_sidepath
    only_forward = g.car & ~np.isin(g.tails * g.n_nodes + g.heads, g.heads[g.car] * g.n_nodes + g.tails[g.car])
    assert only_forward.sum() > 100  # one-way streets: car edges with no car edge back


@needs_helsinki
def test_helsinki_travel_times_equal_networkx(helsinki) -> None:
    g, _ = helsinki
    rng = np.random.default_rng(5)
    checked = 0
    for mode in (Mode.CAR, Mode.FOOT):
        ref = _reversed(g, mode)
        core = np.flatnonzero(main_component(g, mode))
        for target in rng.choice(core, 5):
            sources = rng.choice(core, 20)
            want = nx.single_source_dijkstra_path_length(ref, int(target))
            got = travel_times(g, mode, int(target), sources)
            assert got == pytest.approx([want[int(s)] for s in sources], rel=1e-9, abs=1e-9)
            checked += len(sources)
            best = nearest_units(g, mode, int(target), sources, 3)
            assert [u.time_s for u in best.units] == pytest.approx(sorted(want[int(s)] for s in sources)[:3])
    assert checked == 200


def _osm_xml(tmp_path: Path) -> Path:
    nodes = "".join(f'<node id="{i}" lat="{60.17 + i * 0.0005}" lon="24.94" version="1"/>' for i in range(1, 6))
    nodes += '<node id="10" lat="60.17" lon="24.941" version="1"/><node id="11" lat="60.17" lon="24.942" version="1"/>'

    def way(i: int, refs: list[int], **tags: str) -> str:
        nd = "".join(f'<nd ref="{r}"/>' for r in refs)
        tg = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        return f'<way id="{i}" version="1">{nd}{tg}</way>'

    ways = [
        way(100, [1, 2, 3], highway="residential", maxspeed="30"),
        way(101, [3, 4], highway="primary", maxspeed="RU:urban"),  # unparsable limit: class default
        way(102, [4, 5], highway="secondary", maxspeed="50 mph", oneway="yes"),
        way(103, [1, 10, 99, 11], highway="footway"),  # node 99 missing: 1-10 kept, 11 alone dropped
        way(104, [97, 98], highway="residential"),  # all missing
        way(105, [2], highway="residential"),  # one node
        way(106, [1, 1], highway="service"),  # two refs, one node
        way(107, [2, 10], highway="construction"),
        way(108, [2, 10], highway="yes please"),
        way(109, [2, 10], highway="tertiary", oneway="sometimes"),
        way(110, [2, 10], highway="service", access="no"),
        way(111, [1, 2, 3], building="yes"),  # not a road: ignored, not counted
    ]
    path = tmp_path / "broken.osm"
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?><osm version="0.6">{nodes}{"".join(ways)}</osm>',
                    encoding="utf-8")
    return path


def test_broken_osm_ways_are_skipped_and_counted(tmp_path: Path) -> None:
    g, report = load_osm(_osm_xml(tmp_path))
    assert report.ways_read == 11 and report.ways_used == 4
    assert report.skipped == {"missing_nodes": 1, "too_few_nodes": 2, "not_routable": 1, "unknown_highway": 1,
                              "bad_oneway": 1, "no_access": 1}
    assert report.notes == {"cut_at_missing_nodes": 1, "maxspeed_unparsed": 1}
    assert sorted(g.node_ids.tolist()) == [1, 2, 3, 4, 5, 10]
    speeds = {int(w): s for w, s in zip(g.way_ids, g.maxspeed_kmh, strict=True)}
    assert speeds[100] == 30 and math.isnan(speeds[101]) and speeds[102] == pytest.approx(80.467, abs=1e-3)
    by_id = {int(i): k for k, i in enumerate(g.node_ids)}
    # the one-way secondary: cars 4 -> 5 only; pedestrians both ways
    assert math.isfinite(travel_times(g, Mode.CAR, by_id[5], [by_id[4]])[0])
    assert math.isinf(travel_times(g, Mode.CAR, by_id[4], [by_id[5]])[0])
    assert math.isfinite(travel_times(g, Mode.FOOT, by_id[4], [by_id[5]])[0])
    assert math.isfinite(travel_times(g, Mode.FOOT, by_id[10], [by_id[3]])[0])  # the kept footway piece
    assert report.isolated_nodes["car"] == 1  # node 5: a one-way dead end, outside the main car network


@pytest.mark.parametrize(("name", "content"), [
    ("garbage.osm", b"this is not xml"),
    ("page.osm", b'<?xml version="1.0"?><html><body>no</body></html>'),
    ("garbage.osm.pbf", b"\x00\x01\x02 not a protobuf" * 10),
    ("empty.osm", b'<?xml version="1.0"?><osm version="0.6"></osm>'),
    ("walkways.geojson", b"{not json"),
    ("point.geojson", b'{"type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 0]}}'),
    ("nothing.geojson", b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": null}]}'),
])
def test_unreadable_files_raise_a_clear_error(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(RoadNetError, match=name.replace(".", r"\.")):
        load(path)
    with pytest.raises(RoadNetError, match="no such file"):
        load_osm(tmp_path / "missing.osm.pbf")


@needs_helsinki
def test_truncated_pbf_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.osm.pbf"
    path.write_bytes(HELSINKI.read_bytes()[:300_000])
    with pytest.raises(RoadNetError, match="not a readable OpenStreetMap file"):
        load_osm(path)


def _walkways(g: RoadGraph, tmp_path: Path) -> tuple[Path, tuple[float, float]]:
    """A venue walkway starting 3 m from a road node, 300 m out into a park; plus broken features."""
    node = int(np.flatnonzero(main_component(g, Mode.FOOT))[0])
    lon, lat = g.xy[node]
    start = [lon, lat + 3 / 111_195]
    mid, end = [lon + 0.002, lat + 3 / 111_195], [lon + 0.004, lat + 0.001]
    features = [
        {"type": "Feature", "properties": {"highway": "footway", "name": "A"},
         "geometry": {"type": "LineString", "coordinates": [start, mid]}},
        {"type": "Feature", "properties": {},  # default footway, touching the first at ``mid``
         "geometry": {"type": "MultiLineString", "coordinates": [[mid, end]]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": start}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [start, ["x", 1]]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [start]}},
        {"type": "Feature", "properties": {"highway": "service", "maxspeed": "20", "motor_vehicle": "no"},
         "geometry": {"type": "LineString", "coordinates": [end, [lon + 0.005, lat + 0.001]]}},
    ]
    path = tmp_path / "venue.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path, (end[0], end[1])


@needs_helsinki
def test_geojson_walkways_join_the_roads(helsinki, tmp_path: Path) -> None:
    roads, road_report = helsinki
    path, venue = _walkways(roads, tmp_path)
    walk, walk_report = load_geojson(path)
    assert walk_report.ways_read == 6 and walk_report.ways_used == 3
    assert walk_report.skipped == {"not_a_line": 1, "bad_coordinates": 1, "too_few_nodes": 1}
    assert walk.n_nodes == 4 and not walk.car.any()  # shared vertex ``mid``; motor_vehicle=no on the service road
    g, report = load_network(HELSINKI, [path])
    assert report.sources == (str(HELSINKI), str(path)) and report.notes["connectors"] >= 1
    assert g.n_nodes == roads.n_nodes + walk.n_nodes
    assert report.ways_read == road_report.ways_read + 6
    assert Counter(report.skipped) == Counter(road_report.skipped) + Counter(walk_report.skipped)
    at_venue = int(snap(g, Mode.FOOT, [venue])[0])
    assert np.allclose(g.xy[at_venue], venue)  # the venue is in the main walking network now
    centre = int(snap(g, Mode.FOOT, [tuple(roads.xy.mean(axis=0))])[0])
    t = travel_times(g, Mode.FOOT, at_venue, [centre])[0]
    want = nx.single_source_dijkstra_path_length(_reversed(g, Mode.FOOT), at_venue)[centre]
    assert math.isfinite(t) and t == pytest.approx(want, rel=1e-12)
    assert not main_component(g, Mode.CAR)[at_venue]


def test_geojson_properties_booleans_and_local_roads(tmp_path: Path) -> None:
    line = [[24.94, 60.17], [24.941, 60.17]]
    features = [{"type": "Feature", "properties": {"highway": "service", "oneway": True, "maxspeed": 20},
                 "geometry": {"type": "LineString", "coordinates": line}},
                {"type": "Feature", "properties": ["not", "a", "mapping"],
                 "geometry": {"type": "LineString", "coordinates": [line[1], [24.942, 60.17]]}}]
    path = tmp_path / "yard.json"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    g, report = load(path)
    assert report.ways_used == 2 and g.n_nodes == 3
    a, b = (int(np.flatnonzero(np.isclose(g.xy[:, 0], lon))[0]) for lon in (24.94, 24.941))
    assert math.isfinite(travel_times(g, Mode.CAR, b, [a])[0]) and math.isinf(travel_times(g, Mode.CAR, a, [b])[0])
    assert g.maxspeed_kmh[g.way_ids == -1] == pytest.approx([20, 20])
    assert not g.car[g.way_ids == -2].any()  # no properties: a footway


def test_maxspeed_parsing() -> None:
    assert parse_maxspeed("50") == 50
    assert parse_maxspeed(" 50 km/h") == 50
    assert parse_maxspeed("30 mph") == pytest.approx(48.28, abs=0.01)
    assert parse_maxspeed("10 knots") == pytest.approx(18.52)
    assert parse_maxspeed("7,5") == 7.5
    assert parse_maxspeed("walk") == 6
    assert parse_maxspeed("FI:zone30") == 30 and parse_maxspeed("DE:zone:20") == 20
    assert parse_maxspeed("30;50") == 30
    for bad in ("RU:urban", "none", "signals", "", "-30", "0", "fast", "30;fast", "999"):
        assert parse_maxspeed(bad) is None, bad


def test_access_and_oneway_rules() -> None:
    notes: Counter[str] = Counter()

    def way(**tags: str):
        return way_from_tags(1, (1, 2), tags, notes)

    assert way(highway="residential", access="private").car  # police may use private roads
    assert not way(highway="residential", motor_vehicle="no").car
    assert way(highway="residential", motor_vehicle="no", emergency="yes").car
    assert not way(highway="pedestrian").car and way(highway="pedestrian", motor_vehicle="yes").car
    assert not way(highway="footway", motor_vehicle="yes").car  # footways never carry vehicles
    assert not way(highway="primary", foot="use_sidepath").foot and way(highway="primary").foot
    assert not way(highway="motorway").foot and way(highway="motorway").oneway == 1
    assert way(highway="tertiary", junction="roundabout").oneway == 1
    assert way(highway="tertiary", oneway="-1").oneway == -1 and way(highway="trail").kind == "path"
    assert way(highway="tertiary", oneway="reversible").oneway not in (-1, 0, 1)
    assert way(highway="footway", access="no") == "no_access"
    assert way(highway="service", access="unknown-value").car and notes["access_unparsed"] == 1
