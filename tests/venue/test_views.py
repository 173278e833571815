"""API tests for venues, zones, gates, posts and devices under /api/v1/events/{id}/..."""

from __future__ import annotations

from typing import Any

import pytest

from anbao.venue.models import Device, Gate, Post, Venue, Zone
from tests.factories import (
    LAT,
    LON,
    created,
    device_body,
    gate_body,
    local_venue_body,
    make_event,
    make_venue,
    point,
    polygon_local,
    post_body,
    projection,
    square_zone,
    url,
    venue_body,
    zone_body,
)
from tests.factories import count_rows as count


@pytest.fixture
def venue(client, planner, ev) -> int:
    return make_venue(client, planner, ev)


def _zone(client, headers, event_id: int, venue_id: int, code: str = "Z1", **kw: Any) -> dict[str, Any]:
    return created(client, url(event_id, "zones"), zone_body(venue_id, code, **kw), headers)


def _loc_msg(r) -> tuple[list[Any], str]:
    assert r.status_code == 422, r.text
    d = r.json()["detail"][0]
    return d["loc"], d["msg"]


# -- venues -----------------------------------------------------------------------------------------

def test_venue_crud(client, planner, ev, sessions):
    v = created(client, url(ev, "venues"), venue_body("STADIUM", address="滨江区飞虹路"), planner)
    assert (v["code"], v["crs"], v["ref_lon"], v["ref_lat"]) == ("STADIUM", "wgs84", LON, LAT)
    r = client.patch(url(ev, "venues", v["id"]), json={"name": "新场馆"}, headers=planner)
    assert r.status_code == 200 and r.json()["name"] == "新场馆"
    assert client.get(url(ev, "venues", v["id"]), headers=planner).json()["address"] == "滨江区飞虹路"
    assert client.post(url(ev, "venues"), json=venue_body("STADIUM"), headers=planner).status_code == 422
    assert client.delete(url(ev, "venues", v["id"]), headers=planner).status_code == 204
    assert client.get(url(ev, "venues", v["id"]), headers=planner).status_code == 404
    assert count(sessions, Venue) == 0


def test_venue_of_another_event_is_404(client, planner, ev, venue):
    other = make_event(client, planner, "EV2")
    assert client.get(url(other, "venues", venue), headers=planner).status_code == 404


# -- zones: CRUD and area ---------------------------------------------------------------------------

def test_zone_crud(client, planner, ev, venue, sessions):
    z = _zone(client, planner, ev, venue, "CORE", kind="核心区", standing_capacity=1200)
    assert (z["code"], z["kind"], z["ring"], z["venue_id"], z["event_id"]) == ("CORE", "core", 1, venue, ev)
    assert z["standing_capacity"] == 1200
    assert z["area_m2"] == pytest.approx(10_000, rel=5e-3)

    got = client.get(url(ev, "zones", z["id"]), headers=planner).json()
    assert got["geometry"]["type"] == "Polygon"
    assert got["geometry"]["coordinates"] == z["geometry"]["coordinates"]

    r = client.patch(url(ev, "zones", z["id"]),
                     json={"name": "核心", "ring": 2, "geometry": square_zone(200)}, headers=planner)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "核心" and r.json()["ring"] == 2
    assert r.json()["area_m2"] == pytest.approx(40_000, rel=5e-3)
    assert client.get(url(ev, "zones", z["id"]), headers=planner).json()["area_m2"] == r.json()["area_m2"]
    assert client.get(url(ev, "zones", z["id"]), headers=planner).json()["standing_capacity"] == 1200

    assert client.delete(url(ev, "zones", z["id"]), headers=planner).status_code == 204
    assert client.get(url(ev, "zones", z["id"]), headers=planner).status_code == 404
    assert count(sessions, Zone) == 0


def test_area_of_projected_100_by_50_rectangle_is_5000_m2(client, planner, ev):
    venue = make_venue(client, planner, ev, "HZ", lon=120.23, lat=30.23)
    z = _zone(client, planner, ev, venue, geometry=square_zone(100, height_m=50, lon=120.23, lat=30.23))
    assert z["area_m2"] == pytest.approx(5000, rel=5e-3)
    assert client.get(url(ev, "zones", z["id"]), headers=planner).json()["area_m2"] == z["area_m2"]


