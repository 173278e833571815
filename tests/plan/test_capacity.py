"""Safe capacity of a small venue worked out by hand, through the API and the command line."""

import json
import math

import pytest

from anbao.core.geo import LocalProjection

LON, LAT = 120.2290, 30.2297


def venue(*, lonely_floor: bool = False, declared: int = 5000) -> dict:
    """A 40 m x 25 m standing floor (1,000 m2) with two exits and a 4-lane checkpoint, 10 m from a road."""
    proj = LocalProjection(LON, LAT)

    def poly(x0, y0, w, h):
        pts = [(x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h), (x0, y0)]
        return {"type": "Polygon", "coordinates": [[list(proj.inverse(x, y)) for x, y in pts]]}

    def pt(x, y):
        return {"type": "Point", "coordinates": list(proj.inverse(x, y))}

    feats = [
        {"type": "Feature", "geometry": poly(-100, -100, 200, 40),
         "properties": {"kind": "zone", "code": "ROAD", "name": "南路", "zone_kind": "road", "ring": 3}},
        {"type": "Feature", "geometry": poly(-20, -50, 40, 25),
         "properties": {"kind": "zone", "code": "FLOOR", "name": "内场", "zone_kind": "standing", "ring": 1,
                        "standing_capacity": declared}},
        {"type": "Feature", "geometry": pt(-10, -50),
         "properties": {"kind": "exit", "code": "EX1", "name": "一号出口", "zone": "FLOOR", "width_m": 2.0,
                        "direction": "out"}},
        {"type": "Feature", "geometry": pt(10, -50),
         "properties": {"kind": "exit", "code": "EX2", "name": "二号出口（楼梯）", "zone": "FLOOR", "width_m": 1.5,
                        "stair": True, "direction": "out"}},
        {"type": "Feature", "geometry": pt(0, -50),
         "properties": {"kind": "checkpoint", "code": "AJ1", "name": "安检口", "zone": "FLOOR", "lanes": 4,
                        "width_m": 4.0, "direction": "in"}},
    ]
    if lonely_floor:
        feats.append({"type": "Feature", "geometry": poly(60, 20, 20, 20),
                      "properties": {"kind": "zone", "code": "ISLE", "name": "孤立站席", "zone_kind": "standing",
                                     "ring": 1}})
    return {"type": "FeatureCollection", "venue": {"code": "V", "name": "小场馆", "crs": "wgs84", "ref": [LON, LAT]},
            "features": feats}


@pytest.fixture
def small(client, login):
    def make(**kw):
        h = login("planner")
        ev = client.post("/api/v1/events", json={"code": "CAP", "name": "容量", "kind": "concert",
                                                 "expected_attendance": 1200}, headers=h).json()
        url = f"/api/v1/events/{ev['id']}"
        r = client.post(f"{url}/venue-import", json=venue(**kw), headers=h)
        assert r.status_code == 200, r.text
        return url, h, ev["id"]
    return make


def test_the_green_guide_figures_by_hand(client, small):
    url, h, _ = small()
    put = client.put(f"{url}/capacity-settings", json={"entry_min": 60, "egress_min": 8, "emergency_min": 5,
                                                        "safety_factors": {"FLOOR": 0.9}}, headers=h)
    assert put.status_code == 200, put.text
    out = client.get(f"{url}/capacity", headers=h).json()
    floor = next(z for z in out["zones"] if z["code"] == "FLOOR")
    area = floor["area_m2"]
    assert area == pytest.approx(1000, abs=1)
    # holding: area x 4.7 x 0.9 (~4,230); exits: 2.0 m level x 82 + 1.5 m stairs x 66 = 263 persons/min
    assert floor["holding"] == math.floor(area * 4.7 * 0.9)
    assert floor["exit_flow_per_min"] == pytest.approx(263)
    assert floor["exit"] == 263 * 8 == 2104 and floor["emergency"] == 263 * 5 == 1315
    assert floor["entry"] == 4 * 11 * 60 == 2640  # 4 lanes x 11 persons/min x 60 min
    assert (floor["safe_capacity"], floor["limiting"], floor["limiting_zh"]) == (1315, "emergency", "应急疏散能力")
    assert floor["evacuation_min"] == pytest.approx(floor["holding"] / 263, abs=0.01)
    assert floor["declared"] == 5000 and floor["over_declared"]
    assert {e["code"] for e in floor["exits"]} == {"EX1", "EX2"} and floor["entries"] == [{"code": "AJ1", "lanes": 4}]
    assert any("安全容量" in s and "1315" in s for s in floor["steps"])
    v = out["venue"]
    assert (v["holding"], v["exit"], v["emergency"], v["entry"], v["safe_capacity"]) == \
        (floor["holding"], 2104, 1315, 2640, 1315)
    assert v["exit_bottleneck_pps"] == pytest.approx(263 / 60, abs=0.01)
    assert {e["code"] for e in v["exits"]} == {"EX1", "EX2"} and [e["code"] for e in v["entries"]] == ["AJ1"]
    assert not [z for z in out["zones"] if z["code"] == "ROAD"]  # the outermost zones are where people go


