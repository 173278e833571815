"""Field roles act on their own units' tasks only: users are linked to units (user_unit); an officer moves a
task given to one of its units, or to its unit's command node; dispatchers and commanders act on all."""

from __future__ import annotations

import pytest

from anbao.account import service as accounts
from anbao.core.auth import password_problem
from anbao.demo.people import DEMO_OFFICERS, ensure_demo_logins
from tests.alert.conftest import ops  # noqa: F401  (ops is a fixture)
from tests.factories import link_user


def _unit(client, url, h, code, node=None, **extra):
    r = client.post(f"{url}/units", json={"code": code, "name": f"{code}组", "call_sign": code, "police_type": "治安",
                                          "command_node_id": node, **extra}, headers=h["planner"])
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _task(client, url, h, **target):
    r = client.post(f"{url}/tasks", json={"title": "巡查", **target}, headers=h["dispatcher"])
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _move(client, url, h, task, status, who="officer"):
    return client.post(f"{url}/tasks/{task}/status", json={"status": status}, headers=h[who])


@pytest.fixture
def teams(client, ops):  # noqa: F811
    """Two units in two nodes; the officer is linked to the first."""
    url, event_id, h, ids = ops
    mine = _unit(client, url, h, "A1", ids["G-XCAB"])
    other = _unit(client, url, h, "B1", ids["G-JSBZ"])
    link_user(client, h["officer"], mine, by=h["dispatcher"])
    return url, h, ids, mine, other


def test_an_officer_cannot_cancel_another_units_task(client, teams):
    url, h, _ids, _mine, other = teams
    task = _task(client, url, h, unit_id=other)
    r = _move(client, url, h, task, "cancelled")
    assert r.status_code == 403, r.text
    assert "acts only on its own units' tasks" in r.json()["detail"] and f"unit {other}" in r.json()["detail"]
    assert client.get(f"{url}/tasks/{task}", headers=h["analyst"]).json()["status"] == "open"


def test_an_officer_moves_its_own_units_and_nodes_tasks(client, teams):
    url, h, ids, mine, _other = teams
    own = _task(client, url, h, unit_id=mine)
    for status in ("accepted", "arrived", "done"):
        assert _move(client, url, h, own, status).json()["status"] == status
    node_task = _task(client, url, h, command_node_id=ids["G-XCAB"])  # a plan step for my unit's node
    assert _move(client, url, h, node_task, "accepted").status_code == 200
    other_node = _task(client, url, h, command_node_id=ids["G-JSBZ"])
    r = _move(client, url, h, other_node, "accepted")
    assert r.status_code == 403 and f"command node {ids['G-JSBZ']}" in r.json()["detail"]
    nobody = _task(client, url, h)  # for no unit or node: the command post's to move
    assert _move(client, url, h, nobody, "accepted").status_code == 403


def test_an_officer_linked_to_no_unit_is_told_so(client, ops):  # noqa: F811
    url, _eid, h, _ids = ops
    task = _task(client, url, h, unit_id=_unit(client, url, h, "C1"))
    r = _move(client, url, h, task, "cancelled")
    assert r.status_code == 403 and "linked to no unit" in r.json()["detail"]


def test_dispatchers_and_commanders_act_on_every_task(client, teams):
    url, h, _ids, _mine, other = teams
    a, b = _task(client, url, h, unit_id=other), _task(client, url, h, unit_id=other)
    assert _move(client, url, h, a, "cancelled", "dispatcher").status_code == 200
    assert _move(client, url, h, b, "accepted", "commander").status_code == 200


def test_a_link_to_a_unit_of_another_event_does_not_count(client, teams):
    url, h, _ids, _mine, other = teams
    ev2 = client.post("/api/v1/events", json={"code": "EV2", "name": "另一活动", "kind": "other"},
                      headers=h["planner"]).json()["id"]
    there = _unit(client, f"/api/v1/events/{ev2}", h, "B1")  # the same code in another event
    link_user(client, h["officer"], there, by=h["dispatcher"])
    assert _move(client, url, h, _task(client, url, h, unit_id=other), "accepted").status_code == 403


