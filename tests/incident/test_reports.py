"""Field reports and unit positions: idempotent by client_key, zone by position, photo kept, live push."""

import base64
from datetime import UTC, datetime, timedelta

import pytest

from tests.alert.conftest import ops  # noqa: F401  (ops is a fixture)
from tests.factories import link_user
from tests.factories_cli import LAT, LON


def _jpeg() -> str:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "JPEG")
    return base64.b64encode(out.getvalue()).decode()


JPEG = _jpeg()  # a real image: photos are checked to be images


def _unit(client, url, h, ids):
    r = client.post(f"{url}/units", json={"code": "U1", "name": "巡逻一组", "call_sign": "巡1", "police_type": "治安",
                                         "command_node_id": ids["G-XCAB"]}, headers=h["planner"])
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_a_report_is_stored_once_with_its_zone_photo_and_timeline(client, ops):  # noqa: F811
    url, event_id, h, ids = ops
    got = []
    client.app.state.bus.subscribe(f"event/{event_id}/incident", got.append)
    unit = _unit(client, url, h, ids)
    # Z2 (standing floor, 100 m x 100 m) lies inside Z1 (the venue): the smaller zone is taken
    z2 = client.get(f"{url}/zones/{ids['Z2']}", headers=h["analyst"]).json()["geometry"]["coordinates"][0]
    lon = sum(p[0] for p in z2[:4]) / 4
    lat = sum(p[1] for p in z2[:4]) / 4
    body = {"client_key": "phone-0001-aaaa", "type": "打架斗殴", "text": "内场B区两人争执", "lon": lon, "lat": lat,
            "accuracy_m": 8, "unit_id": unit, "photo": f"data:image/jpeg;base64,{JPEG}",
            "at": (datetime.now(UTC) - timedelta(seconds=30)).isoformat()}
    r = client.post(f"{url}/incidents", json=body, headers=h["officer"])
    assert r.status_code == 201, r.text
    first = r.json()
    assert (first["type"], first["type_zh"], first["zone_id"], first["has_photo"], first["status"]) == (
        "fight", "打架斗殴", ids["Z2"], True, "new")
    again = client.post(f"{url}/incidents", json=body, headers=h["officer"])  # replayed by the offline queue
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    listed = client.get(f"{url}/incidents", headers=h["analyst"]).json()
    assert [i["id"] for i in listed] == [first["id"]]
    photo = client.get(f"{url}/incidents/{first['id']}/photo", headers=h["analyst"])
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert photo.content == base64.b64decode(JPEG)
    assert [m.payload["id"] for m in got] == [first["id"]]  # pushed once, on commit
    steps = client.get(f"{url}/timeline?kind=incident", headers=h["analyst"]).json()
    assert len(steps) == 1 and steps[0]["text"] == "user:officer 上报打架斗殴警情（民警上报）：内场B区两人争执"


@pytest.mark.parametrize(("change", "loc"), [
    ({"client_key": "short"}, ["body", "client_key"]),
    ({"type": "riot"}, ["body", "type"]),
    ({"lon": 200.0}, ["body", "lon"]),
    ({"lat": None}, ["body", "lat"]),
    ({"photo": "http://example.com/a.jpg"}, ["body", "photo"]),
    ({"photo": "data:image/jpeg;base64," + "A" * (6 * 1024 * 1024)}, ["body", "photo"]),
    ({"unit_id": 9999}, ["body", "unit_id"]),
    ({"at": "2026-11-24T10:00:00"}, ["body", "at"]),
    ({"at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}, ["body", "at"]),
])
def test_bad_reports_are_refused_with_the_field_and_store_nothing(client, ops, change, loc):  # noqa: F811
    url, _eid, h, _ids = ops
    body = {"client_key": "phone-0002-bbbb", "type": "theft", "text": "手机被盗", "lon": LON, "lat": LAT, **change}
    r = client.post(f"{url}/incidents", json=body, headers=h["officer"])
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == loc
    assert client.get(f"{url}/incidents", headers=h["analyst"]).json() == []


def test_who_may_report(client, ops):  # noqa: F811
    url, _eid, h, _ids = ops
    body = {"client_key": "phone-0003-cccc", "type": "other"}
    assert client.post(f"{url}/incidents", json=body, headers=h["analyst"]).status_code == 403
    assert client.post(f"{url}/incidents", json=body, headers=h["gateway"]).status_code == 403
    assert client.post(f"{url}/incidents", json=body).status_code == 401
    r = client.post(f"{url}/incidents", json=body, headers=h["dispatcher"])
    assert r.status_code == 201 and r.json()["zone_id"] is None and r.json()["has_photo"] is False


def test_positions_are_idempotent_and_the_newest_per_unit_is_served(client, ops):  # noqa: F811
    url, event_id, h, ids = ops
    unit = _unit(client, url, h, ids)
    got = []
    client.app.state.bus.subscribe(f"event/{event_id}/unit-position", got.append)
    first = {"client_key": "pos-0000-xyz", "unit_id": unit, "lon": LON, "lat": LAT,
             "at": datetime.now(UTC).isoformat()}
    r = client.post(f"{url}/positions", json=first, headers=h["officer"])  # not linked to the unit yet
    assert r.status_code == 403 and "acts only for its own units" in r.json()["detail"], r.text
    link_user(client, h["officer"], unit, by=h["dispatcher"])
    now = datetime.now(UTC).replace(microsecond=0)
    for i, dt in enumerate((60, 30, 45)):  # the newest by time is the second one, whatever the order of arrival
        r = client.post(f"{url}/positions", json={"client_key": f"pos-{i:04d}-xyz", "unit_id": unit,
                                                   "lon": LON + i * 1e-4, "lat": LAT, "accuracy_m": 5,
                                                   "at": (now - timedelta(seconds=dt)).isoformat()},
                        headers=h["officer"])
        assert r.status_code == 201, r.text
    dup = client.post(f"{url}/positions", json={"client_key": "pos-0001-xyz", "unit_id": unit, "lon": 0, "lat": 0,
                                                "at": now.isoformat()}, headers=h["officer"])
    assert dup.status_code == 200 and dup.json()["lon"] == pytest.approx(LON + 1e-4)
    [latest] = client.get(f"{url}/unit-positions", headers=h["analyst"]).json()
    assert (latest["unit_id"], latest["call_sign"], latest["lon"]) == (unit, "巡1", pytest.approx(LON + 1e-4))
    assert len(got) == 3
    r = client.post(f"{url}/positions", json={"client_key": "pos-0009-xyz", "unit_id": 9999, "lon": LON, "lat": LAT,
                                              "at": now.isoformat()}, headers=h["dispatcher"])
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "unit_id"]


def test_a_replayed_task_status_is_harmless(client, ops):  # noqa: F811
    url, _eid, h, _ids = ops
    unit = client.post(f"{url}/units", json={"code": "U1", "name": "巡逻组", "call_sign": "巡1", "police_type": "治安"},
                       headers=h["planner"]).json()["id"]
    link_user(client, h["officer"], unit, by=h["dispatcher"])  # an officer acts on its own unit's tasks
    task = client.post(f"{url}/tasks", json={"title": "巡查内场", "unit_id": unit}, headers=h["dispatcher"]).json()
    base = f"{url}/tasks/{task['id']}/status"
    assert client.post(base, json={"status": "accepted"}, headers=h["officer"]).status_code == 200
    r = client.post(base, json={"status": "accepted"}, headers=h["officer"])
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    kinds = [s["kind"] for s in client.get(f"{url}/timeline?subject=task:{task['id']}", headers=h["analyst"]).json()]
    assert kinds == ["task.created", "task.accepted"]
