"""Every reading the broker acknowledged is stored exactly once, whatever process dies.

Each test runs a Mosquitto of its own (free port, temporary config and persistence folder), the
consumers as real processes (``anbao serve``, ``anbao worker``) sharing the consumer slots, publishes
readings at QoS 1 (one per message, and gateway batches), kills a consumer with SIGKILL mid-stream,
restarts the broker once, sends again what the broker had not acknowledged (as a gateway does),
and counts: stored == acknowledged, no reading twice.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from anbao.sensing.models import Reading
from tests.conftest import SUITE_AUDIT_KEY
from tests.factories_cli import small_collection
from tests.mosquitto import Broker, free_port, wait_for

ANBAO = str(Path(sys.executable).parent / "anbao")
SINGLE, BATCHES, PER_BATCH = 3000, 20, 50  # 4,000 readings


def _env(db_url: str, broker: Broker, var: Path, prefix: str, slots: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANBAO_")}
    env.update(ANBAO_DATABASE_URL=db_url, ANBAO_MQTT_URL=broker.url, ANBAO_VAR_DIR=str(var),
               ANBAO_MQTT_SLOTS=str(slots), ANBAO_MQTT_CLIENT_ID=prefix,
               ANBAO_SECRET_KEY="test-secret-key-0123456789abcdef", ANBAO_AUDIT_KEY=SUITE_AUDIT_KEY)
    return env


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    out = log.open("w")
    proc = subprocess.Popen([ANBAO, "worker"], env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    assert wait_for(lambda: "worker subscribed" in log.read_text() or proc.poll() is not None, 30)
    assert proc.poll() is None, log.read_text()
    return proc


def _server(env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    port = free_port()
    proc = subprocess.Popen([ANBAO, "serve", "--port", str(port)], env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, text=True)

    def up() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return proc.poll() is not None

    assert wait_for(up, 40, 0.2)
    assert proc.poll() is None, log.read_text()
    return proc


def _messages(event_id: int) -> list[tuple[str, bytes]]:
    """3,000 one-reading messages and 20 gateway messages of 50, no idempotency keys: every reading
    distinct by time and value."""
    t0 = datetime.now(UTC) - timedelta(minutes=10)
    topic = f"anbao/v1/{event_id}/readings/C1"
    out = [(topic, json.dumps({"sensor": "C1", "at": (t0 + timedelta(milliseconds=i)).isoformat(),
                               "value": i % 50}).encode()) for i in range(SINGLE)]
    for b in range(BATCHES):
        items = [{"sensor": "C1", "at": (t0 + timedelta(seconds=10, milliseconds=b * PER_BATCH + k)).isoformat(),
                  "value": k} for k in range(PER_BATCH)]
        out.append((f"anbao/v1/{event_id}/readings/gw", json.dumps(items).encode()))
    return out


def _acked(info: mqtt.MQTTMessageInfo) -> bool:
    try:
        return info.is_published()
    except (ValueError, RuntimeError):  # not sent: the broker was down
        return False


class Publisher:
    """QoS 1 publisher that knows which messages the broker acknowledged."""

    def __init__(self, broker: Broker) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(0.1, 1)
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        self.infos: dict[int, mqtt.MQTTMessageInfo] = {}

    def send(self, k: int, topic: str, payload: bytes) -> None:
        self.infos[k] = self.client.publish(topic, payload, qos=1)

    def acknowledged(self) -> set[int]:
        return {k for k, info in list(self.infos.items()) if _acked(info)}

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _stream(pub: Publisher, messages: list[tuple[str, bytes]], faults: dict[int, object], rate: float) -> int:
    """Publish at ``rate`` messages/s, running ``faults[k]()`` before message k; then send again what was
    not acknowledged until everything is. Returns how many were acknowledged on the first pass."""
    t0 = time.monotonic()
    for k, (topic, payload) in enumerate(messages):
        if k in faults:
            faults[k]()  # type: ignore[operator]
        pub.send(k, topic, payload)
        ahead = t0 + k / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    first = len(wait_for(lambda: len(pub.acknowledged()) == len(messages) and pub.acknowledged(), 2)
                 or pub.acknowledged())
    deadline = time.monotonic() + 30
    while (missing := set(range(len(messages))) - pub.acknowledged()) and time.monotonic() < deadline:
        if pub.client.is_connected():
            for k in missing:  # a gateway sends again what the broker did not acknowledge
                pub.send(k, *messages[k])
        wait_for(lambda: not set(range(len(messages))) - pub.acknowledged(), 2)
    assert pub.acknowledged() == set(range(len(messages)))
    return first


def _event(client, login) -> int:
    h = login("planner")
    ev = client.post("/api/v1/events", json={"code": f"F{uuid.uuid4().hex[:6]}", "name": "faults", "kind": "concert"},
                     headers=h).json()
    assert client.post(f"/api/v1/events/{ev['id']}/venue-import", json=small_collection(), headers=h).status_code == 200
    return int(ev["id"])


def _counts(sessions, event_id: int) -> tuple[int, int]:
    with sessions() as db:
        q = select(func.count(), func.count(func.distinct(Reading.at))).where(Reading.event_id == event_id)
        rows, distinct = db.execute(q).one()
    return int(rows), int(distinct)


@pytest.fixture
def broker(tmp_path: Path):
    b = Broker(tmp_path / "mosquitto").start()
    yield b
    b.close()


def test_killing_the_server_mid_stream_and_restarting_the_broker_loses_nothing(client, login, sessions, db_url,
                                                                              broker, tmp_path):
    """`anbao serve` holds the one slot and is killed with SIGKILL; the broker restarts: the standing-by
    worker takes the slot over (its kept session and what was in flight), nothing lost, nothing twice."""
    event_id = _event(client, login)
    env = _env(db_url, broker, tmp_path / "var", f"t{uuid.uuid4().hex[:8]}", slots=1)
    procs = [_server(env, tmp_path / "serve.log")]  # first: it takes the slot; the worker stands by
    procs.append(_worker(env, tmp_path / "worker.log"))
    pub = Publisher(broker)
    try:
        messages = _messages(event_id)
        n = len(messages)
        first = _stream(pub, messages, {n // 3: procs[0].kill, 2 * n // 3: broker.restart}, rate=1500)
        total = SINGLE + BATCHES * PER_BATCH
        assert wait_for(lambda: _counts(sessions, event_id)[0] >= total, 30), (
            _counts(sessions, event_id), first, (tmp_path / "worker.log").read_text()[-3000:])
        time.sleep(0.5)  # anything stored twice would show now
        stored, distinct = _counts(sessions, event_id)
    finally:
        pub.close()
        for p in procs:
            p.kill()
            p.wait()
    print(json.dumps({"sent": n, "acknowledged_first_pass": first, "acknowledged": n, "readings": total,
                      "stored": stored, "duplicates": stored - distinct}))
    assert procs[0].returncode == -9
    assert stored == distinct == total


def test_a_dead_workers_slots_are_taken_over(client, login, sessions, db_url, broker, tmp_path):
    """Two workers share two slots of a shared subscription; one is killed and stays dead: its session,
    still in the group and still routed to by the broker, is consumed by the other within about a second."""
    if not db_url.startswith("sqlite"):
        pytest.skip("once is enough: the PostgreSQL lease runs in the test above")
    event_id = _event(client, login)
    env = _env(db_url, broker, tmp_path / "var", f"t{uuid.uuid4().hex[:8]}", slots=2)
    procs = [_worker(env, tmp_path / "w1.log")]
    procs.append(_worker(env, tmp_path / "w2.log"))
    time.sleep(1.5)  # the first hands one slot to the second
    pub = Publisher(broker)
    try:
        messages = _messages(event_id)
        first = _stream(pub, messages, {len(messages) // 3: procs[0].kill}, rate=2000)
        total = SINGLE + BATCHES * PER_BATCH
        assert wait_for(lambda: _counts(sessions, event_id)[0] >= total, 30)
        time.sleep(0.5)
        stored, distinct = _counts(sessions, event_id)
    finally:
        pub.close()
        for p in procs:
            p.kill()
            p.wait()
    print(json.dumps({"sent": len(messages), "acknowledged_first_pass": first, "stored": stored,
                      "duplicates": stored - distinct}))
    assert stored == distinct == total


def test_a_reading_delivered_again_is_stored_once(sessions, client, login):
    """A QoS 1 message delivered again (the consumer died between commit and PUBACK) carries no key of
    its own: the key derived from device, time and values keeps it from being stored twice."""
    from anbao.core.mqtt import Inbound
    from anbao.sensing.mqtt_ingest import make_handler

    event_id = _event(client, login)
    stats: dict[str, int] = {}
    handle = make_handler(sessions, stats)
    at = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    def reading(value: int) -> dict[str, object]:
        return {"sensor": "C1", "at": at, "value": value}

    one = Inbound(1, f"anbao/v1/{event_id}/readings/C1", json.dumps(reading(3)).encode(), 1)
    batch = Inbound(2, f"anbao/v1/{event_id}/readings/gw", json.dumps([reading(4), reading(3)]).encode(), 1)
    handle([one])
    handle([one, batch])  # the same message again, and a gateway batch repeating one of its readings
    assert _counts(sessions, event_id)[0] == 2
    assert stats["accepted"] == 2 and stats["duplicates"] == 2


