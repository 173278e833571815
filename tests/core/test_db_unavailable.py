"""A database server that cannot be reached (PostgreSQL restarting, failing over) is a 503 with
Retry-After that says nothing was changed, never a 500. The multi-host test restarts a real server under
load (tests/scale); this one points the app at a port where nothing listens."""

from __future__ import annotations

import socket

from fastapi.testclient import TestClient

from anbao.app import create_app
from anbao.config import Settings


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the socket is: nothing listens there


def test_an_unreachable_postgresql_is_a_503_with_retry_after(tmp_path):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/test?connect_timeout=2"
    app = create_app(Settings(database_url=url, var_dir=tmp_path / "var", secret_key="k" * 32))
    client = TestClient(app, raise_server_exceptions=False)  # no lifespan: the server is away from the start
    r = client.post("/api/v1/auth/login", json={"username": "demo", "password": "x" * 12})
    assert r.status_code == 503, r.text
    assert r.headers["Retry-After"] == "2" and "database unavailable" in r.json()["detail"]
    assert "nothing was changed" in r.json()["detail"]
