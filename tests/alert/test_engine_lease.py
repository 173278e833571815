"""Exactly one warning engine on PostgreSQL: two replicas, one evaluates; the other takes over when the
holder's database session is cut, and the readings of the handover raise one warning, not two.

SQLite runs one process and has no lease: these tests run on PostgreSQL only (docs/scale-out.md).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text

from anbao.account import service as accounts
from anbao.account.schemas import UserCreate
from anbao.alert import service
from anbao.alert.models import EarlyWarning
from anbao.app import create_app
from anbao.config import Settings
from anbao.core.lease import LeaseLost
from anbao.core.timeline import TimelineEntry
from tests.factories_cli import LAT, LON, small_collection

SECRET = "test-secret-key-0123456789abcdef"
#: failover bound asserted here: the standby retries every second, plus one pass
FAILOVER_S = 3.0


def _until(cond: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.02)
    raise AssertionError(f"not within {timeout_s} s: {what}")


@pytest.fixture
def replicas(db_url: str, sessions: Any, tmp_path: Path) -> Iterator[tuple[TestClient, TestClient]]:
    if not db_url.startswith("postgresql"):
        pytest.skip("the warning-engine lease is PostgreSQL's; SQLite runs one process and needs none")
    def settings(name: str) -> Settings:
        return Settings(database_url=db_url, var_dir=tmp_path / name, secret_key=SECRET, evaluate_interval_s=0.2)

    with ExitStack() as stack:
        a = stack.enter_context(TestClient(create_app(settings("a"))))
        b = stack.enter_context(TestClient(create_app(settings("b"))))
        yield a, b


@pytest.fixture
def smoke(replicas: tuple[TestClient, TestClient], sessions: Any) -> tuple[str, dict[str, str], int]:
    """(event url, gateway headers, device id) of an event with one smoke detector."""
    a = replicas[0]
    with sessions() as db:
        db.info["actor"] = "test"
        for role in ("planner", "gateway"):
            accounts.create(db=db, data=UserCreate(username=role, password="password-123", role=role))
        db.commit()

    def login(name: str) -> dict[str, str]:
        r = a.post("/api/v1/auth/login", json={"username": name, "password": "password-123"})
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    planner = login("planner")
    ev = a.post("/api/v1/events", json={"code": f"LE{uuid.uuid4().hex[:4]}", "name": "租约", "kind": "concert"},
                headers=planner).json()
    url = f"/api/v1/events/{ev['id']}"
    assert a.post(f"{url}/venue-import", json=small_collection(), headers=planner).status_code == 200
    venue = a.get(f"{url}/venues", headers=planner).json()[0]["id"]
    zone = {z["code"]: z["id"] for z in a.get(f"{url}/zones", headers=planner).json()}["Z2"]
    r = a.post(f"{url}/devices", json={"venue_id": venue, "code": "SMK1", "name": "SMK1", "kind": "smoke",
                                       "zone_id": zone, "lon": LON, "lat": LAT, "properties": {}}, headers=planner)
    assert r.status_code == 201, r.text
    return url, login("gateway"), r.json()["id"]


def _leader(replicas: tuple[TestClient, TestClient]) -> tuple[TestClient, TestClient]:
    a, b = replicas
    got = _until(lambda: [c for c in (a, b) if c.app.state.watcher.leading], 5, "a watcher holds the lease")
    assert len(got) == 1, "both watchers hold the lease"
    return got[0], (b if got[0] is a else a)


def _cut(engine: Engine, watcher: Any, *, dies: bool) -> None:
    """Terminate the lease's database session; ``dies``: the process is gone too (it never takes the lease
    again), else it lives on and competes for the lease like any standby."""
    if dies:
        watcher.lease.try_acquire = lambda: False
    with engine.begin() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": watcher.lease.pid}).scalar()


def test_one_engine_evaluates_and_the_other_takes_over_when_its_connection_is_cut(replicas, engine):
    leader, standby = _leader(replicas)
    lw, sw = leader.app.state.watcher, standby.app.state.watcher
    before = sw.passes
    start = lw.passes
    _until(lambda: lw.passes >= start + 3, 5, "the leader runs passes")
    assert sw.passes == before and not sw.leading  # the standby never evaluated
    cut_at = time.monotonic()
    _cut(engine, lw, dies=True)
    _until(lambda: sw.leading, FAILOVER_S, "the standby takes the lease over")
    took = time.monotonic() - cut_at
    passes = sw.passes
    _until(lambda: sw.passes >= passes + 2, 5, "the new leader runs passes")
    _until(lambda: not lw.leading, 5, "the old leader notices and stands by")
    assert took < FAILOVER_S
    # a pass of a process that lost the lease is refused inside its transaction: it writes nothing
    with pytest.raises(LeaseLost):
        lw.lease.pid = -1  # as if it had not noticed yet
        lw.run_once(fenced=True)
    lw.lease.pid = None


@pytest.mark.parametrize("leader_dies", [True, False], ids=["leader-dies", "leader-reconnects"])
def test_readings_during_the_handover_raise_exactly_one_warning(replicas, smoke, engine, sessions, leader_dies):
    url, gateway, device = smoke
    leader, standby = _leader(replicas)
    lw, sw = leader.app.state.watcher, standby.app.state.watcher

    def reading(client: TestClient, value: float) -> None:
        r = client.post(f"{url}/readings", json=[{"sensor": "SMK1", "at": datetime.now(UTC).isoformat(),
                                                  "value": value}], headers=gateway)
        assert r.json()["accepted"] == 1, r.text

    reading(leader, 0.05)
    start = lw.passes
    _until(lambda: lw.passes >= start + 2, 5, "the leader judged the normal value")
    cut_at = time.monotonic()
    _cut(engine, lw, dies=leader_dies)
    # smoke over the red threshold, sent to both replicas while the lease changes hands
    for client in (leader, standby, leader):
        reading(client, 6.0)
    posted = time.monotonic() - cut_at  # a loaded machine (CI) may spend a second or more on the three posts
    _until(lambda: sw.leading or (not leader_dies and lw.leading and lw.lease.pid is not None), FAILOVER_S,
           "a watcher holds the lease again")
    # the lease changes hands while the readings go in: within FAILOVER_S of the cut, unless the posts took
    # longer, in which case it must be held by the time they are answered (plus one standby retry)
    assert time.monotonic() - cut_at < max(FAILOVER_S, posted + 1.0)
    key = f"smoke:device:{device}"

    def warnings() -> list[EarlyWarning]:
        with sessions() as db:
            return list(db.execute(select(EarlyWarning).where(EarlyWarning.key == key)).scalars())

    _until(warnings, 5, "a smoke warning")
    for watcher in (sw, lw):  # more passes by whoever leads now
        n = watcher.passes
        _until(lambda w=watcher, n=n: w.passes >= n + 2 or not w.leading, 5, "more passes")
    assert [w.leading for w in (lw, sw)].count(True) == 1
    got = warnings()
    assert [(w.level, w.status) for w in got] == [("red", "active")]
    with sessions() as db:
        raised = db.execute(select(func.count()).select_from(TimelineEntry)
                            .where(TimelineEntry.subject == f"warning:{got[0].id}",
                                   TimelineEntry.kind == "warning.raised")).scalar_one()
    assert raised == 1


def test_the_new_holder_waits_for_a_pass_the_old_one_had_started_and_sees_its_warning(replicas, smoke, engine,
                                                                                       sessions):
    """The overlap a lost lease leaves: the old holder passed its fence before its session was cut and commits
    afterwards. The new holder's pass waits for that commit and moves the warning instead of raising a second."""
    url, _gateway, _device = smoke
    event_id = int(url.rsplit("/", 1)[1])
    leader, standby = _leader(replicas)
    lw, sw = leader.app.state.watcher, standby.app.state.watcher
    key, now = "smoke:device:test", datetime.now(UTC)
    with leader.app.state.sessions() as old:
        old.info["actor"] = "system:warnings"
        lw.lease.fence(old)
        service.raise_level(db=old, event_id=event_id, key=key, kind="smoke", level="orange", now=now, message="旧")
        _cut(engine, lw, dies=True)
        _until(lambda: sw.leading, FAILOVER_S, "the standby takes the lease over")
        done = threading.Event()

        def new_pass() -> None:
            with standby.app.state.sessions() as db:
                db.info["actor"] = "system:warnings"
                sw.lease.fence(db)
                service.raise_level(db=db, event_id=event_id, key=key, kind="smoke", level="red", now=now,
                                    message="新")
                db.commit()
            done.set()

        worker = threading.Thread(target=new_pass)
        worker.start()

        def waiting() -> bool:
            with engine.connect() as conn:
                return bool(conn.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                              "AND NOT granted")).scalar_one())

        _until(waiting, 5, "the new holder's pass waits at the fence")
        assert not done.is_set()
        old.commit()
    worker.join(5)
    assert done.is_set()
    with sessions() as db:
        got = list(db.execute(select(EarlyWarning).where(EarlyWarning.key == key)).scalars())
    assert [(w.level, w.peak_level, w.status) for w in got] == [("red", "red", "active")]
