"""API tests for the all-or-nothing GeoJSON venue import and the export that reads back unchanged."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from anbao.core.audit import AuditEntry
from anbao.venue.models import Device, Gate, Post, Venue, Zone
from tests.factories import (
    API,
    LAT,
    LON,
    VENUE_FEATURE_COUNTS,
    count_rows,
    feature,
    feature_collection,
    make_event,
    point_geometry,
    projection,
    square_zone,
    url,
)

MODELS = {"venue": Venue, "zone": Zone, "gate": Gate, "post": Post, "device": Device, "audit": AuditEntry}


def _import(client, headers, event_id: int, body: Any):
    return client.post(f"{API}/events/{event_id}/venue-import", json=body, headers=headers)


def _imported(client, headers, event_id: int, body: Any) -> dict[str, Any]:
    r = _import(client, headers, event_id, body)
    assert r.status_code == 200, r.text
    return r.json()


def _export(client, headers, event_id: int, venue_id: int) -> dict[str, Any]:
    r = client.get(f"{API}/events/{event_id}/venues/{venue_id}/geojson", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _counts(sessions, event_id: int | None = None) -> dict[str, int]:
    out = {}
    for name, model in MODELS.items():
        where = {} if event_id is None or name == "audit" else {"event_id": event_id}
        out[name] = count_rows(sessions, model, **where)
    return out


def _by_code(client, headers, event_id: int, resource: str) -> dict[str, dict[str, Any]]:
    r = client.get(url(event_id, resource), headers=headers)
    assert r.status_code == 200, r.text
    return {row["code"]: row for row in r.json()}


# -- a good file ------------------------------------------------------------------------------------

def test_import_creates_every_feature(client, planner, ev, sessions):
    result = _imported(client, planner, ev, feature_collection())
    assert result["created"] == VENUE_FEATURE_COUNTS
    assert result["updated"] == {}
    counts = _counts(sessions, ev)
    assert {k: counts[k] for k in VENUE_FEATURE_COUNTS} == VENUE_FEATURE_COUNTS
    assert counts["venue"] == 1

    venue = client.get(url(ev, "venues", result["venue_id"]), headers=planner).json()
    assert (venue["code"], venue["crs"], venue["ref_lon"], venue["ref_lat"]) == ("V1", "wgs84", 120.23, 30.23)

    zones = _by_code(client, planner, ev, "zones")
    assert {c: (z["kind"], z["ring"]) for c, z in zones.items()} == {
        "Z1": ("core", 1), "Z2": ("standing", 1), "Z3": ("stand", 1)}
    assert zones["Z1"]["parent_id"] is None
    assert zones["Z2"]["parent_id"] == zones["Z1"]["id"]
    assert zones["Z3"]["parent_id"] == zones["Z1"]["id"]
    assert zones["Z2"]["standing_capacity"] == 20000 and zones["Z3"]["seated_capacity"] == 8000
    assert zones["Z2"]["area_m2"] == pytest.approx(5000, rel=5e-3)
    assert zones["Z1"]["area_m2"] == pytest.approx(160_000, rel=5e-3)

    gates = _by_code(client, planner, ev, "gates")
    assert {c: (g["kind"], g["zone_id"], g["lanes"], g["direction"], g["stair"]) for c, g in gates.items()} == {
        "G1": ("gate", zones["Z1"]["id"], 8, "both", False),
        "K1": ("checkpoint", zones["Z1"]["id"], 10, "in", False),
        "E1": ("exit", zones["Z1"]["id"], 1, "out", True),
    }
    lon, lat = projection().inverse(0, -200)
    assert (gates["G1"]["lon"], gates["G1"]["lat"]) == (pytest.approx(lon, abs=1e-12), pytest.approx(lat, abs=1e-12))

    posts = _by_code(client, planner, ev, "posts")
    assert {c: (p["police_type"], p["zone_id"], p["min_staff"], p["critical"], p["skills"])
            for c, p in posts.items()} == {
        "P1": ("public_order", zones["Z2"]["id"], 4, True, []),
        "P2": ("traffic", zones["Z1"]["id"], 1, False, ["疏导"]),
    }
    devices = _by_code(client, planner, ev, "devices")
    assert {c: (d["kind"], d["zone_id"], d["unit_of_measure"]) for c, d in devices.items()} == {
        "C1": ("camera", zones["Z2"]["id"], ""), "S1": ("smoke", zones["Z3"]["id"], "ppm")}


def test_child_zone_before_its_parent_in_the_file(client, planner, ev):
    fc = feature_collection()
    fc["features"] = list(reversed(fc["features"]))
    result = _imported(client, planner, ev, fc)
    assert result["created"] == VENUE_FEATURE_COUNTS
    zones = _by_code(client, planner, ev, "zones")
    assert zones["Z2"]["parent_id"] == zones["Z1"]["id"]


def test_importing_the_same_file_again_only_updates(client, planner, ev, sessions):
    first = _imported(client, planner, ev, feature_collection())
    rows_before = {r: _by_code(client, planner, ev, r) for r in ("venues", "zones", "gates", "posts", "devices")}
    counts_before = _counts(sessions)

    second = _imported(client, planner, ev, feature_collection())

    assert second["venue_id"] == first["venue_id"]
    assert second["created"] == {}
    assert second["updated"] == VENUE_FEATURE_COUNTS
    # same rows, same ids, same values, not even updated_at moved; no audit entries
    assert _counts(sessions) == counts_before
    assert {r: _by_code(client, planner, ev, r) for r in ("venues", "zones", "gates", "posts", "devices")} == (
        rows_before)


def test_reimport_applies_changes_to_existing_rows(client, planner, ev):
    _imported(client, planner, ev, feature_collection())
    fc = feature_collection()
    fc["features"][0]["properties"]["name"] = "场馆(改)"
    fc["features"][3]["properties"]["lanes"] = 2
    result = _imported(client, planner, ev, fc)
    assert result["created"] == {}
    assert _by_code(client, planner, ev, "zones")["Z1"]["name"] == "场馆(改)"
    assert _by_code(client, planner, ev, "gates")["G1"]["lanes"] == 2


def _strip_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_ids(v) for k, v in value.items() if k != "id" and not k.endswith("_id")}
    if isinstance(value, list):
        return [_strip_ids(v) for v in value]
    return value


def test_export_then_import_into_another_event_round_trips(client, planner, ev, sessions):
    first = _imported(client, planner, ev, feature_collection())
    exported = _export(client, planner, ev, first["venue_id"])
    assert exported["type"] == "FeatureCollection"
    assert len(exported["features"]) == sum(VENUE_FEATURE_COUNTS.values())
    assert exported["venue"]["ref"] == [120.23, 30.23]

    other = make_event(client, planner, "EV2")
    second = _imported(client, planner, other, copy.deepcopy(exported))
    assert second["created"] == VENUE_FEATURE_COUNTS
    assert second["venue_id"] != first["venue_id"]
    again = _export(client, planner, other, second["venue_id"])

    assert again["venue"] == exported["venue"]
    props = [_strip_ids(f["properties"]) for f in exported["features"]]
    assert [_strip_ids(f["properties"]) for f in again["features"]] == props
    assert [f["geometry"] for f in again["features"]] == [f["geometry"] for f in exported["features"]]
    # references are codes, and they point at the new event's own rows
    zones = _by_code(client, planner, other, "zones")
    assert zones["Z2"]["parent_id"] == zones["Z1"]["id"]
    assert {z["event_id"] for z in zones.values()} == {other}
    assert _counts(sessions, ev)["zone"] == _counts(sessions, other)["zone"] == 3


def test_export_of_a_missing_venue_is_404(client, planner, ev):
    assert client.get(f"{API}/events/{ev}/venues/999/geojson", headers=planner).status_code == 404


# -- a bad feature in the middle ----------------------------------------------------------------------

def _bow_tie() -> dict[str, Any]:
    proj = projection()
    pts = [(-50, -50), (50, 50), (50, -50), (-50, 50), (-50, -50)]
    return {"type": "Polygon", "coordinates": [[list(proj.inverse(x, y)) for x, y in pts]]}


def _exit(**changes: Any) -> dict[str, Any]:
    props = {"kind": "exit", "code": "E1", "name": "东疏散口", "zone": "Z1", "width_m": 8.0}
    geometry = changes.pop("geometry", point_geometry(200, 0))
    props.update(changes)
    return feature(geometry, **props)


BAD_FEATURE_5 = [
    pytest.param(feature(_bow_tie(), kind="zone", code="Z5", name="坏区域", zone_kind="core", ring=1),
                 "Self-intersection", "geometry", id="self-intersecting-zone"),
    pytest.param(feature(square_zone(50, dx=300), kind="zone", code="Z5", name="远", zone_kind="core", ring=1,
                         parent="NOPE"),
                 "'NOPE'", "parent", id="unknown-parent-zone"),
    pytest.param(feature(square_zone(50, dx=300), kind="zone", code="Z5", name="x", zone_kind="草坪", ring=1),
                 "zone_kind", "zone_kind", id="unknown-zone-kind"),
    pytest.param(_exit(kind="tower"), "unknown kind 'tower'", "kind", id="unknown-kind"),
    pytest.param(_exit(code="G1"), "duplicate code 'G1'", "code", id="duplicate-code"),
    pytest.param(_exit(geometry=None), "Point", "geometry", id="missing-point"),
    pytest.param(_exit(geometry=square_zone(20)), "Point", "geometry", id="polygon-for-a-point"),
    pytest.param(_exit(zone="NOPE"), "'NOPE'", "zone", id="unknown-zone-reference"),
    pytest.param(_exit(width_m=-1), "width_m", "width_m", id="negative-width"),
    pytest.param(_exit(geometry={"type": "Point", "coordinates": [30.23, 120.23]}), "swapped", "geometry",
                 id="swapped-point"),
    pytest.param(_exit(geometry={"type": "Point", "coordinates": [LON + 1.0, LAT]}), "km from the venue",
                 "geometry", id="point-96-km-away"),
    pytest.param(feature(point_geometry(5, 5), kind="post", code="P5", name="坏岗位", police_type="城管"),
                 "police_type", "police_type", id="unknown-police-type"),
    pytest.param({"type": "Feature", "geometry": point_geometry(1, 1)}, "properties", "properties",
                 id="no-properties"),
    pytest.param(["not", "a", "feature"], "not a GeoJSON Feature", None, id="not-a-feature"),
]


def _assert_names_feature_5(r, fragment: str, last: str | None) -> None:
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert len(detail) == 1
    loc, msg = detail[0]["loc"], detail[0]["msg"]
    assert "feature 5" in msg, msg
    assert fragment in msg, msg
    assert loc[:3] == ["body", "features", 5], loc
    if last is not None:
        assert loc[-1] == last, loc


@pytest.mark.parametrize(("bad", "fragment", "last"), BAD_FEATURE_5)
def test_bad_feature_5_in_a_new_venue_writes_nothing(client, planner, ev, sessions, bad, fragment, last):
    fc = feature_collection()
    fc["features"][5] = bad
    before = _counts(sessions)

    r = _import(client, planner, ev, fc)

    _assert_names_feature_5(r, fragment, last)
    assert _counts(sessions) == before
    assert before["venue"] == 0
    assert client.get(url(ev, "venues"), headers=planner).json() == []


@pytest.mark.parametrize(("bad", "fragment", "last"), BAD_FEATURE_5)
def test_bad_feature_5_in_an_existing_venue_changes_nothing(client, planner, ev, sessions, bad, fragment, last):
    _imported(client, planner, ev, feature_collection())
    zones_before = _by_code(client, planner, ev, "zones")
    before = _counts(sessions)

    fc = feature_collection()
    fc["venue"]["name"] = "改名的场馆"
    fc["features"][0]["properties"]["name"] = "改名的区域"
    fc["features"][5] = bad
    fc["features"].append(feature(point_geometry(20, 20), kind="camera", code="C9", name="新摄像机"))
    r = _import(client, planner, ev, fc)

    _assert_names_feature_5(r, fragment, last)
    assert _counts(sessions) == before
    assert _by_code(client, planner, ev, "zones") == zones_before
    assert [v["name"] for v in client.get(url(ev, "venues"), headers=planner).json()] == ["奥体中心体育场"]
    assert "C9" not in _by_code(client, planner, ev, "devices")


def test_feature_index_is_the_files_not_the_processing_order(client, planner, ev, sessions):
    # zones are stored before points; a bad zone late in the file still names its own index
    fc = feature_collection()
    fc["features"].append(feature(_bow_tie(), kind="zone", code="Z9", name="坏", zone_kind="core", ring=1))
    r = _import(client, planner, ev, fc)
    assert r.status_code == 422
    assert "feature 10" in r.json()["detail"][0]["msg"]
    assert r.json()["detail"][0]["loc"][:3] == ["body", "features", 10]
    assert _counts(sessions)["venue"] == 0


# -- not a FeatureCollection ------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "loc"), [
    pytest.param({"type": "Feature", "geometry": None, "properties": {}}, ["body", "type"], id="a-feature"),
    pytest.param({"features": []}, ["body", "type"], id="no-type"),
    pytest.param({"type": "FeatureCollection", "venue": {"code": "V1", "name": "x"}}, ["body", "features"],
                 id="no-features"),
    pytest.param({"type": "FeatureCollection", "features": {}}, ["body", "features"], id="features-not-a-list"),
    pytest.param({"type": "FeatureCollection", "features": []}, ["body", "venue"], id="no-venue"),
    pytest.param({"type": "FeatureCollection", "venue": {"code": "bad code", "name": "x"}, "features": []},
                 ["body", "venue", "code"], id="bad-venue-code"),
    pytest.param([1, 2, 3], ["body"], id="a-list"),
])
def test_body_that_is_not_a_venue_collection_is_422(client, planner, ev, sessions, body, loc):
    before = _counts(sessions)
    r = _import(client, planner, ev, body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][:len(loc)] == loc
    assert _counts(sessions) == before


def test_not_json_at_all_is_422(client, planner, ev):
    r = client.post(f"{API}/events/{ev}/venue-import", content=b"<kml/>",
                    headers={**planner, "Content-Type": "application/json"})
    assert r.status_code == 422


# -- who may import ---------------------------------------------------------------------------------

def test_analyst_cannot_import_but_can_export(client, planner, ev, login, sessions):
    first = _imported(client, planner, ev, feature_collection())
    analyst = login("analyst")
    r = _import(client, analyst, ev, feature_collection(venue_code="V2"))
    assert r.status_code == 403
    assert _counts(sessions, ev)["venue"] == 1
    assert len(_export(client, analyst, ev, first["venue_id"])["features"]) == 10


def test_import_needs_a_login_and_an_event(client, planner):
    assert client.post(f"{API}/events/1/venue-import", json=feature_collection()).status_code == 401
    assert _import(client, planner, 999, feature_collection()).status_code == 404