def test_the_declared_density_is_used_and_art7_reports_the_shortfall(client, small):
    # the floor declares 2,000 people on 1,000 m2 (2 persons/m2, as a concert plan sets): holding 2,000, not
    # 1,000 x 4.7 = 4,700; the venue's safe capacity is then 2,000 (was 2,104, by the 8-minute egress), below an
    # approved 2,050, and the Art. 7 check says so
    url, h, eid = small(declared=2000)
    assert client.patch(f"/api/v1/events/{eid}", json={"approved_attendance": 2050}, headers=h).status_code == 200
    out = client.get(f"{url}/capacity", headers=h).json()
    floor = next(z for z in out["zones"] if z["code"] == "FLOOR")
    assert (floor["holding"], floor["exit"], floor["safe_capacity"], floor["limiting"]) == (2000, 2104, 2000, "holding")
    assert floor["steps"][0].startswith("容纳能力：站立区 ")
    assert floor["steps"][0].endswith("，申报 2000 人（2.0 人/㎡，区域申报容量）× 安全系数 1 = 2000 人")
    v = out["venue"]
    assert (v["holding"], v["safe_capacity"], v["limiting"]) == (2000, 2000, "holding")
    assert v["holding_by_zone"] == {"FLOOR": 2000}
    found = {f["code"]: f for f in client.get(f"{url}/plan-check", headers=h).json()["findings"]}
    assert found["art7.approved"]["severity"] == "error"
    assert found["art7.approved"]["message"] == "核定人数 2050 超过场馆安全容量 2000"


def test_a_zone_without_exits_is_named_and_the_rest_still_computed(client, small):
    url, h, _ = small(lonely_floor=True)
    out = client.get(f"{url}/capacity", headers=h).json()
    isle = next(z for z in out["zones"] if z["code"] == "ISLE")
    assert isle["safe_capacity"] is None and "zone ISLE (孤立站席) has no exit" in isle["error"]
    assert next(z for z in out["zones"] if z["code"] == "FLOOR")["safe_capacity"] is not None


@pytest.mark.parametrize(("body", "loc"), [
    ({"egress_min": 0}, "egress_min"),
    ({"safety_factors": {"FLOOR": 1.5}}, "FLOOR"),
    ({"safety_factors": {"NOPE": 0.5}}, "NOPE"),
    ({"entry_minutes": 30}, "entry_minutes"),
])
def test_bad_settings_are_refused_and_the_old_ones_kept(client, small, body, loc):
    url, h, _ = small()
    assert client.put(f"{url}/capacity-settings", json={"egress_min": 6}, headers=h).status_code == 200
    r = client.put(f"{url}/capacity-settings", json=body, headers=h)
    assert r.status_code == 422 and loc in str(r.json()["detail"][0]["loc"]), r.text
    assert client.get(f"{url}/capacity-settings", headers=h).json()["egress_min"] == 6


def test_the_command_line_prints_zones_then_the_venue(client, small, anbao):
    _, _, eid = small()
    res = anbao("capacity", "--event", str(eid))
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in res.stdout.splitlines()]
    assert lines[-1]["scope"] == "venue" and lines[-1]["code"] == "VENUE"
    floor = next(x for x in lines if x["code"] == "FLOOR")
    # by default egress and emergency times are both 8 min: the tie goes to the exit capacity
    assert floor["limiting"] == "exit" and floor["safe_capacity"] == 263 * 8
    assert anbao("capacity", "--event", "999999").exit_code == 2