def test_local_metres_venue_gives_exact_planar_area(client, planner, ev):
    v = created(client, url(ev, "venues"), local_venue_body(), planner)
    assert v["crs"] == "local" and v["ref_lon"] is None
    z = _zone(client, planner, ev, v["id"], geometry=polygon_local(100, 50, x0=1000, y0=2000))
    assert z["area_m2"] == 5000.0
    # local coordinates are metres, not degrees: 1000 m east is not "longitude out of range"
    assert z["geometry"]["coordinates"][0][1] == [1100.0, 2000.0]


def test_local_venue_points_are_metres(client, planner, ev):
    v = created(client, url(ev, "venues"), local_venue_body(), planner)
    g = created(client, url(ev, "gates"), gate_body(v["id"], lon=350.0, lat=-420.0), planner)
    assert (g["lon"], g["lat"]) == (350.0, -420.0)


def test_multipolygon_area_is_the_sum(client, planner, ev, venue):
    a = square_zone(100, dx=-200)["coordinates"]
    b = square_zone(100, dx=200)["coordinates"]
    z = _zone(client, planner, ev, venue, geometry={"type": "MultiPolygon", "coordinates": [a, b]})
    assert z["area_m2"] == pytest.approx(20_000, rel=5e-3)


def test_clockwise_polygon_has_positive_area(client, planner, ev, venue):
    ring = square_zone(100)["coordinates"][0][::-1]
    z = _zone(client, planner, ev, venue, geometry={"type": "Polygon", "coordinates": [ring]})
    assert z["area_m2"] == pytest.approx(10_000, rel=5e-3)


def test_hole_is_subtracted_whatever_its_winding(client, planner, ev, venue):
    # BUG (src/anbao/core/geo.py, area_m2): pyproj's geometry_area_perimeter sums signed ring areas,
    # so a hole wound like its exterior (RFC 7946 says parsers should not reject that) is added.
    outer = square_zone(100)["coordinates"][0]
    hole = square_zone(50)["coordinates"][0]
    opposite = _zone(client, planner, ev, venue, "HOLE-CW",
                     geometry={"type": "Polygon", "coordinates": [outer, hole[::-1]]})
    assert opposite["area_m2"] == pytest.approx(7_500, rel=5e-3)
    same = _zone(client, planner, ev, venue, "HOLE-CCW",
                 geometry={"type": "Polygon", "coordinates": [outer, hole]})
    assert same["area_m2"] == pytest.approx(7_500, rel=5e-3)


def test_multipolygon_parts_of_mixed_winding_add_up(client, planner, ev, venue):
    # BUG (src/anbao/core/geo.py, area_m2): signed part areas cancel; abs() of the sum is taken.
    a = square_zone(100, dx=-200)["coordinates"]
    b = [square_zone(100, dx=200)["coordinates"][0][::-1]]
    z = _zone(client, planner, ev, venue, geometry={"type": "MultiPolygon", "coordinates": [a, b]})
    assert z["area_m2"] == pytest.approx(20_000, rel=5e-3)


# -- zones: filters ---------------------------------------------------------------------------------

@pytest.fixture
def zoned(client, planner, ev, venue) -> dict[str, int]:
    ids = {}
    for code, kind, ring, dx in [("A", "core", 1, 0), ("B", "stand", 1, 150), ("C", "看台", 2, 300),
                                 ("D", "outer", 3, 450)]:
        ids[code] = _zone(client, planner, ev, venue, code, kind=kind, ring=ring, size_m=100,
                          geometry=square_zone(100, dx=dx))["id"]
    return ids


@pytest.mark.parametrize(("query", "codes"), [
    ("", ["A", "B", "C", "D"]),
    ("?kind=core", ["A"]),
    ("?kind=stand", ["B", "C"]),
    ("?kind=看台", ["B", "C"]),
    ("?ring=1", ["A", "B"]),
    ("?ring=2", ["C"]),
    ("?kind=看台&ring=2", ["C"]),
    ("?kind=parking", []),
])
def test_zones_filter_by_kind_and_ring(client, planner, ev, zoned, query, codes):
    r = client.get(url(ev, "zones") + query, headers=planner)
    assert r.status_code == 200, r.text
    assert [z["code"] for z in r.json()] == codes


