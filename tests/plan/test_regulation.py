"""Regulation checks: each article passing and failing, through the pure check, the API and the command line."""

import json
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from anbao.plan.regulation import Facts, check
from anbao.plan.schemas import ART6_ITEMS, TO_FILL

FULL = {k: f"{title}：已落实。" for k, (_, title) in ART6_ITEMS.items()}
GOOD = Facts(expected_attendance=20_000, approved_attendance=20_000, tickets_issued=19_500, cross_province=False,
             approval_authority="city", applied_on=date(2026, 4, 1),
             first_session=datetime(2026, 5, 1, 11, 0, tzinfo=UTC), timezone="Asia/Shanghai",
             master_sections=FULL, plan_kinds=frozenset({"master", "fire", "evacuation"}), units=10, persons=80,
             posts=30, buffer_zones=2, checkpoints=4, parking_zones=1, venues=1, safe_capacity=25_000)


def by_code(facts):
    return {f.code: f for f in check(facts)}


def test_a_complete_plan_has_no_error_and_cites_every_article():
    found = by_code(GOOD)
    assert not [f for f in found.values() if f.severity == "error"]
    assert {f"art6.{k}" for k in ART6_ITEMS} <= set(found)
    assert found["art6.fire"].article == "第六条第（三）项" and found["art6.fire"].severity == "ok"
    assert {"art12.authority", "art13.filing", "art7.approved", "art7.tickets"} <= set(found)
    assert found["art13.filing"].message.startswith("提前 30 日申请")


def test_art6_reports_each_missing_item_and_template_text_is_not_written():
    sections = {**FULL, "buffer": f"{TO_FILL}划定缓冲区", "fire": ""}
    facts = replace(GOOD, master_sections=sections, buffer_zones=0, plan_kinds=frozenset({"master", "evacuation"}))
    found = by_code(facts)
    assert found["art6.buffer"].severity == "error" and "治安缓冲区域" in found["art6.buffer"].message
    assert "模板待填写" in found["art6.buffer"].hint
    assert found["art6.fire"].severity == "error" and found["art6.fire"].article == "第六条第（三）项"
    assert found["art6.screening"].severity == "ok"
    # records can stand in for the text: a fire plan and buffer zones cover the two items
    found = by_code(replace(facts, buffer_zones=3, plan_kinds=frozenset({"master", "fire"})))
    assert found["art6.buffer"].severity == "ok" and "3 个缓冲区" in found["art6.buffer"].message
    assert found["art6.fire"].severity == "ok"


def test_art6_without_a_master_plan():
    found = by_code(replace(GOOD, master_sections=None))
    assert found["art6.master"].severity == "error" and "TPL-ZT" in found["art6.master"].hint


@pytest.mark.parametrize(("attendance", "cross", "have", "severity", "need"), [
    (3_000, False, "county", "ok", "县级"),
    (5_000, False, "county", "error", "设区的市级"),
    (20_000, False, "city", "ok", "设区的市级"),
    (20_000, True, "city", "error", "公安部"),
    (20_000, False, "", "warning", "设区的市级"),
])
def test_art12_authority_by_attendance(attendance, cross, have, severity, need):
    f = by_code(replace(GOOD, expected_attendance=attendance, cross_province=cross, approval_authority=have))[
        "art12.authority"]
    assert (f.severity, f.article) == (severity, "第十二条") and need in f.message


@pytest.mark.parametrize(("applied", "severity", "days"), [
    (date(2026, 4, 11), "ok", "20"), (date(2026, 4, 12), "error", "19"), (None, "warning", ""),
])
def test_art13_twenty_days_before_the_first_local_day(applied, severity, days):
    # the first session starts at 19:00 Beijing time on 1 May: 20 days before is 11 April
    f = by_code(replace(GOOD, applied_on=applied))["art13.filing"]
    assert f.severity == severity and days in f.message


def test_art7_and_18_tickets_approval_and_capacity():
    assert by_code(replace(GOOD, tickets_issued=20_001))["art7.tickets"].severity == "error"
    over = by_code(replace(GOOD, approved_attendance=26_000, tickets_issued=25_500))
    assert over["art7.approved"].severity == "error" and "25000" in over["art7.approved"].message
    assert over["art7.tickets"].severity == "error" and "安全容量" in over["art7.tickets"].message
    crowd = by_code(replace(GOOD, expected_attendance=30_000))
    assert crowd["art18.expected"].severity == "error" and crowd["art18.expected"].article == "第十八条"
    unknown = by_code(replace(GOOD, safe_capacity=None, capacity_error="zone X has no exit"))
    assert unknown["art7.capacity"].severity == "warning" and "zone X has no exit" in unknown["art7.capacity"].message
    assert by_code(replace(GOOD, approved_attendance=None))["art7.approved"].severity == "warning"


def test_art2_small_events_are_out_of_scope():
    f = by_code(replace(GOOD, expected_attendance=800))
    assert f["art2.scope"].severity == "info" and "art12.authority" not in f


def test_api_and_command_line(client, login, anbao):
    h = login("planner")
    ev = client.post("/api/v1/events", json={
        "code": "REG", "name": "合规", "kind": "concert", "expected_attendance": 6000,
        "approval_authority": "县级公安机关", "applied_on": "2026-04-20",
        "sessions": [{"start": "2026-05-01T19:00:00+08:00", "end": "2026-05-01T22:00:00+08:00"}]}, headers=h).json()
    url = f"/api/v1/events/{ev['id']}"
    out = client.get(f"{url}/plan-check", headers=h).json()
    found = {f["code"]: f for f in out["findings"]}
    assert not out["ok"] and out["counts"]["error"] >= 3
    assert found["art12.authority"]["severity"] == "error" and found["art13.filing"]["severity"] == "error"
    res = anbao("plan", "check", "--event", str(ev["id"]))
    assert res.exit_code == 1
    lines = [json.loads(x) for x in res.stdout.splitlines()]
    assert {x["code"] for x in lines} == set(found) and all(x["article"].startswith("第") for x in lines)
    # fixed: the city approves, the application is early enough, the master plan is written
    client.patch(f"/api/v1/events/{ev['id']}", json={"approval_authority": "city", "applied_on": "2026-04-01"},
                 headers=h)
    client.post(f"{url}/plans", json={"code": "ZT", "name": "总体安保方案", "kind": "master", "sections": FULL},
                headers=h)
    found = {f["code"]: f for f in client.get(f"{url}/plan-check", headers=h).json()["findings"]}
    assert found["art12.authority"]["severity"] == "ok" and found["art13.filing"]["severity"] == "ok"
    assert all(found[f"art6.{k}"]["severity"] == "ok" for k in ART6_ITEMS)
