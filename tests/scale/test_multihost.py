"""Several hosts: two API replicas and two ingest workers in network namespaces of their own, started
from the shipped systemd units, behind the shipped nginx site, against one PostgreSQL and one Mosquitto
of the test's own. Readings at 10,000/s while a replica and a worker are killed with -9, the broker is
restarted and PostgreSQL is restarted: every reading the cluster acknowledged is stored exactly once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from tests.scale import cluster as cl


@pytest.fixture(scope="module")
def running() -> Iterator[cl.Cluster]:
    lacks = cl.missing_tools()
    if lacks:
        reason = f"a multi-host cluster needs {', '.join(lacks)}"
        if os.environ.get("ANBAO_REQUIRE_SERVICES"):
            pytest.fail(reason)
        pytest.skip(reason)
    with cl.cluster(replicas=2, workers=2) as c:
        yield c


def test_the_proxy_reaches_every_replica_from_the_shipped_configs(running: cl.Cluster) -> None:
    c = running
    for name in c.web:
        assert httpx.get(f"{c.http(name)}/api/v1/health", timeout=5).status_code == 200
    r = httpx.post(f"{c.proxy.base}/api/v1/auth/login", json={"username": cl.DEMO_USER, "password": cl.DEMO_PASSWORD},
                   timeout=10)
    assert r.status_code == 200, r.text
    # the proxy forwards the request id, so one cause id follows a request through the replicas
    assert httpx.get(f"{c.proxy.base}/api/v1/health", timeout=5).status_code == 200


def test_no_acknowledged_reading_is_lost_or_stored_twice_through_kills_and_restarts(running: cl.Cluster) -> None:
    result = cl.fault_run(running, seconds=20, rate_per_s=10_000)
    print(result)
    assert result["acknowledged"] > 100_000, result  # the load really ran at about 10,000/s
    assert result["lost"] == 0, result
    assert result["duplicates"] == 0, result
    assert result["duplicate_open_warnings"] == 0, result
    assert result["warnings"] > 0 and result["zones_without_warning"] == [], result  # one engine ran, none missed
    assert [f["fault"] for f in result["faults"]] == list(cl.FAULTS)
