"""The event timeline route and the live-stream pacing of zone states."""

from datetime import timedelta

from tests.alert.conftest import ops, post, t0  # noqa: F401  (ops is a fixture)


def test_timeline_filters_and_refuses_naive_times(client, ops):  # noqa: F811
    url, _eid, h, _ids = ops
    watcher, t = client.app.state.watcher, t0()
    post(client, url, h, "C1", t, 41_000)
    watcher.run_once(now=t + timedelta(seconds=1))
    every = client.get(f"{url}/timeline", headers=h["analyst"]).json()
    assert [e["kind"] for e in every[:2]] == ["warning.raised", "plan.activated"]
    assert every[0]["kind_zh"] == "预警发布" and every[1]["kind_zh"] == "预案启动"
    assert all(e["kind"] == "task.created" for e in every[2:]) and len(every) == 6
    since = (t + timedelta(seconds=2)).isoformat().replace("+00:00", "Z")
    assert client.get(f"{url}/timeline", params={"since": since}, headers=h["analyst"]).json() == []
    r = client.get(f"{url}/timeline", params={"since": "2026-11-24T10:00:00"}, headers=h["analyst"])
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "since"]
    assert client.get(f"{url}/timeline", params={"limit": 0}, headers=h["analyst"]).status_code == 422
    assert client.get(f"{url}/timeline", headers=h["gateway"]).status_code == 403


def _z2(message):
    return next(z["count"] for z in message.payload["zones"] if z["code"] == "Z2")


def test_zone_states_go_out_at_most_every_half_second_and_nothing_is_lost(client, ops):  # noqa: F811
    url, event_id, h, _ids = ops
    watcher, bus, t = client.app.state.watcher, client.app.state.bus, t0()
    got = []
    bus.subscribe(f"event/{event_id}/zone-state", got.append)
    post(client, url, h, "C1", t, 10_000)
    watcher.run_once(now=t + timedelta(seconds=1))
    post(client, url, h, "C1", t + timedelta(seconds=1.1), 12_000)
    watcher.run_once(now=t + timedelta(seconds=1.2))  # 0.2 s after the last push: held back
    assert [_z2(m) for m in got] == [10_000]
    watcher.run_once(now=t + timedelta(seconds=1.6))  # the held change goes out now
    assert [_z2(m) for m in got] == [10_000, 12_000]
    watcher.run_once(now=t + timedelta(seconds=2.5))  # no change, no message
    assert len(got) == 2
