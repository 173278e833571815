"""Test fixtures. Storage tests run once per database backend.

Backends come from ANBAO_TEST_DATABASES (default ``sqlite,postgresql``). PostgreSQL is reached at
ANBAO_TEST_POSTGRES_URL (default the local trust-auth ``test`` database); each run works in a
schema of its own, dropped at the end. When PostgreSQL is not reachable its tests skip with the
reason, unless ANBAO_REQUIRE_SERVICES=1, which turns the skip into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from anbao import wiring
from anbao.account import service as accounts
from anbao.account.schemas import UserCreate
from anbao.app import create_app
from anbao.config import Settings
from anbao.core.db import make_engine, make_sessionmaker
from anbao.core.migrate import upgrade
from anbao.models import metadata

#: one audit key for every app, command and server process of the suite, as one installation has (a process
#: with another key refuses to start on a chain it did not sign: docs/deploy.md)
SUITE_AUDIT_KEY = os.environ.setdefault("ANBAO_AUDIT_KEY", "anbao-test-suite-audit-key-0123456789")

# the capabilities react to each other as in the app (a warning starts plans, a task moves an assignment)
wiring.connect()

PG_URL = os.environ.get("ANBAO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = [b.strip() for b in os.environ.get("ANBAO_TEST_DATABASES", "sqlite,postgresql").split(",") if b.strip()]
REQUIRE = os.environ.get("ANBAO_REQUIRE_SERVICES") == "1"
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    """Hash with the smallest argon2id cost in tests.

    The app hashes with argon2-cffi's defaults (argon2id, 3 passes over 64 MiB: about 0.1-0.5 s per
    hash or check on a 2-core machine); the suite creates and logs in users over a thousand times.
    Hashing stays argon2id with the same code path; only its cost changes. ``PRODUCTION_HASHER``
    keeps the app's own, which tests/core/test_auth.py checks.
    """
    global PRODUCTION_HASHER
    from argon2 import PasswordHasher

    from anbao.core import auth

    PRODUCTION_HASHER = auth._HASHER
    auth._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    auth._HASHER = PRODUCTION_HASHER


PRODUCTION_HASHER: object = None

#: test modules whose consumers subscribe to the product's own MQTT topics (anbao/v1/+/readings/#): under
#: pytest-xdist (`make test` runs -n auto) they run one after another in one worker, so that no worker's
#: consumer stores another worker's readings
SHARED_TOPICS = ("tests/sensing/test_mqtt.py", "tests/sensing/test_dead_letters.py", "tests/core/test_events.py")


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """A test module is one unit of work (its tests run in order in one worker, sharing what its module
    fixtures hold, such as the browser tests' server); the MQTT modules make one unit together.

    (xdist's own ``--dist loadgroup`` groups by markers, but does not work with pytest 9: it renames
    ``item._nodeid``, which pytest 9 no longer reads.)
    """
    from xdist.scheduler import LoadScopeScheduling

    class Scheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "mqtt" if module in SHARED_TOPICS else module

    return Scheduling(config, log)


def unavailable(reason: str) -> None:
    """Skip with ``reason``; fail instead when services are required (CI)."""
    if REQUIRE:
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


def _pg_schema_url(tmp_name: str) -> str:
    try:
        admin = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{tmp_name}"'))
        admin.dispose()
    except Exception as exc:
        unavailable(f"PostgreSQL not reachable at {PG_URL}: {exc.__class__.__name__}: {exc}".splitlines()[0])
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{tmp_name}"


@pytest.fixture(scope="session", params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'anbao.db'}"
        return
    if request.param != "postgresql":
        raise ValueError(f"unknown backend {request.param!r} in ANBAO_TEST_DATABASES")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    url = _pg_schema_url(schema)
    yield url
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


def _truncate(engine: Engine) -> None:
    tables = [t.name for t in metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for t in reversed(tables):
                conn.execute(text(f'DELETE FROM "{t}"'))
            conn.execute(text("DELETE FROM sqlite_sequence")) if conn.execute(
                text("SELECT name FROM sqlite_master WHERE name='sqlite_sequence'")).first() else None


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    _truncate(engine)
    return make_sessionmaker(engine)


@pytest.fixture
def db(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed by the test when it wants (``db.commit()``)."""
    with sessions() as s:
        s.info["actor"] = "test"
        yield s


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=db_url, var_dir=tmp_path / "var", secret_key="test-secret-key-0123456789abcdef")


@pytest.fixture
def client(sessions: sessionmaker[Session], settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def login(client: TestClient, sessions: sessionmaker[Session]) -> Callable[..., dict[str, str]]:
    """``login("planner")`` creates that user (once) and returns its Authorization header."""

    def make(role: str, *, agency: str | None = None, username: str | None = None) -> dict[str, str]:
        name = username or (f"{role}-{agency.encode().hex()[:16]}" if agency else role)
        with sessions() as s:
            s.info["actor"] = "test"
            if accounts.get_by_username(db=s, username=name) is None:
                accounts.create(db=s, data=UserCreate(username=name, password="password-123", role=role,
                                                      agency=agency))
                s.commit()
        r = client.post("/api/v1/auth/login", json={"username": name, "password": "password-123"})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    return make


@pytest.fixture
def planner(login: Callable[..., dict[str, str]]) -> dict[str, str]:
    """Authorization header of a planner (参谋)."""
    return login("planner")


@pytest.fixture
def ev(client: TestClient, planner: dict[str, str]) -> int:
    """The id of a fresh event created by the planner."""
    from tests.factories import make_event

    return make_event(client, planner)


@pytest.fixture
def anbao(db_url: str, sessions: sessionmaker[Session], tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., object]]:
    """Run the ``anbao`` command line against the test database: ``anbao("events", "list", input=None)``."""
    from typer.testing import CliRunner

    from anbao.cli import main as cli
    from anbao.config import get_settings

    monkeypatch.setenv("ANBAO_DATABASE_URL", db_url)
    monkeypatch.setenv("ANBAO_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> object:
        return runner.invoke(cli.app, list(args), input=input)

    yield run
    get_settings.cache_clear()

