"""One typed change per state change, and one cause id from the reading batch to the tasks.

A reading that takes the standing floor Z2 (100 m x 100 m) to 4.1 persons/m2 (orange) is sent
through each door the product has: HTTP, MQTT (the app's own consumer handler on the real
Mosquitto) and the live simulator's ingest call. Each door must give the same typed changes in the
same order, all carrying the batch's cause id, and the timeline must carry that id too.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from anbao.core import events
from anbao.core.mqtt import SharedConsumer
from anbao.sensing.mqtt_ingest import TOPIC_FILTER, make_handler
from anbao.sensing.service import ingest
from tests.conftest import unavailable
from tests.factories_cli import small_collection

BROKER = os.environ.get("ANBAO_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
#: what one orange crossing must produce: the batch, the warning, the 大客流 plan and its four tasks
EXPECTED = ["ReadingsStored", "WarningRaised", "PlanActivated", "TaskCreated", "TaskCreated", "TaskCreated",
            "TaskCreated"]


@pytest.fixture
def site(client, login):
    h = login("planner")
    ev = client.post("/api/v1/events", json={"code": f"E{uuid.uuid4().hex[:6]}", "name": "链", "kind": "concert"},
                     headers=h).json()
    assert client.post(f"/api/v1/events/{ev['id']}/venue-import", json=small_collection(), headers=h).status_code == 200
    client.app.state.watcher.paused = True  # the test drives the passes
    return ev, login("gateway"), login("dispatcher")


def _collect(client) -> list[events.Change]:
    got: list[events.Change] = []
    client.app.state.bus.subscribe_changes(events.Change, got.append)
    return got


def _wait(check, timeout_s: float = 15.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not check():
        time.sleep(0.05)
    return check()


def _item(at: datetime) -> dict:
    return {"sensor": "C1", "at": at.isoformat(), "value": 41_000}


def _check_chain(client, got: list[events.Change], event_id: int, now: datetime, disp) -> str:
    client.app.state.watcher.run_once(now=now)
    assert [type(c).__name__ for c in got] == EXPECTED
    batch = got[0]
    assert isinstance(batch, events.ReadingsStored) and batch.accepted == 1 and batch.event_id == event_id
    assert {c.cause for c in got} == {batch.cause}, "one cause id from the reading batch to the tasks"
    warning, activation, tasks = got[1], got[2], got[3:]
    assert warning.parent == batch.id and activation.parent == warning.id
    assert {t.parent for t in tasks} == {activation.id}
    assert isinstance(activation, events.PlanActivated) and activation.level == "orange"
    assert sorted(t.task_id for t in tasks) == sorted(activation.task_ids)
    steps = client.get(f"/api/v1/events/{event_id}/timeline", headers=disp).json()
    assert [s["kind"] for s in steps] == ["warning.raised", "plan.activated"] + ["task.created"] * 4
    assert {s["cause"] for s in steps} == {batch.cause}
    chain = client.get(f"/api/v1/events/{event_id}/timeline", params={"cause": batch.cause}, headers=disp).json()
    assert chain == steps
    return batch.cause


def test_http_reading_chain(client, site):
    ev, gw, disp = site
    got = _collect(client)
    now = datetime.now(UTC) - timedelta(seconds=30)
    r = client.post(f"/api/v1/events/{ev['id']}/readings", json=[_item(now)], headers=gw)
    assert r.json()["accepted"] == 1
    cause = _check_chain(client, got, ev["id"], now + timedelta(seconds=1), disp)
    assert cause.startswith("req-")  # the request's own id when the caller sends none
    # nobody acknowledges: 5 minutes later the clock escalates it; the batch is not its cause any more
    client.app.state.watcher.run_once(now=now + timedelta(minutes=6))
    [escalated] = [c for c in got if isinstance(c, events.WarningEscalated)]
    assert escalated.cause.startswith("pass-") and escalated.warning_id == got[1].warning_id


def test_request_id_is_the_cause(client, site):
    ev, gw, disp = site
    got = _collect(client)
    now = datetime.now(UTC) - timedelta(seconds=30)
    r = client.post(f"/api/v1/events/{ev['id']}/readings", json=[_item(now)],
                    headers={**gw, "X-Request-ID": "gw-7-batch-0042"})
    assert r.json()["accepted"] == 1
    assert _check_chain(client, got, ev["id"], now + timedelta(seconds=1), disp) == "gw-7-batch-0042"


def test_simulator_reading_chain(client, site):
    ev, _gw, disp = site
    got = _collect(client)
    now = datetime.now(UTC) - timedelta(seconds=30)
    with client.app.state.sessions() as db:  # as sim.live.LiveSim.tick sends its readings
        db.info["actor"] = "system:simulator"
        assert ingest(db=db, event_id=ev["id"], items=[_item(now)], source="simulator").accepted == 1
        db.commit()
    _check_chain(client, got, ev["id"], now + timedelta(seconds=1), disp)


def test_mqtt_reading_chain(client, site):
    host, port = BROKER.removeprefix("mqtt://").split(":")
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError as exc:
        unavailable(f"MQTT broker not reachable at {BROKER}: {exc}")
    ev, _gw, disp = site
    got = _collect(client)
    now = datetime.now(UTC) - timedelta(seconds=30)
    # the handler the app's consumer uses, on the app's sessions (which carry its bus)
    consumer = SharedConsumer(BROKER, TOPIC_FILTER, make_handler(client.app.state.sessions),
                              group=f"t{uuid.uuid4().hex[:8]}")
    consumer.start()
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    pub.connect(host, int(port))
    pub.loop_start()
    try:
        pub.publish(f"anbao/v1/{ev['id']}/readings/C1", json.dumps([_item(now)]).encode(), qos=1).wait_for_publish()
        assert _wait(lambda: len(got) >= 1), "the MQTT batch was not stored"
    finally:
        pub.loop_stop()
        pub.disconnect()
        consumer.stop()
    _check_chain(client, got, ev["id"], now + timedelta(seconds=1), disp)


def test_record_derives_timeline_live_message_and_audit_cause(client, site):
    """The three outputs of a change come from the one record() call, and a rollback sends nothing."""
    ev, _gw, _disp = site
    bus = client.app.state.bus
    live, typed = [], []
    bus.subscribe(f"event/{ev['id']}/task", live.append)
    bus.subscribe_changes(events.TaskCreated, typed.append)
    from anbao.core.audit import AuditEntry
    from anbao.core.timeline import TimelineEntry
    from anbao.response import service as response

    with client.app.state.sessions() as db:
        with events.caused_by(db, "cause-test-1"):
            task = response.create_task(db=db, event_id=ev["id"], data={"title": "巡查"}, now=datetime.now(UTC),
                                        by="user:x")
        db.rollback()
    assert live == [] and typed == []  # nothing of a rolled-back change leaves
    with client.app.state.sessions() as db:
        with events.caused_by(db, "cause-test-2"):
            task = response.create_task(db=db, event_id=ev["id"], data={"title": "巡查"}, now=datetime.now(UTC),
                                        by="user:x")
        db.commit()
        entry = db.query(TimelineEntry).filter_by(subject=f"task:{task.id}").one()
        audit = db.query(AuditEntry).filter_by(entity="task", entity_id=str(task.id)).one()
    assert (entry.kind, entry.text, entry.cause) == ("task.created", "任务「巡查」下达", "cause-test-2")
    assert audit.cause == "cause-test-2"
    assert [m.payload["id"] for m in live] == [task.id] and [c.task_id for c in typed] == [task.id]
    assert typed[0].cause == "cause-test-2"


def test_a_request_gives_its_audit_rows_and_its_changes_one_cause(client, site, sessions):
    ev, _gw, disp = site
    r = client.post(f"/api/v1/events/{ev['id']}/tasks", json={"title": "清场"}, headers=disp)
    assert r.status_code == 201, r.text
    task_id = r.json()["id"]
    from anbao.core.audit import AuditEntry
    from anbao.core.timeline import TimelineEntry

    with sessions() as db:
        audit = db.query(AuditEntry).filter_by(entity="task", entity_id=str(task_id)).one()
        entry = db.query(TimelineEntry).filter_by(subject=f"task:{task_id}").one()
    assert audit.cause == entry.cause and entry.cause.startswith("req-")
    steps = client.get(f"/api/v1/events/{ev['id']}/timeline?kind=task", headers=disp).json()
    assert [s["kind"] for s in steps] == ["task.created"]
