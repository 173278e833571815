"""Minimum cover at critical posts, reinforcement, closures CRUD and the corridor check, on a street grid."""

from __future__ import annotations

import pytest

from tests.dispatch.conftest import Ops, lonlat, post


def _box(x0: float, y0: float, x1: float, y1: float) -> dict:
    ring = [list(lonlat(x, y)) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))]
    return {"type": "Polygon", "coordinates": [ring]}


def test_min_cover_keeps_a_critical_post_staffed(venue_ops: Ops) -> None:
    ops = venue_ops
    r = ops.client.patch(f"{ops.url}/posts/{ops.ids['P1']}", json={"critical": True}, headers=ops.h["planner"])
    assert r.status_code == 200
    at_p1 = lonlat(12, 8)  # P1 stands at (10, 10) local metres, minimum 4
    ops.unit("U1", persons=3, at=at_p1)  # 3 officers
    ops.unit("U3", at=at_p1)  # no persons: counts as one
    ops.unit("U4", persons=2, at=lonlat(30, 30))  # 28 m away: present too -> 6 present
    ops.unit("FREE", persons=2, at=lonlat(300, 300))
    incident = ops.incident(lonlat(200, 100))
    body = ops.recommend(incident, k=10).json()
    excluded = {e["call_sign"]: e for e in body["excluded"]}
    assert set(excluded) == {"CS-U1"} and excluded["CS-U1"]["reason"] == "min_cover"
    assert "P1" in excluded["CS-U1"]["detail"] and "在岗 6 人，最少 4 人" in excluded["CS-U1"]["detail"]
    assert sorted(u["call_sign"] for u in body["units"]) == ["CS-FREE", "CS-U3", "CS-U4"]
    # a non-critical post gives no protection; a stale position does not count as present
    ops.client.patch(f"{ops.url}/posts/{ops.ids['P1']}", json={"critical": False}, headers=ops.h["planner"])
    body = ops.recommend(incident, k=10).json()
    assert body["excluded"] == [] and len(body["units"]) == 4
    # incident without a position: routed to its zone's centre
    ops.client.patch(f"{ops.url}/posts/{ops.ids['P1']}", json={"critical": True}, headers=ops.h["planner"])
    zonal = ops.incident(None, zone_id=ops.ids["Z2"])
    body = ops.recommend(zonal, k=1).json()
    assert body["target_from"] == "zone" and body["target"] == pytest.approx(list(lonlat(0, 0)), abs=1e-6)
    assert body["units"][0]["route"] == "road"


def test_reinforcement_takes_surplus_first_non_critical_before_critical(venue_ops: Ops) -> None:
    ops = venue_ops
    post(ops, "PA", 300, 0, min_staff=2)  # non-critical, 300 m east
    post(ops, "PB", -150, 0, min_staff=2, critical=True)  # critical, nearer
    post(ops, "PC", 0, 400, min_staff=4)  # non-critical, at its minimum
    ops.unit("A1", persons=3, at=lonlat(300, 5))
    ops.unit("A2", persons=2, at=lonlat(305, 0), status="busy")  # counts, never moves
    ops.unit("B1", persons=4, at=lonlat(-150, 5))
    ops.unit("C1", persons=4, at=lonlat(0, 405))
    ops.unit("IN", persons=5, at=lonlat(5, 5))  # at P1, inside the zone that needs help: not a source

    def ask(need: int, **extra) -> dict:
        r = ops.client.get(f"{ops.url}/reinforcement", params={"zone_id": ops.ids["Z2"], "need": need, **extra},
                           headers=ops.h["dispatcher"])
        assert r.status_code == 200, r.text
        return r.json()

    body = ask(3)
    # PA: 5 present, min 2 -> 3 spare, all from A1 (A2 is busy): no critical post touched though PB is nearer
    assert [(m["post_code"], m["call_sign"], m["officers"], m["below_min"]) for m in body["moves"]] == [
        ("PA", "CS-A1", 3, False)]
    assert (body["released"], body["short"], body["network"]) == (3, 0, "road")
    move = body["moves"][0]
    assert move["route"] == "road" and move["mode"] == "foot" and move["eta_s"] > 300 / 1.3
    assert move["path"]["coordinates"][0] == pytest.approx(list(lonlat(300, 5)), abs=1e-7)
    cover = {c["post_code"]: c for c in body["posts"]}
    assert (cover["PA"]["present"], cover["PA"]["releases"], cover["PA"]["left"]) == (5, 3, 2)
    assert "P1" not in cover
    body = ask(6)
    # then the critical post's surplus (PB: 4 present, min 2 -> 2 of B1's 4), then short by 1
    assert [(m["post_code"], m["officers"], m["unit_officers"]) for m in body["moves"]] == [("PB", 2, 4), ("PA", 3, 3)]
    assert (body["released"], body["short"]) == (5, 1) and "尚缺 1 人" in body["message"]
    body = ask(6, below_min="true")
    assert {(m["post_code"], m["below_min"]) for m in body["moves"]} >= {("PC", True)}
    assert body["short"] == 0 and {c["post_code"]: c["left"] for c in body["posts"]}["PB"] == 2
    r = ops.client.get(f"{ops.url}/reinforcement", params={"zone_id": 999_999, "need": 1}, headers=ops.h["analyst"])
    assert r.status_code == 404
    r = ops.client.get(f"{ops.url}/reinforcement", params={"zone_id": ops.ids["Z2"], "need": 0},
                       headers=ops.h["analyst"])
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "need"]


