"""Recommendations on the real Helsinki network, checked against networkx; filters, exclusions, fallback, closures."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from anbao.algorithms.routing import Closures, Mode, main_component
from anbao.dispatch import graphs
from anbao.dispatch.recommend import DETOUR, STRAIGHT_MS, unit_mode
from anbao.dispatch.service import distance_m
from tests.dispatch.conftest import HELSINKI, Ops, reversed_nx

EQUIPMENT = {Mode.FOOT: ["对讲机"], Mode.CAR: ["消防车", "灭火器"], Mode.MOTORBIKE: ["警用摩托车"]}
POLICE = {Mode.FOOT: "public_order", Mode.CAR: "fire", Mode.MOTORBIKE: "traffic"}


def test_unit_mode_from_equipment() -> None:
    assert unit_mode(["对讲机", "防暴盾牌"]) is Mode.FOOT and unit_mode(None) is Mode.FOOT
    assert unit_mode(["警示锥", "警用摩托车"]) is Mode.MOTORBIKE
    for vehicle in ("防暴车", "消防车", "救护车", "无线电监测车"):
        assert unit_mode(["对讲机", vehicle]) is Mode.CAR
    assert unit_mode(["警用摩托车", "救护车"]) is Mode.CAR


def _node_xy(g, node: int) -> tuple[float, float]:
    return float(g.xy[node][0]), float(g.xy[node][1])


@pytest.fixture
def city(ops: Ops, helsinki):
    """Helsinki uploaded; 12 units (4 per mode) standing on random nodes of their mode's network."""
    assert ops.upload(HELSINKI).status_code == 201
    g, ref = helsinki
    rng = np.random.default_rng(11)
    units: dict[str, tuple[Mode, int]] = {}
    for mode in Mode:
        core = np.flatnonzero(main_component(g, mode) & main_component(g, Mode.FOOT))
        for i, node in enumerate(rng.choice(core, 4, replace=False)):
            code = f"{mode.value[:3].upper()}{i}"
            ops.unit(code, police_type=POLICE[mode], equipment=EQUIPMENT[mode], skills=["急救"] if i % 2 else [],
                     at=_node_xy(g, int(node)))
            units[code] = (mode, int(node))
    core = np.flatnonzero(main_component(g, Mode.CAR))
    target = int(rng.choice(core))
    return g, ref, units, target


def _routes(body: dict) -> list[tuple]:
    """The answer without the positions' ages (they grow while the test runs)."""
    return [(u["call_sign"], u["eta_s"], u["distance_m"], u["path"]["coordinates"]) for u in body["units"]]


def _times(ref: dict[Mode, nx.DiGraph], target: int) -> dict[Mode, dict[int, float]]:
    return {m: nx.single_source_dijkstra_path_length(ref[m], target) for m in Mode}


def test_top_k_equal_networkx_and_nobody_left_out_is_faster(ops: Ops, city) -> None:
    g, ref, units, target = city
    incident = ops.incident(_node_xy(g, target))
    r = ops.recommend(incident, k=5)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["network"] == "road" and body["target_from"] == "incident" and body["excluded"] == []
    want = _times(ref, target)
    truth = sorted((want[mode][node], code) for code, (mode, node) in units.items())
    got = [(u["eta_s"], u["call_sign"].removeprefix("CS-")) for u in body["units"]]
    assert len(got) == 5
    for (eta, code), (t, want_code) in zip(got, truth[:5], strict=True):
        assert eta == pytest.approx(t, abs=0.051)  # eta_s is rounded to 0.1 s
        assert code == want_code or math.isclose(t, want[units[code][0]][units[code][1]], abs_tol=1e-6)
    for u in body["units"]:
        mode, node = units[u["call_sign"].removeprefix("CS-")]
        assert (u["mode"], u["route"]) == (mode.value, "road")
        coords = u["path"]["coordinates"]
        assert coords[0] == pytest.approx(list(_node_xy(g, node))) and coords[-1] == pytest.approx(body["target"])
        assert u["distance_m"] >= distance_m(coords[0], coords[-1]) - 0.1
        assert u["position_age_s"] == pytest.approx(30, abs=5)
    # nobody outside the top 5 is faster than the fifth
    assert all(t >= got[-1][0] - 0.051 for t, _ in truth[5:])