def test_zone_filter_by_unknown_kind_is_422(client, planner, ev, zoned):
    r = client.get(url(ev, "zones") + "?kind=草坪", headers=planner)
    assert _loc_msg(r)[0] == ["query", "kind"]


def test_zone_filter_by_venue(client, planner, ev, venue, zoned):
    other = make_venue(client, planner, ev, "V2")
    _zone(client, planner, ev, other, "E")
    assert [z["code"] for z in client.get(url(ev, "zones") + f"?venue_id={other}", headers=planner).json()] == ["E"]
    assert len(client.get(url(ev, "zones") + f"?venue_id={venue}", headers=planner).json()) == 4


def test_zone_list_pages_with_limit_and_offset(client, planner, ev, zoned):
    r = client.get(url(ev, "zones") + "?limit=2&offset=1", headers=planner)
    assert r.status_code == 200, r.text
    assert [z["code"] for z in r.json()] == ["B", "C"]
    r = client.get(url(ev, "zones") + "?kind=看台&limit=1&offset=1", headers=planner)
    assert [z["code"] for z in r.json()] == ["C"]


@pytest.mark.parametrize(("query", "loc"), [
    ("?limit=0", ["query", "limit"]),
    ("?limit=5001", ["query", "limit"]),
    ("?offset=-1", ["query", "offset"]),
    ("?ring=x", ["query", "ring"]),
    ("?colour=red", ["query", "colour"]),
])
def test_bad_list_query_is_422_naming_the_parameter(client, planner, ev, zoned, query, loc):
    assert _loc_msg(client.get(url(ev, "zones") + query, headers=planner))[0] == loc


def test_zones_of_other_events_are_not_listed(client, planner, ev, zoned):
    other = make_event(client, planner, "EV2")
    other_venue = make_venue(client, planner, other)
    _zone(client, planner, other, other_venue, "A")  # same code is fine in another event
    assert len(client.get(url(ev, "zones"), headers=planner).json()) == 4
    assert [z["code"] for z in client.get(url(other, "zones"), headers=planner).json()] == ["A"]
    assert client.get(url(other, "zones", zoned["A"]), headers=planner).status_code == 404


# -- zones: bad geometry ----------------------------------------------------------------------------

def _bow_tie() -> dict[str, Any]:
    proj = projection()
    pts = [(-50, -50), (50, 50), (50, -50), (-50, 50), (-50, -50)]
    return {"type": "Polygon", "coordinates": [[list(proj.inverse(x, y)) for x, y in pts]]}


def _unclosed() -> dict[str, Any]:
    ring = square_zone(100)["coordinates"][0][:-1]
    return {"type": "Polygon", "coordinates": [ring]}


def _three_positions() -> dict[str, Any]:
    ring = square_zone(100)["coordinates"][0]
    return {"type": "Polygon", "coordinates": [[ring[0], ring[1], ring[0]]]}


def _swapped() -> dict[str, Any]:
    ring = square_zone(100)["coordinates"][0]
    return {"type": "Polygon", "coordinates": [[[lat, lon] for lon, lat in ring]]}


def _lon_out_of_range() -> dict[str, Any]:
    ring = square_zone(100)["coordinates"][0]
    return {"type": "Polygon", "coordinates": [[[lon + 70, lat] for lon, lat in ring]]}


BAD_GEOMETRY = [
    pytest.param(_bow_tie(), "Self-intersection", id="bow-tie"),
    pytest.param(_unclosed(), "not closed", id="unclosed-ring"),
    pytest.param(_three_positions(), "at least 4 positions", id="three-positions"),
    pytest.param(_swapped(), "swapped", id="swapped-lat-lon"),
    pytest.param(_lon_out_of_range(), "longitude", id="longitude-out-of-range"),
    pytest.param(square_zone(100, dy=500_000), "km from the venue", id="500-km-away"),
    pytest.param({"type": "LineString", "coordinates": [point(0, 0), point(100, 0)]}, "LineString",
                 id="linestring"),
    pytest.param({"type": "Polygon"}, "coordinates", id="no-coordinates"),
]


