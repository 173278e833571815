"""The ``anbao`` command on the test database: exit 0 on success, 2 with one line on bad input."""

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from anbao.config import get_settings
from tests.factories_cli import small_collection


def _event(sessions) -> int:
    from anbao.event import service
    from anbao.event.schemas import EventCreate

    with sessions() as db:
        event = service.create(db=db, data=EventCreate(code="CLI-1", name="命令行测试", kind="concert"))
        db.commit()
        return event.id


def test_db_upgrade_and_events_list_json(anbao, sessions):
    assert anbao("db", "upgrade").exit_code == 0
    event_id = _event(sessions)
    r = anbao("events", "list", "--json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [(e["id"], e["code"], e["kind"]) for e in rows] == [(event_id, "CLI-1", "concert")]


def test_import_export_round_trip(anbao, sessions, tmp_path):
    event_id = _event(sessions)
    src = tmp_path / "venue.geojson"
    src.write_text(json.dumps(small_collection()), encoding="utf-8")
    r = anbao("import", "venue", str(src), "--event", str(event_id))
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["created"] == {"zone": 2, "gate": 1, "post": 1, "device": 1}
    out = tmp_path / "out.geojson"
    r = anbao("export", "venue", "--event", str(event_id), "--out", str(out))
    assert r.exit_code == 0, r.output
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert sorted(f["properties"]["code"] for f in exported["features"]) == ["C1", "G1", "P1", "Z1", "Z2"]


def test_bad_import_exits_2_and_writes_nothing(anbao, sessions, tmp_path):
    event_id = _event(sessions)
    bad = small_collection()
    bad["features"][1]["geometry"]["coordinates"][0][2] = [0, 0]
    src = tmp_path / "bad.geojson"
    src.write_text(json.dumps(bad), encoding="utf-8")
    r = anbao("import", "venue", str(src), "--event", str(event_id))
    assert r.exit_code == 2
    assert "feature 1" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    with sessions() as db:
        assert db.execute(text("SELECT count(*) FROM zone")).scalar() == 0
        assert db.execute(text("SELECT count(*) FROM venue")).scalar() == 0


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("import", "venue", "/no/such/file.geojson", "--event", "1"), "no such file"),
        (("export", "venue", "--event", "999"), "event 999 not found"),
        (("users", "add", "xiao", "--role", "emperor", "--password", "password-123"), "role"),
        (("users", "add", "xiao", "--role", "partner", "--password", "password-123"), "agency"),
        (("users", "add", "xiao", "--role", "officer", "--password", "short"), "password"),
    ],
)
def test_bad_input_exits_2_with_one_line(anbao, args, fragment):
    r = anbao(*args)
    assert r.exit_code == 2, r.output
    assert fragment in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_not_json_is_a_clear_error(anbao, sessions, tmp_path):
    event_id = _event(sessions)
    src = tmp_path / "x.geojson"
    src.write_text("{not json", encoding="utf-8")
    r = anbao("import", "venue", str(src), "--event", str(event_id))
    assert r.exit_code == 2 and "not valid JSON" in r.stderr


def test_users_add_then_duplicate(anbao):
    r = anbao("users", "add", "zhang", "--role", "dispatcher", "--password", "password-123")
    assert r.exit_code == 0 and "dispatcher" in r.stdout
    r = anbao("users", "add", "zhang", "--role", "dispatcher", "--password", "password-123")
    assert r.exit_code == 2 and "already exists" in r.stderr


def test_password_from_stdin(anbao):
    r = anbao("users", "add", "li", "--role", "officer", input="long-enough-pw\n")
    assert r.exit_code == 0, r.output


def test_audit_verify_ok_then_tampered(anbao, sessions):
    _event(sessions)
    r = anbao("audit", "verify")
    assert r.exit_code == 0 and "OK" in r.stdout
    with sessions() as db:
        db.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE id = 1"))
        db.commit()
    r = anbao("audit", "verify")
    assert r.exit_code == 1 and "row 1" in r.stderr