def test_filters_and_exclusion_reasons(ops: Ops, city) -> None:
    g, ref, units, target = city
    ops.unit("BUSY", status="busy", at=_node_xy(g, target))
    ops.unit("NOPOS")
    ops.unit("OLD", at=_node_xy(g, target), age_s=3 * 3600)
    incident = ops.incident(_node_xy(g, target))
    body = ops.recommend(incident, k=10, police_type="交警").json()  # the Chinese label works too
    assert {u["police_type"] for u in body["units"]} == {"traffic"} and len(body["units"]) == 4
    reasons = {e["call_sign"].removeprefix("CS-"): e["reason"] for e in body["excluded"]}
    assert reasons["BUSY"] == "not_available" and reasons["NOPOS"] == "no_position"
    assert reasons["OLD"] == "stale_position"
    assert {c for c, why in reasons.items() if why == "police_type"} == {c for c, (m, _) in units.items()
                                                                        if m is not Mode.MOTORBIKE}
    body = ops.recommend(incident, k=10, skill="急救", mode="car").json()
    assert sorted(u["call_sign"] for u in body["units"]) == ["CS-CAR1", "CS-CAR3"]
    reasons = {e["call_sign"]: e["reason"] for e in body["excluded"]}
    assert reasons["CS-CAR0"] == "skill" and reasons["CS-FOO1"] == "mode"
    body = ops.recommend(incident, k=10, equipment="警用摩托车").json()
    assert {u["mode"] for u in body["units"]} == {"motorbike"}
    times = _times(ref, target)[Mode.MOTORBIKE]
    assert [u["eta_s"] for u in body["units"]] == pytest.approx(
        sorted(times[n] for m, n in units.values() if m is Mode.MOTORBIKE), abs=0.051)


def test_bad_requests(ops: Ops, city) -> None:
    g, _, _, target = city
    incident = ops.incident(_node_xy(g, target))
    assert ops.recommend(999_999).status_code == 404
    other = ops.client.post("/api/v1/events", json={"code": "OTHER", "name": "别的", "kind": "concert"},
                            headers=ops.h["planner"]).json()["id"]
    foreign = ops.incident(_node_xy(g, target), event_id=other)
    r = ops.recommend(foreign)
    assert r.status_code == 404 and "not found in event" in r.json()["detail"]
    r = ops.recommend(incident, police_type="水警")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "police_type"]
    assert ops.recommend(incident, k=0).status_code == 422
    assert ops.recommend(incident, mode="helicopter").status_code == 422
    r = ops.recommend(incident, speed=3)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "speed"]
    nowhere = ops.incident(None)
    r = ops.recommend(nowhere)
    assert r.status_code == 422 and "no position" in r.json()["detail"][0]["msg"]
    assert ops.client.get(f"{ops.url}/incidents/{incident}/recommendations").status_code == 401


