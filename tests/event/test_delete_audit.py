"""Deleting an event leaves one audit entry per row it held, personal data included."""

from collections import Counter

from sqlalchemy import select

from anbao.core import audit
from anbao.core.audit import AuditEntry
from tests.factories_cli import small_collection


def test_event_delete_audits_every_contained_row(client, login, sessions):
    h = login("planner")
    ev = client.post("/api/v1/events", json={"code": "DEL", "name": "删除", "kind": "concert"}, headers=h).json()
    base = f"/api/v1/events/{ev['id']}"
    assert client.post(f"{base}/venue-import", json=small_collection(), headers=h).status_code == 200
    unit = client.post(f"{base}/units", json={"code": "U", "name": "u", "call_sign": "U", "police_type": "治安"},
                       headers=h).json()
    client.post(f"{base}/persons", json={"unit_id": unit["id"], "name": "张三", "badge_no": "100001"}, headers=h)
    assert client.delete(base, headers=h).status_code == 204
    with sessions() as db:
        deletes = Counter(r.entity for r in db.execute(
            select(AuditEntry).where(AuditEntry.action == "delete")).scalars())
        assert deletes == {"zone": 2, "gate": 1, "post": 1, "device": 1, "venue": 1, "unit": 1, "person": 1,
                           "event": 1}
        assert audit.verify(db).ok


def test_chinese_feature_kinds_are_accepted(client, login):
    h = login("planner")
    ev = client.post("/api/v1/events", json={"code": "ZH", "name": "中文", "kind": "concert"}, headers=h).json()
    fc = small_collection()
    fc["features"][2]["properties"]["kind"] = "安检口"
    fc["features"][3]["properties"]["kind"] = "岗位"
    fc["features"][4]["properties"]["kind"] = "摄像机"
    r = client.post(f"/api/v1/events/{ev['id']}/venue-import", json=fc, headers=h)
    assert r.status_code == 200, r.text
    gates = client.get(f"/api/v1/events/{ev['id']}/gates", headers=h).json()
    assert [g["kind"] for g in gates] == ["checkpoint"]


def test_deleting_a_zone_unlinks_its_gates_on_the_record(client, login, sessions):
    h = login("planner")
    ev = client.post("/api/v1/events", json={"code": "Z", "name": "z", "kind": "concert"}, headers=h).json()
    base = f"/api/v1/events/{ev['id']}"
    client.post(f"{base}/venue-import", json=small_collection(), headers=h)
    zones = {z["code"]: z["id"] for z in client.get(f"{base}/zones", headers=h).json()}
    assert client.delete(f"{base}/zones/{zones['Z1']}", headers=h).status_code == 204
    gate = client.get(f"{base}/gates", headers=h).json()[0]
    z2 = client.get(f"{base}/zones/{zones['Z2']}", headers=h).json()
    assert gate["zone_id"] is None and z2["parent_id"] is None
    with sessions() as db:
        updates = [(r.entity, r.after) for r in db.execute(
            select(AuditEntry).where(AuditEntry.action == "update")).scalars()]
        assert ("gate", {"zone_id": None}) in [(e, {k: v for k, v in a.items() if k == "zone_id"}) for e, a in updates]
        assert any(e == "zone" and a.get("parent_id") is None for e, a in updates)
