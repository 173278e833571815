"""Read routes of the command map: UI settings, the map FeatureCollection, its status, zone history."""

import math
from datetime import UTC, datetime, timedelta

import pytest
from shapely.geometry import Point, shape

from anbao.crowd import history
from anbao.live import mapdata
from anbao.live.ui_views import router as ui_router
from tests.factories_cli import LAT, LON, small_collection
from tests.test_permissions import _has_permission_check, _walk


@pytest.fixture
def site(client, login):
    """(url, headers by role, ids): the small venue, a video counter over Z2 (10,000 m2), a gate counter at G1."""
    h = {r: login(r) for r in ("planner", "gateway", "commander", "analyst")}
    ev = client.post("/api/v1/events", json={"code": "MAP", "name": "地图", "kind": "concert"},
                     headers=h["planner"]).json()
    url = f"/api/v1/events/{ev['id']}"
    assert client.post(f"{url}/venue-import", json=small_collection(), headers=h["planner"]).status_code == 200
    venue = client.get(f"{url}/venues", headers=h["planner"]).json()[0]["id"]
    ids = {z["code"]: z["id"] for z in client.get(f"{url}/zones", headers=h["planner"]).json()}
    ids |= {g["code"]: g["id"] for g in client.get(f"{url}/gates", headers=h["planner"]).json()}
    for code, kind, zone, props in (("VC1", "video_count", "Z2", {}), ("GC1", "gate_counter", "Z1", {}),
                                    ("SMK1", "smoke", "Z2", {})):
        r = client.post(f"{url}/devices", json={"venue_id": venue, "code": code, "name": code, "kind": kind,
                                                "zone_id": ids[zone], "lon": LON, "lat": LAT - 0.0009,
                                                "properties": props}, headers=h["planner"])
        assert r.status_code == 201, r.text
        ids[code] = r.json()["id"]
    client.app.state.watcher.paused = True
    return url, h, ids


def _post(client, url, h, items):
    r = client.post(f"{url}/readings", json=items, headers=h["gateway"])
    assert r.status_code == 200 and r.json()["accepted"] == len(items), r.text


def test_ui_config_needs_login_and_gives_the_settings(client, login):
    assert client.get("/api/v1/ui-config").status_code == 401
    body = client.get("/api/v1/ui-config", headers=login("analyst")).json()
    assert body["tile_url"] == "" and body["tile_gcj02"] is False and body["timezone"] == "Asia/Shanghai"
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert body["features"] == {"incidents": "/api/v1/events/{event_id}/incidents" in paths}
    again = client.get("/api/v1/ui-config", headers=login("analyst")).json()
    assert len(body["instance"]) == 12 and again["instance"] == body["instance"]  # the same server


def test_ui_config_gives_the_tile_settings(client, login, sessions, settings):
    client_instance = client.get("/api/v1/ui-config", headers=login("analyst")).json()["instance"]
    from fastapi.testclient import TestClient

    from anbao.app import create_app

    tiled = settings.model_copy(update={"tile_url": "http://tiles.local/{z}/{x}/{y}.png", "tile_gcj02": True})
    with TestClient(create_app(tiled)) as c:
        from anbao.account import service as accounts
        from anbao.account.schemas import UserCreate

        with sessions() as db:
            db.info["actor"] = "test"
            accounts.create(db=db, data=UserCreate(username="viewer", password="password-123", role="analyst"))
            db.commit()
        token = c.post("/api/v1/auth/login", json={"username": "viewer", "password": "password-123"}).json()
        body = c.get("/api/v1/ui-config", headers={"Authorization": f"Bearer {token['access_token']}"}).json()
    assert body["tile_url"] == "http://tiles.local/{z}/{x}/{y}.png" and body["tile_gcj02"] is True
    assert body["instance"] != client_instance  # another app (another bus): another instance


def test_every_route_declares_a_permission():
    routes = list(_walk(ui_router))
    assert len(routes) == 4
    assert [r.path for r in routes if not _has_permission_check(r.dependant)] == []