def test_far_units_and_no_network_fall_back_to_straight_lines(ops: Ops, city) -> None:
    g, ref, units, target = city
    lon, lat = _node_xy(g, target)
    ops.unit("FAR", at=(lon + 0.05, lat))  # about 2.8 km east, over the sea: beyond the 500 m snap
    incident = ops.incident((lon, lat))
    body = ops.recommend(incident, k=20).json()
    far = next(u for u in body["units"] if u["call_sign"] == "CS-FAR")
    assert far["route"] == "straight_line" and body["network"] == "road"
    d = distance_m((lon + 0.05, lat), (lon, lat)) * DETOUR
    assert far["distance_m"] == pytest.approx(d, abs=0.1) and far["eta_s"] == pytest.approx(d / 1.3, abs=0.1)
    assert len(far["path"]["coordinates"]) == 2
    # without any network: every unit goes straight, flagged at the top
    for net in ops.client.get(f"{ops.url}/road-networks", headers=ops.h["planner"]).json():
        ops.client.delete(f"{ops.url}/road-networks/{net['id']}", headers=ops.h["planner"])
    body = ops.recommend(incident, k=3).json()
    assert body["network"] == "straight_line" and {u["route"] for u in body["units"]} == {"straight_line"}
    for u in body["units"]:
        mode = Mode(u["mode"])
        a = u["path"]["coordinates"][0]
        assert u["eta_s"] == pytest.approx(distance_m(a, (lon, lat)) * DETOUR / STRAIGHT_MS[mode], abs=0.1)
    assert body["units"] == sorted(body["units"], key=lambda u: u["eta_s"])


def test_closures_change_routes_and_expired_ones_do_not(ops: Ops, city) -> None:
    g, ref, units, target = city
    incident = ops.incident(_node_xy(g, target))
    before = ops.recommend(incident, k=12, mode="car").json()
    first = before["units"][0]
    # close (to vehicles) a 60 m square around the middle of the fastest car's path
    coords = first["path"]["coordinates"]
    assert len(coords) > 4
    x, y = coords[len(coords) // 2]
    dx, dy = 30 / (111_320 * math.cos(math.radians(y))), 30 / 110_574
    square = {"type": "Polygon", "coordinates": [[[x - dx, y - dy], [x + dx, y - dy], [x + dx, y + dy],
                                                  [x - dx, y + dy], [x - dx, y - dy]]]}
    # exempting nobody: these units are police cars, which pass a closure that exempts police
    expired = {"name": "昨日管制", "geometry": square, "applies_to": "vehicles", "exempt": [],
               "starts_at": "2020-01-01T08:00:00+08:00", "ends_at": "2020-01-01T20:00:00+08:00"}
    r = ops.client.post(f"{ops.url}/road-closures", json=expired, headers=ops.h["planner"])
    assert r.status_code == 201, r.text
    same = ops.recommend(incident, k=12, mode="car").json()
    assert same["closures"] == 0 and _routes(same) == _routes(before)
    live = {**expired, "name": "路口管制", "starts_at": "2020-01-01T00:00:00Z", "ends_at": None}
    closure = ops.client.post(f"{ops.url}/road-closures", json=live, headers=ops.h["planner"]).json()
    after = ops.recommend(incident, k=12, mode="car").json()
    assert after["closures"] == 1
    moved = {u["call_sign"]: u for u in after["units"]}
    excluded = {e["call_sign"]: e["reason"] for e in after["excluded"]}
    name = first["call_sign"]
    assert name in excluded or moved[name]["eta_s"] > first["eta_s"] + 0.05
    assert name in excluded or moved[name]["path"] != first["path"]
    # the new times are networkx's with those edges closed
    eg = next(iter(graphs._events.values()))
    closures = next(c for c in eg._closures.values() if c.vehicles)
    assert isinstance(closures, Closures) and not closures.everyone
    closed_ref = reversed_nx(g, Mode.CAR, closures)
    if target in closed_ref:
        want = nx.single_source_dijkstra_path_length(closed_ref, target)
        for u in after["units"]:
            node = units[u["call_sign"].removeprefix("CS-")][1]
            assert u["eta_s"] == pytest.approx(want[node], abs=0.051)
    # switching it off restores the open-road answer
    r = ops.client.patch(f"{ops.url}/road-closures/{closure['id']}", json={"enabled": False},
                         headers=ops.h["planner"])
    assert r.status_code == 200
    assert _routes(ops.recommend(incident, k=12, mode="car").json()) == _routes(before)
