"""GET /events/{id}/command-tree nests nodes and attaches units (partner sees only its units)."""


def test_tree_nests_nodes_and_units(client, login):
    h = login("planner")
    ev = client.post("/api/v1/events", json={"code": "T1", "name": "树", "kind": "concert",
                                             "shared_agencies": ["消防"]}, headers=h).json()
    base = f"/api/v1/events/{ev['id']}"
    hq = client.post(f"{base}/command-nodes", json={"code": "HQ", "name": "指挥部", "level": "指挥部"}, headers=h)
    assert hq.status_code == 201, hq.text
    site = client.post(f"{base}/command-nodes", json={"code": "S1", "name": "场内分指挥部", "level": "site",
                                                      "parent_id": hq.json()["id"]}, headers=h).json()
    grp = client.post(f"{base}/command-nodes", json={"code": "D1", "name": "看台执勤组", "level": "执勤组",
                                                     "parent_id": site["id"]}, headers=h).json()
    client.post(f"{base}/units", json={"code": "U1", "name": "治安一队", "call_sign": "Z-01", "police_type": "治安",
                                       "command_node_id": grp["id"]}, headers=h)
    client.post(f"{base}/units", json={"code": "F1", "name": "消防站", "call_sign": "XF-1", "police_type": "消防",
                                       "agency": "消防", "command_node_id": grp["id"]}, headers=h)
    tree = client.get(f"{base}/command-tree", headers=h).json()
    assert [n["code"] for n in tree] == ["HQ"]
    d1 = tree[0]["children"][0]["children"][0]
    assert d1["code"] == "D1" and sorted(u["code"] for u in d1["units"]) == ["F1", "U1"]
    partner_tree = client.get(f"{base}/command-tree", headers=login("partner", agency="消防")).json()
    assert [u["code"] for u in partner_tree[0]["children"][0]["children"][0]["units"]] == ["F1"]
