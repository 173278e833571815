"""After-commit hook: the HTTP doors call app.state.ingest_listeners with the event id once stored."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from anbao.sensing.models import Reading
from tests.factories_cli import small_collection

GB_ID = "33010800001320000009"


def _event(client, login) -> tuple[int, dict[str, str]]:
    h = login("planner")
    ev = client.post("/api/v1/events", json={"code": "HK", "name": "hook", "kind": "concert"}, headers=h).json()
    fc = small_collection()
    fc["features"][4]["properties"]["properties"] = {"gb28181_id": GB_ID}  # camera C1 watches Z2
    assert client.post(f"/api/v1/events/{ev['id']}/venue-import", json=fc, headers=h).status_code == 200
    return ev["id"], login("gateway")


def test_listeners_run_after_the_commit_and_cannot_fail_the_request(client, login, sessions):
    eid, gw = _event(client, login)
    calls: list[tuple[int, int]] = []

    def listener(event_id: int) -> None:
        with sessions() as db:  # another session already sees the readings: they were committed first
            calls.append((event_id, db.execute(select(func.count()).select_from(Reading)).scalar_one()))

    def broken(_event_id: int) -> None:
        raise RuntimeError("listener bug")

    client.app.state.ingest_listeners = [broken, listener]
    at = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    r = client.post(f"/api/v1/events/{eid}/readings", json=[{"sensor": "C1", "at": at, "value": 3}], headers=gw)
    assert r.status_code == 200 and r.json()["accepted"] == 1
    assert calls == [(eid, 1)]
    # a batch with nothing new stored (all bad, or all duplicates) calls no listener
    r = client.post(f"/api/v1/events/{eid}/readings", json=[{"sensor": "NOPE", "at": at, "value": 3}], headers=gw)
    assert r.status_code == 422 and calls == [(eid, 1)]


def test_a_camera_density_alarm_calls_the_listeners(client, login):
    eid, gw = _event(client, login)
    calls: list[int] = []
    client.app.state.ingest_listeners = [calls.append]
    at = (datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%S")
    xml = ('<?xml version="1.0" encoding="UTF-8"?><Notify><CmdType>Alarm</CmdType><SN>17</SN>'
           f"<DeviceID>{GB_ID}</DeviceID>"
           f"<AlarmPriority>3</AlarmPriority><AlarmMethod>5</AlarmMethod><AlarmTime>{at}</AlarmTime>"
           "<Info><AlarmType>10</AlarmType><AlarmTypeParam><Density>2.5</Density></AlarmTypeParam></Info></Notify>")
    headers = {**gw, "Content-Type": "Application/MANSCDP+xml"}
    r = client.post(f"/api/v1/events/{eid}/gb28181/alarms", content=xml.encode(), headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["X-AnBao-Stored"] == "reading" and calls == [eid]
    again = client.post(f"/api/v1/events/{eid}/gb28181/alarms", content=xml.encode(), headers=headers)
    assert again.headers["X-AnBao-Stored"] == "duplicate" and calls == [eid]
