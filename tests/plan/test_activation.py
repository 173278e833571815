"""Plan activation by warnings and by hand, escalation up the command tree, the task life cycle."""

from datetime import timedelta

import pytest

from tests.alert.conftest import ops, post, t0  # noqa: F401  (ops is a fixture)
from tests.factories import link_user


def _open(client, url, h):
    return client.get(f"{url}/warnings?status=open", headers=h["dispatcher"]).json()


def test_rising_density_activates_each_plan_once_and_pushes_the_tasks(client, ops):  # noqa: F811
    url, event_id, h, ids = ops
    watcher, bus, t = client.app.state.watcher, client.app.state.bus, t0()
    got = []
    bus.subscribe(f"event/{event_id}/task", got.append)
    post(client, url, h, "C1", t, 42_000)  # 4.2: orange -> 大客流应急预案
    watcher.run_once(now=t + timedelta(seconds=1))
    [w] = _open(client, url, h)
    acts = client.get(f"{url}/plan-activations?warning_id={w['id']}", headers=h["analyst"]).json()
    assert [(a["level"], a["by"]) for a in acts] == [("orange", "system:warnings")]
    tasks = client.get(f"{url}/tasks?warning_id={w['id']}", headers=h["officer"]).json()
    assert len(tasks) == 4 and {t_["status"] for t_ in tasks} == {"open"}
    # 视频复核 goes to G-JSBZ; the G-ZHXT step falls back to the plan's node G-XCAB (no G-ZHXT here)
    assert sorted(t_["command_node_id"] for t_ in tasks) == sorted([ids["G-JSBZ"]] + [ids["G-XCAB"]] * 3)
    assert all(t_["zone_id"] == ids["Z2"] and t_["due_at"] for t_ in tasks)
    assert sorted(m.payload["id"] for m in got) == sorted(t_["id"] for t_ in tasks)

    post(client, url, h, "C1", t + timedelta(seconds=5), 43_000)  # still orange: nothing new
    watcher.run_once(now=t + timedelta(seconds=6))
    post(client, url, h, "C1", t + timedelta(seconds=10), 55_000)  # red: 人群疏散预案 joins, 大客流 not again
    watcher.run_once(now=t + timedelta(seconds=11))
    acts = client.get(f"{url}/plan-activations?warning_id={w['id']}", headers=h["analyst"]).json()
    plans = {p["id"]: p["code"] for p in client.get(f"{url}/plans", headers=h["analyst"]).json()}
    assert [(plans[a["plan_id"]], a["level"]) for a in acts] == [("YA-DKL", "orange"), ("YA-SS", "red")]
    assert len(client.get(f"{url}/tasks?warning_id={w['id']}", headers=h["officer"]).json()) == 8
    kinds = [s["kind"] for s in client.get(f"{url}/timeline?kind=plan", headers=h["analyst"]).json()]
    assert kinds == ["plan.activated", "plan.activated"]


def test_a_jump_straight_to_red_starts_the_plans_of_every_level_reached(client, ops):  # noqa: F811
    url, _eid, h, _ids = ops
    watcher, t = client.app.state.watcher, t0()
    post(client, url, h, "C1", t, 60_000)
    watcher.run_once(now=t + timedelta(seconds=1))
    [w] = _open(client, url, h)
    assert w["level"] == "red"
    assert [a["level"] for a in client.get(f"{url}/plan-activations", headers=h["analyst"]).json()] == ["red", "red"]


