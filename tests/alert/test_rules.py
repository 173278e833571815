"""Warning rules per event and zone kind: defaults, validation, overrides, every watched kind."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from anbao.alert import rules
from anbao.alert.models import WarningRule
from anbao.core import crud
from tests.alert.conftest import post, t0
from tests.factories_cli import LAT, LON


def _rules(client, url, h):
    made = client.post(f"{url}/warning-rules/defaults", headers=h["planner"]).json()
    return {(r["kind"], r["zone_kind"]): r for r in made}


def test_defaults_are_created_on_first_use_with_their_plans(client, ops):
    url, _eid, h, ids = ops
    rules = _rules(client, url, h)
    assert set(rules) == {(k, "") for k in ("density", "occupancy", "smoke", "gas", "queue_wait", "queue_length",
                                            "device_silence")}
    d = rules[("density", "")]
    assert (d["blue"], d["yellow"], d["orange"], d["red"], d["unit"]) == (2, 3, 4, 5, "人/㎡")
    assert d["plans"] == {"orange": "YA-DKL", "red": "YA-SS"}
    plans = {p["code"]: p for p in client.get(f"{url}/plans", headers=h["analyst"]).json()}
    assert {"YA-DKL", "YA-SS", "YA-XF", "YA-RQ", "YA-AJ", "YA-SB"} <= set(plans)
    # steps naming nodes the event has keep them; the plan's node resolves to the group or the 指挥部
    assert plans["YA-DKL"]["command_node_id"] == ids["G-XCAB"]
    assert plans["YA-SS"]["command_node_id"] == ids["HQ"]  # no G-YJCT here: the 指挥部 takes it
    assert len(_rules(client, url, h)) == 7  # a second read creates nothing


@pytest.mark.parametrize(("body", "loc", "words"), [
    ({"kind": "density", "zone_kind": "stand", "blue": 3, "yellow": 2}, ["body"], "must increase"),
    ({"kind": "density", "zone_kind": "stand"}, ["body"], "at least one level"),
    ({"kind": "density", "zone_kind": "stand", "red": 5, "plans": {"red": "NOPE"}}, ["body", "plans", "red"],
     "does not exist"),
    ({"kind": "density", "red": 5}, ["body", "kind"], "already has a density rule"),
    ({"kind": "density", "zone_kind": "stand", "blue": 2, "yellow": 2.1, "hysteresis": 0.2}, ["body"],
     "smaller than the smallest gap"),
    ({"kind": "noise", "red": 5}, ["body", "kind"], "Input should be"),
    ({"kind": "density", "zone_kind": "stand", "red": -1}, ["body", "red"], "greater than or equal"),
])
def test_bad_rules_are_refused_with_the_place(client, ops, body, loc, words):
    url, _eid, h, _ids = ops
    _rules(client, url, h)
    r = client.post(f"{url}/warning-rules", json=body, headers=h["planner"])
    assert r.status_code == 422, r.text
    err = r.json()["detail"][0]
    assert err["loc"] == loc and words in err["msg"]


def test_only_planners_edit_rules(client, ops):
    url, _eid, h, _ids = ops
    rule = _rules(client, url, h)[("density", "")]
    r = client.patch(f"{url}/warning-rules/{rule['id']}", json={"red": 6}, headers=h["dispatcher"])
    assert r.status_code == 403
    r = client.patch(f"{url}/warning-rules/{rule['id']}", json={"red": 6}, headers=h["planner"])
    assert r.status_code == 200 and r.json()["red"] == 6
    assert client.patch(f"{url}/warning-rules/{rule['id']}", json={"red": 3.5}, headers=h["planner"]).status_code == 422


def _zone_names(client, url, h):
    return [z["name"] for z in client.get(f"{url}/zones", headers=h["dispatcher"]).json()]


def _warnings(client, url, h):
    got = client.get(f"{url}/warnings?status=open", headers=h["dispatcher"]).json()
    return {w["key"].split(":")[0]: w for w in got}


def test_a_zone_kind_rule_wins_over_the_event_rule_and_edits_apply_to_running_trackers(client, ops):
    url, _eid, h, _ids = ops
    watcher, t = client.app.state.watcher, t0()
    _rules(client, url, h)
    r = client.post(f"{url}/warning-rules", json={"kind": "density", "zone_kind": "内场站席", "blue": 1, "yellow": 1.5,
                                                  "orange": 2, "red": 2.5, "hysteresis": 0.1},
                    headers=h["planner"])
    assert r.status_code == 201 and r.json()["zone_kind"] == "standing"
    post(client, url, h, "C1", t, 21_000)  # 2.1 persons/m2: blue by default, orange by the standing-floor rule
    watcher.run_once(now=t + timedelta(seconds=1))
    w = _warnings(client, url, h)["density"]
    assert w["level"] == "orange" and w["rule_id"] == r.json()["id"]
    client.patch(f"{url}/warning-rules/{r.json()['id']}", json={"blue": 1, "yellow": 1.5, "orange": 1.8, "red": 2.0},
                 headers=h["planner"])
    post(client, url, h, "C1", t + timedelta(seconds=5), 21_000)
    watcher.run_once(now=t + timedelta(seconds=6))
    assert _warnings(client, url, h)["density"]["level"] == "red"


def test_smoke_gas_and_queue_values_raise_their_warnings(client, ops):
    url, _eid, h, ids = ops
    watcher, t = client.app.state.watcher, t0()
    post(client, url, h, "SMK1", t, 0.05)
    post(client, url, h, "GAS1", t, 2.0)
    post(client, url, h, "GC1", t, 40, {"in": 40, "out": 0, "queue": 120, "wait_s": 300})
    watcher.run_once(now=t + timedelta(seconds=1))
    assert _warnings(client, url, h) == {}
    post(client, url, h, "SMK1", t + timedelta(seconds=10), 6.0)  # smoke alarm: red (>= 4 %/m)
    post(client, url, h, "GAS1", t + timedelta(seconds=10), 120.0)  # CO 120 ppm: orange
    post(client, url, h, "GC1", t + timedelta(seconds=10), 40, {"in": 40, "out": 0, "queue": 700, "wait_s": 1500})
    watcher.run_once(now=t + timedelta(seconds=11))
    got = _warnings(client, url, h)
    assert {k: (w["level"], w["device_id"]) for k, w in got.items()} == {
        "smoke": ("red", ids["SMK1"]), "gas": ("orange", ids["GAS1"]), "queue_length": ("yellow", ids["GC1"]),
        "queue_wait": ("yellow", ids["GC1"])}
    assert "25 分钟" in got["queue_wait"]["message"] and "烟感报警" not in got["smoke"]["message"]
    # issue 13 item 14: zone name and device code ran together ("主舞台SMK-003"); the kind names the device
    smoke_msg = got["smoke"]["message"]
    assert "烟感 SMK1 读数 6.0 %/m" in smoke_msg and smoke_msg.split("烟感 SMK1")[0] in ("",) + tuple(
        f"{name} " for name in _zone_names(client, url, h))
    # a detector that stops reporting keeps its level (no data is not "all clear")
    watcher.run_once(now=t + timedelta(minutes=5))
    assert _warnings(client, url, h)["smoke"]["level"] == "red"
    post(client, url, h, "SMK1", t + timedelta(minutes=5, seconds=1), 0.05)
    watcher.run_once(now=t + timedelta(minutes=5, seconds=2))
    assert _warnings(client, url, h)["smoke"]["level"] == "red"  # one clear sample is not an all-clear
    post(client, url, h, "SMK1", t + timedelta(minutes=5, seconds=31), 0.05)
    watcher.run_once(now=t + timedelta(minutes=5, seconds=32))  # clear for 30 s (the rule's hold): released
    assert "smoke" not in _warnings(client, url, h)


def test_a_silent_device_raises_a_device_warning_and_clears_when_it_reports(client, ops, sessions):
    from datetime import UTC, datetime

    from anbao.sensing.models import DeviceLatest

    url, _eid, h, ids = ops
    watcher = client.app.state.watcher
    post(client, url, h, "GAS1", datetime.now(UTC) - timedelta(seconds=1), 1.0)
    def shift(seconds):
        with sessions() as db:
            for row in db.query(DeviceLatest).all():
                row.at += timedelta(seconds=seconds)
                row.received_at += timedelta(seconds=seconds)
            db.commit()
        watcher.resync()  # storage changed behind the engine's back (no stored batch): it reads it all again

    shift(-200)  # as if the detector had last reported 200 s ago
    now = datetime.now(UTC)
    watcher.run_once(now=now)  # silent for 200 s: blue (>= 120 s)
    w = _warnings(client, url, h)["device_silence"]
    assert (w["level"], w["device_id"]) == ("blue", ids["GAS1"]) and "GAS1" in w["message"]
    watcher.run_once(now=now + timedelta(seconds=500))  # >= 600 s: yellow, which starts 设备故障保障预案
    assert _warnings(client, url, h)["device_silence"]["level"] == "yellow"
    tasks = client.get(f"{url}/tasks?warning_id={w['id']}", headers=h["officer"]).json()
    assert len(tasks) == 2 and tasks[-1]["command_node_id"] == ids["G-JSBZ"]
    shift(700)
    watcher.run_once(now=now + timedelta(seconds=501))  # it reported again: the warning is released
    assert "device_silence" not in _warnings(client, url, h)


def test_a_steadily_rising_density_raises_an_early_forecast_warning(client, ops):
    url, _eid, h, _ids = ops
    watcher, t = client.app.state.watcher, t0()
    # 2.0 -> 3.4 persons/m2 over 140 s (0.6 per minute): observed yellow, 2 minutes ahead about 4.6: orange
    for s in range(0, 141, 10):
        post(client, url, h, "C1", t + timedelta(seconds=s), 20_000 + 1_000 * s / 10)
        watcher.run_once(now=t + timedelta(seconds=s + 1))
    w = _warnings(client, url, h)["density"]
    assert (w["level"], w["forecast"]) == ("orange", True)
    assert "预计将达到橙色阈值 4 人/㎡" in w["message"] and "2 分钟后预计" in w["message"]
    states = client.app.state.bus.since(f"event/{_eid}/zone-state", 0).messages
    slopes = [z["trend_per_min"] for m in states for z in m.payload["zones"] if z["code"] == "Z2"]
    assert slopes[-1] == pytest.approx(0.6, rel=0.05)


def test_the_loser_of_a_race_for_the_defaults_uses_the_winners(client, ev, sessions, db_url, monkeypatch):
    """The watcher commits the defaults between a request's plan check and its insert (seen in CI on PostgreSQL)."""
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite serialises writers: the second session would wait for the first, no race")
    real, raced = crud.create_rows, []

    def create_rows_after_the_winner(**kw):
        if not raced:
            raced.append(1)
            with sessions() as winner:  # the other writer: runs to the end and commits first
                assert rules.ensure_defaults(db=winner, event_id=ev)
                winner.commit()
        return real(**kw)

    monkeypatch.setattr(crud, "create_rows", create_rows_after_the_winner)
    with sessions() as loser:
        book = rules.RuleBook.load(db=loser, event_id=ev, create_defaults=True)
        assert raced and book.find("density", None) is not None
        loser.commit()
    with sessions() as check:
        assert check.execute(select(func.count()).select_from(WarningRule).where(WarningRule.event_id == ev)
                             ).scalar() == len(rules.DEFAULT_RULES)


