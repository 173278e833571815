"""Dead letters over the real Mosquitto: the consumer keeps going, bad messages are kept with the reason."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from anbao.core.mqtt import SharedConsumer
from anbao.sensing.models import DeadLetter, Reading
from anbao.sensing.mqtt_ingest import TOPIC_FILTER, make_handler
from tests.conftest import unavailable

BROKER = os.environ.get("ANBAO_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


@pytest.fixture
def broker() -> tuple[str, int]:
    host, port = BROKER.removeprefix("mqtt://").split(":")
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError as exc:
        unavailable(f"MQTT broker not reachable at {BROKER}: {exc}")
    return host, int(port)


@pytest.fixture
def publisher(broker):
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    pub.connect(*broker)
    pub.loop_start()
    yield pub
    pub.loop_stop()
    pub.disconnect()


def _wait(check, timeout_s: float = 15.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.05)
    return check()


def _at(seconds_ago: float = 10) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat()


def test_bad_messages_become_dead_letters_and_good_items_are_kept(sessions, site, publisher):
    stats: dict[str, int] = {}
    stored_events: list[int] = []
    consumer = SharedConsumer(BROKER, TOPIC_FILTER, make_handler(sessions, stats, on_stored=stored_events.append),
                              group=f"t{uuid.uuid4().hex[:8]}")
    consumer.start()
    base = f"anbao/v1/{site.event_id}/readings"
    try:
        messages = [
            (f"{base}/gw", json.dumps([{"sensor": "C1", "at": _at(), "value": 5},
                                       {"sensor": "NOPE", "at": _at(), "value": 1},
                                       {"sensor": "C1", "at": _at(), "value": -4}]).encode()),
            (f"{base}/C1", b"\xff\xfe{not json"),
            (f"{base}/C1", b"42"),
            ("anbao/v1/NO-SUCH-EVENT/readings/C1", json.dumps({"sensor": "C1", "at": _at(), "value": 1}).encode()),
            (f"anbao/v1/{site.event_code}/readings/C2", json.dumps({"sensor": "C2", "at": _at(), "value": 9}).encode()),
            (f"{base}/G1", json.dumps({"readings": [{"sensor": "G1", "at": _at(), "values": {"co_ppm": 3}}]}).encode()),
        ]
        for topic, payload in messages:
            publisher.publish(topic, payload, qos=1).wait_for_publish(5)
        assert _wait(lambda: consumer.stored >= len(messages)), consumer.stored
        # the consumer is still alive: a good message after the bad ones is stored
        publisher.publish(f"{base}/C1", json.dumps({"sensor": "C1", "at": _at(1), "value": 6}), qos=1)
        assert _wait(lambda: stats.get("accepted", 0) >= 4), stats
    finally:
        consumer.stop()
    assert consumer.failed_batches == 0
    with sessions() as db:
        readings = db.execute(select(Reading.value).order_by(Reading.id)).scalars().all()
        rows = db.execute(select(DeadLetter).order_by(DeadLetter.id)).scalars().all()
    assert sorted(readings, key=lambda v: -1 if v is None else v) == [None, 5, 6, 9]
    assert len(rows) == 4 and all(r.source == "mqtt" for r in rows)
    gw = next(r for r in rows if r.topic == f"{base}/gw")
    assert gw.event_id == site.event_id and gw.reason.startswith("2 of 3 items rejected:")
    assert "item 1 sensor: unknown sensor 'NOPE'" in gw.reason and "item 2 value: value -4 is negative" in gw.reason
    assert json.loads(gw.payload)[0]["value"] == 5
    not_json = next(r for r in rows if r.reason.startswith("not JSON"))
    assert not_json.payload.startswith("\ufffd\ufffd{not json") and not_json.event_id == site.event_id
    assert any(r.reason.startswith("not a reading") and r.payload == "42" for r in rows)
    unknown = next(r for r in rows if r.reason.startswith("unknown event"))
    assert unknown.event_id is None and "'NO-SUCH-EVENT'" in unknown.reason
    assert (stats["accepted"], stats["unknown_event"], stats["dead_letters"]) == (4, 1, 4)
    assert set(stored_events) == {site.event_id}


def test_a_batch_of_one_reading_messages_with_a_bad_one(sessions, site, publisher):
    """Messages are validated together; one bad message, or one bad item of a gateway message, sends only
    its own message to the dead letters, with the item's position in that message."""
    stats: dict[str, int] = {}
    seen = threading.Event()
    consumer = SharedConsumer(BROKER, TOPIC_FILTER, make_handler(sessions, stats, on_stored=lambda _e: seen.set()),
                              group=f"t{uuid.uuid4().hex[:8]}", max_wait_s=0.5)
    consumer.start()
    try:
        infos = []
        for i in range(300):
            body = {"sensor": "C1" if i != 150 else "C9", "at": _at(300 - i), "value": i, "idempotency_key": f"m{i}"}
            infos.append(publisher.publish(f"anbao/v1/{site.event_id}/readings/C1", json.dumps(body), qos=1))
        for g in range(3):
            batch = [{"sensor": "C8" if (g, k) == (1, 4) else "C2", "at": _at(30 - g), "value": k,
                      "idempotency_key": f"g{g}-{k}"} for k in range(10)]
            infos.append(publisher.publish(f"anbao/v1/{site.event_id}/readings/gw", json.dumps(batch), qos=1))
        for info in infos:
            info.wait_for_publish(5)
        assert _wait(lambda: consumer.stored >= 303)
    finally:
        consumer.stop()
    with sessions() as db:
        assert db.execute(select(func.count()).select_from(Reading)).scalar_one() == 299 + 29
        single, gateway = db.execute(select(DeadLetter).order_by(DeadLetter.topic)).scalars().all()
    assert single.reason == f"rejected:\nitem 0 sensor: unknown sensor 'C9' in event {site.event_id}"
    assert json.loads(single.payload)["value"] == 150
    assert gateway.reason == f"1 of 10 items rejected:\nitem 4 sensor: unknown sensor 'C8' in event {site.event_id}"
    assert json.loads(gateway.payload)[4]["sensor"] == "C8"
    assert seen.is_set() and stats["accepted"] == 328