def test_closures_crud_validation(venue_ops: Ops) -> None:
    ops = venue_ops
    url = f"{ops.url}/road-closures"
    good = {"name": "南侧封路", "geometry": {"type": "LineString", "coordinates": [list(lonlat(-500, -100)),
                                                                                  list(lonlat(500, -100))]},
            "starts_at": "2026-12-19T17:00:00+08:00", "ends_at": "2026-12-19T23:30:00+08:00",
            "applies_to": "everyone", "reason": "散场人行通道"}
    r = ops.client.post(url, json=good, headers=ops.h["planner"])
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["starts_at"] == "2026-12-19T09:00:00Z" and made["enabled"] is True
    for bad, loc, words in (
        ({**good, "geometry": {"type": "Point", "coordinates": [120.2, 30.2]}}, "geometry", "LineString"),
        ({**good, "geometry": {"type": "Polygon", "coordinates": [[[120.2, 30.2], [120.3, 30.2], [120.3, 30.3]]]}},
         "geometry", "at least 4"),
        ({**good, "geometry": {"type": "LineString", "coordinates": [[30.2, 120.2], [30.3, 120.2]]}},
         "geometry", "latitude"),
        ({**good, "ends_at": "2026-12-19T16:00:00+08:00"}, "ends_at", "after starts_at"),
        ({**good, "applies_to": "bicycles"}, "applies_to", ""),
        ({**good, "starts_at": "2026-12-19T17:00:00"}, "starts_at", ""),
    ):
        r = ops.client.post(url, json=bad, headers=ops.h["planner"])
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["detail"][0]["loc"][:2] == ["body", loc] and words in r.json()["detail"][0]["msg"]
    r = ops.client.patch(f"{url}/{made['id']}", json={"ends_at": "2026-12-19T10:00:00+08:00"},
                         headers=ops.h["planner"])
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "ends_at"]
    assert ops.client.post(url, json=good, headers=ops.h["dispatcher"]).status_code == 403
    assert len(ops.client.get(url, headers=ops.h["analyst"]).json()) == 1
    assert ops.client.get(url, params={"enabled": "false"}, headers=ops.h["analyst"]).json() == []
    assert ops.client.delete(f"{url}/{made['id']}", headers=ops.h["planner"]).status_code == 204