def test_unacknowledged_warnings_escalate_up_the_tree_until_acknowledged(client, ops):  # noqa: F811
    url, event_id, h, ids = ops
    watcher, bus, t = client.app.state.watcher, client.app.state.bus, t0()
    got = []
    bus.subscribe(f"event/{event_id}/warning", got.append)
    post(client, url, h, "C1", t, 41_000)
    watcher.run_once(now=t + timedelta(seconds=1))
    watcher.run_once(now=t + timedelta(minutes=4))
    [w] = _open(client, url, h)
    assert w["escalations"] == 0 and w["escalate_due_at"]
    watcher.run_once(now=t + timedelta(minutes=5, seconds=2))  # 5 min unacknowledged: to the plan node's parent
    [w] = _open(client, url, h)
    assert (w["escalations"], w["escalated_to"]) == (1, "指挥部")
    assert got[-1].payload["escalations"] == 1
    watcher.run_once(now=t + timedelta(minutes=10, seconds=3))  # again; the 指挥部 is the top
    assert _open(client, url, h)[0]["escalations"] == 2
    r = client.post(f"{url}/warnings/{w['id']}/ack", json={"comment": "已处置"}, headers=h["dispatcher"])
    assert r.status_code == 200 and r.json()["escalate_due_at"] is None
    watcher.run_once(now=t + timedelta(minutes=30))
    assert _open(client, url, h)[0]["escalations"] == 2
    steps = client.get(f"{url}/timeline?subject=warning:{w['id']}", headers=h["analyst"]).json()
    texts = [s["text"] for s in steps if s["kind"] == "warning.escalated"]
    assert len(texts) == 2 and "超过 5 分钟未确认" in texts[0] and "第 1 次升级上报至指挥部" in texts[0]
    # a rise after the acknowledgement needs a new one, and the clock starts again
    post(client, url, h, "C1", t + timedelta(minutes=30, seconds=5), 52_000)
    watcher.run_once(now=t + timedelta(minutes=30, seconds=6))
    w = _open(client, url, h)[0]
    assert w["status"] == "active" and w["escalate_due_at"] is not None
    _ = ids


