"""Schemathesis over every operation of the app's OpenAPI schema: no input may give a server error.

The app runs on a SQLite database seeded with the demo event (id 1) and its planning, and every call
is made as an administrator, so that generated requests reach the services rather than stopping at
401/403/404. Examples are bounded (``MAX_EXAMPLES`` per operation, no shrinking past the first
failure) so that the whole module stays under three minutes on two cores. ``ANBAO_SCHEMATHESIS_EXAMPLES``
raises the number for a longer hunt.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error

from anbao.account import service as accounts
from anbao.account.schemas import UserCreate
from anbao.app import create_app
from anbao.config import Settings
from anbao.core.db import make_engine, make_sessionmaker
from anbao.core.migrate import upgrade
from anbao.demo.build import load_demo

MAX_EXAMPLES = int(os.environ.get("ANBAO_SCHEMATHESIS_EXAMPLES", "6"))
#: operations that start long work (an evacuation run is a JuPedSim simulation in a thread): their
#: examples are fewer, the queue limit holds the rest
SLOW = ("evacuation", "capacity", ".docx", "heatmap", "recommend", "reinforce", "corridor")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, dict[str, str]]]:
    folder: Path = tmp_path_factory.mktemp("schemathesis")
    url = f"sqlite:///{folder / 'anbao.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine)() as db:
        db.info["actor"] = "test"
        load_demo(db=db, var_dir=folder / "var")
        accounts.create(db=db, data=UserCreate(username="admin-st", password="Schema-thesis-9", role="admin"))
        db.commit()
    engine.dispose()
    application = create_app(Settings(database_url=url, var_dir=folder / "var",
                                      secret_key="schemathesis-secret-0123456789abcdef"))
    with TestClient(application) as client:  # runs the lifespan (watcher, evacuation runner)
        r = client.post("/api/v1/auth/login", json={"username": "admin-st", "password": "Schema-thesis-9"})
        assert r.status_code == 200, r.text
        yield application, {"Authorization": f"Bearer {r.json()['access_token']}"}


def _operations(application: FastAPI) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", application)
    return [op.ok() for op in schema.get_all_operations()]


def test_no_server_error_on_any_operation(app: tuple[FastAPI, dict[str, str]]) -> None:
    application, auth = app
    operations = _operations(application)
    assert len(operations) >= 100, "the schema lost operations"
    failures: list[str] = []
    calls = 0
    statuses: dict[int, int] = {}
    for op in operations:
        label = f"{op.method.upper()} {op.path}"
        slow = any(word in op.path for word in SLOW)

        @settings(max_examples=2 if slow else MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy() | op.as_strategy(schemathesis.GenerationMode.NEGATIVE))
        def run(case: schemathesis.Case) -> None:
            nonlocal calls
            calls += 1
            if calls % 2 == 0 and case.path_parameters:  # every other call aims at the demo event's rows
                for name in case.path_parameters:
                    if name == "event_id":
                        case.path_parameters[name] = 1
                    elif name.endswith("_id") and isinstance(case.path_parameters[name], int):
                        case.path_parameters[name] = 1 + abs(case.path_parameters[name]) % 40
            response = case.call(headers=auth)
            statuses[response.status_code // 100] = statuses.get(response.status_code // 100, 0) + 1
            case.validate_response(response, checks=[not_a_server_error])

        try:
            run()
        except Exception as exc:  # collect every operation's failure, report them all
            failures.append(f"{label}: {str(exc)[:600]}")
    print(f"schemathesis: {len(operations)} operations, {calls} calls, {len(failures)} with a server error; "
          f"responses by class: {dict(sorted(statuses.items()))}")
    assert not failures, "\n\n".join(failures)