def test_map_is_one_feature_collection_with_health_and_queues(client, site):
    url, h, ids = site
    fc = client.get(f"{url}/map", headers=h["analyst"]).json()
    assert fc["type"] == "FeatureCollection" and fc["crs"] == "wgs84"
    layers = {}
    for f in fc["features"]:
        layers.setdefault(f["properties"]["layer"], []).append(f)
    assert {k: len(v) for k, v in layers.items()} == {"zone": 2, "gate": 1, "post": 1, "device": 4}
    assert [f["properties"]["code"] for f in layers["zone"]] == ["Z1", "Z2"]  # largest first
    for f in layers["zone"]:  # the label point lies inside its zone
        assert shape(f["geometry"]).contains(Point(f["properties"]["label"]))
    assert layers["post"][0]["properties"]["required"] == 4 and layers["post"][0]["properties"]["present"] == 0
    assert {f["properties"]["health"] for f in layers["device"]} == {"none"}
    gc = next(f for f in layers["device"] if f["properties"]["code"] == "GC1")
    assert gc["properties"]["gate_id"] == ids["G1"]  # nearest gate of its zone
    lon0, lat0, lon1, lat1 = fc["bbox"]
    assert lon0 < LON < lon1 and lat0 < LAT < lat1

    now = datetime.now(UTC).replace(microsecond=0)
    _post(client, url, h, [{"sensor": "GC1", "at": now.isoformat(), "value": 40,
                            "values": {"in": 40, "out": 0, "queue": 650, "wait_s": 900}},
                           {"sensor": "VC1", "at": now.isoformat(), "value": 120}])
    fc = client.get(f"{url}/map", headers=h["analyst"]).json()
    gate = next(f for f in fc["features"] if f["properties"]["layer"] == "gate")
    assert gate["properties"]["queue"] == 650 and gate["properties"]["wait_s"] == 900
    assert gate["properties"]["counters"] == ["GC1"]
    health = {f["properties"]["code"]: f["properties"]["health"] for f in fc["features"]
              if f["properties"]["layer"] == "device"}
    assert health == {"C1": "none", "GC1": "ok", "SMK1": "none", "VC1": "ok"}

    st = client.get(f"{url}/map-status", headers=h["analyst"]).json()
    assert st["gates"] == [{"gate_id": ids["G1"], "queue": 650.0, "wait_s": 900.0, "at": now.isoformat()[:19] + "Z"}]
    by_id = {d["device_id"]: d for d in st["devices"]}
    assert by_id[ids["VC1"]]["health"] == "ok" and by_id[ids["VC1"]]["value"] == 120
    assert by_id[ids["SMK1"]] == {"device_id": ids["SMK1"], "health": "none", "last_at": None, "value": None}