def test_corridor_check_finds_a_zone_cut_off(venue_ops: Ops) -> None:
    ops = venue_ops
    body = ops.client.get(f"{ops.url}/corridors", headers=ops.h["analyst"]).json()
    assert {z["zone_code"]: z["status"] for z in body["zones"]} == {"Z1": "ok", "Z2": "ok"}
    assert body["closures"] == 0 and body["access_points"] > 20
    z2 = next(z for z in body["zones"] if z["zone_code"] == "Z2")
    assert z2["in_open_s"] == z2["in_closed_s"] > 0 and z2["snap_m"] == pytest.approx(0, abs=0.5)
    # a closure ring round the venue (roads 150-250 m out) cuts both zones off for cars
    ring = {"type": "Polygon", "coordinates": [_box(-250, -250, 250, 250)["coordinates"][0],
                                               _box(-150, -150, 150, 150)["coordinates"][0][::-1]]}
    r = ops.client.post(f"{ops.url}/road-closures", headers=ops.h["planner"], json={
        "name": "外围交通管制", "geometry": ring, "applies_to": "vehicles", "starts_at": "2020-01-01T00:00:00Z"})
    assert r.status_code == 201, r.text
    later = {"name": "明日管制", "geometry": _box(-20, -20, 20, 20), "applies_to": "everyone",
             "starts_at": "2099-01-01T00:00:00Z"}
    assert ops.client.post(f"{ops.url}/road-closures", json=later, headers=ops.h["planner"]).status_code == 201
    assert r.json()["exempt"] == ["emergency", "police"]  # 交通管制 lets police and emergency vehicles through
    body = ops.client.get(f"{ops.url}/corridors", headers=ops.h["analyst"]).json()
    assert (body["vehicle"], body["closures"], body["exempted"]) == ("emergency", 1, 1)
    assert [(z["zone_code"], z["status"]) for z in body["zones"]] == [("Z1", "ok"), ("Z2", "ok")]
    body = ops.client.get(f"{ops.url}/corridors", params={"vehicle": "civilian"}, headers=ops.h["analyst"]).json()
    assert (body["vehicle"], body["closures"], body["exempted"]) == ("civilian", 1, 0)
    assert [(z["zone_code"], z["status"]) for z in body["zones"]] == [("Z1", "unreachable"), ("Z2", "unreachable")]
    assert body["zones"][0]["in_open_s"] > 0 and body["zones"][0]["in_closed_s"] is None
    bad = ops.client.get(f"{ops.url}/corridors", params={"vehicle": "tank"}, headers=ops.h["analyst"])
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "vehicle"]
    # an ambulance crosses it, and says so; a volunteer's van cannot; on foot the ring is open
    ops.unit("CAR", police_type="medical", equipment=["救护车"], at=lonlat(400, 400))
    ops.unit("VAN", police_type="volunteer", equipment=["保障车"], at=lonlat(400, 395))
    ops.unit("WALK", at=lonlat(400, 390))
    reply = ops.recommend(ops.incident(lonlat(0, 0)), k=5).json()
    assert [u["call_sign"] for u in reply["units"]] == ["CS-CAR", "CS-WALK"]
    car = reply["units"][0]
    assert (car["route"], car["exempt_as"], car["note"]) == ("road", "emergency", "经管制路段（应急车辆放行）")
    assert reply["units"][1]["note"] == "" and reply["units"][1]["exempt_as"] is None
    assert reply["excluded"] == [{"unit_id": ops.ids["VAN"], "call_sign": "CS-VAN", "reason": "unreachable",
                                  "detail": "no path under the closures in force"}]
    # the planner withdraws the exemptions: the ambulance is stopped too
    r = ops.client.patch(f"{ops.url}/road-closures/{r.json()['id']}", json={"exempt": []}, headers=ops.h["planner"])
    assert r.status_code == 200 and r.json()["exempt"] == []
    reply = ops.recommend(ops.incident(lonlat(0, 0)), k=5).json()
    assert [u["call_sign"] for u in reply["units"]] == ["CS-WALK"]
    assert {e["call_sign"] for e in reply["excluded"]} == {"CS-CAR", "CS-VAN"}


def test_corridors_need_a_network(ops: Ops) -> None:
    r = ops.client.get(f"{ops.url}/corridors", headers=ops.h["analyst"])
    assert r.status_code == 409 and "no road network" in r.json()["detail"]


def test_a_moved_state_directory_is_followed_and_a_lost_file_is_409(venue_ops: Ops, settings) -> None:
    from sqlalchemy import update

    from anbao.dispatch import graphs
    from anbao.dispatch.models import RoadNetwork

    ops = venue_ops
    with ops.sessions() as db:
        stored = db.query(RoadNetwork).one().path
        db.execute(update(RoadNetwork).values(path=f"/elsewhere/var/roads/{stored.rsplit('/', 1)[-1]}"))
        db.commit()
    graphs.clear()
    r = ops.client.get(f"{ops.url}/corridors", headers=ops.h["analyst"])
    assert r.status_code == 200, r.text  # found under this server's var/roads by its name
    for f in (settings.var_dir / "roads").glob("*.geojson"):
        f.unlink()
    graphs.clear()
    r = ops.client.get(f"{ops.url}/corridors", headers=ops.h["analyst"])
    assert r.status_code == 409 and "missing on this server" in r.json()["detail"]
    ops.unit("U", at=lonlat(100, 100))
    r = ops.recommend(ops.incident(lonlat(0, 0)))
    assert r.status_code == 409 and "upload the network again" in r.json()["detail"]
