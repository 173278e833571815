"""Reads never take SQLite's write lock; a lock that still times out is a 503, never a 500 (issue 12, defect 3)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, event, func, select

from anbao.app import create_app
from anbao.core import audit, auth
from anbao.core.audit import AuditEntry
from anbao.core.db import reading
from tests.factories import make_event

BUSY_MS = 500


def _count(db: Any) -> int:
    return int(db.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


def test_a_long_read_does_not_delay_a_writer(engine, sessions):
    with reading(sessions) as reader:
        assert _count(reader) == 0  # the read transaction is open and holds its snapshot
        started = time.monotonic()
        with sessions() as writer:
            writer.info["actor"] = "test"
            audit.record(writer, action="probe", entity="lock")
            writer.commit()
        took = time.monotonic() - started
        if engine.dialect.name == "sqlite":
            assert _count(reader) == 0  # still its own snapshot: the writer did not wait for it
    assert took < 1.0
    with sessions() as db:
        assert _count(db) == 1


@contextmanager
def _short_busy_timeout(engine: Engine) -> Iterator[str]:
    """The app's SQLite connections wait BUSY_MS for the write lock instead of 30 s; yields the file."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write lock (PostgreSQL readers and writers never wait for each other)")

    def short(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute(f"PRAGMA busy_timeout={BUSY_MS}")

    event.listen(engine, "connect", short)
    engine.dispose()
    try:
        yield str(engine.url.database)
    finally:
        event.remove(engine, "connect", short)
        engine.dispose()


@contextmanager
def _write_lock_held(path: str) -> Iterator[None]:
    """Another process's long write transaction (a stalled writer) holds the write lock meanwhile."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_reads_answer_while_a_writer_holds_the_lock_and_writes_get_503(client, planner):
    ev = make_event(client, planner)
    person = client.post(f"/api/v1/events/{ev}/persons", json={"name": "李四", "badge_no": "B1"}, headers=planner)
    assert person.status_code == 201, person.text
    with _short_busy_timeout(client.app.state.engine) as path, _write_lock_held(path):
        started = time.monotonic()
        assert client.get("/api/v1/health").status_code == 200
        assert client.get(f"/api/v1/events/{ev}", headers=planner).status_code == 200
        assert time.monotonic() - started < BUSY_MS / 1000  # before: every read waited for the lock, then 500
        r = client.post("/api/v1/events", json={"code": "LOCK2", "name": "锁", "kind": "other"}, headers=planner)
        assert r.status_code == 503 and "database busy" in r.json()["detail"]
        assert int(r.headers["Retry-After"]) >= 1
        # a read of personal data is never answered unaudited: its audit row cannot be written, so no answer
        r = client.get(f"/api/v1/events/{ev}/persons", headers=planner)
        assert r.status_code == 503 and "李四" not in r.text
    r = client.get(f"/api/v1/events/{ev}/persons", headers=planner)
    assert r.status_code == 200 and r.json()[0]["name"] == "李四"


class _SlowHasher:
    """argon2 as the app has it costs 50-100 ms per check: a sleep of that length (no CPU) stands for it."""

    def __init__(self, inner: Any, seconds: float) -> None:
        self.inner, self.seconds = inner, seconds

    def hash(self, password: str) -> str:
        return str(self.inner.hash(password))

    def verify(self, stored: str, password: str) -> bool:
        time.sleep(self.seconds)
        return bool(self.inner.verify(stored, password))


@contextmanager
def _served(app: Any) -> Iterator[str]:
    """The app under uvicorn in a thread on a free port (real concurrent connections)."""
    import socket

    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_forty_parallel_wrong_logins_give_no_server_error(sessions, settings, monkeypatch):
    """Before: each login held the write lock through its password check; 40 at once timed out (500)."""
    monkeypatch.setattr(auth, "_HASHER", _SlowHasher(auth._HASHER, 0.1))
    app = create_app(settings)
    engine = app.state.engine
    short = engine.dialect.name == "sqlite"
    if short:  # 40 checks of 0.1 s one after another (4 s) would pass a 0.5 s busy timeout many times over
        event.listen(engine, "connect", lambda c, _r: c.execute(f"PRAGMA busy_timeout={BUSY_MS}"))
    statuses: list[int] = []
    lock = threading.Lock()
    try:
        with _served(app) as url:
            barrier = threading.Barrier(40)

            def one(i: int) -> None:
                with httpx.Client(base_url=url, timeout=30) as c:
                    barrier.wait()
                    r = c.post("/api/v1/auth/login", json={"username": f"nobody-{i}", "password": "wrong-password-1"})
                with lock:
                    statuses.append(r.status_code)

            threads = [threading.Thread(target=one, args=(i,)) for i in range(40)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
    finally:
        engine.dispose()
    assert len(statuses) == 40
    assert [s for s in statuses if s >= 500] == []
    assert set(statuses) <= {401, 429}
    with sessions() as db:
        failed = db.execute(select(func.count()).select_from(AuditEntry)
                            .where(AuditEntry.action.in_(["login_failed", "login_blocked"]))).scalar_one()
        assert failed == 40 and audit.verify(db).ok