def test_reading_the_rules_of_an_event_without_any_writes_nothing(ev, sessions):
    """A screen (zone-states) or the watcher's reading phase judges by the default rules held in memory;
    storing them is a write of its own (on SQLite a read that wrote would need the write lock)."""
    with sessions() as db:
        book = rules.RuleBook.load(db=db, event_id=ev)
        assert book.find("density", None).red == 5.0 and rules.density_thresholds(db=db, event_id=ev)
        assert not db.new and not db.dirty
        db.commit()  # a read that committed what it had written would leave six rules
    with sessions() as db:
        assert db.execute(select(func.count()).select_from(WarningRule).where(WarningRule.event_id == ev)
                          ).scalar() == 0


def test_two_queue_counters_at_one_checkpoint_make_one_warning_per_kind(client, ops):
    """Issue 13: two counters at one 安检区 gave four warnings. One warning per place and kind, the
    counters named in its message; queues at different gates add up, the same gate's counters do not."""
    url, _eid, h, ids = ops
    venue = client.get(f"{url}/venues", headers=h["planner"]).json()[0]["id"]
    for code, gate in (("GC2", "G2"), ("GC3", "G1")):
        r = client.post(f"{url}/devices", json={"venue_id": venue, "code": code, "name": code, "kind": "gate_counter",
                                                "zone_id": ids["Z2"], "lon": LON, "lat": LAT,
                                                "properties": {"gate": gate}}, headers=h["planner"])
        assert r.status_code == 201, r.text
    watcher, t = client.app.state.watcher, t0()
    post(client, url, h, "GC1", t, 40, {"in": 40, "out": 0, "queue": 400, "wait_s": 1300})  # gate G1
    post(client, url, h, "GC3", t, 40, {"in": 40, "out": 0, "queue": 380, "wait_s": 1250})  # G1 again: same queue
    post(client, url, h, "GC2", t, 40, {"in": 40, "out": 0, "queue": 350, "wait_s": 1400})  # gate G2
    watcher.run_once(now=t + timedelta(seconds=1))
    warnings = client.get(f"{url}/warnings?status=open", headers=h["dispatcher"]).json()
    assert sorted(w["kind"] for w in warnings) == ["queue_length", "queue_wait"]  # was six: one per counter
    got = {w["kind"]: w for w in warnings}
    assert got["queue_length"]["value"] == 750 and got["queue_length"]["level"] == "yellow"  # 400 + 350
    assert got["queue_wait"]["value"] == pytest.approx(1400 / 60, abs=1e-3)  # the longest wait, 23 min
    assert got["queue_wait"]["level"] == "yellow" and got["queue_length"]["zone_id"] == ids["Z2"]
    for w in warnings:
        assert "GC1" in w["message"] and "GC2" in w["message"] and "GC3" in w["message"]
        assert w["device_id"] is None