@pytest.mark.parametrize(("geometry", "fragment"), BAD_GEOMETRY)
def test_bad_zone_geometry_is_refused_with_the_reason(client, planner, ev, venue, sessions, geometry, fragment):
    _zone(client, planner, ev, venue, "OK")
    r = client.post(url(ev, "zones"), json=zone_body(venue, "BAD", geometry=geometry), headers=planner)
    loc, msg = _loc_msg(r)
    assert loc[-1] == "geometry"
    assert loc == ["body", "geometry"]
    assert fragment in msg
    assert count(sessions, Zone) == 1


def test_500_km_message_gives_the_distance(client, planner, ev, venue):
    r = client.post(url(ev, "zones"), json=zone_body(venue, geometry=square_zone(100, dy=500_000)), headers=planner)
    assert "500 km" in _loc_msg(r)[1]


@pytest.mark.parametrize(("geometry", "fragment"), BAD_GEOMETRY[:3])
def test_bad_geometry_in_patch_keeps_the_old_shape(client, planner, ev, venue, geometry, fragment):
    z = _zone(client, planner, ev, venue)
    r = client.patch(url(ev, "zones", z["id"]), json={"geometry": geometry, "name": "改"}, headers=planner)
    loc, msg = _loc_msg(r)
    assert loc == ["body", "geometry"] and fragment in msg
    got = client.get(url(ev, "zones", z["id"]), headers=planner).json()
    assert got["geometry"] == z["geometry"] and got["area_m2"] == z["area_m2"] and got["name"] == z["name"]


def test_null_geometry_in_patch_is_refused(client, planner, ev, venue):
    z = _zone(client, planner, ev, venue)
    assert _loc_msg(client.patch(url(ev, "zones", z["id"]), json={"geometry": None}, headers=planner))[0] == [
        "body", "geometry"]


# -- zones: codes and references --------------------------------------------------------------------

def test_duplicate_zone_code_is_refused(client, planner, ev, venue, sessions):
    first = _zone(client, planner, ev, venue, "DUP", name="原来的")
    r = client.post(url(ev, "zones"), json=zone_body(venue, "DUP", name="重复的", geometry=square_zone(50, dx=300)),
                    headers=planner)
    loc, msg = _loc_msg(r)
    assert loc == ["body", "code"] and "DUP" in msg
    assert count(sessions, Zone) == 1
    assert client.get(url(ev, "zones", first["id"]), headers=planner).json()["name"] == "原来的"


def test_zone_venue_of_another_event_is_refused(client, planner, ev, venue, sessions):
    other = make_event(client, planner, "EV2")
    r = client.post(url(other, "zones"), json=zone_body(venue), headers=planner)
    assert _loc_msg(r)[0] == ["body", "venue_id"]
    assert count(sessions, Zone) == 0


def test_zone_parent_from_another_event_is_refused(client, planner, ev, venue, sessions):
    other = make_event(client, planner, "EV2")
    foreign = _zone(client, planner, other, make_venue(client, planner, other), "FOREIGN")
    r = client.post(url(ev, "zones"), json=zone_body(venue, "CHILD", parent_id=foreign["id"]), headers=planner)
    loc, msg = _loc_msg(r)
    assert loc == ["body", "parent_id"] and str(foreign["id"]) in msg
    assert count(sessions, Zone, event_id=ev) == 0

    mine = _zone(client, planner, ev, venue, "MINE")
    r = client.patch(url(ev, "zones", mine["id"]), json={"parent_id": foreign["id"]}, headers=planner)
    assert _loc_msg(r)[0] == ["body", "parent_id"]
    assert client.get(url(ev, "zones", mine["id"]), headers=planner).json()["parent_id"] is None