def test_events_add_validates_and_creates(anbao):
    r = anbao("events", "add", "--code", "HZ-1", "--name", "测试", "--kind", "演唱会",
              "--start", "2026-12-01T19:30:00+08:00", "--end", "2026-12-01T18:00:00+08:00")
    assert r.exit_code == 2 and "end must be after start" in r.stderr
    r = anbao("events", "add", "--code", "HZ-1", "--name", "测试", "--kind", "演唱会", "--expected", "50000",
              "--start", "2026-12-01T19:30:00+08:00", "--end", "2026-12-01T22:30:00+08:00")
    assert r.exit_code == 0, r.output
    rows = json.loads(anbao("events", "list", "--json").stdout)
    assert rows[0]["kind"] == "concert" and rows[0]["sessions"][0]["start"] == "2026-12-01T11:30:00Z"
    r = anbao("events", "add", "--code", "HZ-1", "--name", "again", "--kind", "other")
    assert r.exit_code == 2 and "already exists" in r.stderr


def test_bad_configuration_exits_2(anbao, monkeypatch):
    monkeypatch.setenv("ANBAO_DATABSE_URL", "typo")
    get_settings.cache_clear()
    r = anbao("events", "list")
    assert r.exit_code == 2 and "ANBAO_DATABSE_URL" in r.stderr


def test_unreachable_database_exits_2(anbao, monkeypatch):
    monkeypatch.setenv("ANBAO_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    r = anbao("events", "list")
    assert r.exit_code == 2 and "database unavailable" in r.stderr


def test_trajectory_replay_goes_through_ingest_and_prints_csv(anbao, sessions):
    data = Path(__file__).parent / "data" / "pedestrian"
    args = ("sim", "trajectories", str(data / "uo-100-180-180.txt"), "--zone-geojson",
            str(data / "corridor-zones.geojson"))
    r = anbao(*args)
    assert r.exit_code == 0, r.output
    rows = r.stdout.strip().splitlines()
    assert rows[0] == "time_s,zone,count,density" and len(rows) == 1 + 59 * 5
    with sessions() as db:
        stored = db.execute(text("SELECT count(*) FROM reading")).scalar()
    assert stored == 59 * 5 and "121 persons" in r.stderr
    again = anbao(*args)
    assert again.exit_code == 0 and "0 readings stored (295 already there)" in again.stderr


def test_simulate_refuses_an_unknown_event(anbao):
    r = anbao("simulate", "--event", "4242", "--minutes", "0.01")
    assert r.exit_code == 2 and "event 4242 not found" in r.stderr


def test_simulate_says_in_chinese_that_an_event_has_no_zones(anbao, sessions):
    """Issue 13 item 14: "event 2 has no zones to simulate" was the only text a Chinese user got."""
    event_id = _event(sessions)
    r = anbao("simulate", "--event", str(event_id), "--minutes", "0.01")
    assert r.exit_code == 2 and f"活动 {event_id} 没有可模拟的区域" in r.stderr, r.stderr


def test_timeline_prints_the_steps_as_json_lines_and_refuses_an_unknown_event(anbao, sessions):
    from datetime import UTC, datetime

    from anbao.core import timeline as review

    event_id = _event(sessions)
    with sessions() as db:
        for i, kind in enumerate(("warning.raised", "plan.activated", "task.done")):
            review.add(db=db, event_id=event_id, at=datetime(2026, 11, 24, 12, i, tzinfo=UTC), kind=kind,
                       subject=f"x:{i}", text=f"第 {i} 步")
        db.commit()
    r = anbao("timeline", "--event", str(event_id), "--json")
    assert r.exit_code == 0, r.output
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(x["kind"], x["kind_zh"], x["text"]) for x in lines] == [
        ("warning.raised", "预警发布", "第 0 步"), ("plan.activated", "预案启动", "第 1 步"),
        ("task.done", "任务完成", "第 2 步")]
    r = anbao("timeline", "--event", str(event_id), "--kind", "task")
    assert r.exit_code == 0 and "任务完成" in r.stdout and "预警发布" not in r.stdout
    # the table shows the display zone (Asia/Shanghai by default): 12:02 UTC is 20:02 there (was printed as 12:02)
    assert "11-24 20:02:00" in r.stdout and "Asia/Shanghai" in r.stdout and "12:02:00" not in r.stdout
    r = anbao("timeline", "--event", "9999")
    assert r.exit_code == 2 and "9999" in r.stderr
