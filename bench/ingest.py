"""Ingest throughput and warning latency, against the old path measured in the same run. Prints one JSON line.

    python bench/ingest.py [--n 50000] [--mqtt mqtt://127.0.0.1:1883] [--workers 2] [--repeat 1]
                           [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test | --pg none]

Figures (readings per second stored and committed, on a temporary SQLite file):
- readings_per_s_inprocess: service.ingest in batches of 5,000 parsed items, one thread
  (readings_per_s_inprocess_body: service.ingest_body from the JSON bytes, as the HTTP door does)
- readings_per_s_http_batch: POST /readings with 5,000 readings per request to the app served by uvicorn
  in a second process (as `anbao serve` runs it), one keep-alive connection
- readings_per_s_mqtt_single: one reading per QoS 1 message, published by mosquitto_pub -l, stored by one
  consumer (as the app runs it); mqtt_single_workers: ``--workers`` worker processes sharing the
  subscription (as ``anbao worker`` runs); mqtt_single_share_of_ceiling relates it to the ceiling
- readings_per_s_mqtt_batched: gateway messages of 100 readings (``--mqtt-batched-n`` readings), one consumer
- broker_ceiling_msgs_per_s: Mosquitto alone in the same run: mosquitto_pub -l into mosquitto_sub, QoS 1,
  both MQTT 5 with a high Receive Maximum, as the consumers
- latency_p50_ms / latency_p99_ms: a reading that raises a fresh zone from nothing to orange, from the
  HTTP answer until the warning for that zone arrives on the live WebSocket of the same server, while
  10,000 readings/s of background load flow through HTTP (watcher_interval_s: the watcher's pass interval;
  ingest pokes the watcher, so a warning does not wait for the next pass)
- baseline_*: the code this replaced, run here on the same data: per-item pydantic models, a key query
  before the insert, ORM-level multi-row insert, json.loads per MQTT message, and a paho-mqtt consumer
  acknowledging message by message (given a high Receive Maximum
  so that it does not lose messages; without one Mosquitto drops QoS 1 messages beyond 20 in flight
  plus 1,000 queued, which is also why this bench once hung: mosquitto_sub -C N waited for dropped ones)
- sqlite_ceiling_rows_per_s: the raw storage ceiling: sqlite3 ``executemany`` of rows already in storage form
  into the same ``reading`` table (its columns, indexes and foreign keys), WAL, synchronous=NORMAL, a commit
  per 5,000; sqlite_inprocess_share / sqlite_http_share: the in-process and HTTP figures over it
- readings_per_s_pg_inprocess, readings_per_s_pg_http_batch, pg_ceiling_rows_per_s (psycopg 3 COPY of rows
  in storage form, ``write_row``, into the same ``reading`` table, a commit per 5,000), pg_inprocess_share,
  pg_http_share: the same on PostgreSQL (``--pg``, a schema of its own, dropped at the end). Targets:
  in process >= 0.8 and HTTP batch >= 0.6 of the ceiling, on each database
- *_per_cpu_s_* and *_share_cpu: the in-process figures and ceilings per CPU second (this process's CPU time,
  plus the PostgreSQL backend's, read from /proc): on a machine shared with other work, wall-clock shares
  swing with the neighbours' load; CPU shares hardly move
With --repeat R each throughput figure is the best of R runs (the medians are printed too). The script
runs against whichever ``anbao`` is importable: ``PYTHONPATH=<old tree>/src`` measures an older tree.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import queue
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import Request
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from anbao.account import service as accounts
from anbao.account.schemas import UserCreate
from anbao.app import create_app
from anbao.config import Settings
from anbao.core import crud
from anbao.core.db import make_engine, make_sessionmaker, transaction
from anbao.core.migrate import upgrade
from anbao.core.mqtt import SharedConsumer
from anbao.event import service as events
from anbao.event.schemas import EventCreate
from anbao.sensing import service
from anbao.sensing.models import Reading
from anbao.sensing.mqtt_ingest import TOPIC_FILTER, make_handler
from anbao.sensing.schemas import ReadingIn
from anbao.venue import service as venues

SENSORS = 100  # background sensors S0..S99 (no zone)
ZONES = 60  # 10 m x 10 m zones Z0..Z59, one camera each (Z<k>-C), for the latency rounds
BATCH = 5000


def _setup(url: str) -> tuple[Any, int]:
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with transaction(sessions, actor="bench") as db:
        ev = events.create(db=db, data=EventCreate(code=f"B{uuid.uuid4().hex[:6]}", name="bench", kind="other"))
        venue = crud.create_row(db=db, kind=venues.VENUES, event_id=ev.id, data={"code": "V", "name": "v",
                                                                               "crs": "local"})
        zone_ids = []
        for k in range(ZONES):
            x = 20.0 * k
            zone_ids.append(crud.create_row(db=db, kind=venues.ZONES, event_id=ev.id, data={
                "venue_id": venue.id, "code": f"Z{k}", "name": f"区{k}", "kind": "standing", "ring": 1,
                "geometry": {"type": "Polygon", "coordinates": [[[x, 0], [x + 10, 0], [x + 10, 10], [x, 10],
                                                                [x, 0]]]}}).id)
        crud.create_rows(db=db, kind=venues.DEVICES, event_id=ev.id, items=[
            {"venue_id": venue.id, "code": f"S{i}", "name": f"s{i}", "kind": "video_count", "lon": 1.0, "lat": 1.0}
            for i in range(SENSORS)] + [
            {"venue_id": venue.id, "code": f"Z{k}-C", "name": f"c{k}", "kind": "video_count", "lon": 1.0, "lat": 1.0,
             "zone_id": zone_ids[k]} for k in range(ZONES)])
        for role in ("gateway", "officer"):
            accounts.create(db=db, data=UserCreate(username=role, password="password-123", role=role))
        eid = ev.id
    return sessions, eid


_T0 = datetime.now(UTC) - timedelta(minutes=30)


def _items(n: int, start: int = 0) -> list[dict[str, Any]]:
    """Distinct readings of the background sensors, 1 µs apart, half an hour ago."""
    return [{"sensor": f"S{i % SENSORS}", "at": (_T0 + timedelta(microseconds=i)).isoformat(),
             "value": float(i % 500)} for i in range(start, start + n)]


# -- the replaced path, kept here to measure against -----------------------------------------------

def old_ingest(*, db: Session, event_id: int, items: list[Any], source: str = "") -> int:
    """The ingest before this rewrite: one pydantic model per item, a query for stored keys, ORM insert."""
    from anbao.venue.models import Device

    now = datetime.now(UTC)
    devices = {c: (d, z) for c, d, z in db.execute(select(Device.code, Device.id, Device.zone_id)
                                                    .where(Device.event_id == event_id))}
    good = []
    for raw in items:
        try:
            item = ReadingIn.model_validate(raw)
        except ValueError:
            continue
        device = devices.get(item.sensor)
        if device is None or item.at > now + timedelta(minutes=5):
            continue
        good.append((item, *device))
    keys = [g[0].idempotency_key for g in good if g[0].idempotency_key]
    stored = set(db.execute(select(Reading.idem_key).where(Reading.event_id == event_id,
                                                          Reading.idem_key.in_(keys))).scalars()) if keys else set()
    rows = [{"event_id": event_id, "device_id": d, "zone_id": z, "at": it.at, "value": it.value, "values": it.values,
             "received_at": now, "source": source[:80], "idem_key": it.idempotency_key}
            for it, d, z in good if it.idempotency_key is None or it.idempotency_key not in stored]
    if rows:
        db.execute(insert(Reading), rows)
    return len(rows)


# -- raw storage ceilings ------------------------------------------------------------------------

_COLUMNS = 'event_id, device_id, zone_id, at, value, "values", received_at, source, idem_key'


def _storage_rows(sessions: Any, eid: int, n: int, start: int) -> list[tuple[Any, ...]]:
    """The bench's readings as ``reading`` rows in storage form (UTC text times), built before the clock."""
    from sqlalchemy import text

    with sessions() as db:
        devices = dict(db.execute(text("SELECT code, id FROM device WHERE event_id = :e"), {"e": eid}).all())
    received = datetime.now(UTC).isoformat(" ", "microseconds")[:26]
    return [(eid, devices[it["sensor"]], None, datetime.fromisoformat(it["at"]).isoformat(" ", "microseconds")[:26],
             it["value"], None, received, "bench", None) for it in _items(n, start)]  # _T0 is UTC


