"""Several API replicas on one PostgreSQL and one broker: the live stream goes through the broker.

Two (or three) apps in this process share a PostgreSQL schema and the test Mosquitto under a topic
root of their own; a WebSocket client on one replica gets every replica's messages, once, in global
sequence order, and resumes on another replica with the number it last saw (docs/scale-out.md).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from anbao import app as app_module
from anbao.account import service as accounts
from anbao.account.schemas import UserCreate
from anbao.app import create_app
from anbao.config import Settings
from anbao.core import events, outbox
from anbao.core.broker_bus import BrokerBus, Reorder, decode_change, encode_change
from anbao.core.bus import Message
from tests.conftest import unavailable

BROKER = os.environ.get("ANBAO_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
SECRET = "test-secret-key-0123456789abcdef"


# -- the reordering, without services -------------------------------------------------------------

def _msg(seq: int) -> Message:
    return Message(topic="event/1/x", seq=seq, at=datetime.now(UTC), payload={"n": seq})


def test_reorder_hands_on_in_sequence_order_once():
    out: list[int] = []
    r = Reorder(5, 0.5, lambda m: out.append(m.seq))
    for seq in (7, 5, 5, 8, 6, 7, 4):  # 4 is from before the start, 5 and 7 twice
        r.arrive(_msg(seq), now=0.0)
    assert out == [5, 6, 7, 8] and r.next == 9 and r.duplicates == 3


def test_reorder_skips_a_number_that_never_comes_after_the_hold_and_drops_it_when_late():
    out: list[int] = []
    r = Reorder(1, 0.5, lambda m: out.append(m.seq))
    r.arrive(_msg(1), now=0.0)
    r.arrive(_msg(3), now=0.1)  # 2 is missing: 3 waits
    r.tick(now=0.5)
    assert out == [1]
    r.arrive(_msg(5), now=0.55)  # behind the same gap
    r.tick(now=0.61)  # 3 has waited 0.5 s: 2 is a hole; 4 is missing now, its wait starts
    assert out == [1, 3] and r.holes == 1
    r.tick(now=1.0)
    assert out == [1, 3]
    r.arrive(_msg(2), now=1.05)  # the hole arrives after all: dropped, not handed on out of order
    r.tick(now=1.2)
    assert out == [1, 3, 5] and (r.holes, r.late) == (2, 1)


def test_a_change_crosses_the_broker_as_itself():
    change = events.ReadingsStored(event_id=3, at=datetime(2026, 5, 1, 8, tzinfo=UTC), cause="batch-1",
                                   source="mqtt", accepted=2, device_ids=(4, 5), zone_ids=(9,))
    assert decode_change(events.ReadingsStored, encode_change(change)) == change


# -- several replicas -----------------------------------------------------------------------------------

def _broker_up() -> None:
    host, port = BROKER.removeprefix("mqtt://").split(":")
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError as exc:
        unavailable(f"MQTT broker not reachable at {BROKER}: {exc}")


@contextmanager
def _live(client: TestClient, event_id: int, token: str, since: int | None = None) -> Iterator[Any]:
    """The live WebSocket of ``client``, logged in by its first frame."""
    with client.websocket_connect(f"/api/v1/events/{event_id}/live" + ("" if since is None else f"?since={since}")) \
            as ws:
        ws.send_json({"type": "auth", "token": token})
        yield ws


@pytest.fixture
def replica(db_url: str, sessions: Any, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], TestClient]]:
    """``replica()`` starts one more app on the test schema and the broker, under this test's topic root."""
    if not db_url.startswith("postgresql"):
        pytest.skip("several replicas need PostgreSQL; SQLite runs one process on the in-process bus")
    _broker_up()
    # the replicas' MQTT ingest consumers are not under test here (they would join the product's shared group)
    monkeypatch.setattr(app_module, "consume", lambda **_: None)
    root = f"anbao-test/{uuid.uuid4().hex[:12]}/live"
    with ExitStack() as stack:
        def start() -> TestClient:
            settings = Settings(database_url=db_url, var_dir=tmp_path / uuid.uuid4().hex[:6], secret_key=SECRET,
                                mqtt_url=BROKER, mqtt_live_prefix=root)
            client = stack.enter_context(TestClient(create_app(settings)))
            assert isinstance(client.app.state.bus, BrokerBus)
            return client

        yield start


