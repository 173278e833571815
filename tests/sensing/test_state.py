"""Zone state from posted readings: video preferred, probes scaled, stale sensors dropped."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories_cli import small_collection


@pytest.fixture
def base(client, login):
    h = login("planner")
    ev = client.post("/api/v1/events", json={"code": "ST", "name": "态势", "kind": "concert"}, headers=h).json()
    fc = small_collection()  # Z1 200 m x 200 m (core), Z2 100 m x 100 m inside it; camera C1 watches Z2
    point = fc["features"][4]["geometry"]
    fc["features"] += [
        {"type": "Feature", "geometry": point, "properties": {"kind": "wifi_probe", "code": "W1", "name": "w",
                                                              "zone": "Z1"}},
        {"type": "Feature", "geometry": point, "properties": {"kind": "video_count", "code": "V2", "name": "v",
                                                              "zone": "Z2"}},
        {"type": "Feature", "geometry": point, "properties": {"kind": "smoke", "code": "S1", "name": "s",
                                                              "zone": "Z2"}},
    ]
    assert client.post(f"/api/v1/events/{ev['id']}/venue-import", json=fc, headers=h).status_code == 200
    return f"/api/v1/events/{ev['id']}", h, login("gateway")


def _post(client, base, gw, items):
    r = client.post(f"{base}/readings", json=items, headers=gw)
    assert r.status_code == 200 and not r.json()["rejected"], r.text


def test_density_and_level_per_zone(client, base):
    url, h, gw = base
    now = datetime.now(UTC).replace(microsecond=0)
    t = (now - timedelta(seconds=10)).isoformat()
    _post(client, url, gw, [
        {"sensor": "C1", "at": t, "value": 41_000},  # Z2 area 10,000 m2 -> 4.1 p/m2 (orange)
        {"sensor": "V2", "at": t, "value": 39_000},  # a second, lower camera view: max rule keeps 41,000
        {"sensor": "W1", "at": t, "value": 50_000},  # Z1 40,000 m2: 50,000 devices x 0.6 = 30,000 -> 0.75
        {"sensor": "S1", "at": t, "value": 1},  # a smoke detector does not count people
    ])
    r = client.get(f"{url}/zone-states", headers=h)
    assert r.status_code == 200, r.text
    states = {s["code"]: s for s in r.json()}
    z2, z1 = states["Z2"], states["Z1"]
    assert z2["count"] == 41_000 and z2["density"] == pytest.approx(4.1, rel=2e-3)
    assert (z2["source"], z2["level"], z2["level_zh"]) == ("video", "orange", "橙")
    assert z2["sensors_used"] == ["C1", "V2"]  # both views were fresh and considered
    assert z1["count"] == pytest.approx(30_000) and z1["source"] == "probe" and z1["level"] == "none"


def test_stale_sensors_drop_out(client, base):
    url, h, gw = base
    now = datetime.now(UTC).replace(microsecond=0)
    _post(client, url, gw, [{"sensor": "C1", "at": (now - timedelta(seconds=200)).isoformat(), "value": 52_000},
                            {"sensor": "V2", "at": (now - timedelta(seconds=5)).isoformat(), "value": 21_000}])
    z2 = next(s for s in client.get(f"{url}/zone-states", headers=h).json() if s["code"] == "Z2")
    assert z2["count"] == 21_000 and z2["level"] == "blue" and z2["sensors_stale"] == ["C1"]
    past = (now - timedelta(seconds=190)).isoformat()
    z2_then = next(s for s in client.get(f"{url}/zone-states", params={"at": past}, headers=h).json()
                   if s["code"] == "Z2")
    assert z2_then["level"] == "red" and z2_then["count"] == 52_000


def test_no_data_means_unknown_not_zero(client, base):
    url, h, _ = base
    states = client.get(f"{url}/zone-states", headers=h).json()
    assert {s["code"] for s in states} == {"Z1", "Z2"}
    assert all(s["count"] is None and s["density"] is None and s["source"] == "none" for s in states)


def test_levels_follow_the_events_density_rules(client, base):
    """The map colours zones by the event's density rules: a zone-kind rule first, else the event-wide one."""
    url, h, gw = base
    now = datetime.now(UTC).replace(microsecond=0)
    _post(client, url, gw, [{"sensor": "C1", "at": (now - timedelta(seconds=5)).isoformat(), "value": 25_000}])

    def level():
        return next(s for s in client.get(f"{url}/zone-states", headers=h).json() if s["code"] == "Z2")["level"]

    assert level() == "blue"  # 2.5 p/m2 against the default ladder 2/3/4/5
    wide = next(r for r in client.post(f"{url}/warning-rules/defaults", headers=h).json() if r["kind"] == "density")
    assert client.patch(f"{url}/warning-rules/{wide['id']}", json={"blue": 1, "yellow": 2, "orange": 2.4, "red": 6},
                        headers=h).status_code == 200
    assert level() == "orange"
    r = client.post(f"{url}/warning-rules", headers=h, json={
        "kind": "density", "zone_kind": "standing", "blue": 2.6, "yellow": 3.5, "orange": 4.5, "red": 5.5})
    assert r.status_code == 201, r.text
    assert level() == "none"  # the standing-zone rule wins for Z2: 2.5 is below its blue 2.6
    hist = client.get(f"{url}/zone-history", headers=h, params={
        "since": (now - timedelta(seconds=60)).isoformat(), "until": now.isoformat(), "step_s": 30}).json()
    z2 = next(s for s in hist["zones"] if s["zone_id"] == next(
        z["zone_id"] for z in client.get(f"{url}/zone-states", headers=h).json() if z["code"] == "Z2"))
    assert max(z2["level"]) == 0  # the replay classifies with the same rule
    assert client.patch(f"{url}/warning-rules/{r.json()['id']}", json={"blue": 2.0}, headers=h).status_code == 200
    hist = client.get(f"{url}/zone-history", headers=h, params={
        "since": (now - timedelta(seconds=60)).isoformat(), "until": now.isoformat(), "step_s": 30}).json()
    assert max(next(s for s in hist["zones"] if s["zone_id"] == z2["zone_id"])["level"]) == 1


def test_a_past_time_shows_no_reading_taken_after_it(client, base):
    """History and replays: ``at=T`` counts no reading stamped after T (the live clock-skew allowance of
    5 s is for "now" only)."""
    url, h, gw = base
    now = datetime.now(UTC).replace(microsecond=0)
    _post(client, url, gw, [{"sensor": "C1", "at": (now - timedelta(seconds=30)).isoformat(), "value": 10_000},
                            {"sensor": "C1", "at": (now - timedelta(seconds=27)).isoformat(), "value": 52_000}])
    at = (now - timedelta(seconds=30)).isoformat()
    z2 = next(s for s in client.get(f"{url}/zone-states", params={"at": at}, headers=h).json() if s["code"] == "Z2")
    assert z2["count"] == 10_000 and z2["level"] == "none"  # was 52,000 (red), read 3 s ahead of T
    z2_now = next(s for s in client.get(f"{url}/zone-states", headers=h).json() if s["code"] == "Z2")
    assert z2_now["count"] == 52_000 and z2_now["level"] == "red"