class Rate(tuple[float, float | None]):
    """(rows per wall-clock second, rows per CPU second): the CPU figure holds on a busy shared machine."""


def _backend_cpu(pid: int) -> float:
    """CPU seconds used so far by a PostgreSQL backend of this machine (utime + stime from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Clock:
    """Wall and CPU time of a stretch of work: this process's CPU time plus that of the PostgreSQL backends
    named (None when a backend cannot be read: another machine)."""

    def __init__(self, backends: tuple[int, ...] = ()) -> None:
        self.backends = backends

    def _cpu(self) -> float | None:
        try:
            return time.process_time() + sum(_backend_cpu(pid) for pid in self.backends)
        except OSError:
            return None

    def __enter__(self) -> Clock:
        self.cpu0, self.wall0 = self._cpu(), time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.wall, cpu1 = time.perf_counter() - self.wall0, self._cpu()
        self.cpu = None if cpu1 is None or self.cpu0 is None else cpu1 - self.cpu0

    def rate(self, n: int) -> Rate:
        return Rate((n / self.wall, n / self.cpu if self.cpu else None))


def sqlite_ceiling(path: str, rows: list[tuple[Any, ...]]) -> Rate:
    """Rows per second: sqlite3 executemany into ``reading``, WAL, a commit per 5,000 rows."""
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
        conn.execute(f"PRAGMA {pragma}")
    sql = f"INSERT INTO reading ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    with Clock() as clock:
        for k in range(0, len(rows), BATCH):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(sql, rows[k:k + BATCH])
            conn.execute("COMMIT")
    conn.close()
    return clock.rate(len(rows))


def pg_ceiling(url: str, rows: list[tuple[Any, ...]]) -> Rate:
    """Rows per second: psycopg 3 COPY (``write_row``) into ``reading``, a commit per 5,000 rows."""
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    with psycopg.connect(host=u.host, port=u.port or 5432, user=u.username, password=u.password,
                         dbname=u.database, options=str(u.query.get("options", ""))) as conn:
        with Clock((conn.info.backend_pid,)) as clock:
            for k in range(0, len(rows), BATCH):
                with conn.cursor() as cur, cur.copy(f"COPY reading ({_COLUMNS}) FROM STDIN") as copy:
                    for e, d, z, a, v, j, r, s, key in rows[k:k + BATCH]:
                        copy.write_row((e, d, z, a + "+00", v, j, r + "+00", s, key))
                conn.commit()
        return clock.rate(len(rows))


# -- in process and HTTP ------------------------------------------------------------------------

def _backend_pid(db: Session) -> int | None:
    info = getattr(db.connection().connection.dbapi_connection, "info", None)  # psycopg's, not sqlite3's
    return getattr(info, "backend_pid", None)


def inprocess(sessions: Any, eid: int, n: int, start: int, how: str) -> Rate:
    items = _items(n, start)
    chunks = [items[k:k + BATCH] for k in range(0, n, BATCH)]
    bodies = [json.dumps(c).encode() for c in chunks] if how == "body" else []
    with sessions() as db:
        pid = _backend_pid(db)
    pids = set()
    with Clock(() if pid is None else (pid,)) as clock:
        for k, chunk in enumerate(chunks):
            with transaction(sessions, actor="bench") as db:
                pids.add(_backend_pid(db))
                if how == "items":
                    service.ingest(db=db, event_id=eid, items=chunk)
                elif how == "body":
                    service.ingest_body(db=db, event_id=eid, body=bodies[k])
                else:
                    old_ingest(db=db, event_id=eid, items=chunk)
    wall, cpu = clock.rate(n)
    return Rate((wall, cpu if pids == {pid} else None))  # another pooled connection: its backend was not read


def http_batch(client: httpx.Client, headers: dict[str, str], eid: int, n: int, start: int, old: bool) -> float:
    items = _items(n, start)
    bodies = [json.dumps(items[k:k + BATCH]).encode() for k in range(0, n, BATCH)]
    url = f"/bench/old-readings/{eid}" if old else f"/api/v1/events/{eid}/readings"
    t = time.perf_counter()
    for body in bodies:
        r = client.post(url, content=body, headers={**headers, "Content-Type": "application/json"})
        assert r.status_code == 200, r.text[:300]
    return n / (time.perf_counter() - t)


def add_old_route(app: Any) -> None:
    """The old HTTP door (json.loads of the body, then the old ingest), next to the new one."""
    async def old(eid: int, request: Request) -> dict[str, int]:
        from starlette.concurrency import run_in_threadpool

        items = json.loads(await request.body())

        def run() -> int:
            with transaction(app.state.sessions, actor="bench") as db:
                return old_ingest(db=db, event_id=eid, items=items)

        return {"accepted": await run_in_threadpool(run)}

    app.add_api_route("/bench/old-readings/{eid}", old, methods=["POST"])
    app.router.routes.insert(0, app.router.routes.pop())  # ahead of the static files mounted at /


def serve(port: int, db_url: str, var_dir: str) -> None:
    """The app with the old door added, served by uvicorn (run in a subprocess by the bench)."""
    import uvicorn

    app = create_app(Settings(database_url=db_url, var_dir=Path(var_dir), secret_key="b" * 32))
    add_old_route(app)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def start_server(db_url: str, var_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-W", "ignore", __file__, "--serve", str(port), "--db", db_url,
                             "--var", str(var_dir)])
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("bench server did not start")


# -- MQTT -----------------------------------------------------------------------------------------

def _host_port(url: str) -> tuple[str, str]:
    host, port = url.removeprefix("mqtt://").split(":")
    return host, port


def _publish_lines(url: str, topic: str, lines: list[bytes]) -> None:
    host, port = _host_port(url)
    subprocess.run(["mosquitto_pub", "-h", host, "-p", port, "-t", topic, "-q", "1", "-l"],
                   input=b"\n".join(lines) + b"\n", check=True, timeout=600)


def _wait_count(get: Any, target: int, t0: float, stall_s: float = 10.0) -> float:
    """Readings stored per second since ``t0`` once ``get()`` reaches ``target``, or once it has not moved
    for ``stall_s`` (messages the broker dropped; reported on stderr)."""
    last, last_change = -1, time.perf_counter()
    while (count := get()) < target:
        now = time.perf_counter()
        if count != last:
            last, last_change = count, now
        elif now - last_change > stall_s:
            print(f"bench: {target - count} of {target} readings never arrived", file=sys.stderr)
            return count / (last_change - t0)
        time.sleep(0.002)
    return count / (time.perf_counter() - t0)


def old_handler(sessions: Any, stats: dict[str, int]) -> Any:
    """The replaced MQTT handler: json.loads per message, then the old ingest per event."""
    def handle(batch: list[Any]) -> None:
        by_ref: dict[str, list[Any]] = {}
        for m in batch:
            data = json.loads(m.payload)
            by_ref.setdefault(m.topic.split("/")[2], []).extend(data if isinstance(data, list) else [data])
        with transaction(sessions, actor="mqtt") as db:
            for ref, items in by_ref.items():
                stats["accepted"] = stats.get("accepted", 0) + old_ingest(db=db, event_id=int(ref), items=items)

    return handle


def _paho_consumer(url: str, handle: Any, group: str) -> Any:
    """The replaced consumer: paho-mqtt, one Python callback and one PUBACK write per message."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion
    from paho.mqtt.properties import Properties

    inbox: queue.Queue[Any] = queue.Queue()
    stop = threading.Event()
    ready = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5, manual_ack=True)
    client.on_connect = lambda c, *_: c.subscribe(f"$share/{group}/{TOPIC_FILTER}", qos=1)
    client.on_subscribe = lambda *_: ready.set()
    client.on_message = lambda _c, _u, m: inbox.put(m)

    def drain() -> None:
        while not stop.is_set():
            try:
                batch = [inbox.get(timeout=0.2)]
            except queue.Empty:
                continue
            deadline = time.monotonic() + 0.05
            while len(batch) < BATCH and (left := deadline - time.monotonic()) > 0:
                try:
                    batch.append(inbox.get(timeout=left))
                except queue.Empty:
                    break
            handle(batch)
            for m in batch:
                client.ack(m.mid, m.qos)

    props = Properties(mqtt.PacketTypes.CONNECT)
    props.ReceiveMaximum = 65535
    host, port = _host_port(url)
    client.connect(host, int(port), properties=props)
    client.loop_start()
    ready.wait(10)
    writer = threading.Thread(target=drain, daemon=True)
    writer.start()

    def close() -> None:
        stop.set()
        writer.join(5)
        client.loop_stop()
        client.disconnect()

    return close