def test_a_seated_stand_is_judged_by_occupancy_of_its_seats_not_density(client, ops):
    """Issue 13 item 4: a full stand (7,900 seats on 4,541 m2 = 1.74 persons/m2) raised density warnings
    near 2 persons/m2. A seated zone (seats, no standing capacity) is judged by persons against seats."""
    url, _eid, h, ids = ops
    r = client.patch(f"{url}/zones/{ids['Z2']}", json={"seated_capacity": 17_400, "standing_capacity": None},
                     headers=h["planner"])  # Z2 is 10,000 m2: full is 1.74 persons/m2, as the trial's stand
    assert r.status_code == 200, r.text
    watcher, t = client.app.state.watcher, t0()
    post(client, url, h, "C1", t - timedelta(seconds=60), 9_000)  # half full: nothing
    watcher.run_once(now=t - timedelta(seconds=59))
    assert _warnings(client, url, h) == {}
    # 95.4 % a minute later: filling fast (a straight line would say 141 % in 2 minutes), yet no warning: a stand
    # fills to its seats and stops, so occupancy warns on counts, not forecasts
    post(client, url, h, "C1", t, 16_600)
    watcher.run_once(now=t + timedelta(seconds=1))
    assert _warnings(client, url, h) == {}
    post(client, url, h, "C1", t + timedelta(seconds=3), 17_500)  # 100.6 %: sold out, blue (满座)
    watcher.run_once(now=t + timedelta(seconds=4))
    got = _warnings(client, url, h)
    assert set(got) == {"occupancy"} and got["occupancy"]["level"] == "blue" and not got["occupancy"]["forecast"]
    assert got["occupancy"]["message"].startswith("内场 上座率 100.57%（约 17500 人 / 17400 座）")
    post(client, url, h, "C1", t + timedelta(seconds=5), 21_000)  # 2.1 persons/m2 but 120.7 % of seats: red
    watcher.run_once(now=t + timedelta(seconds=6))
    got = _warnings(client, url, h)
    assert set(got) == {"occupancy"} and got["occupancy"]["level"] == "red"  # no density warning beside it
    assert got["occupancy"]["value"] == pytest.approx(120.69, abs=0.01)
    z2 = next(s for s in client.get(f"{url}/zone-states", params={"at": (t + timedelta(seconds=6)).isoformat()},
                                    headers=h["dispatcher"]).json() if s["code"] == "Z2")
    assert (z2["seats"], z2["occupancy_pct"], z2["level"]) == (17_400, 120.69, "red")
    # a standing zone keeps its density rule: seats and a standing capacity together are not a seated zone
    assert client.patch(f"{url}/zones/{ids['Z2']}", json={"standing_capacity": 20_000},
                        headers=h["planner"]).status_code == 200
    z2 = next(s for s in client.get(f"{url}/zone-states", params={"at": (t + timedelta(seconds=6)).isoformat()},
                                    headers=h["dispatcher"]).json() if s["code"] == "Z2")
    assert (z2["seats"], z2["occupancy_pct"], z2["level"]) == (None, None, "blue")  # 2.1 persons/m2