def test_zone_parent_cycles_are_refused(client, planner, ev, venue):
    a = _zone(client, planner, ev, venue, "A", size_m=300)
    b = _zone(client, planner, ev, venue, "B", size_m=200, parent_id=a["id"])
    c = _zone(client, planner, ev, venue, "C", size_m=100, parent_id=b["id"])
    assert (b["parent_id"], c["parent_id"]) == (a["id"], b["id"])

    r = client.patch(url(ev, "zones", a["id"]), json={"parent_id": c["id"]}, headers=planner)
    loc, msg = _loc_msg(r)
    assert loc == ["body", "parent_id"] and "cycle" in msg
    r = client.patch(url(ev, "zones", b["id"]), json={"parent_id": b["id"]}, headers=planner)
    assert _loc_msg(r)[0] == ["body", "parent_id"]
    assert client.get(url(ev, "zones", a["id"]), headers=planner).json()["parent_id"] is None
    assert client.get(url(ev, "zones", b["id"]), headers=planner).json()["parent_id"] == a["id"]

    # moving C up under A is fine; clearing a parent is fine
    r = client.patch(url(ev, "zones", c["id"]), json={"parent_id": a["id"]}, headers=planner)
    assert r.status_code == 200 and r.json()["parent_id"] == a["id"]
    r = client.patch(url(ev, "zones", b["id"]), json={"parent_id": None}, headers=planner)
    assert r.status_code == 200 and r.json()["parent_id"] is None


def test_deleting_a_parent_zone_detaches_children(client, planner, ev, venue):
    a = _zone(client, planner, ev, venue, "A", size_m=300)
    b = _zone(client, planner, ev, venue, "B", parent_id=a["id"])
    assert client.delete(url(ev, "zones", a["id"]), headers=planner).status_code == 204
    assert client.get(url(ev, "zones", b["id"]), headers=planner).json()["parent_id"] is None


@pytest.mark.parametrize(("patch", "loc"), [
    ({"kind": None}, ["body", "kind"]),
    ({"ring": 4}, ["body", "ring"]),
    ({"kind": "草坪"}, ["body", "kind"]),
    ({"venue_id": 1}, ["body", "venue_id"]),
])
def test_bad_zone_patch_is_refused(client, planner, ev, venue, patch, loc):
    z = _zone(client, planner, ev, venue)
    assert _loc_msg(client.patch(url(ev, "zones", z["id"]), json=patch, headers=planner))[0] == loc
    got = client.get(url(ev, "zones", z["id"]), headers=planner).json()
    assert (got["kind"], got["ring"]) == ("core", 1)


# -- gates, posts, devices --------------------------------------------------------------------------

def test_gate_post_device_create_and_read(client, planner, ev, venue):
    zone = _zone(client, planner, ev, venue, size_m=400)
    g = created(client, url(ev, "gates"), gate_body(venue, "G1", kind="安检口", zone_id=zone["id"], lanes=10,
                                                     width_m=15.5, direction="in"), planner)
    assert (g["kind"], g["zone_id"], g["lanes"], g["width_m"], g["direction"], g["stair"]) == (
        "checkpoint", zone["id"], 10, 15.5, "in", False)
    p = created(client, url(ev, "posts"), post_body(venue, "P1", zone_id=zone["id"], police_type="特警",
                                                     skills=["排爆"], critical=True), planner)
    assert (p["police_type"], p["skills"], p["critical"], p["min_staff"]) == ("special", ["排爆"], True, 2)
    d = created(client, url(ev, "devices"), device_body(venue, "S1", kind="烟感", unit_of_measure="ppm",
                                                         properties={"model": "X-9"}), planner)
    assert (d["kind"], d["status"], d["properties"], d["zone_id"]) == ("smoke", "online", {"model": "X-9"}, None)
    lon, lat = point(0.0, -50.0)
    got = client.get(url(ev, "gates", g["id"]), headers=planner).json()
    assert got["lon"] == pytest.approx(lon, abs=1e-12) and got["lat"] == pytest.approx(lat, abs=1e-12)


def test_gate_patch_moves_it(client, planner, ev, venue):
    g = created(client, url(ev, "gates"), gate_body(venue), planner)
    lon, lat = point(30, 30)
    r = client.patch(url(ev, "gates", g["id"]), json={"lon": lon, "lat": lat, "lanes": 2}, headers=planner)
    assert r.status_code == 200, r.text
    got = client.get(url(ev, "gates", g["id"]), headers=planner).json()
    assert (got["lon"], got["lat"], got["lanes"]) == (pytest.approx(lon), pytest.approx(lat), 2)