def _worker(url: str, db_url: str, group: str, counter: Any, ready: Any, stop: Any) -> None:
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    stats: dict[str, int] = {}
    inner = make_handler(sessions, stats)

    def handle(batch: list[Any]) -> None:
        before = stats.get("accepted", 0)
        inner(batch)
        with counter.get_lock():
            counter.value += stats.get("accepted", 0) - before

    consumer = SharedConsumer(url, TOPIC_FILTER, handle, group=group)
    consumer.start()
    ready.set()
    stop.wait()
    consumer.stop()
    engine.dispose()


def mqtt_rate(url: str, db_url: str, sessions: Any, eid: int, n: int, per_msg: int, start: int,
              how: str, workers: int = 2) -> float:
    """Publish ``n`` readings, ``per_msg`` per message, with mosquitto_pub -l; readings stored per second."""
    items = _items(n, start)
    lines = [json.dumps(items[k] if per_msg == 1 else items[k:k + per_msg], separators=(",", ":")).encode()
             for k in range(0, n, per_msg)]
    group = f"b{uuid.uuid4().hex[:8]}"
    topic = f"anbao/v1/{eid}/readings/gw"
    if how == "workers":
        ctx = mp.get_context("spawn")
        counter, stop = ctx.Value("q", 0), ctx.Event()
        readies = [ctx.Event() for _ in range(workers)]
        procs = [ctx.Process(target=_worker, args=(url, db_url, group, counter, r, stop), daemon=True)
                 for r in readies]
        for p in procs:
            p.start()
        for r in readies:
            r.wait(60)
        t = time.perf_counter()
        _publish_lines(url, topic, lines)
        rate = _wait_count(lambda: counter.value, n, t)
        stop.set()
        for p in procs:
            p.join(10)
        return rate
    stats: dict[str, int] = {}
    handle = make_handler(sessions, stats)
    if how == "paho":
        close = _paho_consumer(url, old_handler(sessions, stats), group)
    else:
        consumer = SharedConsumer(url, TOPIC_FILTER, handle, group=group)
        consumer.start()
        close = consumer.stop
    t = time.perf_counter()
    _publish_lines(url, topic, lines)
    rate = _wait_count(lambda: stats.get("accepted", 0), n, t)
    close()
    return rate