def test_an_event_without_the_occupancy_rule_is_judged_by_its_default():
    """An event whose rules were stored before the occupancy kind existed: the default occupancy rule applies,
    in memory; a stored (even disabled) rule of the kind is the event's choice."""
    stored = [WarningRule(event_id=1, zone_kind="", enabled=True, **r) for r in rules.DEFAULT_RULES
              if r["kind"] != "occupancy"]
    book = rules.RuleBook(stored)
    found = book.find("occupancy", "stand")
    assert found is not None and found.id is None and (found.blue, found.red) == (100.0, 120.0)
    off = WarningRule(event_id=1, zone_kind="", enabled=False,
                      **next(r for r in rules.DEFAULT_RULES if r["kind"] == "occupancy"))
    assert rules.RuleBook([*stored, off]).find("occupancy", "stand") is None
    assert rules.RuleBook([]).find("occupancy", None) is None


def test_a_pass_keeps_trackers_only_for_what_reaches_a_level_and_reads_open_warnings_once(client, ops, sessions):
    """Issue 14: every device made a tracker step per pass (5,000 at M), and the first pass asked for the open
    warning of each key one query at a time (22,000 queries at L)."""
    from sqlalchemy import event as sa_event

    from anbao.alert import service
    from anbao.alert.flows import Watcher

    url, eid, h, ids = ops
    watcher, t = client.app.state.watcher, t0()
    post(client, url, h, "SMK1", t, 0.05)
    post(client, url, h, "GAS1", t, 2.0)
    post(client, url, h, "GC1", t, 40, {"in": 40, "out": 0, "queue": 12, "wait_s": 30})
    watcher.run_once(now=t + timedelta(seconds=1))
    assert [k for (e, k) in watcher.watch.trackers if e == eid] == []  # all quiet: nothing to track
    post(client, url, h, "SMK1", t + timedelta(seconds=10), 6.0)
    watcher.run_once(now=t + timedelta(seconds=11))
    assert [k for (e, k) in watcher.watch.trackers if e == eid] == [f"smoke:device:{ids['SMK1']}"]
    assert _warnings(client, url, h)["smoke"]["level"] == "red"

    # thirty open warnings of keys this process has no tracker for (another replica raised them, or a restart)
    with sessions() as db:
        db.info["actor"] = "test"
        for i in range(30):
            service.raise_level(db=db, event_id=eid, key=f"gas:device:{900_000 + i}", kind="gas", level="yellow",
                                now=t + timedelta(seconds=12), message="旧")
        db.commit()
    fresh = Watcher(client.app.state.sessions, client.app.state.bus, interval_s=3600.0)
    fresh.paused = True
    asked: list[str] = []
    engine = client.app.state.sessions.kw["bind"]

    def count(conn, cursor, statement, *args):
        if "FROM warning" in statement:
            asked.append(statement)

    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        post(client, url, h, "SMK1", t + timedelta(seconds=20), 6.0)
        fresh.run_once(now=t + timedelta(seconds=21))
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
        fresh.close()
    # the smoke tracker starts at the open warning's level (red: no second warning), in one query
    assert _warnings(client, url, h)["smoke"]["level"] == "red"
    assert sum(1 for s in asked if "status" in s and "!=" in s) == 1, asked