def test_payloads_over_64_kib_are_cut(sessions, site):
    from anbao.sensing import store

    with sessions() as db:
        store.dead_letter(db=db, source="mqtt", payload=b"x" * 100_000, reason="too big", topic="t" * 400)
        db.commit()
        row = db.execute(select(DeadLetter)).scalar_one()
    assert len(row.payload) == 64 * 1024 and len(row.topic) == 300


def test_dead_letter_route_is_for_the_admin_and_pages(client, login, sessions):
    from anbao.sensing import store

    with sessions() as db:
        for k in range(5):
            store.dead_letter(db=db, source="mqtt", payload=f"m{k}".encode(), reason=f"r{k}", topic="a/b",
                              event_id=7 if k % 2 else None)
        db.commit()
    admin = login("admin")
    first = client.get("/api/v1/dead-letters", params={"limit": 2}, headers=admin)
    assert first.status_code == 200, first.text
    page1 = first.json()
    assert [d["payload"] for d in page1] == ["m4", "m3"]
    page2 = client.get("/api/v1/dead-letters", params={"limit": 2, "before_id": page1[-1]["id"]}, headers=admin).json()
    assert [d["payload"] for d in page2] == ["m2", "m1"]
    only7 = client.get("/api/v1/dead-letters", params={"event_id": 7}, headers=admin).json()
    assert [d["reason"] for d in only7] == ["r3", "r1"] and only7[0]["received_at"].endswith("Z")
    assert client.get("/api/v1/dead-letters", params={"limit": 0}, headers=admin).status_code == 422
    assert client.get("/api/v1/dead-letters").status_code == 401
    for role in ("commander", "auditor", "gateway"):
        assert client.get("/api/v1/dead-letters", headers=login(role)).status_code == 403