def broker_ceiling(url: str, n: int) -> float | None:
    """Messages per second from mosquitto_pub -l through Mosquitto into mosquitto_sub (QoS 1, MQTT 5)."""
    if not (shutil.which("mosquitto_pub") and shutil.which("mosquitto_sub")):
        return None
    host, port = _host_port(url)
    topic = f"bench/{uuid.uuid4().hex[:8]}"
    pub = ["mosquitto_pub", "-h", host, "-p", port, "-t", topic, "-q", "1"]
    subprocess.run([*pub, "-r", "-m", "probe"], check=True)  # retained: the subscriber's first message
    with tempfile.TemporaryFile() as out:
        sub = subprocess.Popen(["mosquitto_sub", "-h", host, "-p", port, "-t", topic, "-q", "1", "-C", str(n + 1),
                                "-V", "5", "-D", "connect", "receive-maximum", "65535"], stdout=out)
        deadline = time.monotonic() + 30
        while os.fstat(out.fileno()).st_size == 0 and time.monotonic() < deadline:
            time.sleep(0.01)  # subscribed once the retained probe is written
        lines = "".join(json.dumps(item, separators=(",", ":")) + "\n" for item in _items(n)).encode()
        t = time.perf_counter()
        subprocess.run([*pub, "-l"], input=lines, check=True)
        try:
            sub.wait(120)  # never wait forever for messages a broker may have dropped
        except subprocess.TimeoutExpired:
            sub.kill()
            sub.wait()
        elapsed = time.perf_counter() - t
        out.seek(0)
        received = out.read().count(b"\n") - 1
    subprocess.run([*pub, "-r", "-n"], check=True)  # clear the retained probe
    return received / elapsed