@pytest.fixture
def points(client, planner, ev, venue) -> dict[str, Any]:
    za = _zone(client, planner, ev, venue, "ZA", size_m=100)
    zb = _zone(client, planner, ev, venue, "ZB", geometry=square_zone(100, dx=200))
    ids: dict[str, Any] = {"ZA": za["id"], "ZB": zb["id"]}
    for code, kind, zone in [("G1", "gate", za), ("G2", "exit", za), ("G3", "exit", zb), ("G4", "checkpoint", None)]:
        ids[code] = created(client, url(ev, "gates"),
                            gate_body(venue, code, kind=kind, zone_id=zone and zone["id"]), planner)["id"]
    for code, zone in [("P1", za), ("P2", zb)]:
        ids[code] = created(client, url(ev, "posts"), post_body(venue, code, zone_id=zone["id"]), planner)["id"]
    for code, kind, zone in [("C1", "camera", za), ("C2", "camera", zb), ("W1", "wifi_probe", za)]:
        ids[code] = created(client, url(ev, "devices"), device_body(venue, code, kind=kind, zone_id=zone["id"]),
                            planner)["id"]
    return ids


def test_gates_filter_by_zone_and_kind(client, planner, ev, points):
    def codes(query: str) -> list[str]:
        r = client.get(url(ev, "gates") + query, headers=planner)
        assert r.status_code == 200, r.text
        return [g["code"] for g in r.json()]

    assert codes("") == ["G1", "G2", "G3", "G4"]
    assert codes(f"?zone_id={points['ZA']}") == ["G1", "G2"]
    assert codes("?kind=exit") == ["G2", "G3"]
    assert codes("?kind=疏散出口") == ["G2", "G3"]
    assert codes(f"?kind=exit&zone_id={points['ZB']}") == ["G3"]
    assert codes("?kind=安检口") == ["G4"]


def test_posts_and_devices_filter_by_zone_and_kind(client, planner, ev, points):
    def codes(resource: str, query: str) -> list[str]:
        r = client.get(url(ev, resource) + query, headers=planner)
        assert r.status_code == 200, r.text
        return [x["code"] for x in r.json()]

    assert codes("posts", f"?zone_id={points['ZB']}") == ["P2"]
    assert codes("devices", f"?zone_id={points['ZA']}") == ["C1", "W1"]
    assert codes("devices", "?kind=camera") == ["C1", "C2"]
    assert codes("devices", "?kind=WiFi探针") == ["W1"]
    assert codes("devices", f"?kind=camera&zone_id={points['ZB']}") == ["C2"]


def test_deleting_a_zone_sets_references_to_null(client, planner, ev, points, sessions):
    assert client.delete(url(ev, "zones", points["ZA"]), headers=planner).status_code == 204
    gate = client.get(url(ev, "gates", points["G1"]), headers=planner)
    assert gate.status_code == 200 and gate.json()["zone_id"] is None
    assert client.get(url(ev, "posts", points["P1"]), headers=planner).json()["zone_id"] is None
    assert client.get(url(ev, "devices", points["C1"]), headers=planner).json()["zone_id"] is None
    # rows in the other zone keep their reference; nothing was deleted
    assert client.get(url(ev, "gates", points["G3"]), headers=planner).json()["zone_id"] == points["ZB"]
    assert (count(sessions, Gate), count(sessions, Post), count(sessions, Device)) == (4, 2, 3)


@pytest.mark.parametrize("resource", ["gates", "posts", "devices"])
@pytest.mark.parametrize(("where", "fragment"), [
    pytest.param((LON, 95.0), "latitude", id="lat-out-of-range"),
    pytest.param((LAT, LON), "swapped", id="swapped"),
    pytest.param((LON + 1.0, LAT), "km from the venue", id="96-km-away"),
])
def test_point_out_of_range_is_refused(client, planner, ev, venue, sessions, resource, where, fragment):
    build = {"gates": gate_body, "posts": post_body, "devices": device_body}[resource]
    lon, lat = where
    r = client.post(url(ev, resource), json=build(venue, lon=lon, lat=lat), headers=planner)
    loc, msg = _loc_msg(r)
    assert loc[0] == "body" and loc[-1] in ("lon", "lat")
    assert fragment in msg
    model = {"gates": Gate, "posts": Post, "devices": Device}[resource]
    assert count(sessions, model) == 0


