"""A seeded app of its own for a test module (one app and one database per module and backend): an event
shared with the partner agency 消防 and one not shared, three units seen differently by that partner, their
positions at a post, and an incident with two of them sent.

Used by tests/test_permissions.py (the authorisation matrix) and tests/live/test_scoping.py.
"""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from anbao.account import service as accounts
from anbao.account.schemas import UserCreate
from anbao.app import create_app
from anbao.config import Settings
from anbao.core.db import make_engine
from anbao.core.migrate import upgrade
from tests.conftest import PG_URL, _pg_schema_url
from tests.factories import (
    created,
    event_body,
    node_body,
    point,
    post_body,
    unit_body,
    url,
    venue_body,
    zone_body,
)

FIRE = "消防"
PASSWORD = "Zk7-partner-world-pass"  # a test login's password
#: call signs: a police unit not shared with 消防, a police unit shared with it, and 消防's own unit
HIDDEN, SHARED, OWN = "隐藏-01", "共享-01", "消防-01"
ROLES = ("commander", "planner", "dispatcher", "officer", "analyst", "partner", "auditor", "admin", "gateway")


@dataclass
class World:
    client: TestClient
    backend: str
    headers: dict[str, dict[str, str]] = field(default_factory=dict)  # role -> Authorization header
    shared: int = 0  # event shared with 消防
    private: int = 0  # event not shared
    units: dict[str, int] = field(default_factory=dict)  # call sign -> unit id (in the shared event)
    incident: int = 0
    post: int = 0

    def token(self, role: str) -> str:
        return self.headers[role]["Authorization"].removeprefix("Bearer ")


@contextlib.contextmanager
def database(backend: str) -> Iterator[str]:
    """A database URL of the module's own: a SQLite file, or a PostgreSQL schema dropped afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as d:
            yield f"sqlite:///{Path(d) / 'world.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    db_url = _pg_schema_url(schema)
    try:
        yield db_url
    finally:
        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextlib.contextmanager
def world(backend: str) -> Iterator[World]:
    with database(backend) as db_url, tempfile.TemporaryDirectory() as var:
        engine = make_engine(db_url)
        upgrade(engine)
        engine.dispose()
        settings = Settings(database_url=db_url, var_dir=Path(var), secret_key="test-secret-key-0123456789abcdef")
        app = create_app(settings)
        with TestClient(app) as client:
            w = World(client=client, backend=backend)
            _users(w)
            _seed(w)
            yield w


def _users(w: World) -> None:
    sessions = w.client.app.state.sessions
    with sessions() as s:
        s.info["actor"] = "test"
        for role in ROLES:
            accounts.create(db=s, data=UserCreate(username=f"w-{role}", password=PASSWORD, role=role,
                                                  agency=FIRE if role == "partner" else None))
        s.commit()
    for role in ROLES:
        r = w.client.post("/api/v1/auth/login", json={"username": f"w-{role}", "password": PASSWORD})
        assert r.status_code == 200, r.text
        w.headers[role] = {"Authorization": f"Bearer {r.json()['access_token']}"}


def _seed(w: World) -> None:
    c, planner, dispatcher = w.client, w.headers["planner"], w.headers["dispatcher"]
    w.shared = int(created(c, "/events", event_body("SHARED", shared_agencies=[FIRE]), planner)["id"])
    w.private = int(created(c, "/events", event_body("PRIVATE"), planner)["id"])
    for ev in (w.shared, w.private):
        venue = created(c, url(ev, "venues"), venue_body(), planner)["id"]
        created(c, url(ev, "zones"), zone_body(venue), planner)
        post = int(created(c, url(ev, "posts"), post_body(venue), planner)["id"])
        node = created(c, url(ev, "command-nodes"), node_body("HQ", "hq"), planner)["id"]
        for code, sign, agency, shared_with in (("U1", HIDDEN, "公安", []), ("U2", SHARED, "公安", [FIRE]),
                                                ("U3", OWN, FIRE, [])):
            unit = created(c, url(ev, "units"), unit_body(code, call_sign=sign, agency=agency,
                                                          shared_with=shared_with, command_node_id=node), planner)
            if ev == w.shared:
                w.units[sign], w.post = int(unit["id"]), post
    now = datetime.now(UTC).isoformat()
    lon, lat = point(10.0, 12.0)
    for unit_id in w.units.values():
        created(c, url(w.shared, "positions"), {"client_key": f"position-{unit_id}", "unit_id": unit_id, "lon": lon,
                                                "lat": lat, "at": now}, dispatcher)
    w.incident = int(created(c, url(w.shared, "incidents"), {"client_key": "incident-0001", "type": "fight", "lon": lon,
                                                            "lat": lat}, dispatcher)["id"])
    for sign in (HIDDEN, SHARED):
        created(c, url(w.shared, f"incidents/{w.incident}/assignments"), {"unit_id": w.units[sign]}, dispatcher)

