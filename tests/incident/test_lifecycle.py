"""接处警 life cycle: intake, dispatch, the unit's progress from its phone task, hand-over, plan matching, figures."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from tests.alert.conftest import ops  # noqa: F401  (ops is a fixture)
from tests.factories import link_user
from tests.factories_cli import LAT, LON


def _units(client, url, h, ids, n=2):
    out = []
    for k in range(n):
        r = client.post(f"{url}/units", headers=h["planner"], json={
            "code": f"U{k + 1}", "name": f"巡逻{k + 1}组", "call_sign": f"巡{k + 1}", "police_type": "治安",
            "command_node_id": ids["G-XCAB"]})
        assert r.status_code == 201, r.text
        out.append(r.json()["id"])
    return out


def _intake(client, url, h, key, **extra):
    body = {"client_key": key, "type": "打架斗殴", "text": "内场两人争执", "lon": LON, "lat": LAT,
            "source": "110报警", **extra}
    r = client.post(f"{url}/incidents", json=body, headers=h["dispatcher"])
    assert r.status_code == 201, r.text
    return r.json()


def test_dispatch_progress_from_the_phone_and_resolution(client, ops):  # noqa: F811
    url, event_id, h, ids = ops
    got = []
    client.app.state.bus.subscribe(f"event/{event_id}/incident", got.append)
    u1, u2 = _units(client, url, h, ids)
    inc = _intake(client, url, h, "call-0001-aaaa")
    assert (inc["status"], inc["source"], inc["police_type"]) == ("new", "call_110", "public_order")
    iu = f"{url}/incidents/{inc['id']}"

    r = client.post(f"{iu}/assignments", json={"unit_id": u1, "eta_s": 150}, headers=h["dispatcher"])
    assert r.status_code == 201, r.text
    a1 = r.json()
    assert (a1["status"], a1["call_sign"]) == ("assigned", "巡1") and a1["task_id"]
    assert client.get(f"{url}/units/{u1}", headers=h["analyst"]).json()["status"] == "assigned"
    assert client.get(iu, headers=h["analyst"]).json()["status"] == "dispatched"
    # the officer of u1 sees the task on the phone and taps 接收, then 到场
    link_user(client, h["officer"], u1, by=h["dispatcher"])
    tasks = client.get(f"{url}/tasks", params={"unit_id": u1, "open": "true"}, headers=h["officer"]).json()
    assert [t["id"] for t in tasks] == [a1["task_id"]] and tasks[0]["incident_id"] == inc["id"]
    assert tasks[0]["title"].startswith("出警：打架斗殴")
    for status, unit_status, incident_status in (("accepted", "busy", "en_route"), ("arrived", "busy", "on_scene")):
        r = client.post(f"{url}/tasks/{a1['task_id']}/status", json={"status": status}, headers=h["officer"])
        assert r.status_code == 200, r.text
        assert client.get(f"{url}/units/{u1}", headers=h["analyst"]).json()["status"] == unit_status
        detail = client.get(iu, headers=h["analyst"]).json()
        assert detail["status"] == incident_status
    assert detail["assignments"][0]["status"] == "on_scene" and detail["on_scene_at"] is not None
    # a second unit, then resolution releases both and finishes their tasks
    a2 = client.post(f"{iu}/assignments", json={"unit_id": u2}, headers=h["dispatcher"]).json()
    r = client.post(f"{iu}/status", json={"status": "resolved", "note": "双方已调解"},
                    headers=h["dispatcher"])
    assert r.status_code == 200 and r.json()["resolved_at"] is not None, r.text
    for unit in (u1, u2):
        assert client.get(f"{url}/units/{unit}", headers=h["analyst"]).json()["status"] == "available"
    statuses = {a["id"]: a["status"] for a in client.get(f"{iu}/assignments", headers=h["analyst"]).json()}
    assert statuses == {a1["id"]: "released", a2["id"]: "released"}
    task2 = next(t for t in client.get(f"{url}/tasks", params={"unit_id": u2}, headers=h["analyst"]).json())
    assert task2["status"] == "done"
    # illegal steps are 409 with the allowed ones; the same status again is a no-op
    r = client.post(f"{iu}/status", json={"status": "dispatched"}, headers=h["dispatcher"])
    assert r.status_code == 409 and "Allowed next: on_scene, closed" in r.text
    assert client.post(f"{iu}/status", json={"status": "resolved"}, headers=h["dispatcher"]).status_code == 200
    assert client.post(f"{iu}/status", json={"status": "已结案"}, headers=h["dispatcher"]).json()["status"] == "closed"
    r = client.post(f"{iu}/assignments", json={"unit_id": u1}, headers=h["dispatcher"])
    assert r.status_code == 409 and "closed" in r.text
    # the incident's own log tells the story in order
    kinds = [e["kind"] for e in client.get(f"{iu}/log", headers=h["analyst"]).json()]
    assert kinds[0] == "report" and kinds.count("assign") == 2 and kinds[-1] == "status"
    texts = " ".join(e["text"] for e in client.get(f"{iu}/log", headers=h["analyst"]).json())
    assert "派警 巡1" in texts and "巡1 途中" in texts and "巡1 到场" in texts and "处置完毕 → 已结案" in texts
    assert got and got[-1].payload["status"] == "closed"  # every change went out live
    from anbao.review.service import KIND_ZH

    kinds = {e["kind"] for e in client.get(f"{url}/timeline", headers=h["analyst"]).json()}
    assert {"incident.reported", "incident.assign", "incident.unit", "incident.status"} <= kinds
    assert all(k in KIND_ZH for k in kinds), kinds - set(KIND_ZH)  # the event timeline names every step
    # officers may not dispatch; unknown unit is 422/404 by name
    assert client.post(f"{iu}/status", json={"status": "closed"}, headers=h["officer"]).status_code == 403
    inc2 = _intake(client, url, h, "call-0002-bbbb")
    r = client.post(f"{url}/incidents/{inc2['id']}/assignments", json={"unit_id": 99999}, headers=h["dispatcher"])
    assert r.status_code in (404, 422) and "unit_id" in r.text
    assert client.get(f"{url}/incidents/99999", headers=h["analyst"]).status_code == 404


def test_two_dispatchers_sending_the_same_unit_one_wins(client, ops, sessions):  # noqa: F811
    url, _event_id, h, ids = ops
    (u1,) = _units(client, url, h, ids, n=1)
    first = _intake(client, url, h, "call-0003-cccc")
    second = _intake(client, url, h, "call-0004-dddd", type="盗窃")
    dispatcher = h["dispatcher"]
    results: list[int] = []
    barrier = threading.Barrier(2)

    def send(incident_id):
        barrier.wait()
        r = client.post(f"{url}/incidents/{incident_id}/assignments", json={"unit_id": u1}, headers=dispatcher)
        results.append(r.status_code)
        if r.status_code == 409:
            assert "巡1 is assigned" in r.text and "only an available unit" in r.text

    threads = [threading.Thread(target=send, args=(i["id"],)) for i in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 409]
    held = [len(client.get(f"{url}/incidents/{i['id']}/assignments", headers=h["analyst"]).json())
            for i in (first, second)]
    assert sorted(held) == [0, 1]  # exactly one incident holds the unit


def test_handover_keeps_the_history(client, ops):  # noqa: F811
    url, _event_id, h, ids = ops
    u1, _ = _units(client, url, h, ids)
    r = client.post(f"{url}/units", headers=h["planner"], json={
        "code": "XZ1", "name": "刑侦一组", "call_sign": "刑1", "police_type": "刑侦"})
    detective = r.json()["id"]
    inc = _intake(client, url, h, "call-0005-eeee", type="盗窃")
    iu = f"{url}/incidents/{inc['id']}"
    a1 = client.post(f"{iu}/assignments", json={"unit_id": u1}, headers=h["dispatcher"]).json()
    # an officer moves only its own units' assignments
    r = client.post(f"{iu}/assignments/{a1['id']}/status", json={"status": "on_scene"}, headers=h["officer"])
    assert r.status_code == 403 and "acts only for its own units" in r.json()["detail"], r.text
    link_user(client, h["officer"], u1, by=h["dispatcher"])
    r = client.post(f"{iu}/assignments/{a1['id']}/status", json={"status": "on_scene"}, headers=h["officer"])
    assert r.status_code == 200, r.text
    r = client.post(f"{iu}/handover", json={"police_type": "刑侦", "unit_id": detective, "note": "涉案金额较大"},
                    headers=h["dispatcher"])
    assert r.status_code == 200 and r.json()["police_type"] == "criminal", r.text
    units = {a["call_sign"]: a["status"] for a in client.get(f"{iu}/assignments", headers=h["analyst"]).json()}
    assert units == {"巡1": "released", "刑1": "assigned"}
    log = client.get(f"{iu}/log", headers=h["analyst"]).json()
    hand = next(e for e in log if e["kind"] == "handover")
    assert (hand["before"], hand["after"]) == ("public_order", "criminal") and "治安 → 刑侦" in hand["text"]
    assert client.get(f"{url}/units/{u1}", headers=h["analyst"]).json()["status"] == "available"


def test_plans_are_matched_on_intake_and_on_change_with_the_reason(client, ops):  # noqa: F811
    url, _event_id, h, ids = ops
    assert client.post(f"{url}/warning-rules/defaults", headers=h["planner"]).status_code == 200  # default plans exist
    inc = _intake(client, url, h, "call-0006-ffff", type="医疗急救")
    detail = client.get(f"{url}/incidents/{inc['id']}", headers=h["analyst"]).json()
    assert [(p["code"], bool(p["activation_id"])) for p in detail["plans"]] == [("YA-YL", True)]
    assert "医疗急救" in detail["plans"][0]["reason"]
    tasks = client.get(f"{url}/tasks", params={"incident_id": inc["id"]}, headers=h["analyst"]).json()
    assert len(tasks) == 3 and all(t["incident_id"] == inc["id"] for t in tasks)
    # an ordinary fight starts nothing; raised to 较大 it fits the 应急处突 plan (min grade 较大)
    fight = _intake(client, url, h, "call-0007-gggg", type="打架斗殴")
    assert client.get(f"{url}/incidents/{fight['id']}", headers=h["analyst"]).json()["plans"] == []
    r = client.patch(f"{url}/incidents/{fight['id']}", json={"grade": "较大"}, headers=h["dispatcher"])
    assert r.status_code == 200, r.text
    plans = client.get(f"{url}/incidents/{fight['id']}", headers=h["analyst"]).json()["plans"]
    assert [p["code"] for p in plans] == ["YA-CT"] and "等级较大不低于较大" in plans[0]["reason"]
    acts = client.get(f"{url}/plan-activations", params={"incident_id": fight["id"]}, headers=h["analyst"]).json()
    assert len(acts) == 1 and acts[0]["incident_id"] == fight["id"]
    # the same change again starts nothing twice
    client.patch(f"{url}/incidents/{fight['id']}", json={"text": "一方持械"}, headers=h["dispatcher"])
    acts = client.get(f"{url}/plan-activations", params={"incident_id": fight["id"]}, headers=h["analyst"]).json()
    assert len(acts) == 1
    # a plan limited to a zone kind and hours: a planner's own trigger
    r = client.post(f"{url}/plans", headers=h["planner"], json={
        "code": "YA-NIGHT", "name": "夜间内场盗窃预案", "kind": "other",
        "triggers": {"incident_types": ["盗窃"], "zone_kinds": ["standing"], "hours": [0, 24]},
        "steps": [{"title": "封控内场出口"}]})
    assert r.status_code == 201, r.text
    theft = _intake(client, url, h, "call-0008-hhhh", type="盗窃")  # at LON/LAT: inside Z2 (standing)
    plans = client.get(f"{url}/incidents/{theft['id']}", headers=h["analyst"]).json()["plans"]
    assert [p["code"] for p in plans] == ["YA-NIGHT"] and "发生在内场站席区域" in plans[0]["reason"]
    bad = client.post(f"{url}/plans", headers=h["planner"], json={
        "code": "YA-BAD", "name": "x", "triggers": {"incident_types": ["盗窃"], "colour": "red"}})
    assert bad.status_code == 422 and "colour" in bad.text
    bad = client.post(f"{url}/plans", headers=h["planner"], json={
        "code": "YA-BAD", "name": "x", "triggers": {"hours": [3, 25]}})
    assert bad.status_code == 422 and "hours" in bad.text


def test_response_figures_by_type_and_zone(client, ops, sessions):  # noqa: F811
    from anbao.incident.models import Incident

    url, event_id, h, ids = ops
    now = datetime.now(UTC).replace(microsecond=0)
    rows = [("fight", 60, 300, 900), ("fight", 120, 420, None), ("fight", 30, None, None), ("theft", 600, 1200, 3600)]
    with sessions() as db:
        for k, (kind, d, a, r) in enumerate(rows):
            start = now - timedelta(hours=2)
            db.add(Incident(event_id=event_id, client_key=f"fig-{k:04d}-x", type=kind, grade="ordinary",
                            source="public", status="resolved" if r else "on_scene" if a else "dispatched",
                            text="", zone_id=ids["Z2"],
                            reported_by="t", reported_at=start, dispatched_at=start + timedelta(seconds=d),
                            on_scene_at=start + timedelta(seconds=a) if a else None,
                            resolved_at=start + timedelta(seconds=r) if r else None))
        db.commit()
    out = client.get(f"{url}/incident-stats", headers=h["analyst"]).json()
    fight = next(g for g in out["by_type"] if g["key"] == "fight")
    assert (fight["incidents"], fight["open"], fight["label"]) == (3, 2, "打架斗殴")
    assert fight["dispatch"] == {"n": 3, "p50_s": 60.0, "p90_s": pytest.approx(108.0), "max_s": 120.0}
    assert fight["arrival"]["n"] == 2 and fight["arrival"]["p50_s"] == 360.0
    assert fight["resolution"] == {"n": 1, "p50_s": 900.0, "p90_s": 900.0, "max_s": 900.0}
    zone = next(g for g in out["by_zone"] if g["key"] == "Z2")
    assert zone["incidents"] == 4 and zone["dispatch"]["max_s"] == 600.0
    assert out["all"][0]["incidents"] == 4
    later = client.get(f"{url}/incident-stats", params={"since": now.isoformat()}, headers=h["analyst"]).json()
    assert later["all"][0]["incidents"] == 0 and later["all"][0]["dispatch"]["p50_s"] is None
    bad = client.get(f"{url}/incident-stats", params={"since": now.isoformat(), "until": now.isoformat()},
                     headers=h["analyst"])
    assert bad.status_code == 422 and "until" in bad.text


def test_positions_in_bulk_skip_known_keys_and_refuse_unknown_units(client, ops, sessions):  # noqa: F811
    from anbao.core.errors import Invalid
    from anbao.incident import service
    from anbao.incident.schemas import PositionIn

    url, event_id, h, ids = ops
    u1, u2 = _units(client, url, h, ids)
    now = datetime.now(UTC).replace(microsecond=0)
    items = [PositionIn(client_key=f"bulk-{k}-abcdef", unit_id=u, lon=LON, lat=LAT + k * 1e-4, at=now)
             for k, u in enumerate((u1, u2))]
    with sessions() as db:
        assert service.add_positions(db=db, event_id=event_id, items=items, by="t", now=now) == 2
        assert service.add_positions(db=db, event_id=event_id, items=items, by="t", now=now) == 0  # replayed
        bad = [PositionIn(client_key="bulk-x-abcdef", unit_id=99999, lon=LON, lat=LAT, at=now)]
        with pytest.raises(Invalid, match="unit 99999 does not exist"):
            service.add_positions(db=db, event_id=event_id, items=bad, by="t", now=now)
        db.rollback()
    latest = {p["unit_id"]: p for p in client.get(f"{url}/unit-positions", headers=h["analyst"]).json()}
    assert latest == {}  # rolled back: nothing half-stored