# -- latency --------------------------------------------------------------------------------------

def latency(base: str, headers: dict[str, str], eid: int, rounds: int, load_per_s: int = 10_000
            ) -> tuple[list[float], int]:
    """Per round: a fresh zone from nothing to orange; HTTP answer -> its warning on the WebSocket (ms)."""
    from websockets.sync.client import connect

    http = httpx.Client(base_url=base, headers=headers, timeout=30)
    token = http.post("/api/v1/auth/login", json={"username": "officer", "password": "password-123"}).json()
    zones = {z["code"]: z["id"] for z in http.get(f"/api/v1/events/{eid}/zones", params={"limit": 1000}).json()}
    stop = threading.Event()
    inbox: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()

    def load() -> None:  # background readings of the zone-less sensors, 1,000 per request
        k, period = 40_000_000, 1000 / load_per_s
        next_at = time.perf_counter()
        with httpx.Client(base_url=base, headers=headers, timeout=30) as bg_http:
            while not stop.is_set():
                bg_http.post(f"/api/v1/events/{eid}/readings",
                             json=[{**r, "at": datetime.now(UTC).isoformat()} for r in _items(1000, start=k)])
                k += 1000
                next_at += period
                time.sleep(max(0.0, next_at - time.perf_counter()))

    out: list[float] = []
    missed = 0
    ws_url = base.replace("http://", "ws://") + f"/api/v1/events/{eid}/live"
    stack = contextlib.ExitStack()
    try:  # the token in the first frame; a tree from before that took it in the URL
        ws = stack.enter_context(connect(ws_url))
        ws.send(json.dumps({"type": "auth", "token": token["access_token"]}))
        ws.recv(timeout=10)  # hello
    except Exception:
        stack.close()
        ws = stack.enter_context(connect(f"{ws_url}?token={token['access_token']}"))
        ws.recv()
    with stack:

        def listen() -> None:
            while True:
                try:
                    raw = ws.recv()
                except Exception:
                    return
                inbox.put((time.perf_counter(), json.loads(raw)))

        threading.Thread(target=listen, daemon=True).start()
        bg = threading.Thread(target=load, daemon=True)
        bg.start()
        time.sleep(1.0)
        for r in range(min(rounds, ZONES)):
            zone_id = zones[f"Z{r}"]
            answer = http.post(f"/api/v1/events/{eid}/readings",
                               json=[{"sensor": f"Z{r}-C", "at": datetime.now(UTC).isoformat(), "value": 450}])
            t = time.perf_counter()
            assert answer.status_code == 200 and answer.json()["accepted"] == 1, answer.text
            deadline = t + 10
            while True:
                try:
                    at, msg = inbox.get(timeout=max(0.0, deadline - time.perf_counter()))
                except queue.Empty:
                    missed += 1
                    break
                p = msg.get("payload") or {}
                if msg.get("topic", "").endswith("/warning") and p.get("zone_id") == zone_id:
                    out.append((at - t) * 1000)
                    break
            time.sleep(0.1)
        stop.set()
        bg.join(timeout=10)
    http.close()
    return out, missed


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return round(s[min(len(s) - 1, max(0, int(round(q * len(s))) - 1))], 1)


PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgresql(pg_url: str, n: int, tmp: Path, measure: Any) -> None:
    """The PostgreSQL figures, in a schema of their own that is dropped at the end."""
    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url, connect_args={"connect_timeout": 3})
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{pg_url}{'&' if '?' in pg_url else '?'}options=-csearch_path%3D{schema}"
    try:
        sessions, eid = _setup(url)
        measure("pg_ceiling_rows_per_s", lambda s: pg_ceiling(url, _storage_rows(sessions, eid, n, s)),
                "readings_per_s_pg_inprocess", lambda s: inprocess(sessions, eid, n, s, "items"))
        server, base = start_server(url, tmp)
        try:
            tok = httpx.post(f"{base}/api/v1/auth/login",
                             json={"username": "gateway", "password": "password-123"}).json()
            headers = {"Authorization": f"Bearer {tok['access_token']}"}
            with httpx.Client(base_url=base, timeout=60) as client:
                measure("readings_per_s_pg_http_batch", lambda s: http_batch(client, headers, eid, n, s, old=False))
        finally:
            server.terminate()
            server.wait(30)
        sessions.kw["bind"].dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--mqtt", default=os.environ.get("ANBAO_BENCH_MQTT_URL", "mqtt://127.0.0.1:1883"))
    parser.add_argument("--latency-rounds", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2, help="worker processes for mqtt_single_workers")
    parser.add_argument("--mqtt-batched-n", type=int, default=200_000, help="readings sent in gateway messages")
    parser.add_argument("--repeat", type=int, default=1, help="runs per throughput figure (best and median kept)")
    parser.add_argument("--pg", default=os.environ.get("ANBAO_BENCH_PG_URL", PG_URL),
                        help="PostgreSQL to measure in a schema of its own ('none' skips it)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--var", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.db, args.var)
        return
    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp / 'bench.db'}"
    sessions, eid = _setup(url)
    runs: dict[str, list[float]] = {}
    cpu_runs: dict[str, list[float]] = {}
    offset = [0]

    def measure(*named: Any) -> None:
        """``measure(name, fn, name, fn, ...)``: each figure ``--repeat`` times, taken in turns, so that a ceiling
        and the figures set against it see the same moments of a shared machine."""
        for _ in range(args.repeat):
            for name, fn in zip(named[::2], named[1::2], strict=True):
                offset[0] += 1_000_000
                got = fn(offset[0])
                runs.setdefault(name, []).append(got[0] if isinstance(got, Rate) else got)
                if isinstance(got, Rate) and got[1] is not None:
                    cpu_runs.setdefault(name.replace("per_s", "per_cpu_s"), []).append(got[1])

    n = args.n
    measure("sqlite_ceiling_rows_per_s", lambda s: sqlite_ceiling(str(tmp / "bench.db"),
                                                                  _storage_rows(sessions, eid, n, s)),
            "readings_per_s_inprocess", lambda s: inprocess(sessions, eid, n, s, "items"),
            "readings_per_s_inprocess_body", lambda s: inprocess(sessions, eid, n, s, "body"))
    measure("baseline_readings_per_s_inprocess", lambda s: inprocess(sessions, eid, n, s, "old"))
    result: dict[str, Any] = {"bench": "ingest", "database": "sqlite", "n": n, "repeat": args.repeat,
                              "cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2),
                              "watcher_interval_s": Settings(database_url=url).evaluate_interval_s}
    server, base = start_server(url, tmp)
    try:
        tok = httpx.post(f"{base}/api/v1/auth/login", json={"username": "gateway", "password": "password-123"}).json()
        headers = {"Authorization": f"Bearer {tok['access_token']}"}
        with httpx.Client(base_url=base, timeout=60) as client:
            measure("readings_per_s_http_batch", lambda s: http_batch(client, headers, eid, n, s, old=False))
            measure("baseline_readings_per_s_http_batch", lambda s: http_batch(client, headers, eid, n, s, old=True))
        lat, missed = latency(base, headers, eid, args.latency_rounds)
        result.update(latency_p50_ms=_pct(lat, 0.5), latency_p99_ms=_pct(lat, 0.99), latency_rounds=len(lat),
                      latency_missed=missed)
    finally:
        server.terminate()
        server.wait(30)
    if args.pg != "none":
        try:
            postgresql(args.pg, n, tmp, measure)
        except Exception as exc:  # reported in the line; the SQLite figures stand
            result["pg_error"] = f"{exc.__class__.__name__}: {exc}".splitlines()[0]
    try:
        single = min(n, 50_000)
        measure("readings_per_s_mqtt_single", lambda s: mqtt_rate(args.mqtt, url, sessions, eid, single, 1, s, "lean"))
        measure("mqtt_single_workers", lambda s: mqtt_rate(args.mqtt, url, sessions, eid, single, 1, s, "workers",
                                                           args.workers))
        measure("baseline_readings_per_s_mqtt_single",
                lambda s: mqtt_rate(args.mqtt, url, sessions, eid, min(single, 20_000), 1, s, "paho"))
        batched = args.mqtt_batched_n
        measure("readings_per_s_mqtt_batched", lambda s: mqtt_rate(args.mqtt, url, sessions, eid, batched, 100, s,
                                                                   "lean"))
        measure("baseline_readings_per_s_mqtt_batched",  # paho loses messages past a few hundred 8 KB ones here
                lambda s: mqtt_rate(args.mqtt, url, sessions, eid, min(batched, 50_000), 100, s, "paho"))
        measure("broker_ceiling_msgs_per_s", lambda s: broker_ceiling(args.mqtt, single) or 0.0)
        result["mqtt_workers"] = args.workers
    except (OSError, TimeoutError, subprocess.SubprocessError) as exc:
        result["mqtt_error"] = str(exc)
    for name, values in [*runs.items(), *cpu_runs.items()]:
        result[name] = round(max(values))
        if args.repeat > 1:
            result[name + "_median"] = round(statistics.median(values))
    ceiling = result.get("broker_ceiling_msgs_per_s")
    if ceiling:
        result["mqtt_single_share_of_ceiling"] = round(result["readings_per_s_mqtt_single"] / ceiling, 3)
        result["baseline_mqtt_single_share_of_ceiling"] = round(
            result["baseline_readings_per_s_mqtt_single"] / ceiling, 3)
    for db_name, prefix in (("sqlite", ""), ("pg", "pg_")):
        top = result.get(f"{db_name}_ceiling_rows_per_s")
        for door in ("inprocess", "http"):
            figure = result.get(f"readings_per_s_{prefix}{'http_batch' if door == 'http' else door}")
            if top and figure:
                result[f"{db_name}_{door}_share"] = round(figure / top, 3)
        top, figure = (result.get(f"{db_name}_ceiling_rows_per_cpu_s"),
                       result.get(f"readings_per_cpu_s_{prefix}inprocess"))
        if top and figure:
            result[f"{db_name}_inprocess_share_cpu"] = round(figure / top, 3)
    for name in ("inprocess", "http_batch", "mqtt_single", "mqtt_batched"):
        if result.get(f"baseline_readings_per_s_{name}"):
            result[f"speedup_{name}"] = round(result[f"readings_per_s_{name}"]
                                              / result[f"baseline_readings_per_s_{name}"], 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
