"""API tests for the command tree, units and persons, audited reads and partner scoping."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from anbao.core.audit import AuditEntry
from anbao.org.models import CommandNode, Person, Unit
from tests.factories import (
    API,
    count_rows,
    created,
    make_event,
    node_body,
    person_body,
    unit_body,
    url,
)

#: the partner agency used below
FIRE = "消防"


@pytest.fixture
def fire(login):
    return login("partner", agency=FIRE)


def _loc_msg(r) -> tuple[list[Any], str]:
    assert r.status_code == 422, r.text
    d = r.json()["detail"][0]
    return d["loc"], d["msg"]


def _ids_read(entry: AuditEntry) -> list[int]:
    """The row ids a "read" audit entry names (``after.ids``, else the comma-separated ``entity_id``)."""
    after = entry.after or {}
    if "ids" in after:
        return [int(i) for i in after["ids"]]
    return [int(i) for i in (entry.entity_id or "").split(",") if i.isdigit()]


def _reads(sessions, entity: str) -> list[AuditEntry]:
    with sessions() as s:
        return list(s.execute(select(AuditEntry).where(AuditEntry.action == "read", AuditEntry.entity == entity)
                              .order_by(AuditEntry.id)).scalars())


# -- command tree -----------------------------------------------------------------------------------

@pytest.fixture
def tree(client, planner, ev) -> dict[str, int]:
    hq = created(client, url(ev, "command-nodes"), node_body("HQ", "指挥部", leader="王局"), planner)
    assert hq["level"] == "hq" and hq["parent_id"] is None
    ids = {"HQ": hq["id"]}
    ids["GRP"] = created(client, url(ev, "command-nodes"), node_body("GRP", "hq_group", ids["HQ"]), planner)["id"]
    ids["SITE"] = created(client, url(ev, "command-nodes"), node_body("SITE", "现场分指挥部", ids["HQ"]),
                          planner)["id"]
    ids["DUTY"] = created(client, url(ev, "command-nodes"), node_body("DUTY", "duty_group", ids["SITE"]),
                          planner)["id"]
    return ids


def test_command_tree_is_built_top_down(client, planner, ev, tree):
    nodes = {n["code"]: n for n in client.get(url(ev, "command-nodes"), headers=planner).json()}
    assert {c: (n["level"], n["parent_id"]) for c, n in nodes.items()} == {
        "HQ": ("hq", None), "GRP": ("hq_group", tree["HQ"]), "SITE": ("site", tree["HQ"]),
        "DUTY": ("duty_group", tree["SITE"])}
    assert nodes["HQ"]["leader"] == "王局"
    # a duty group may also sit under an hq group
    d2 = created(client, url(ev, "command-nodes"), node_body("DUTY2", "执勤组", tree["GRP"]), planner)
    assert (d2["level"], d2["parent_id"]) == ("duty_group", tree["GRP"])


def test_command_nodes_filter_by_level_and_parent(client, planner, ev, tree):
    def codes(query: str) -> list[str]:
        r = client.get(url(ev, "command-nodes") + query, headers=planner)
        assert r.status_code == 200, r.text
        return [n["code"] for n in r.json()]

    assert codes(f"?parent_id={tree['HQ']}") == ["GRP", "SITE"]
    assert codes("?level=执勤组") == ["DUTY"]
    assert codes("?level=hq") == ["HQ"]


@pytest.mark.parametrize(("body", "loc", "fragment"), [
    pytest.param(lambda t: node_body("HQ2", "hq"), ["body", "level"], "already has", id="second-hq"),
    pytest.param(lambda t: node_body("D", "duty_group", t["HQ"]), ["body", "parent_id"], "site or hq_group",
                 id="duty-group-under-hq"),
    pytest.param(lambda t: node_body("S", "site"), ["body", "parent_id"], "no parent", id="site-without-parent"),
    pytest.param(lambda t: node_body("G", "hq_group", t["SITE"]), ["body", "parent_id"], "got site",
                 id="hq-group-under-site"),
    pytest.param(lambda t: node_body("H", "hq", t["HQ"]), ["body", "parent_id"], "no parent", id="hq-with-parent"),
    pytest.param(lambda t: node_body("D", "duty_group", t["DUTY"]), ["body", "parent_id"], "got duty_group",
                 id="duty-group-under-duty-group"),
    pytest.param(lambda t: node_body("D", "duty_group", 9999), ["body", "parent_id"], "does not exist",
                 id="missing-parent"),
    pytest.param(lambda t: node_body("X", "区队"), ["body", "level"], "hq", id="unknown-level"),
    pytest.param(lambda t: node_body("SITE", "site", t["HQ"]), ["body", "code"], "already exists",
                 id="duplicate-code"),
])
def test_bad_command_nodes_are_refused(client, planner, ev, tree, sessions, body, loc, fragment):
    before = count_rows(sessions, CommandNode)
    loc_got, msg = _loc_msg(client.post(url(ev, "command-nodes"), json=body(tree), headers=planner))
    assert loc_got == loc
    assert fragment in msg
    assert count_rows(sessions, CommandNode) == before == 4


def test_first_node_must_be_hq(client, planner, ev):
    loc, msg = _loc_msg(client.post(url(ev, "command-nodes"), json=node_body("S", "site"), headers=planner))
    assert loc == ["body", "parent_id"] and "hq" in msg


def test_command_node_parent_from_another_event_is_refused(client, planner, ev, tree, sessions):
    other = make_event(client, planner, "EV2")
    r = client.post(url(other, "command-nodes"), json=node_body("SITE", "site", tree["HQ"]), headers=planner)
    assert _loc_msg(r)[0] == ["body", "parent_id"]
    assert count_rows(sessions, CommandNode, event_id=other) == 0


def test_moving_a_node_keeps_the_level_rules(client, planner, ev, tree):
    r = client.patch(url(ev, "command-nodes", tree["DUTY"]), json={"parent_id": tree["HQ"]}, headers=planner)
    assert _loc_msg(r)[0] == ["body", "parent_id"]
    r = client.patch(url(ev, "command-nodes", tree["DUTY"]), json={"parent_id": tree["GRP"]}, headers=planner)
    assert r.status_code == 200 and r.json()["parent_id"] == tree["GRP"]
    r = client.patch(url(ev, "command-nodes", tree["SITE"]), json={"parent_id": None}, headers=planner)
    assert _loc_msg(r)[0] == ["body", "parent_id"]
    assert client.get(url(ev, "command-nodes", tree["SITE"]), headers=planner).json()["parent_id"] == tree["HQ"]


def test_deleting_a_site_removes_its_duty_groups_and_frees_units(client, planner, ev, tree, sessions):
    unit = created(client, url(ev, "units"), unit_body(command_node_id=tree["DUTY"]), planner)
    assert unit["command_node_id"] == tree["DUTY"]
    assert client.delete(url(ev, "command-nodes", tree["SITE"]), headers=planner).status_code == 204
    assert client.get(url(ev, "command-nodes", tree["DUTY"]), headers=planner).status_code == 404
    assert sorted(n["code"] for n in client.get(url(ev, "command-nodes"), headers=planner).json()) == ["GRP", "HQ"]
    assert client.get(url(ev, "units", unit["id"]), headers=planner).json()["command_node_id"] is None
    assert count_rows(sessions, Unit) == 1


# -- units ------------------------------------------------------------------------------------------

def test_units_accept_chinese_labels(client, planner, ev, tree, sessions):
    u = created(client, url(ev, "units"), unit_body("U1", police_type="治安", status="待命", agency="公安",
                                                     command_node_id=tree["DUTY"], equipment=["对讲机"]), planner)
    assert (u["police_type"], u["status"], u["agency"], u["command_node_id"], u["equipment"]) == (
        "public_order", "available", "公安", tree["DUTY"], ["对讲机"])
    with sessions() as s:
        assert s.get(Unit, u["id"]).police_type == "public_order"
    created(client, url(ev, "units"), unit_body("U2", police_type="交警"), planner)
    r = client.get(url(ev, "units") + "?police_type=治安", headers=planner)
    assert [x["code"] for x in r.json()] == ["U1"]
    r = client.patch(url(ev, "units", u["id"]), json={"status": "处置中"}, headers=planner)
    assert r.status_code == 200 and r.json()["status"] == "busy"


@pytest.mark.parametrize(("change", "loc"), [
    ({"police_type": "城管"}, ["body", "police_type"]),
    ({"status": "sleeping"}, ["body", "status"]),
    ({"call_sign": ""}, ["body", "call_sign"]),
    ({"command_node_id": 9999}, ["body", "command_node_id"]),
])
def test_bad_units_are_refused(client, planner, ev, sessions, change, loc):
    assert _loc_msg(client.post(url(ev, "units"), json=unit_body(**change), headers=planner))[0] == loc
    assert count_rows(sessions, Unit) == 0


def test_duplicate_unit_code_is_refused(client, planner, ev, sessions):
    created(client, url(ev, "units"), unit_body("U1"), planner)
    assert _loc_msg(client.post(url(ev, "units"), json=unit_body("U1"), headers=planner))[0] == ["body", "code"]
    assert count_rows(sessions, Unit) == 1


# -- persons ----------------------------------------------------------------------------------------

@pytest.fixture
def unit(client, planner, ev) -> int:
    return created(client, url(ev, "units"), unit_body("U1"), planner)["id"]


def test_person_crud(client, planner, ev, unit):
    p = created(client, url(ev, "persons"), person_body("A1001", unit, name="李四", role="队长",
                                                         skills=["急救"]), planner)
    assert (p["name"], p["badge_no"], p["unit_id"], p["role"], p["phone"], p["skills"]) == (
        "李四", "A1001", unit, "队长", "+86 138-0000-0000", ["急救"])
    r = client.patch(url(ev, "persons", p["id"]), json={"phone": "13900000000"}, headers=planner)
    assert r.status_code == 200 and r.json()["phone"] == "13900000000"
    assert client.get(url(ev, "persons", p["id"]), headers=planner).json()["phone"] == "13900000000"
    assert client.delete(url(ev, "persons", p["id"]), headers=planner).status_code == 204
    assert client.get(url(ev, "persons", p["id"]), headers=planner).status_code == 404


@pytest.mark.parametrize("phone", ["call me", "12", "+86 138 0000 000x", "１３８００００００００"])
def test_bad_phone_is_refused(client, planner, ev, unit, sessions, phone):
    r = client.post(url(ev, "persons"), json=person_body(unit_id=unit, phone=phone), headers=planner)
    assert _loc_msg(r)[0] == ["body", "phone"]
    assert count_rows(sessions, Person) == 0


def test_bad_phone_in_patch_is_refused(client, planner, ev, unit):
    p = created(client, url(ev, "persons"), person_body(unit_id=unit), planner)
    r = client.patch(url(ev, "persons", p["id"]), json={"phone": "not-a-number"}, headers=planner)
    assert _loc_msg(r)[0] == ["body", "phone"]
    assert client.get(url(ev, "persons", p["id"]), headers=planner).json()["phone"] == "+86 138-0000-0000"


def test_duplicate_badge_no_is_refused(client, planner, ev, unit, sessions):
    first = created(client, url(ev, "persons"), person_body("B-7", unit, name="原来的"), planner)
    r = client.post(url(ev, "persons"), json=person_body("B-7", unit, name="重复的"), headers=planner)
    loc, msg = _loc_msg(r)
    assert loc == ["body", "badge_no"] and "B-7" in msg
    assert count_rows(sessions, Person) == 1
    assert client.get(url(ev, "persons", first["id"]), headers=planner).json()["name"] == "原来的"
    # the same badge number in another event is a different person record
    other = make_event(client, planner, "EV2")
    assert created(client, url(other, "persons"), person_body("B-7"), planner)["event_id"] == other


def test_person_unit_from_another_event_is_refused(client, planner, ev, unit, sessions):
    other = make_event(client, planner, "EV2")
    r = client.post(url(other, "persons"), json=person_body(unit_id=unit), headers=planner)
    loc, msg = _loc_msg(r)
    assert loc == ["body", "unit_id"] and "does not exist in this event" in msg
    assert count_rows(sessions, Person) == 0
    mine = created(client, url(other, "persons"), person_body("C1"), planner)
    r = client.patch(url(other, "persons", mine["id"]), json={"unit_id": unit}, headers=planner)
    assert _loc_msg(r)[0] == ["body", "unit_id"]
    assert client.get(url(other, "persons", mine["id"]), headers=planner).json()["unit_id"] is None


def test_persons_filter_by_unit(client, planner, ev, unit):
    u2 = created(client, url(ev, "units"), unit_body("U2"), planner)["id"]
    created(client, url(ev, "persons"), person_body("A1", unit), planner)
    created(client, url(ev, "persons"), person_body("A2", u2), planner)
    r = client.get(url(ev, "persons") + f"?unit_id={u2}", headers=planner)
    assert [p["badge_no"] for p in r.json()] == ["A2"]


def test_deleting_a_unit_keeps_its_people(client, planner, ev, unit):
    p = created(client, url(ev, "persons"), person_body(unit_id=unit), planner)
    assert client.delete(url(ev, "units", unit), headers=planner).status_code == 204
    assert client.get(url(ev, "persons", p["id"]), headers=planner).json()["unit_id"] is None


# -- personal data reads are audited ----------------------------------------------------------------

def test_reading_persons_is_audited_but_reading_units_is_not(client, planner, ev, unit, sessions):
    a = created(client, url(ev, "persons"), person_body("A1", unit), planner)
    b = created(client, url(ev, "persons"), person_body("A2", unit), planner)
    assert _reads(sessions, "person") == []

    assert client.get(url(ev, "units"), headers=planner).status_code == 200
    assert client.get(url(ev, "units", unit), headers=planner).status_code == 200
    assert _reads(sessions, "unit") == []
    with sessions() as s:
        assert s.execute(select(AuditEntry).where(AuditEntry.action == "read")).first() is None

    r = client.get(url(ev, "persons"), headers=planner)
    assert r.status_code == 200 and len(r.json()) == 2
    reads = _reads(sessions, "person")
    assert len(reads) == 1
    assert reads[0].event_id == ev
    assert reads[0].actor == "user:planner"
    assert _ids_read(reads[0]) == [a["id"], b["id"]]
    assert reads[0].after["count"] == 2

    assert client.get(url(ev, "persons", b["id"]), headers=planner).status_code == 200
    reads = _reads(sessions, "person")
    assert len(reads) == 2
    assert (reads[1].entity, reads[1].event_id, reads[1].after["count"]) == ("person", ev, 1)
    assert _ids_read(reads[1]) == [b["id"]]


def test_reading_many_persons_is_one_audit_entry_naming_all(client, planner, ev, sessions):
    ids = [created(client, url(ev, "persons"), person_body(f"B{i:03d}"), planner)["id"] for i in range(30)]
    r = client.get(url(ev, "persons"), headers=planner)
    assert r.status_code == 200 and len(r.json()) == 30
    reads = _reads(sessions, "person")
    assert len(reads) == 1
    assert sorted(_ids_read(reads[0])) == ids and reads[0].after["count"] == 30


def test_refused_person_read_is_not_audited_as_a_read(client, planner, ev, unit, login, sessions):
    created(client, url(ev, "persons"), person_body("A1", unit), planner)
    r = client.get(url(ev, "persons"), headers=login("analyst"))
    assert r.status_code == 403 and "person:read" in r.json()["detail"]
    assert _reads(sessions, "person") == []


# -- partner scoping --------------------------------------------------------------------------------

@pytest.fixture
def shared(client, planner) -> dict[str, Any]:
    """Two events: PRIVATE (not shared) and SHARED (shared with 消防), with units and people."""
    ids: dict[str, Any] = {
        "private": make_event(client, planner, "PRIVATE", shared_agencies=["医疗"]),
        "shared": make_event(client, planner, "SHARED", shared_agencies=[FIRE, "医疗"]),
    }
    ev = ids["shared"]
    for code, agency, shared_with in [("U1", "公安", []), ("U2", FIRE, []), ("U3", "公安", [FIRE]),
                                      ("U4", "医疗", ["交通"])]:
        ids[code] = created(client, url(ev, "units"), unit_body(code, agency=agency, shared_with=shared_with),
                            planner)["id"]
    for badge, unit in [("P1", "U1"), ("P2", "U2"), ("P3", "U3"), ("P4", "U4"), ("P5", None)]:
        ids[badge] = created(client, url(ev, "persons"),
                             person_body(badge, ids[unit] if unit else None), planner)["id"]
    created(client, url(ids["private"], "units"), unit_body("U9", agency=FIRE), planner)
    return ids


def test_partner_lists_only_events_shared_with_it(client, fire, shared):
    r = client.get(f"{API}/events", headers=fire)
    assert r.status_code == 200
    assert [e["code"] for e in r.json()] == ["SHARED"]


@pytest.mark.parametrize("path", ["", "/units", "/persons", "/command-nodes", "/zones", "/venues"])
def test_partner_gets_404_for_an_event_not_shared_with_it(client, fire, shared, path):
    r = client.get(f"{API}/events/{shared['private']}{path}", headers=fire)
    assert r.status_code == 404
    assert r.json()["detail"] == f"event {shared['private']} not found"


def test_partner_sees_own_and_shared_units_only(client, fire, planner, shared):
    ev = shared["shared"]
    r = client.get(url(ev, "units"), headers=fire)
    assert r.status_code == 200
    assert [u["code"] for u in r.json()] == ["U2", "U3"]
    assert [u["code"] for u in client.get(url(ev, "units"), headers=planner).json()] == ["U1", "U2", "U3", "U4"]
    assert client.get(url(ev, "units", shared["U2"]), headers=fire).status_code == 200
    assert client.get(url(ev, "units", shared["U3"]), headers=fire).json()["shared_with"] == [FIRE]
    for hidden in ("U1", "U4"):
        assert client.get(url(ev, "units", shared[hidden]), headers=fire).status_code == 404


def test_partner_pages_through_visible_units_only(client, fire, shared):
    # paging counts only what the partner may see: no short or empty pages while visible rows remain
    ev = shared["shared"]

    def page(resource: str, limit: int, offset: int) -> list[str]:
        r = client.get(url(ev, resource) + f"?limit={limit}&offset={offset}", headers=fire)
        assert r.status_code == 200, r.text
        return [x.get("code") or x.get("badge_no") for x in r.json()]

    assert page("units", 1, 0) == ["U2"]
    assert page("units", 1, 1) == ["U3"]
    assert page("units", 1, 2) == []
    assert page("persons", 1, 0) + page("persons", 1, 1) == ["P2", "P3"]


def test_partner_sees_only_persons_of_visible_units(client, fire, planner, shared, sessions):
    ev = shared["shared"]
    r = client.get(url(ev, "persons"), headers=fire)
    assert r.status_code == 200
    assert sorted(p["badge_no"] for p in r.json()) == ["P2", "P3"]
    assert len(client.get(url(ev, "persons"), headers=planner).json()) == 5
    assert client.get(url(ev, "persons", shared["P2"]), headers=fire).status_code == 200
    for hidden in ("P1", "P4", "P5"):
        assert client.get(url(ev, "persons", shared[hidden]), headers=fire).status_code == 404
    assert client.get(url(ev, "persons") + f"?unit_id={shared['U1']}", headers=fire).json() == []
    # the audited read names only what the partner was shown
    me = client.get(f"{API}/auth/me", headers=fire).json()["username"]
    partner_reads = [e for e in _reads(sessions, "person") if e.actor == f"user:{me}"]
    assert _ids_read(partner_reads[0]) == [shared["P2"], shared["P3"]]
    assert partner_reads[0].after["count"] == 2


def test_partner_cannot_write(client, fire, shared, sessions):
    ev = shared["shared"]
    before = (count_rows(sessions, Unit), count_rows(sessions, Person), count_rows(sessions, CommandNode))
    assert client.post(url(ev, "units"), json=unit_body("U8", agency=FIRE), headers=fire).status_code == 403
    assert client.post(url(ev, "persons"), json=person_body("P8", shared["U2"]), headers=fire).status_code == 403
    assert client.post(url(ev, "command-nodes"), json=node_body("HQ", "hq"), headers=fire).status_code == 403
    assert client.patch(url(ev, "units", shared["U2"]), json={"name": "x"}, headers=fire).status_code == 403
    assert client.delete(url(ev, "persons", shared["P2"]), headers=fire).status_code == 403
    assert client.post(f"{API}/events", json={"code": "X", "name": "x", "kind": "other"},
                       headers=fire).status_code == 403
    assert (count_rows(sessions, Unit), count_rows(sessions, Person), count_rows(sessions, CommandNode)) == before


# -- roles ------------------------------------------------------------------------------------------

def test_analyst_reads_org_but_not_persons_and_cannot_write(client, planner, ev, unit, login, sessions):
    analyst = login("analyst")
    assert [u["code"] for u in client.get(url(ev, "units"), headers=analyst).json()] == ["U1"]
    assert client.get(url(ev, "command-nodes"), headers=analyst).status_code == 200
    assert client.post(url(ev, "units"), json=unit_body("U2"), headers=analyst).status_code == 403
    assert client.post(url(ev, "command-nodes"), json=node_body("HQ", "hq"), headers=analyst).status_code == 403
    assert client.get(url(ev, "persons", 1), headers=analyst).status_code == 403
    assert count_rows(sessions, Unit) == 1 and count_rows(sessions, CommandNode) == 0


def test_dispatcher_manages_units_but_not_persons(client, ev, unit, login):
    dispatcher = login("dispatcher")
    assert client.patch(url(ev, "units", unit), json={"status": "assigned"}, headers=dispatcher).status_code == 200
    assert client.get(url(ev, "persons"), headers=dispatcher).status_code == 200
    assert client.post(url(ev, "persons"), json=person_body(unit_id=unit), headers=dispatcher).status_code == 403


def test_no_token_is_401(client, ev, unit):
    for path in ("units", "persons", "command-nodes"):
        r = client.get(url(ev, path))
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert client.post(url(ev, "units"), json=unit_body("U2")).status_code == 401