def test_static_map_is_tagged_and_not_sent_again_while_unchanged(client, site):
    """Issue 14: at 2,000 zones and 20,000 devices the map is 7.8 MB; a screen that has it asks with its ETag."""
    url, h, ids = site
    r = client.get(f"{url}/map?live=false", headers=h["analyst"])
    tag = r.headers["etag"]
    assert r.status_code == 200 and r.headers["cache-control"] == "private, no-cache" and "at" not in r.json()
    props = {f["properties"]["code"]: f["properties"] for f in r.json()["features"]}
    assert "health" not in props["VC1"] and "queue" not in props["G1"] and "present" not in props["P1"]
    assert props["GC1"]["gate_id"] == ids["G1"] and props["Z2"]["label"]
    _post(client, url, h, [{"sensor": "VC1", "at": datetime.now(UTC).isoformat(), "value": 120}])
    again = client.get(f"{url}/map?live=false", headers={**h["analyst"], "If-None-Match": tag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", tag)  # readings: no change
    r = client.patch(f"{url}/zones/{ids['Z1']}", json={"name": "外场"}, headers=h["planner"])
    assert r.status_code == 200, r.text
    edited = client.get(f"{url}/map?live=false", headers={**h["analyst"], "If-None-Match": tag})
    assert edited.status_code == 200 and edited.headers["etag"] != tag
    assert any(f["properties"]["name"] == "外场" for f in edited.json()["features"])
    r = client.delete(f"{url}/devices/{ids['SMK1']}", headers=h["planner"])
    assert r.status_code in (200, 204), r.text
    tag2 = edited.headers["etag"]
    assert client.get(f"{url}/map?live=false", headers={**h["analyst"], "If-None-Match": tag2}).status_code == 200


def test_map_status_since_lists_only_devices_that_may_have_changed(client, site):
    url, h, ids = site
    now = datetime.now(UTC)
    _post(client, url, h, [{"sensor": "VC1", "at": now.isoformat(), "value": 120},
                           {"sensor": "SMK1", "at": now.isoformat(), "value": 0.1}])
    first = client.get(f"{url}/map-status", headers=h["analyst"]).json()
    listed = {d["device_id"] for d in first["devices"]}
    assert len(listed) == 4 and {ids[c] for c in ("GC1", "SMK1", "VC1")} <= listed  # C1 too: never reported
    # nothing received after since - 10 s (the slack for readings received before an answer, stored after it)
    later = (datetime.fromisoformat(first["at"].replace("Z", "+00:00")) + timedelta(seconds=11)).isoformat()
    quiet = client.get(f"{url}/map-status", params={"since": later}, headers=h["analyst"]).json()
    assert quiet["devices"] == [] and quiet["gates"] == first["gates"]
    assert quiet["since"].startswith(later[:19])
    _post(client, url, h, [{"sensor": "VC1", "at": datetime.now(UTC).isoformat(), "value": 130}])
    moved = client.get(f"{url}/map-status", params={"since": first["at"]}, headers=h["analyst"]).json()
    values = {d["device_id"]: d["value"] for d in moved["devices"]}
    assert values[ids["VC1"]] == 130 and ids["GC1"] not in values  # GC1 never reported
    # a health boundary passed since: SMK1 last reported 65 s before the asked time + 10 s, so it went stale
    later = datetime.fromisoformat(moved["at"].replace("Z", "+00:00")) - timedelta(seconds=10)
    assert mapdata._moved(_Reading(now), later, now + timedelta(seconds=65))
    assert not mapdata._moved(_Reading(now), now + timedelta(seconds=61), now + timedelta(seconds=65))
    assert mapdata._moved(_Reading(now), now + timedelta(seconds=100), now + timedelta(seconds=120))
    assert not mapdata._moved(None, now, now + timedelta(seconds=600))
    r = client.get(f"{url}/map-status", params={"since": "yesterday"}, headers=h["analyst"])
    assert r.status_code == 422 and "since" in r.text


class _Reading:
    def __init__(self, received_at):
        self.received_at = received_at


def test_map_needs_sensing_and_venue_read(client, site, login):
    url, h, _ = site
    assert client.get(f"{url}/map", headers=h["gateway"]).status_code == 403  # no sensing:read
    assert client.get(f"{url}/map-status").status_code == 401
    assert client.get("/api/v1/events/999/map", headers=h["analyst"]).status_code == 404
    partner = login("partner", agency="消防")
    assert client.get(f"{url}/map", headers=partner).status_code == 404  # not shared


def test_zone_history_matches_zone_states_at_each_step(client, site):
    url, h, ids = site
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    # 10 s readings for 5 minutes: 5,000 -> 49,000 persons on 10,000 m2 (0.5 -> 4.9 persons/m2), then silence
    _post(client, url, h, [{"sensor": "VC1", "at": (t0 + timedelta(seconds=10 * i)).isoformat(),
                            "value": 5000 + 1500 * i} for i in range(30)])
    since, until = t0 - timedelta(minutes=2), t0 + timedelta(minutes=8)
    r = client.get(f"{url}/zone-history", params={"since": since.isoformat(), "until": until.isoformat(),
                                                  "step_s": 30}, headers=h["analyst"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["step_s"] == 30 and len(body["times"]) == 21 and body["levels"][4] == "red"
    assert body["data_since"] == t0.isoformat().replace("+00:00", "Z")
    z2 = next(z for z in body["zones"] if z["zone_id"] == ids["Z2"])
    z1 = next(z for z in body["zones"] if z["zone_id"] == ids["Z1"])
    assert set(z1["count"]) == {None}
    for k in (0, 4, 8, 10, 12, 20):
        at = body["times"][k]
        live = {s["zone_id"]: s for s in client.get(f"{url}/zone-states", params={"at": at},
                                                    headers=h["analyst"]).json()}[ids["Z2"]]
        assert (z2["count"][k], z2["density"][k], history.LEVELS[z2["level"][k]]) == \
            (live["count"], live["density"], live["level"]), at
    assert z2["count"][3] is None and z2["count"][4] == 5000  # the first reading is at step 4 (t0)
    assert max(z2["level"]) == 3  # 4.85 persons/m2 is orange
    assert z2["count"][20] is None  # silent for more than 60 s: no count, as in zone-states
    assert body["people"] == z2["count"]  # Z2 is the only counted zone

    one = client.get(f"{url}/zone-history", params={"zone_id": ids["Z2"], "since": since.isoformat(),
                                                    "until": until.isoformat(), "step_s": 30},
                     headers=h["analyst"]).json()
    assert [z["zone_id"] for z in one["zones"]] == [ids["Z2"]] and one["zones"][0] == z2


def test_zone_history_defaults_and_bad_input(client, site):
    url, h, ids = site
    body = client.get(f"{url}/zone-history", headers=h["analyst"]).json()
    assert body["step_s"] == 15 and 240 <= len(body["times"]) <= 242 and body["data_since"] is None
    now = datetime.now(UTC)
    cases = [({"since": now.isoformat(), "until": (now - timedelta(hours=1)).isoformat()}, 422, "since"),
             ({"since": (now - timedelta(hours=25)).isoformat()}, 422, "since"),
             ({"step_s": 2}, 422, "step_s"),
             ({"zone_id": 99999}, 404, None),
             ({"since": "2026-01-01T00:00:00"}, 422, "since"),
             ({"zone": 1}, 422, "zone")]
    for params, status, loc in cases:
        r = client.get(f"{url}/zone-history", params=params, headers=h["analyst"])
        assert r.status_code == status, (params, r.text)
        if loc:
            assert r.json()["detail"][0]["loc"] == ["query", loc], r.text
    assert client.get(f"{url}/zone-history", headers=h["gateway"]).status_code == 403


def test_label_point_of_a_ring_lies_in_the_ring():
    ring = [[10 * math.cos(a * math.pi / 25), 10 * math.sin(a * math.pi / 25)] for a in range(51)]
    hole = [[8 * math.cos(a * math.pi / 25), 8 * math.sin(a * math.pi / 25)] for a in range(51)][::-1]
    geom = {"type": "Polygon", "coordinates": [ring, hole]}
    assert shape(geom).contains(Point(mapdata.label_point(geom)))  # the centroid (0, 0) is in the hole
    assert mapdata.label_point({"type": "Point", "coordinates": [0, 0]}) is None


def test_people_on_site_counts_nested_zones_once():
    parents = {1: None, 2: 1, 3: 1, 4: None, 5: 4}
    assert history.people_on_site({1: None, 2: 10.0, 3: 5.0, 4: 7.0, 5: 3.0}, parents) == 22.0
    assert history.people_on_site({1: 100.0, 2: 10.0, 3: None, 4: None, 5: 3.0}, parents) == 103.0
    assert history.people_on_site({1: None, 2: None}, parents) is None


@pytest.mark.parametrize(("span", "step"), [(60, 5), (3600, 15), (3 * 3600, 60), (6 * 3600, 120), (24 * 3600, 600)])
def test_auto_step_is_round(span, step):
    assert history.auto_step(span) == step


def test_post_presence_counts_officers_of_units_near_it(client, site):
    """present = officers of units whose fresh fix is within 75 m of the post (each unit at its nearest post)."""
    url, h, _ids = site
    post = client.get(f"{url}/posts", headers=h["planner"]).json()[0]
    units = []
    for code, members in (("U1", 3), ("U2", 0), ("U3", 2)):
        u = client.post(f"{url}/units", headers=h["planner"], json={
            "code": code, "name": code, "call_sign": f"呼号{code}", "police_type": "治安"}).json()
        units.append(u)
        for k in range(members):
            assert client.post(f"{url}/persons", headers=h["planner"], json={
                "unit_id": u["id"], "name": f"民警{code}{k}", "badge_no": f"{code}{k:03d}"}).status_code == 201
    now = datetime.now(UTC).replace(microsecond=0)
    # metres to degrees near the post
    north = 1 / 111_320
    east = 1 / (111_320 * math.cos(math.radians(post["lat"])))
    fixes = [(units[0], 40 * north, 0, now - timedelta(seconds=20)),  # 40 m north: present, 3 officers
             (units[1], 0, 60 * east, now - timedelta(seconds=5)),  # 60 m east, no persons listed: counts 1
             (units[2], 90 * north, 0, now - timedelta(seconds=5))]  # 90 m away: not at the post
    for k, (u, dlat, dlon, at) in enumerate(fixes):
        r = client.post(f"{url}/positions", headers=h["commander"], json={
            "client_key": f"presence-{k}-{u['id']}", "unit_id": u["id"], "lon": post["lon"] + dlon,
            "lat": post["lat"] + dlat, "accuracy_m": 5, "at": at.isoformat()})
        assert r.status_code == 201, r.text
    status = client.get(f"{url}/map-status", headers=h["commander"]).json()
    here = next(p for p in status["posts"] if p["post_id"] == post["id"])
    assert here["present"] == 4 and sorted(here["units"]) == ["呼号U1", "呼号U2"]
    fc = client.get(f"{url}/map", headers=h["commander"]).json()
    props = next(f["properties"] for f in fc["features"] if f["properties"]["layer"] == "post")
    assert props["present"] == 4 and props["required"] == post["min_staff"]
    # U1 walks away: its newer fix leaves the post; an old fix (over 5 minutes) does not count either
    client.post(f"{url}/positions", headers=h["commander"], json={
        "client_key": f"presence-away-{units[0]['id']}", "unit_id": units[0]["id"], "lon": post["lon"],
        "lat": post["lat"] + 200 * north, "accuracy_m": 5, "at": now.isoformat()})
    client.post(f"{url}/positions", headers=h["commander"], json={
        "client_key": f"presence-old-{units[2]['id']}", "unit_id": units[2]["id"], "lon": post["lon"],
        "lat": post["lat"], "accuracy_m": 5, "at": (now - timedelta(minutes=6)).isoformat()})
    here = next(p for p in client.get(f"{url}/map-status", headers=h["commander"]).json()["posts"]
                if p["post_id"] == post["id"])
    assert here["present"] == 1 and here["units"] == ["呼号U2"]


def test_label_points_are_computed_once_per_zone_geometry(monkeypatch):
    """Issue 14: a pole of inaccessibility per zone and map request was most of the map's cost at 2,000 zones."""
    calls = []
    real = mapdata.label_point
    monkeypatch.setattr(mapdata, "label_point", lambda g: calls.append(1) or real(g))
    ring = {"type": "Polygon", "coordinates": [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]]}
    moved = {"type": "Polygon", "coordinates": [[[0, 0], [20, 0], [20, 20], [0, 20], [0, 0]]]}
    first = mapdata._label(987_654, ring)
    assert mapdata._label(987_654, ring) == first == real(ring) and len(calls) == 1
    assert mapdata._label(987_654, moved) == real(moved) and len(calls) == 2  # a new geometry is computed again
    assert mapdata._label(987_655, ring) == first and len(calls) == 3  # per zone


def test_zone_states_and_map_status_from_the_engine_match_storage(client, site):
    """Issue 14: zone-states and map-status come from the warning engine's memory while it keeps them fresh; what
    they say is what storage says (asked with ``at``, or with the engine paused)."""
    url, h, ids = site
    watcher = client.app.state.watcher
    now = datetime.now(UTC)
    _post(client, url, h, [{"sensor": "VC1", "at": (now - timedelta(seconds=2)).isoformat(), "value": 31_000},
                           {"sensor": "GC1", "at": now.isoformat(), "value": 40,
                            "values": {"in": 40, "out": 0, "queue": 650, "wait_s": 900}}])
    watcher.paused = False
    watcher.run_once()
    assert watcher.live_states(int(url.rsplit("/", 1)[1]), datetime.now(UTC), {}, {}) is not None
    kept = client.get(f"{url}/zone-states", headers=h["analyst"]).json()
    stored = client.get(f"{url}/zone-states", params={"at": datetime.now(UTC).isoformat()},
                        headers=h["analyst"]).json()
    keys = ("zone_id", "count", "density", "level", "source", "sensors_used", "seats", "occupancy_pct",
            "flow_in_per_min")
    assert [{k: s[k] for k in keys} for s in kept] == [{k: s[k] for k in keys} for s in stored]
    z2 = next(s for s in kept if s["zone_id"] == ids["Z2"])
    assert (z2["count"], z2["level"]) == (31_000, "yellow")  # 3.1 persons/m2
    from_engine = client.get(f"{url}/map-status", headers=h["analyst"]).json()
    watcher.paused = True
    from_storage = client.get(f"{url}/map-status", headers=h["analyst"]).json()
    assert from_engine["gates"] == from_storage["gates"] and from_engine["gates"][0]["queue"] == 650
    assert [(d["device_id"], d["health"], d["value"]) for d in from_engine["devices"]] == [
        (d["device_id"], d["health"], d["value"]) for d in from_storage["devices"]]
