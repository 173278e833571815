"""The warning engine at scale (issue 14): a pass grows with what changed, and a pass that could not write
does not leave its trackers ahead of the stored warnings."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, insert, select

from anbao.alert import flows
from anbao.alert.models import EarlyWarning
from anbao.core import events
from anbao.core.bus import InProcessBus
from anbao.sensing import service as ingest
from anbao.sensing.models import DeviceLatest
from anbao.venue.models import Device, Zone
from tests.factories_cli import small_collection

ZONES, PER_ZONE = 2_000, 10
SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [20, 0], [20, 20], [0, 20], [0, 0]]]}


@pytest.fixture
def big(client, login, sessions):
    """An event with 2,000 zones of 400 m² and 20,000 cameras (ten per zone), every camera with a reading
    at 1 person/m² a second ago; stored in bulk (the routes would take minutes)."""
    h = login("planner")
    ev = client.post("/api/v1/events", json={"code": "BIG", "name": "大型", "kind": "marathon"}, headers=h).json()
    url = f"/api/v1/events/{ev['id']}"
    assert client.post(f"{url}/venue-import", json=small_collection(), headers=h).status_code == 200
    venue = client.get(f"{url}/venues", headers=h).json()[0]["id"]
    client.app.state.watcher.paused = True
    now = datetime.now(UTC).replace(microsecond=0)
    with sessions() as db:
        db.execute(insert(Zone), [{"event_id": ev["id"], "venue_id": venue, "code": f"B{z:04d}", "name": f"区{z}",
                                   "kind": "standing", "ring": 2, "geometry": SQUARE, "area_m2": 400.0}
                                  for z in range(ZONES)])
        zone_ids = dict(db.execute(select(Zone.code, Zone.id).where(Zone.event_id == ev["id"])).all())
        db.execute(insert(Device), [{"event_id": ev["id"], "venue_id": venue, "code": f"B{z:04d}-{k}",
                                     "name": f"摄像机{z}-{k}", "kind": "video_count", "lon": 0.0, "lat": 0.0,
                                     "zone_id": zone_ids[f"B{z:04d}"], "properties": {}}
                                    for z in range(ZONES) for k in range(PER_ZONE)])
        devices = dict(db.execute(select(Device.code, Device.id).where(Device.event_id == ev["id"],
                                                                       Device.code.like("B%"))).all())
        at = now - timedelta(seconds=1)
        db.execute(insert(DeviceLatest), [{"device_id": d, "event_id": ev["id"], "zone_id": zone_ids[code[:5]],
                                           "at": at, "value": 400.0, "received_at": at}
                                          for code, d in devices.items()])
        db.commit()
    return ev["id"], zone_ids, devices, now


def test_a_pass_touches_the_devices_that_reported_not_all_of_them(big, sessions):
    event_id, zone_ids, devices, now = big
    bus = InProcessBus()
    watch = flows.Watch(incremental=True)
    bus.subscribe_changes(events.ReadingsStored, watch.heard)
    with sessions() as db:
        flows.decide(db=db, event_id=event_id, now=now, watch=watch)  # the first pass reads and observes all
    assert watch.touched[event_id][0] >= ZONES and watch.touched[event_id][1] >= ZONES * PER_ZONE

    # ten cameras of one zone report 4.5 persons/m2 (1,800 persons in 400 m2): orange
    codes = [f"B0007-{k}" for k in range(PER_ZONE)]
    items = [{"sensor": c, "at": now.isoformat(), "value": 1800} for c in codes]
    with sessions(info={"bus": bus}) as db:
        assert ingest.ingest(db=db, event_id=event_id, items=items).accepted == PER_ZONE
        db.commit()  # the bus tells the engine which devices moved
    statements: list[str] = []
    with sessions() as db:
        listen = lambda conn, cursor, sql, *rest: statements.append(sql)  # noqa: E731
        event.listen(db.get_bind(), "before_cursor_execute", listen)
        try:
            decided = flows.decide(db=db, event_id=event_id, now=now + timedelta(milliseconds=200), watch=watch)
        finally:
            event.remove(db.get_bind(), "before_cursor_execute", listen)
    assert watch.touched[event_id] == (1, PER_ZONE)  # one zone, ten devices: not 2,000 and 20,000
    # the batch carried the newest readings: the pass read no device's reading from storage
    assert statements and not [q for q in statements if "device_latest" in q or "FROM reading" in q]
    [step] = decided.steps
    assert (step.obs.key, step.level.name) == (f"density:zone:{zone_ids['B0007']}", "ORANGE")
    assert step.batch is not None and set(step.batch.device_ids) == {devices[c] for c in codes}

    # a sweep later (every 2 s) the pass looks at everything again (silence and staleness are the clock's)
    with sessions() as db:
        flows.decide(db=db, event_id=event_id, now=now + timedelta(seconds=watch.sweep_s + 0.5), watch=watch)
    assert watch.touched[event_id][1] >= ZONES * PER_ZONE


def _count(client, url, gw, at, persons):  # Z2 of small_collection is 100 m x 100 m
    r = client.post(f"{url}/readings", json=[{"sensor": "C1", "at": at.isoformat(), "value": persons}], headers=gw)
    assert r.json()["accepted"] == 1, r.text


def test_a_pass_whose_write_fails_is_taken_again_by_the_next(client, login, monkeypatch):
    """The missed warning of issue 14: a zone at 4.5 persons/m2 whose warning stayed blue. The pass that moved
    the zone's tracker from blue to red failed to write (a lock timeout under load); the tracker kept red, so no
    later pass saw a change to make, and the stored warning stayed blue for good."""
    h = login("planner")
    ev = client.post("/api/v1/events", json={"code": "MISS", "name": "漏报", "kind": "concert"}, headers=h).json()
    url = f"/api/v1/events/{ev['id']}"
    assert client.post(f"{url}/venue-import", json=small_collection(), headers=h).status_code == 200
    watcher, gw, disp = client.app.state.watcher, login("gateway"), login("dispatcher")
    watcher.paused = True
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    _count(client, url, gw, t0, 25_000)  # 2.5 persons/m2: blue
    watcher.run_once(now=t0 + timedelta(seconds=1))
    assert [w["level"] for w in client.get(f"{url}/warnings", headers=disp).json()] == ["blue"]

    _count(client, url, gw, t0 + timedelta(seconds=2), 45_000)  # 4.5: orange
    real = flows.service.raise_level

    def locked(**kw):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(flows.service, "raise_level", locked)
    with pytest.raises(RuntimeError):
        watcher.run_once(now=t0 + timedelta(seconds=3))
    assert [w["level"] for w in client.get(f"{url}/warnings", headers=disp).json()] == ["blue"]
    monkeypatch.setattr(flows.service, "raise_level", real)
    watcher.run_once(now=t0 + timedelta(seconds=4))  # nothing new arrived: the next pass still raises it
    [w] = client.get(f"{url}/warnings", headers=disp).json()
    assert (w["level"], w["status"]) == ("orange", "active")


def test_a_failed_reading_phase_forgets_what_it_stepped(client, login, sessions, monkeypatch):
    """The same for a pass that fails after stepping some trackers and before its steps are handed on."""
    h = login("planner")
    ev = client.post("/api/v1/events", json={"code": "MISS2", "name": "漏报", "kind": "concert"}, headers=h).json()
    url = f"/api/v1/events/{ev['id']}"
    assert client.post(f"{url}/venue-import", json=small_collection(), headers=h).status_code == 200
    watcher, gw = client.app.state.watcher, login("gateway")
    watcher.paused = True
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    _count(client, url, gw, t0, 45_000)

    def broken(**kw):
        raise RuntimeError("connection lost")

    monkeypatch.setattr(flows.service, "due_for_escalation", broken)
    with pytest.raises(RuntimeError):
        watcher.run_once(now=t0 + timedelta(seconds=1))
    assert not [k for (e, k) in watcher.watch.trackers if e == ev["id"]]
    monkeypatch.undo()
    watcher.run_once(now=t0 + timedelta(seconds=2))
    with sessions() as db:
        [w] = db.execute(select(EarlyWarning).where(EarlyWarning.event_id == ev["id"])).scalars().all()
    assert w.level == "orange"
