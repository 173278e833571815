"""A small event with a command tree, a camera over the 100 m x 100 m standing floor Z2 and detectors."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories_cli import LAT, LON, small_collection


class Headers(dict):
    """Authorization headers by role, logged in on first use (a login hashes a password: not for free)."""

    def __init__(self, login):
        super().__init__()
        self._login = login

    def __missing__(self, role):
        self[role] = self._login(role)
        return self[role]


@pytest.fixture
def ops(client, login):
    """(url, event_id, headers by role, ids) with the background watcher paused: tests drive the clock."""
    h = Headers(login)
    ev = client.post("/api/v1/events", json={"code": "OPS", "name": "运行", "kind": "concert"},
                     headers=h["planner"]).json()
    url = f"/api/v1/events/{ev['id']}"
    assert client.post(f"{url}/venue-import", json=small_collection(), headers=h["planner"]).status_code == 200
    venue = client.get(f"{url}/venues", headers=h["planner"]).json()[0]["id"]
    zones = {z["code"]: z["id"] for z in client.get(f"{url}/zones", headers=h["planner"]).json()}
    ids = {"venue": venue, **zones}
    for code, name, level, parent in (("HQ", "指挥部", "hq", None), ("G-XCAB", "现场安保组", "hq_group", "HQ"),
                                      ("G-JSBZ", "技术保障组", "hq_group", "HQ")):
        r = client.post(f"{url}/command-nodes", json={"code": code, "name": name, "level": level,
                                                      "parent_id": ids.get(parent)}, headers=h["planner"])
        assert r.status_code == 201, r.text
        ids[code] = r.json()["id"]
    for code, kind, props in (("SMK1", "smoke", {}), ("GAS1", "gas", {}), ("GC1", "gate_counter", {"gate": "G1"})):
        r = client.post(f"{url}/devices", json={"venue_id": venue, "code": code, "name": code, "kind": kind,
                                                "zone_id": zones["Z2"], "lon": LON, "lat": LAT,
                                                "properties": props}, headers=h["planner"])
        assert r.status_code == 201, r.text
        ids[code] = r.json()["id"]
    client.app.state.watcher.paused = True
    return url, ev["id"], h, ids


def post(client, url, h, sensor, at, value=None, values=None):
    item = {"sensor": sensor, "at": at.isoformat()}
    if value is not None:
        item["value"] = value
    if values is not None:
        item["values"] = values
    r = client.post(f"{url}/readings", json=[item], headers=h["gateway"])
    assert r.json()["accepted"] == 1, r.text


def t0() -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