def test_link_show_and_unlink(client, teams):
    url, h, _ids, mine, other = teams
    uid = client.get("/api/v1/auth/me", headers=h["officer"]).json()["id"]
    base = f"/api/v1/users/{uid}/units"
    assert [u["id"] for u in client.get(base, headers=h["analyst"]).json()] == [mine]
    r = client.put(f"{base}/{other}", headers=h["dispatcher"])
    assert r.status_code == 200 and [u["code"] for u in r.json()] == ["A1", "B1"]
    assert client.put(f"{base}/{other}", headers=h["dispatcher"]).status_code == 200  # idempotent
    assert [u["id"] for u in client.get(f"{url}/my-units", headers=h["officer"]).json()] == [mine, other]
    assert client.delete(f"{base}/{other}", headers=h["dispatcher"]).status_code == 204
    r = client.delete(f"{base}/{other}", headers=h["dispatcher"])
    assert r.status_code == 404 and f"not linked to unit {other}" in r.json()["detail"]
    r = client.put(f"{base}/{other}", headers=h["officer"])  # linking oneself needs org:write
    assert r.status_code == 403 and "org:write" in r.json()["detail"]
    assert client.put(f"/api/v1/users/99999/units/{mine}", headers=h["dispatcher"]).status_code == 404
    r = client.put(f"{base}/99999", headers=h["dispatcher"])
    assert r.status_code == 404 and "unit 99999" in r.json()["detail"]
    assert [u["id"] for u in client.get(f"{url}/my-units", headers=h["officer"]).json()] == [mine]


def test_a_partner_sees_only_the_units_shared_with_it(client, teams, login):
    url, h, ids, mine, _other = teams
    shared = _unit(client, url, h, "S1", ids["G-XCAB"], shared_with=["消防"])
    link_user(client, h["officer"], shared, by=h["dispatcher"])
    uid = client.get("/api/v1/auth/me", headers=h["officer"]).json()["id"]
    partner = login("partner", agency="消防")
    assert [u["id"] for u in client.get(f"/api/v1/users/{uid}/units", headers=partner).json()] == [shared]
    assert mine != shared


def test_the_demo_officers_are_linked_to_demo_units(client, ops, sessions):  # noqa: F811
    url, event_id, h, ids = ops
    units = {code: _unit(client, url, h, code, ids["G-XCAB"]) for _login, _name, code in DEMO_OFFICERS}
    with sessions() as db:
        from anbao.cli.common import DEMO_PASSWORD

        made = ensure_demo_logins(db=db, event_id=event_id, password=DEMO_PASSWORD)
        assert ensure_demo_logins(db=db, event_id=event_id, password=DEMO_PASSWORD) == made  # once
        db.commit()
        for name, display, _code in DEMO_OFFICERS:
            user = accounts.get_by_username(db=db, username=name)
            assert user.role == "officer" and password_problem(DEMO_PASSWORD, username=name, display_name=display) \
                is None
    name, _display, code = DEMO_OFFICERS[0]
    token = client.post("/api/v1/auth/login", json={"username": name, "password": DEMO_PASSWORD}).json()
    me = {"Authorization": f"Bearer {token['access_token']}"}
    assert [u["id"] for u in client.get(f"{url}/my-units", headers=me).json()] == [units[code]]
    task = _task(client, url, h, unit_id=units[code])
    assert client.post(f"{url}/tasks/{task}/status", json={"status": "accepted"}, headers=me).status_code == 200
    other = _task(client, url, h, unit_id=units[DEMO_OFFICERS[1][2]])
    assert client.post(f"{url}/tasks/{other}/status", json={"status": "accepted"}, headers=me).status_code == 403
