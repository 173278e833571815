"""POST /events/{id}/gb28181/alarms: density and flow alarms become readings, the rest camera warnings."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.factories_cli import small_collection

CT = {"Content-Type": "Application/MANSCDP+xml"}
GB_ID = "33010800001320000001"


def _alarm(sn: int, alarm_type: int, *, priority: int = 2, extra: str = "", method: int = 5) -> bytes:
    at = (datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%S")
    xml = f"""<?xml version="1.0" encoding="GB2312"?>
<Notify><CmdType>Alarm</CmdType><SN>{sn}</SN><DeviceID>{GB_ID}</DeviceID>
<AlarmPriority>{priority}</AlarmPriority><AlarmMethod>{method}</AlarmMethod><AlarmTime>{at}</AlarmTime>
<AlarmDescription>内场南侧</AlarmDescription>
<Info><AlarmType>{alarm_type}</AlarmType>{extra}</Info></Notify>"""
    return xml.encode("gb2312")


@pytest.fixture
def site(client, login):
    h = login("planner")
    ev = client.post("/api/v1/events", json={"code": "GB", "name": "国标", "kind": "concert"}, headers=h).json()
    fc = small_collection()
    fc["features"][4]["properties"]["properties"] = {"gb28181_id": GB_ID}  # camera C1 watches Z2 (10,000 m2)
    assert client.post(f"/api/v1/events/{ev['id']}/venue-import", json=fc, headers=h).status_code == 200
    return f"/api/v1/events/{ev['id']}", login("gateway"), h


def test_density_alarm_becomes_a_reading_once(client, site):
    url, gw, h = site
    body = _alarm(7, 10, extra="<AlarmTypeParam><Density>4.2</Density></AlarmTypeParam>")
    r = client.post(f"{url}/gb28181/alarms", content=body, headers={**gw, **CT})
    assert r.status_code == 200 and r.headers["x-anbao-stored"] == "reading"
    assert r.headers["content-type"].lower().startswith("application/manscdp+xml")
    assert b"<SN>7</SN>" in r.content and b"<Result>OK</Result>" in r.content
    again = client.post(f"{url}/gb28181/alarms", content=body, headers={**gw, **CT})
    assert again.headers["x-anbao-stored"] == "duplicate"
    [reading] = client.get(f"{url}/readings", headers=h).json()
    assert reading["value"] == pytest.approx(42_000, rel=2e-3) and reading["values"] == {"density": 4.2}
    z2 = next(s for s in client.get(f"{url}/zone-states", headers=h).json() if s["code"] == "Z2")
    assert z2["level"] == "orange" and z2["density"] == pytest.approx(4.2, rel=2e-3)


def test_intrusion_becomes_a_camera_warning(client, site, login):
    url, gw, _ = site
    r = client.post(f"{url}/gb28181/alarms", content=_alarm(8, 6, priority=1), headers={**gw, **CT})
    assert r.status_code == 200 and r.headers["x-anbao-stored"] == "warning"
    [w] = client.get(f"{url}/warnings", headers=login("dispatcher")).json()
    assert (w["kind"], w["level"]) == ("camera", "red") and "入侵" in w["message"] and "内场南侧" in w["message"]


@pytest.mark.parametrize(
    ("body", "headers", "status", "fragment"),
    [
        (_alarm(9, 10), CT, 422, "no count or density"),
        (_alarm(9, 10).replace(GB_ID.encode(), b"33010800001320009999"), CT, 422, "DeviceID"),
        (b"<Notify><CmdType>Alarm</CmdType></Notify>", CT, 422, "SN"),
        (b"not xml", CT, 422, ""),
        (_alarm(9, 6), {"Content-Type": "application/json"}, 415, "MANSCDP"),
    ],
)
def test_bad_alarms_are_named(client, site, body, headers, status, fragment):
    url, gw, h = site
    r = client.post(f"{url}/gb28181/alarms", content=body, headers={**gw, **headers})
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    text = detail if isinstance(detail, str) else detail[0]["msg"] + str(detail[0]["loc"])
    assert fragment in text
    assert client.get(f"{url}/readings", headers=h).json() == []


def test_a_camera_rule_decides_the_level_and_starts_its_plans(client, site, login):
    """Video alarms are observations for the rules: severity = 5 - AlarmPriority against a camera rule."""
    url, gw, h = site
    disp = login("dispatcher")
    assert client.post(f"{url}/warning-rules/defaults", headers=h).status_code == 200  # the default rules and plans
    r = client.post(f"{url}/warning-rules", headers=h, json={
        "kind": "camera", "orange": 3, "red": 4, "min_hold_s": 0, "escalate_after_min": 3, "plans": {"red": "YA-SS"}})
    assert r.status_code == 201, r.text
    rule_id = r.json()["id"]
    # priority 3 (severity 2) is below the rule's lowest level: no warning
    r = client.post(f"{url}/gb28181/alarms", content=_alarm(20, 7, priority=3), headers={**gw, **CT})
    assert r.status_code == 200
    assert client.get(f"{url}/warnings", headers=disp).json() == []
    # priority 1 (severity 4): red by the rule, which starts its plan
    r = client.post(f"{url}/gb28181/alarms", content=_alarm(21, 6, priority=1), headers={**gw, **CT})
    [w] = client.get(f"{url}/warnings", headers=disp).json()
    assert (w["kind"], w["level"], w["value"]) == ("camera", "red", 4.0)
    [act] = client.get(f"{url}/plan-activations?warning_id={w['id']}", headers=disp).json()
    assert act["level"] == "red" and act["reason"] == "红色视频报警自动启动"
    assert client.get(f"{url}/tasks?warning_id={w['id']}", headers=disp).json()
    assert client.get(f"{url}/warning-rules?kind=camera", headers=h).json()[0]["id"] == rule_id
