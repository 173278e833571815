"""Live-stream latency across API replicas (PostgreSQL + MQTT broker bus). Prints one JSON line.

    python bench/live_replicas.py [--n 2000] [--rate 200] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]
                                  [--mqtt mqtt://127.0.0.1:1883]

Two app replicas (``create_app``, each with its own bus, broker connection and lease) run in this process on a
PostgreSQL schema of their own (dropped at the end) and the broker, under a topic root of their own. A thread
publishes ``--n`` live messages at ``--rate`` per second on replica A, as the outbox does after a commit
(``bus.publish_many``: the global sequence number from PostgreSQL, then the broker); a WebSocket client on
replica B receives them. Latency is the receive time minus the message's ``at`` (stamped on A when published;
one clock). Figures: p50_ms, p99_ms, max_ms over the messages, and received / out_of_order / duplicates
(expected: all received, 0, 0). Also same_replica_p50_ms / p99_ms: the same on A's own WebSocket. The in-app
MQTT ingest consumers are not started (they would join the product's shared subscription group).
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

import anbao.app as app_module
from anbao.account import service as accounts
from anbao.account.schemas import UserCreate
from anbao.config import Settings
from anbao.core.db import make_engine, make_sessionmaker
from anbao.core.migrate import upgrade


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--mqtt", default="mqtt://127.0.0.1:1883")
    args = ap.parse_args()

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(args.pg)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{args.pg}{'&' if '?' in args.pg else '?'}options=-csearch_path%3D{schema}"
    app_module.consume = lambda **_: None  # type: ignore[attr-defined,assignment]  # live stream only
    try:
        engine = make_engine(url)
        upgrade(engine)
        with make_sessionmaker(engine)() as db:
            db.info["actor"] = "bench"
            accounts.create(db=db, data=UserCreate(username="planner", password="bench-password-1", role="planner"))
            db.commit()
        engine.dispose()
        root = f"anbao-bench/{uuid.uuid4().hex[:10]}/live"
        with TemporaryDirectory() as tmp, ExitStack() as stack:
            def replica(name: str) -> TestClient:
                settings = Settings(database_url=url, var_dir=Path(tmp) / name, secret_key="bench-" + "k" * 32,
                                    mqtt_url=args.mqtt, mqtt_live_prefix=root)
                return stack.enter_context(TestClient(app_module.create_app(settings)))

            a, b = replica("a"), replica("b")
            token = a.post("/api/v1/auth/login", json={"username": "planner", "password": "bench-password-1"}).json()
            h = {"Authorization": f"Bearer {token['access_token']}"}
            event_id = a.post("/api/v1/events", json={"code": "BENCH", "name": "bench", "kind": "concert"},
                              headers=h).json()["id"]
            results: dict[str, Any] = {}
            for label, client in (("other", b), ("same", a)):
                results[label] = _measure(a, client, event_id, token["access_token"], args.n, args.rate)
        other, same = results["other"], results["same"]
        print(json.dumps({
            "messages": args.n, "rate_per_s": args.rate,
            "p50_ms": _pct(other["lat"], 0.5), "p99_ms": _pct(other["lat"], 0.99),
            "max_ms": round(max(other["lat"]), 2),
            "mean_ms": round(statistics.fmean(other["lat"]), 2),
            "received": len(other["lat"]), "out_of_order": other["disorder"], "duplicates": other["dups"],
            "same_replica_p50_ms": _pct(same["lat"], 0.5), "same_replica_p99_ms": _pct(same["lat"], 0.99),
            "bus_stats_b": other["stats"],
        }))
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _measure(pub: TestClient, sub: TestClient, event_id: int, token: str, n: int, rate: float) -> dict[str, Any]:
    lat: list[float] = []
    seqs: list[int] = []
    with sub.websocket_connect(f"/api/v1/events/{event_id}/live") as ws:
        ws.send_json({"type": "auth", "token": token})
        assert ws.receive_json()["type"] == "hello"

        def publish() -> None:
            start = time.perf_counter()
            for i in range(n):
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                pub.app.state.bus.publish_many([(f"event/{event_id}/zone-state", {"i": i})])

        thread = threading.Thread(target=publish)
        thread.start()
        for _ in range(n):
            frame = ws.receive_json()
            now = datetime.now(UTC)
            lat.append((now - datetime.fromisoformat(frame["at"])).total_seconds() * 1000)
            seqs.append(frame["seq"])
        thread.join()
    disorder = sum(1 for x, y in zip(seqs, seqs[1:], strict=False) if y < x)
    return {"lat": lat, "disorder": disorder, "dups": len(seqs) - len(set(seqs)),
            "stats": sub.app.state.bus.stats}


if __name__ == "__main__":
    main()