def test_longitude_out_of_range_names_lon(client, planner, ev, venue, sessions):
    r = client.post(url(ev, "gates"), json=gate_body(venue, lon=190.0, lat=LAT), headers=planner)
    loc, msg = _loc_msg(r)
    assert "longitude 190" in msg
    assert count(sessions, Gate) == 0
    assert loc == ["body", "lon"]


def test_moving_a_gate_out_of_range_is_refused(client, planner, ev, venue):
    g = created(client, url(ev, "gates"), gate_body(venue), planner)
    r = client.patch(url(ev, "gates", g["id"]), json={"lat": -91.0}, headers=planner)
    assert "latitude" in _loc_msg(r)[1]
    assert client.get(url(ev, "gates", g["id"]), headers=planner).json()["lat"] == g["lat"]


@pytest.mark.parametrize("resource", ["gates", "posts", "devices"])
def test_point_zone_of_another_event_is_refused(client, planner, ev, venue, sessions, resource):
    other = make_event(client, planner, "EV2")
    foreign = _zone(client, planner, other, make_venue(client, planner, other))
    build = {"gates": gate_body, "posts": post_body, "devices": device_body}[resource]
    r = client.post(url(ev, resource), json=build(venue, zone_id=foreign["id"]), headers=planner)
    assert _loc_msg(r)[0] == ["body", "zone_id"]
    assert count(sessions, {"gates": Gate, "posts": Post, "devices": Device}[resource]) == 0


@pytest.mark.parametrize(("resource", "body", "loc"), [
    ("gates", {"kind": "door"}, ["body", "kind"]),
    ("gates", {"width_m": 0}, ["body", "width_m"]),
    ("gates", {"direction": "up"}, ["body", "direction"]),
    ("posts", {"police_type": "城管"}, ["body", "police_type"]),
    ("posts", {"min_staff": 0}, ["body", "min_staff"]),
    ("devices", {"kind": "radar"}, ["body", "kind"]),
    ("devices", {"status": "broken"}, ["body", "status"]),
])
def test_bad_point_fields_are_refused(client, planner, ev, venue, resource, body, loc):
    build = {"gates": gate_body, "posts": post_body, "devices": device_body}[resource]
    r = client.post(url(ev, resource), json=build(venue, **body), headers=planner)
    assert _loc_msg(r)[0] == loc


def test_duplicate_gate_code_is_refused(client, planner, ev, venue):
    created(client, url(ev, "gates"), gate_body(venue, "G1"), planner)
    assert _loc_msg(client.post(url(ev, "gates"), json=gate_body(venue, "G1"), headers=planner))[0] == [
        "body", "code"]


# -- roles ------------------------------------------------------------------------------------------

def test_analyst_reads_zones_but_cannot_write(client, planner, ev, venue, login, sessions):
    z = _zone(client, planner, ev, venue)
    analyst = login("analyst")
    r = client.get(url(ev, "zones"), headers=analyst)
    assert r.status_code == 200 and [x["code"] for x in r.json()] == ["Z1"]
    assert client.get(url(ev, "zones", z["id"]), headers=analyst).status_code == 200
    r = client.post(url(ev, "zones"), json=zone_body(venue, "Z2", geometry=square_zone(50, dx=300)), headers=analyst)
    assert r.status_code == 403 and "venue:write" in r.json()["detail"]
    assert client.patch(url(ev, "zones", z["id"]), json={"name": "x"}, headers=analyst).status_code == 403
    assert client.delete(url(ev, "zones", z["id"]), headers=analyst).status_code == 403
    assert client.post(url(ev, "gates"), json=gate_body(venue), headers=analyst).status_code == 403
    assert count(sessions, Zone) == 1 and count(sessions, Gate) == 0


def test_no_token_is_401(client, planner, ev, venue):
    r = client.get(url(ev, "zones"))
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert client.post(url(ev, "zones"), json=zone_body(venue)).status_code == 401
    assert client.get(url(ev, "zones"), headers={"Authorization": "Bearer junk"}).status_code == 401
