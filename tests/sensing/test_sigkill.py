"""Killing the server with SIGKILL during ingest loses no acknowledged reading (SQLite and PostgreSQL).

``anbao serve`` runs as a subprocess on the test database; a thread posts batches with idempotency
keys, the server is killed mid-stream, and every reading of every batch that got a 2xx answer must be
in the database. A restarted server then takes the unanswered batches again, storing each reading once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select, text

from anbao.account import service as accounts
from anbao.account.schemas import UserCreate
from anbao.sensing.models import Reading
from tests.conftest import SUITE_AUDIT_KEY
from tests.sensing.conftest import build_site

BATCH = 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(db_url: str, var_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANBAO_") or k.startswith("ANBAO_TEST_")}
    env.update(ANBAO_DATABASE_URL=db_url, ANBAO_VAR_DIR=str(var_dir), ANBAO_SECRET_KEY="k" * 32,
               ANBAO_AUDIT_KEY=SUITE_AUDIT_KEY)
    proc = subprocess.Popen([sys.executable, "-c", "from anbao.cli.main import main; main()", "serve", "--host",
                             "127.0.0.1", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("server did not start within 60 s")


def _batch(b: int) -> list[dict[str, object]]:
    at = datetime.now(UTC) - timedelta(minutes=10)
    return [{"sensor": ("C1", "C2", "G1", "X1")[i % 4], "at": (at + timedelta(milliseconds=b * BATCH + i)).isoformat(),
             "value": float(i), "idempotency_key": f"b{b}-{i}"} for i in range(BATCH)]


def _login(port: int) -> dict[str, str]:
    r = httpx.post(f"http://127.0.0.1:{port}/api/v1/auth/login", json={"username": "gw", "password": "password-123"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_sigkill_during_ingest_loses_no_acknowledged_reading(db_url, sessions, tmp_path):
    site = build_site(sessions)
    with sessions() as db:
        db.info["actor"] = "test"
        accounts.create(db=db, data=UserCreate(username="gw", password="password-123", role="gateway"))
        db.commit()
    port = _free_port()
    server = _serve(db_url, tmp_path / "var", port)
    headers = _login(port)
    url = f"http://127.0.0.1:{port}/api/v1/events/{site.event_id}/readings"
    acked: list[int] = []
    sent: list[int] = []
    stop = threading.Event()

    def post() -> None:
        with httpx.Client(timeout=10) as http:
            b = 0
            while not stop.is_set():
                sent.append(b)
                try:
                    r = http.post(url, json=_batch(b), headers=headers)
                except httpx.HTTPError:
                    return  # the server is gone
                if r.is_success:
                    body = r.json()
                    assert body["accepted"] + body["duplicates"] == BATCH and not body["rejected"], body
                    acked.append(b)
                b += 1

    poster = threading.Thread(target=post)
    poster.start()
    try:
        deadline = time.monotonic() + 60
        while len(acked) < 15 and time.monotonic() < deadline and poster.is_alive():
            time.sleep(0.01)
        assert len(acked) >= 15, f"only {len(acked)} batches answered"
        os.kill(server.pid, signal.SIGKILL)  # mid-stream: the poster is sending the next batch
        server.wait(10)
    finally:
        stop.set()
        poster.join(30)
        if server.poll() is None:
            server.kill()
    with sessions() as db:
        stored = set(db.execute(select(Reading.idem_key).where(Reading.event_id == site.event_id)).scalars())
        if db.get_bind().dialect.name == "sqlite":
            assert db.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    missing = [f"b{b}-{i}" for b in acked for i in range(BATCH) if f"b{b}-{i}" not in stored]
    assert not missing, f"{len(missing)} acknowledged readings lost, e.g. {missing[:5]}"

    # the gateway retries what was not answered: a restarted server stores each reading once
    server = _serve(db_url, tmp_path / "var", port)
    try:
        headers = _login(port)
        unanswered = sorted(set(sent) - set(acked))
        for b in unanswered:
            r = httpx.post(url, json=_batch(b), headers=headers, timeout=10)
            assert r.status_code == 200 and r.json()["accepted"] + r.json()["duplicates"] == BATCH, r.text
    finally:
        server.terminate()
        server.wait(20)
    with sessions() as db:
        keys = db.execute(select(Reading.idem_key).where(Reading.event_id == site.event_id)).scalars().all()
    assert len(keys) == len(set(keys)) == len(sent) * BATCH