def test_manual_activation_and_the_task_life_cycle(client, ops):  # noqa: F811
    url, event_id, h, ids = ops
    plans = {p["code"]: p for p in client.get(f"{url}/plans", headers=h["analyst"]).json()}
    assert plans == {}  # plans come with the rules, on first use
    client.post(f"{url}/warning-rules/defaults", headers=h["planner"])
    plans = {p["code"]: p for p in client.get(f"{url}/plans", headers=h["analyst"]).json()}
    fire = plans["YA-XF"]["id"]
    assert client.post(f"{url}/plans/{fire}/activate", json={}, headers=h["officer"]).status_code == 403
    r = client.post(f"{url}/plans/{fire}/activate", json={"reason": "演练"}, headers=h["commander"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["activation"]["reason"] == "演练" and len(body["tasks"]) == 4
    task = body["tasks"][0]
    base = f"{url}/tasks/{task['id']}/status"
    for i, node in enumerate({t_["command_node_id"] for t_ in body["tasks"][:2]}):  # the officer's units
        mine = client.post(f"{url}/units", json={"code": f"M{i}", "name": "现场组", "call_sign": f"现{i}",
                                                 "police_type": "治安", "command_node_id": node},
                           headers=h["planner"]).json()["id"]
        link_user(client, h["officer"], mine, by=h["dispatcher"])
    assert client.post(base, json={"status": "accepted"}, headers=h["analyst"]).status_code == 403
    assert client.post(base, json={"status": "accepted"}, headers=h["officer"]).json()["status"] == "accepted"
    r = client.post(base, json={"status": "已到场", "note": "到达内场"}, headers=h["officer"])
    assert r.json()["status"] == "arrived"
    done = client.post(base, json={"status": "done", "note": "已处置完毕"}, headers=h["officer"]).json()
    assert done["status"] == "done" and done["done_at"] and done["note"] == "到达内场\n已处置完毕"
    r = client.post(base, json={"status": "accepted"}, headers=h["officer"])
    assert r.status_code == 409 and "Allowed next: none" in r.json()["detail"]
    other = body["tasks"][1]["id"]
    client.post(f"{url}/tasks/{other}/status", json={"status": "arrived"}, headers=h["officer"])
    r = client.post(f"{url}/tasks/{other}/status", json={"status": "accepted"}, headers=h["officer"])
    assert r.status_code == 409 and "Allowed next: done, cancelled" in r.json()["detail"]
    assert client.post(f"{url}/tasks/99999/status", json={"status": "done"}, headers=h["officer"]).status_code == 404
    assert client.post(base, json={"status": "finished"}, headers=h["officer"]).status_code == 422
    unit = client.post(f"{url}/units", json={"code": "U9", "name": "机动组", "call_sign": "机9", "police_type": "治安"},
                       headers=h["planner"]).json()["id"]
    given = client.post(f"{url}/tasks", json={"title": "支援内场", "unit_id": unit}, headers=h["dispatcher"]).json()
    assert [t_["id"] for t_ in client.get(f"{url}/tasks?unit_id={unit}", headers=h["officer"]).json()] == [given["id"]]
    client.post(f"{url}/tasks/{given['id']}/status", json={"status": "cancelled"}, headers=h["dispatcher"])
    open_tasks = client.get(f"{url}/tasks?open=true", headers=h["officer"]).json()
    assert task["id"] not in {t_["id"] for t_ in open_tasks} and len(open_tasks) == 3
    kinds = [s["kind"] for s in client.get(f"{url}/timeline?subject=task:{task['id']}", headers=h["analyst"]).json()]
    assert kinds == ["task.created", "task.accepted", "task.arrived", "task.done"]
    _ = (event_id, ids)


@pytest.mark.parametrize(("body", "loc"), [
    ({"title": "x", "zone_id": 999}, ["body", "zone_id"]),
    ({"title": "x", "unit_id": 999}, ["body", "unit_id"]),
    ({"title": "x", "warning_id": 999}, ["body", "warning_id"]),
    ({"title": ""}, ["body", "title"]),
])
def test_bad_manual_tasks_name_the_field(client, ops, body, loc):  # noqa: F811
    url, _eid, h, _ids = ops
    r = client.post(f"{url}/tasks", json=body, headers=h["dispatcher"])
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == loc


def test_activating_twice_for_one_warning_is_a_conflict(client, ops):  # noqa: F811
    url, _eid, h, _ids = ops
    watcher, t = client.app.state.watcher, t0()
    post(client, url, h, "C1", t, 41_000)
    watcher.run_once(now=t + timedelta(seconds=1))
    [w] = _open(client, url, h)
    plans = {p["code"]: p["id"] for p in client.get(f"{url}/plans", headers=h["analyst"]).json()}
    r = client.post(f"{url}/plans/{plans['YA-DKL']}/activate", json={"warning_id": w["id"]}, headers=h["dispatcher"])
    assert r.status_code == 409 and "already active" in r.json()["detail"]
    r = client.post(f"{url}/plans/{plans['YA-SS']}/activate", json={"warning_id": w["id"]}, headers=h["dispatcher"])
    assert r.status_code == 201 and r.json()["activation"]["level"] == "orange"
    r = client.post(f"{url}/plans/{plans['YA-SS']}/activate", json={"warning_id": 4242}, headers=h["dispatcher"])
    assert r.status_code == 404 and r.json()["detail"].startswith("warning 4242")


def test_plan_steps_must_name_nodes_of_the_event(client, ops):  # noqa: F811
    url, _eid, h, _ids = ops
    r = client.post(f"{url}/plans", json={"code": "P1", "name": "测试预案", "kind": "大客流",
                                          "steps": [{"title": "a"}, {"title": "b", "node_code": "NOPE"}]},
                    headers=h["planner"])
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "steps", 1, "node_code"]
    r = client.post(f"{url}/plans", json={"code": "P1", "name": "测试预案", "kind": "大客流",
                                          "steps": [{"title": "a", "node_code": "HQ", "due_min": 3}]},
                    headers=h["planner"])
    assert r.status_code == 201 and r.json()["kind"] == "crowd"
