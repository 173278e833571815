"""Readings over a real Mosquitto broker: shared subscription, several consumers, stored then acknowledged."""

import json
import os
import socket
import time
import uuid
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from anbao.core.mqtt import SharedConsumer
from anbao.sensing.models import Reading
from anbao.sensing.mqtt_ingest import TOPIC_FILTER, make_handler
from tests.conftest import unavailable
from tests.factories_cli import small_collection

BROKER = os.environ.get("ANBAO_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


def _broker_up() -> None:
    host, port = BROKER.removeprefix("mqtt://").split(":")
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError as exc:
        unavailable(f"MQTT broker not reachable at {BROKER}: {exc}")


def _wait(sessions, n: int, timeout_s: float = 15.0) -> int:
    deadline = time.monotonic() + timeout_s
    count = 0
    while time.monotonic() < deadline:
        with sessions() as db:
            count = db.execute(select(func.count()).select_from(Reading)).scalar_one()
        if count >= n:
            return count
        time.sleep(0.1)
    return count


def test_two_consumers_share_the_load_and_store_everything(client, login, sessions):
    _broker_up()
    h = login("planner")
    ev = client.post("/api/v1/events", json={"code": f"MQ{uuid.uuid4().hex[:6]}", "name": "mqtt", "kind": "concert"},
                     headers=h).json()
    assert client.post(f"/api/v1/events/{ev['id']}/venue-import", json=small_collection(), headers=h).status_code == 200
    group = f"t{uuid.uuid4().hex[:8]}"
    stats: dict[str, int] = {}
    consumers = [SharedConsumer(BROKER, TOPIC_FILTER, make_handler(sessions, stats), group=group) for _ in range(2)]
    for c in consumers:
        c.start()
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    host, port = BROKER.removeprefix("mqtt://").split(":")
    pub.connect(host, int(port))
    pub.loop_start()
    try:
        t0 = datetime.now(UTC) - timedelta(minutes=1)
        infos = []
        for i in range(200):  # one reading per message, by event id
            body = {"sensor": "C1", "at": (t0 + timedelta(milliseconds=i)).isoformat(), "value": i,
                    "idempotency_key": f"s{i}"}
            infos.append(pub.publish(f"anbao/v1/{ev['id']}/readings/C1", json.dumps(body), qos=1))
        for b in range(5):  # gateway batches of 100, addressed by event code
            batch = [{"sensor": "C1", "at": (t0 + timedelta(seconds=1, milliseconds=b * 100 + k)).isoformat(),
                      "value": k, "idempotency_key": f"b{b}-{k}"} for k in range(100)]
            infos.append(pub.publish(f"anbao/v1/{ev['code']}/readings/gw1", json.dumps(batch), qos=1))
        infos.append(pub.publish(f"anbao/v1/{ev['id']}/readings/C1", b"{not json", qos=1))
        infos.append(pub.publish("anbao/v1/NO-SUCH-EVENT/readings/C1", json.dumps({"sensor": "C1"}), qos=1))
        for info in infos:
            info.wait_for_publish(5)
        assert _wait(sessions, 700) == 700
        time.sleep(0.3)
    finally:
        pub.loop_stop()
        pub.disconnect()
        for c in consumers:
            c.stop()
    assert all(c.stored > 0 for c in consumers), [c.stored for c in consumers]
    assert sum(c.stored for c in consumers) == len(infos)
    assert stats["accepted"] == 700 and stats["rejected"] == 1 and stats["unknown_event"] == 1
