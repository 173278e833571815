"""Readings → zone density → level with hysteresis → warnings → bus, acknowledgement, CAP export."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import xmlschema

from anbao.alert import cap
from tests.factories_cli import small_collection

XSD = xmlschema.XMLSchema(Path(__file__).parent.parent / "data" / "cap" / "CAP-v1.2.xsd")


@pytest.fixture
def site(client, login):
    h = login("planner")
    ev = client.post("/api/v1/events", json={"code": "W", "name": "预警", "kind": "concert"}, headers=h).json()
    assert client.post(f"/api/v1/events/{ev['id']}/venue-import", json=small_collection(), headers=h).status_code == 200
    client.app.state.watcher.paused = True  # the tests drive the clock with run_once(now=...)
    return f"/api/v1/events/{ev['id']}", ev["id"], login("gateway"), login("dispatcher")


def _count(client, url, gw, at, persons):  # Z2 is 100 m x 100 m: density = persons / 10,000
    r = client.post(f"{url}/readings", json=[{"sensor": "C1", "at": at.isoformat(), "value": persons}], headers=gw)
    assert r.json()["accepted"] == 1, r.text


def test_warning_lifecycle(client, site):
    url, event_id, gw, disp = site
    watcher, bus = client.app.state.watcher, client.app.state.bus
    got = []
    bus.subscribe(f"event/{event_id}", lambda m: got.append(m))
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)

    _count(client, url, gw, t0, 41_000)  # 4.1 p/m2 -> orange
    watcher.run_once(now=t0 + timedelta(seconds=1))
    [w] = client.get(f"{url}/warnings", headers=disp).json()
    assert (w["level"], w["status"], w["kind"]) == ("orange", "active", "density") and w["value"] == pytest.approx(4.1)
    assert w["message"] == "内场 人群密度 4.1 人/㎡（约 41000 人），达到橙色阈值 4 人/㎡，橙色预警"
    topics = [m.topic.rsplit("/", 1)[1] for m in got]
    # the state deltas first, then the warning, the plan it activates (大客流预案 at orange) and its 4 tasks
    assert topics == ["zone-state", "sensor-health", "warning", "plan-activation", "task", "task", "task", "task"]

    _count(client, url, gw, t0 + timedelta(seconds=5), 39_500)  # 3.95: within hysteresis, no change
    watcher.run_once(now=t0 + timedelta(seconds=6))
    assert client.get(f"{url}/warnings", headers=disp).json()[0]["level"] == "orange"

    r = client.post(f"{url}/warnings/{w['id']}/ack", json={"comment": "已派两组疏导"}, headers=disp)
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["acknowledged_by"]) == ("acknowledged", "user:dispatcher")

    _count(client, url, gw, t0 + timedelta(seconds=10), 52_000)  # 5.2 -> red: needs a new acknowledgement
    watcher.run_once(now=t0 + timedelta(seconds=11))
    w = client.get(f"{url}/warnings", headers=disp).json()[0]
    assert (w["level"], w["peak_level"], w["status"]) == ("red", "red", "active")

    _count(client, url, gw, t0 + timedelta(seconds=60), 5_000)  # 0.5, red held > 30 s, but clear only now
    watcher.run_once(now=t0 + timedelta(seconds=61))
    assert client.get(f"{url}/warnings", headers=disp).json()[0]["status"] == "active"  # one quiet sample: no
    _count(client, url, gw, t0 + timedelta(seconds=90), 5_000)  # clear 30 s, sample after sample -> released
    watcher.run_once(now=t0 + timedelta(seconds=91))
    [w] = client.get(f"{url}/warnings", headers=disp).json()
    assert w["status"] == "closed" and w["closed_by"] == "system" and "自动解除" in w["comment"]
    assert w["comment"].endswith("低于红色解除值 4.8 人/㎡")
    assert client.get(f"{url}/warnings?status=open", headers=disp).json() == []

    r = client.post(f"{url}/warnings/{w['id']}/ack", json={}, headers=disp)
    assert r.status_code == 409 and "closed" in r.json()["detail"]
    assert [(m.payload["level"], m.payload["status"]) for m in got if m.topic.endswith("warning")] == [
        ("orange", "active"), ("orange", "acknowledged"), ("red", "active"), ("red", "closed")]
    steps = client.get(f"{url}/timeline?kind=warning", headers=disp).json()
    # oldest first: the pass clock runs ten minutes behind, the acknowledgement is stamped with the real time
    assert [s["kind"] for s in steps] == ["warning.raised", "warning.level", "warning.closed", "warning.acknowledged"]
    assert steps[1]["text"].startswith("人群密度预警由橙色升级为红色") and steps[3]["actor"] == "user:dispatcher"


def test_cap_export_validates_and_follows_the_warning(client, site):
    url, _event_id, gw, disp = site
    watcher = client.app.state.watcher
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    _count(client, url, gw, t0, 33_000)  # 3.3 -> yellow
    watcher.run_once(now=t0 + timedelta(seconds=1))
    w = client.get(f"{url}/warnings", headers=disp).json()[0]
    r = client.get(f"{url}/warnings/{w['id']}/cap", headers=disp)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/cap+xml")
    XSD.validate(r.content)
    alert = cap.from_xml(r.content)
    assert (alert.status, alert.msg_type) == (cap.Status.actual, cap.MsgType.alert)
    assert alert.infos[0].severity == cap.Severity.moderate and alert.infos[0].areas[0].desc == "内场"
    assert alert.infos[0].areas[0].polygon is not None and len(alert.infos[0].areas[0].polygon) == 5

    client.post(f"{url}/warnings/{w['id']}/close", json={"comment": "人员已疏散"}, headers=disp)
    closed = client.get(f"{url}/warnings/{w['id']}/cap", headers=disp)
    XSD.validate(closed.content)
    cancel = cap.from_xml(closed.content)
    assert cancel.msg_type == cap.MsgType.cancel and cancel.references == [cap.reference(alert)]
    feed = client.get(f"{url}/warnings-feed", headers=disp)
    assert feed.status_code == 200 and b"<entry" not in feed.content  # nothing open any more


def test_only_handlers_acknowledge(client, site, login):
    url, _event_id, gw, disp = site
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    _count(client, url, gw, t0, 21_000)
    client.app.state.watcher.run_once(now=t0 + timedelta(seconds=1))
    w = client.get(f"{url}/warnings", headers=disp).json()[0]
    assert client.post(f"{url}/warnings/{w['id']}/ack", json={}, headers=login("analyst")).status_code == 403
    assert client.post(f"{url}/warnings/999/ack", json={}, headers=disp).status_code == 404
    assert client.post(f"{url}/warnings/{w['id']}/close", json={"comment": "x" * 3000},
                       headers=disp).status_code == 422


def test_warning_reaches_the_websocket_within_two_seconds(client, site, login):
    import time

    url, event_id, gw, _ = site
    client.app.state.watcher.paused = False
    token = login("officer")["Authorization"].removeprefix("Bearer ")
    with client.websocket_connect(f"/api/v1/events/{event_id}/live") as ws:
        ws.send_json({"type": "auth", "token": token})
        assert ws.receive_json()["type"] == "hello"
        started = time.monotonic()
        _count(client, url, gw, datetime.now(UTC) - timedelta(seconds=1), 45_000)  # the lifespan watcher runs it
        while True:
            msg = ws.receive_json()
            if msg["topic"].endswith("/warning"):
                break
        elapsed = time.monotonic() - started
    assert msg["payload"]["level"] == "orange" and elapsed < 2.0
