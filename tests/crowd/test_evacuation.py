"""Evacuation of a small waiting area through one narrow door, worked out by hand (issue 13 items 1 and 2)."""

import time

import pytest

from anbao.core.geo import LocalProjection

LON, LAT = 120.2290, 30.2297
PEOPLE = 75
DOOR_M = 0.5
#: the Green Guide flow the macro model and the capacity use: 82 persons per metre per minute on the level
LEVEL_PPS_PER_M = 82 / 60
HAND_S = PEOPLE / (DOOR_M * LEVEL_PPS_PER_M)  # 109.8 s


def waiting_area(door_kind: str) -> dict:
    """A 5.6 m x 6.7 m waiting area 10 m from a road with one 0.5 m door drawn as ``door_kind``."""
    proj = LocalProjection(LON, LAT)

    def poly(x0, y0, w, h):
        pts = [(x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h), (x0, y0)]
        return {"type": "Polygon", "coordinates": [[list(proj.inverse(x, y)) for x, y in pts]]}

    return {"type": "FeatureCollection", "venue": {"code": "V", "name": "候场区", "crs": "wgs84", "ref": [LON, LAT]},
            "features": [
                {"type": "Feature", "geometry": poly(-100, -40, 200, 20),
                 "properties": {"kind": "zone", "code": "ROAD", "name": "南路", "zone_kind": "road", "ring": 3}},
                {"type": "Feature", "geometry": poly(0, -10, 5.6, 6.7),
                 "properties": {"kind": "zone", "code": "WAIT", "name": "候场区", "zone_kind": "standing",
                                "ring": 1, "standing_capacity": PEOPLE}},
                {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(proj.inverse(2.8, -10))},
                 "properties": {"kind": door_kind, "code": "EX", "name": "候场区出口", "zone": "WAIT",
                                "width_m": DOOR_M}}]}


@pytest.fixture
def waiting(client, login):
    def make(door_kind: str):
        h = login("planner")
        e = client.post("/api/v1/events", json={"code": f"W{door_kind}", "name": "候场", "kind": "concert",
                                                "expected_attendance": PEOPLE}, headers=h).json()
        url = f"/api/v1/events/{e['id']}"
        r = client.post(f"{url}/venue-import", json=waiting_area(door_kind), headers=h)
        assert r.status_code == 200, r.text
        return url, h
    return make


def _run(client, url, h, body, timeout_s=120.0):
    r = client.post(f"{url}/evacuation-runs", json=body, headers=h)
    assert r.status_code == 202, r.text
    run, end = r.json(), time.monotonic() + timeout_s
    while run["status"] == "running" and time.monotonic() < end:
        time.sleep(0.1)
        run = client.get(f"{url}/evacuation-runs/{run['id']}", headers=h).json()
    assert run["status"] == "done", run
    return run["result"]


@pytest.mark.parametrize("door_kind", ["exit", "gate"])
def test_75_people_through_a_half_metre_door_take_the_hand_calculated_time(client, waiting, door_kind):
    url, h = waiting(door_kind)
    res = _run(client, url, h, {"zone": "WAIT", "people": PEOPLE})
    assert res["finished"] and res["total"] == PEOPLE and res["jammed"] is False
    # 75 / (0.5 m x 82/60) = 109.8 s through the door (the model counts the last person out at 74.5
    # passed: 109.0 s), plus at most the first walk to the door (the 6.1 m across the area)
    flow = DOOR_M * LEVEL_PPS_PER_M
    assert (PEOPLE - 0.5) / flow <= res["clearance_s"] <= HAND_S + 6.1 / 1.34, res["clearance_s"]  # was 6.9 s
    assert [e["name"] for e in res["exits"]] == ["EX"]
    assert max(e["peak_per_s"] for e in res["exits"]) <= DOOR_M * LEVEL_PPS_PER_M + 1e-6  # was 15 persons/s
    assert res["capacity"]["evacuation_min"] == pytest.approx(HAND_S / 60, abs=0.01)


@pytest.mark.parametrize("door_kind", ["exit", "gate"])
def test_the_venue_and_the_zone_read_the_same_exit(client, waiting, door_kind):
    url, h = waiting(door_kind)
    cap = client.get(f"{url}/capacity", headers=h).json()
    zone = next(z for z in cap["zones"] if z["code"] == "WAIT")
    assert [(e["code"], e["width_m"]) for e in zone["exits"]] == [("EX", DOOR_M)]
    assert [(e["code"], e["width_m"]) for e in cap["venue"]["exits"]] == [("EX", DOOR_M)]  # was "exits none"
    assert cap["venue"]["exit_bottleneck_pps"] == pytest.approx(DOOR_M * LEVEL_PPS_PER_M, abs=0.01)


def test_jupedsim_draws_the_half_metre_door_at_its_width_and_says_the_agents_jam(client, waiting):
    url, h = waiting("exit")
    res = _run(client, url, h, {"model": "jupedsim", "zone": "WAIT", "agents": PEOPLE, "max_s": 300})
    # 75 agents start in 37.5 m2 (2 persons/m2: refused before); the door is 0.5 m, not 0.8 m
    assert res["total"] == PEOPLE
    assert res["capacity"]["exit_flow_per_min"] == pytest.approx(DOOR_M * 82)  # was 65.6 (0.8 m)
    assert not res["finished"] and res["jammed"] and "出口堵塞" in res["warning"]
    assert [e["name"] for e in res["exits"]] == ["EX"] and 0 < res["evacuated"] < PEOPLE
    assert res["exits"][0]["peak_per_s"] < 1.0  # 3.1 persons/s through the 0.8 m half-disc before



def test_exit_labels_name_gates_boundaries_and_links_in_words():
    from anbao.crowd.evacuation import Job, exit_label

    job = Job("macro", None, {"FLOOR": "内场", "ROAD": "南路"}, gate_names={"EX1": "一号出口", "EX2": ""})
    assert exit_label("EX1", job) == "一号出口"
    assert exit_label("EX2", job) == "EX2"  # a gate without a name keeps its code
    assert exit_label("EX1+EX2", job) == "一号出口、EX2"
    assert exit_label("→ROAD", job) == "通往南路"
    assert exit_label("FLOOR->safe", job) == "内场出口" and exit_label("FLOOR->ROAD", job) == "内场→南路"
    assert exit_label("UNKNOWN", job) == "UNKNOWN"
