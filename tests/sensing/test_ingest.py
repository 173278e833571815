"""HTTP ingest: per-item verdicts, NDJSON, idempotency keys, permissions; on SQLite and PostgreSQL."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.factories_cli import small_collection

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


@pytest.fixture
def setup(client, login):
    h = login("planner")
    ev = client.post("/api/v1/events", json={"code": "S", "name": "感知", "kind": "concert"}, headers=h).json()
    fc = small_collection()
    fc["features"].append({"type": "Feature", "geometry": fc["features"][4]["geometry"],
                           "properties": {"kind": "wifi_probe", "code": "W1", "name": "探针", "zone": "Z1"}})
    assert client.post(f"/api/v1/events/{ev['id']}/venue-import", json=fc, headers=h).status_code == 200
    return f"/api/v1/events/{ev['id']}", login("gateway"), h


def _r(sensor, minutes, value=None, key=None, **extra):
    item = {"sensor": sensor, "at": (T0 + timedelta(minutes=minutes)).isoformat(), **extra}
    if value is not None:
        item["value"] = value
    if key is not None:
        item["idempotency_key"] = key
    return item


def test_good_items_are_kept_when_others_are_bad(client, setup):
    base, gw, h = setup
    batch = [_r("C1", 0, 120), _r("NOPE", 0, 5), {"sensor": "C1", "at": "2026-12-19T19:00:00", "value": 1},
             _r("C1", 1), _r("W1", 1, 300), _r("C1", 10_000, 3), _r("C1", 2, values={"in": 5, "out": 2})]
    r = client.post(f"{base}/readings", json=batch, headers=gw)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 3 and body["duplicates"] == 0
    reasons = {x["index"]: (x["loc"], x["msg"]) for x in body["rejected"]}
    assert sorted(reasons) == [1, 2, 3, 5]
    assert reasons[1][0] == ["body", 1, "sensor"] and "unknown sensor 'NOPE'" in reasons[1][1]
    assert reasons[2][0] == ["body", 2, "at"] and "timezone" in reasons[2][1].lower()
    assert "needs value or values" in reasons[3][1]
    assert "future" in reasons[5][1]
    stored = client.get(f"{base}/readings", headers=h).json()
    assert [(s["value"], s["values"]) for s in stored] == [(None, {"in": 5.0, "out": 2.0}), (300.0, None),
                                                          (120.0, None)]
    zones = {z["code"]: z["id"] for z in client.get(f"{base}/zones", headers=h).json()}
    assert {s["zone_id"] for s in stored} == {zones["Z1"], zones["Z2"]}
    assert stored[0]["source"] == "user:gateway"


def test_ndjson_with_a_broken_line(client, setup):
    base, gw, _ = setup
    lines = [json.dumps(_r("C1", 0, 10)), "{not json", "", json.dumps(_r("W1", 0, 20))]
    r = client.post(f"{base}/readings", content="\n".join(lines).encode(),
                    headers={**gw, "Content-Type": "application/x-ndjson"})
    assert r.status_code == 200
    assert r.json()["accepted"] == 2 and [x["index"] for x in r.json()["rejected"]] == [1]


def test_idempotency_keys_store_once(client, setup):
    base, gw, h = setup
    batch = [_r("C1", 0, 10, key="k1"), _r("C1", 1, 11, key="k2"), _r("C1", 1, 11, key="k2")]
    first = client.post(f"{base}/readings", json=batch, headers=gw).json()
    assert (first["accepted"], first["duplicates"]) == (2, 1)
    again = client.post(f"{base}/readings", json={"readings": batch}, headers=gw).json()
    assert (again["accepted"], again["duplicates"]) == (0, 3)
    assert len(client.get(f"{base}/readings", headers=h).json()) == 2


def test_all_bad_is_422_and_bad_bodies_are_named(client, setup):
    base, gw, h = setup
    r = client.post(f"{base}/readings", json=[_r("NOPE", 0, 1)], headers=gw)
    assert r.status_code == 422 and r.json()["accepted"] == 0
    r = client.post(f"{base}/readings", content=b"{oops", headers={**gw, "Content-Type": "application/json"})
    assert r.status_code == 422 and "not JSON" in r.json()["detail"][0]["msg"]
    r = client.post(f"{base}/readings", json={"data": []}, headers=gw)
    assert r.status_code == 422 and "JSON array" in r.json()["detail"][0]["msg"]
    assert client.get(f"{base}/readings", headers=h).json() == []


def test_who_may_post(client, setup, login):
    base, _gw, h = setup
    assert client.post(f"{base}/readings", json=[_r("C1", 0, 1)]).status_code == 401
    assert client.post(f"{base}/readings", json=[_r("C1", 0, 1)], headers=h).status_code == 403
    assert client.post(f"{base}/readings", json=[_r("C1", 0, 1)], headers=login("admin")).status_code == 200
    assert client.get(f"{base}/readings", headers=login("analyst")).status_code == 200


def test_readings_go_with_their_event(client, setup, sessions):
    from sqlalchemy import text

    base, gw, h = setup
    client.post(f"{base}/readings", json=[_r("C1", i, i) for i in range(50)], headers=gw)
    assert client.delete(base, headers=h).status_code == 204
    with sessions() as db:
        assert db.execute(text("SELECT count(*) FROM reading")).scalar() == 0
