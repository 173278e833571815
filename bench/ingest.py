"""Ingest throughput and warning latency. Prints one JSON line.

    python bench/ingest.py [--n 50000] [--mqtt mqtt://127.0.0.1:1883]

Figures (readings per second, stored and committed, on a temporary SQLite file):
- readings_per_s_inprocess: service.ingest in batches of 5,000 (the floor every door shares)
- readings_per_s_http_batch: POST /readings with 5,000 readings per request, through the ASGI app
- readings_per_s_mqtt_single / _batched: one reading per QoS 1 message / gateway messages of 100,
  consumed by one SharedConsumer (ack after store); the publisher keeps at most 200 messages
  outstanding, since Mosquitto drops QoS 1 messages beyond 1,000 queued per subscriber
- broker_ceiling_msgs_per_s: Mosquitto alone in the same run: mosquitto_pub -l (QoS 1) into mosquitto_sub
- latency_p50_ms / latency_p99_ms: a reading that raises a zone to orange, posted over HTTP, until the
  warning arrives on the live WebSocket (the watcher runs every 0.2 s here), with background load
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from anbao.account import service as accounts
from anbao.account.schemas import UserCreate
from anbao.app import create_app
from anbao.config import Settings
from anbao.core import crud
from anbao.core.db import make_engine, make_sessionmaker, transaction
from anbao.core.migrate import upgrade
from anbao.event import service as events
from anbao.event.schemas import EventCreate
from anbao.sensing import service
from anbao.sensing.models import Reading
from anbao.venue import service as venues

SENSORS = 100


def _setup(url: str) -> tuple[Any, int]:
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with transaction(sessions, actor="bench") as db:
        ev = events.create(db=db, data=EventCreate(code=f"B{uuid.uuid4().hex[:6]}", name="bench", kind="other"))
        venue = crud.create_row(db=db, kind=venues.VENUES, event_id=ev.id, data={"code": "V", "name": "v",
                                                                               "crs": "local"})
        zone = crud.create_row(db=db, kind=venues.ZONES, event_id=ev.id, data={
            "venue_id": venue.id, "code": "Z", "name": "内场", "kind": "standing", "ring": 1,
            "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [100, 0], [100, 100], [0, 100], [0, 0]]]}})
        crud.create_rows(db=db, kind=venues.DEVICES, event_id=ev.id, items=[
            {"venue_id": venue.id, "code": f"S{i}", "name": f"s{i}", "kind": "video_count", "lon": 1.0, "lat": 1.0,
             "zone_id": zone.id if i == 0 else None} for i in range(SENSORS)])
        for role in ("gateway", "officer"):
            accounts.create(db=db, data=UserCreate(username=role, password="password-123", role=role))
        eid = ev.id
    return sessions, eid


def _items(n: int, start: int = 0) -> list[dict[str, Any]]:
    t0 = datetime.now(UTC) - timedelta(minutes=30)
    return [{"sensor": f"S{1 + (i % (SENSORS - 1))}", "at": (t0 + timedelta(microseconds=i)).isoformat(),
             "value": float(i % 500)} for i in range(start, start + n)]


def _count(sessions: Any) -> int:
    with sessions() as db:
        return int(db.execute(select(func.count()).select_from(Reading)).scalar_one())


def inprocess(sessions: Any, eid: int, n: int) -> float:
    items = _items(n)
    t = time.perf_counter()
    for k in range(0, n, 5000):
        with transaction(sessions, actor="bench") as db:
            service.ingest(db=db, event_id=eid, items=items[k:k + 5000])
    return n / (time.perf_counter() - t)


def http_batch(client: TestClient, headers: dict[str, str], eid: int, n: int) -> float:
    items = _items(n, start=10_000_000)
    bodies = [json.dumps(items[k:k + 5000]).encode() for k in range(0, n, 5000)]
    t = time.perf_counter()
    for body in bodies:
        r = client.post(f"/api/v1/events/{eid}/readings", content=body,
                        headers={**headers, "Content-Type": "application/json"})
        assert r.status_code == 200 and r.json()["accepted"] == len(json.loads(body)), r.text[:200]
    return n / (time.perf_counter() - t)


def mqtt_rate(url: str, sessions: Any, eid: int, n: int, per_msg: int) -> float:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from anbao.core.mqtt import SharedConsumer
    from anbao.sensing.mqtt_ingest import TOPIC_FILTER, make_handler

    consumer = SharedConsumer(url, TOPIC_FILTER, make_handler(sessions), group=f"b{uuid.uuid4().hex[:6]}")
    consumer.start()
    host, port = url.removeprefix("mqtt://").split(":")
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    pub.max_queued_messages_set(0)
    pub.connect(host, int(port))
    pub.loop_start()
    before = _count(sessions)
    items = _items(n, start=20_000_000 + per_msg * 1_000_000)
    payloads = [json.dumps(items[k] if per_msg == 1 else items[k:k + per_msg]) for k in range(0, n, per_msg)]
    t = time.perf_counter()
    # keep at most WINDOW messages outstanding: Mosquitto queues only 1,000 QoS 1 messages per
    # subscriber by default (max_queued_messages) and drops the rest
    window = 200
    for k, p in enumerate(payloads):
        pub.publish(f"anbao/v1/{eid}/readings/gw", p, qos=1)
        if k % window == window - 1:
            while _count(sessions) < before + (k + 1 - window) * per_msg and time.perf_counter() - t < 60:
                time.sleep(0.005)
    while _count(sessions) < before + n and time.perf_counter() - t < 60:
        time.sleep(0.005)
    rate = (_count(sessions) - before) / (time.perf_counter() - t)
    pub.loop_stop()
    pub.disconnect()
    consumer.stop()
    return rate


def broker_ceiling(url: str, n: int) -> float | None:
    if not (shutil.which("mosquitto_pub") and shutil.which("mosquitto_sub")):
        return None
    host, port = url.removeprefix("mqtt://").split(":")
    topic = f"bench/{uuid.uuid4().hex[:8]}"
    sub = subprocess.Popen(["mosquitto_sub", "-h", host, "-p", port, "-t", topic, "-q", "1", "-C", str(n)],
                           stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    lines = "".join(f'{{"sensor":"S1","value":{i}}}\n' for i in range(n)).encode()
    t = time.perf_counter()
    subprocess.run(["mosquitto_pub", "-h", host, "-p", port, "-t", topic, "-q", "1", "-l"], input=lines, check=True)
    sub.wait(timeout=300)
    return n / (time.perf_counter() - t)


def latency(client: TestClient, headers: dict[str, str], eid: int, rounds: int) -> list[float]:
    token = client.post("/api/v1/auth/login", json={"username": "officer", "password": "password-123"}).json()
    out: list[float] = []
    stop = threading.Event()

    def load() -> None:  # background readings from the other sensors while we measure
        k = 30_000_000
        while not stop.is_set():
            client.post(f"/api/v1/events/{eid}/readings", json=_items(1000, start=k), headers=headers)
            k += 1000

    bg = threading.Thread(target=load, daemon=True)
    bg.start()
    with client.websocket_connect(f"/api/v1/events/{eid}/live?token={token['access_token']}") as ws:
        ws.receive_json()
        for r in range(rounds):
            value = 45_000 if r % 2 == 0 else 5_000  # 4.5 p/m2 (orange) then back to 0.5
            t = time.perf_counter()
            client.post(f"/api/v1/events/{eid}/readings", headers=headers,
                        json=[{"sensor": "S0", "at": datetime.now(UTC).isoformat(), "value": value}])
            while True:
                msg = ws.receive_json()
                if msg.get("topic", "").endswith("/zone-state") and any(
                        z["count"] == value for z in msg["payload"]["zones"]):
                    out.append((time.perf_counter() - t) * 1000)
                    break
            time.sleep(0.05)
    stop.set()
    bg.join(timeout=10)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--mqtt", default=os.environ.get("ANBAO_BENCH_MQTT_URL", "mqtt://127.0.0.1:1883"))
    parser.add_argument("--latency-rounds", type=int, default=40)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp / 'bench.db'}"
    sessions, eid = _setup(url)
    result: dict[str, Any] = {"bench": "ingest", "database": "sqlite", "n": args.n}
    result["readings_per_s_inprocess"] = round(inprocess(sessions, eid, args.n))
    settings = Settings(database_url=url, var_dir=tmp, secret_key="b" * 32, evaluate_interval_s=0.2)
    with TestClient(create_app(settings)) as client:
        tok = client.post("/api/v1/auth/login", json={"username": "gateway", "password": "password-123"}).json()
        headers = {"Authorization": f"Bearer {tok['access_token']}"}
        result["readings_per_s_http_batch"] = round(http_batch(client, headers, eid, args.n))
        lat = latency(client, headers, eid, args.latency_rounds)
        result["latency_p50_ms"] = round(statistics.median(lat), 1)
        result["latency_p99_ms"] = round(sorted(lat)[max(0, int(len(lat) * 0.99) - 1)], 1)
    try:
        result["readings_per_s_mqtt_single"] = round(mqtt_rate(args.mqtt, sessions, eid, min(args.n, 2_000), 1))
        result["readings_per_s_mqtt_batched"] = round(mqtt_rate(args.mqtt, sessions, eid, args.n, 100))
        ceiling = broker_ceiling(args.mqtt, min(args.n, 20_000))
        result["broker_ceiling_msgs_per_s"] = None if ceiling is None else round(ceiling)
    except (OSError, TimeoutError) as exc:
        result["mqtt_error"] = str(exc)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
