"""Large person lists: the read audit stores ids, and partners page after visibility filtering."""

from sqlalchemy import select

from anbao.core.audit import AuditEntry


def _event_with_units(client, h):
    ev = client.post("/api/v1/events", json={"code": "P1", "name": "分页", "kind": "concert",
                                             "shared_agencies": ["消防"]}, headers=h).json()
    base = f"/api/v1/events/{ev['id']}"
    police = client.post(f"{base}/units", json={"code": "Z1", "name": "治安", "call_sign": "Z1",
                                                "police_type": "治安"}, headers=h).json()
    fire = client.post(f"{base}/units", json={"code": "F1", "name": "消防", "call_sign": "F1",
                                              "police_type": "消防", "agency": "消防"}, headers=h).json()
    for i in range(60):  # police first, so a partner's rows all sit behind the first page of raw rows
        unit = police if i < 40 else fire
        r = client.post(f"{base}/persons", json={"unit_id": unit["id"], "name": f"人员{i}", "badge_no": f"B{i:03d}"},
                        headers=h)
        assert r.status_code == 201, r.text
    return base


def test_listing_many_people_is_audited_with_all_ids(client, login, sessions):
    h = login("planner")
    base = _event_with_units(client, h)
    r = client.get(f"{base}/persons?limit=50", headers=h)
    assert r.status_code == 200 and len(r.json()) == 50
    with sessions() as db:
        row = db.execute(select(AuditEntry).where(AuditEntry.action == "read")).scalars().one()
        assert row.after["count"] == 50 and row.after["ids"] == [p["id"] for p in r.json()]


def test_partner_pages_are_full(client, login):
    base = _event_with_units(client, login("planner"))
    partner = login("partner", agency="消防")
    first = client.get(f"{base}/persons?limit=15", headers=partner).json()
    second = client.get(f"{base}/persons?limit=15&offset=15", headers=partner).json()
    assert len(first) == 15 and len(second) == 5
    assert {p["name"] for p in first + second} == {f"人员{i}" for i in range(40, 60)}
