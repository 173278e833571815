"""Zone dynamics: gate flows per minute, density trend and forecast from stored readings."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.alert.conftest import ops  # noqa: F401  (ops is a fixture)


def _post(client, url, h, items):
    r = client.post(f"{url}/readings", json=items, headers=h["gateway"])
    assert r.json()["accepted"] == len(items), r.text


def test_flows_trend_and_forecast(client, ops):  # noqa: F811
    url, _eid, h, ids = ops
    now = datetime.now(UTC).replace(microsecond=0)
    # Z2 is 10,000 m2: 10,000 -> 16,000 persons over 180 s is 1.0 -> 1.6 persons/m2, +0.2 per minute
    _post(client, url, h, [{"sensor": "C1", "at": (now - timedelta(seconds=180 - s)).isoformat(),
                            "value": 10_000 + 6_000 * s / 180} for s in range(0, 181, 10)])
    # the gate counter: 4 readings in the last minute (in 30, out 10 each) and an older one outside the window
    _post(client, url, h, [{"sensor": "GC1", "at": (now - timedelta(seconds=s)).isoformat(), "value": 40,
                            "values": {"in": 30, "out": 10}} for s in (5, 20, 35, 50, 90)])
    states = {z["code"]: z for z in client.get(f"{url}/zone-states", params={"at": now.isoformat()},
                                                headers=h["analyst"]).json()}
    z2 = states["Z2"]
    assert (z2["flow_in_per_min"], z2["flow_out_per_min"]) == (120.0, 40.0)
    assert z2["trend_per_min"] == pytest.approx(0.2, rel=0.05) and z2["direction"] == "rising"
    assert z2["forecast_density"] == pytest.approx(1.6 + 0.2 * 2, rel=0.05)
    z1 = states["Z1"]  # no sensors
    assert (z1["flow_in_per_min"], z1["trend_per_min"], z1["direction"], z1["forecast_density"]) == (
        None, None, "unknown", None)
    _ = ids



def test_readings_on_bucket_edges_open_the_next_bucket(client, ops, sessions):  # noqa: F811
    """The database cuts the density series into 10 s buckets (issue 14); readings stamped exactly on the edges
    must land in the later bucket on every backend, whatever the fraction of a second the window ends at
    (SQLite's julianday rounding put some into the earlier one and bent the trend: 0.1898 for 0.2)."""
    from anbao.crowd import dynamics

    url, eid, h, ids = ops
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=12)
    for k, micro in enumerate((0, 1, 123_456, 499_999, 500_000, 999_999, 777_777, 3)):
        now = base + timedelta(hours=k, seconds=k * 7, microseconds=micro)
        _post(client, url, h, [{"sensor": "C1", "at": (now - timedelta(seconds=180 - s)).isoformat(),
                                "value": 10_000 + 6_000 * s / 180} for s in range(0, 181, 10)])
        with sessions() as db:
            z2 = dynamics.zone_dynamics(db=db, event_id=eid, now=now)[ids["Z2"]]
        # 18 readings in 18 buckets: exactly the straight line of +0.2 persons/m2 a minute
        assert z2.trend_per_min == pytest.approx(0.2, abs=1e-4), (micro, z2)