@pytest.fixture
def token_and_event(replica: Callable[[], TestClient], sessions: Any) -> tuple[str, int]:
    with sessions() as db:
        db.info["actor"] = "test"
        accounts.create(db=db, data=UserCreate(username="planner", password="password-123", role="planner"))
        db.commit()
    first = replica()
    token = first.post("/api/v1/auth/login", json={"username": "planner", "password": "password-123"}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    ev = first.post("/api/v1/events", json={"code": "LIVE", "name": "多副本", "kind": "concert"}, headers=headers)
    assert ev.status_code == 201, ev.text
    return token["access_token"], ev.json()["id"]


def _caught_up(*clients: TestClient, seq: int) -> None:
    for c in clients:
        assert c.app.state.bus.wait_for(seq, 5.0), f"replica at {c.app.state.bus.last_seq}, expected {seq}"


def test_messages_committed_on_one_replica_reach_a_websocket_on_another_in_order(replica, token_and_event):
    token, event_id = token_and_event
    a, b = replica(), replica()
    with _live(b, event_id, token) as ws:
        hello = ws.receive_json()
        assert hello["type"] == "hello"
        # through the outbox, as the services send them: numbered and sent when the transaction commits
        with a.app.state.sessions() as db:
            for i in range(10):
                outbox.post(db, f"event/{event_id}/warning", {"n": i})
            outbox.post(db, f"event/{event_id + 1}/warning", {"other": True})  # another event's: not for ws
            db.commit()
        sent = [a.app.state.bus.publish(f"event/{event_id}/task", {"n": 10 + i}) for i in range(10)]
        _caught_up(b, seq=sent[-1].seq)
        got = [ws.receive_json() for _ in range(20)]
    assert [g["payload"]["n"] for g in got] == list(range(20))
    seqs = [g["seq"] for g in got]
    assert seqs == sorted(seqs) and len(set(seqs)) == 20 and seqs[0] > hello["seq"]
    assert seqs[10:] == [m.seq for m in sent]


def test_every_replica_delivers_all_replicas_messages_once_in_the_same_order(replica, token_and_event):
    token, event_id = token_and_event
    a, b = replica(), replica()
    per_thread = 50

    def send(client: TestClient, name: str) -> None:
        for i in range(per_thread):
            client.app.state.bus.publish(f"event/{event_id}/zone-state", {"from": name, "i": i})

    with _live(a, event_id, token) as wa, _live(b, event_id, token) as wb:
        start = max(wa.receive_json()["seq"], wb.receive_json()["seq"])
        threads = [threading.Thread(target=send, args=(c, f"{n}{k}")) for n, c in (("a", a), ("b", b)) for k in (1, 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        last = max(a.app.state.bus.last_seq, b.app.state.bus.last_seq)
        _caught_up(a, b, seq=last)
        got_a = [wa.receive_json() for _ in range(4 * per_thread)]
        got_b = [wb.receive_json() for _ in range(4 * per_thread)]
    assert [g["seq"] for g in got_a] == [g["seq"] for g in got_b]  # same messages, same order, everywhere
    seqs = [g["seq"] for g in got_a]
    assert seqs == sorted(set(seqs)) and seqs[0] > start
    for name in ("a1", "a2", "b1", "b2"):  # each sender's messages complete and in its order
        assert [g["payload"]["i"] for g in got_a if g["payload"]["from"] == name] == list(range(per_thread))
    assert a.app.state.bus.stats["late"] == b.app.state.bus.stats["late"] == 0


def test_a_client_resumes_on_another_replica_with_the_number_it_last_saw(replica, token_and_event):
    token, event_id = token_and_event
    a, b = replica(), replica()
    topic = f"event/{event_id}/warning"
    with _live(a, event_id, token) as wa:
        wa.receive_json()
        first = [a.app.state.bus.publish(topic, {"n": i}) for i in range(3)]
        _caught_up(a, seq=first[-1].seq)
        seen = [wa.receive_json()["seq"] for _ in range(3)]
    # the client is away; both replicas go on publishing
    missed = [c.app.state.bus.publish(topic, {"n": 3 + i}) for i, c in enumerate((a, b, a, b))]
    _caught_up(b, seq=max(m.seq for m in missed))
    with _live(b, event_id, token, since=seen[-1]) as wb:
        got = [wb.receive_json() for _ in range(5)]
    assert [g["payload"]["n"] for g in got[:4]] == [3, 4, 5, 6]
    assert [g["seq"] for g in got[:4]] == sorted(m.seq for m in missed)
    assert got[4] == {"type": "hello", "seq": max(m.seq for m in missed)}
    # a replica started after that number cannot know what came before it: resync, then live
    c = replica()
    with _live(c, event_id, token, since=seen[-1]) as wc:
        assert wc.receive_json()["type"] == "resync"
        assert wc.receive_json()["type"] == "hello"
        later = a.app.state.bus.publish(topic, {"n": 7})
        _caught_up(c, seq=later.seq)
        assert wc.receive_json()["payload"] == {"n": 7}


def test_stored_readings_reach_every_replicas_change_subscribers_once(replica, token_and_event):
    _token, event_id = token_and_event
    a, b = replica(), replica()
    heard: list[Any] = []
    cancel = b.app.state.bus.subscribe_changes(events.Change, heard.append)
    try:
        def stored(cause: str) -> events.ReadingsStored:
            return events.ReadingsStored(event_id=event_id, at=datetime.now(UTC), cause=cause, source="http",
                                         accepted=1, device_ids=(1,), zone_ids=(2,))

        first, second = stored("batch-1"), stored("batch-2")
        a.app.state.bus.emit(first)
        # not broadcast: what must happen once per warning change happens in its transaction, on its replica
        a.app.state.bus.emit(events.WarningAcknowledged(event_id=event_id, at=datetime.now(UTC), warning_id=1,
                                                        warning={}))
        a.app.state.bus.emit(second)
        deadline = time.monotonic() + 5
        while second not in heard and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        cancel()
    assert heard == [first, second]
