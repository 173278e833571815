"""The "1+N" plans: templates (built in, edited, added), plans started from them, the plan elements."""

import pytest

from tests.factories_cli import small_collection


@pytest.fixture
def site(client, login):
    h = login("planner")
    ev = client.post("/api/v1/events", json={"code": "TP", "name": "模板", "kind": "concert"}, headers=h).json()
    url = f"/api/v1/events/{ev['id']}"
    assert client.post(f"{url}/venue-import", json=small_collection(), headers=h).status_code == 200
    hq = client.post(f"{url}/command-nodes", json={"code": "HQ", "name": "指挥部", "level": "hq"}, headers=h).json()
    return url, h, hq["id"]


def test_builtin_templates_make_one_master_plan_and_the_special_plans(client, site):
    url, h, hq = site
    tpls = {t["code"]: t for t in client.get("/api/v1/plan-templates", headers=h).json()}
    assert tpls["TPL-ZT"]["kind"] == "master" and tpls["TPL-ZT"]["builtin"]
    kinds = {t["kind"] for t in tpls.values()}
    assert {"traffic", "counter_terror", "fire", "medical", "evacuation", "emergency", "public_opinion", "weather",
            "crowd"} <= kinds
    assert len(client.get("/api/v1/plan-templates", headers=h).json()) == len(tpls)  # written once
    master = client.post(f"{url}/plans/from-template", json={"template": "TPL-ZT", "code": "ZT"}, headers=h)
    assert master.status_code == 201, master.text
    m = master.json()
    assert (m["kind"], m["template"], m["command_node_id"]) == ("master", "TPL-ZT", hq)
    assert set(m["sections"]) == {"overview", "staffing", "fire", "capacity", "buffer", "screening", "traffic",
                                  "order", "emergency"}
    yl = client.post(f"{url}/plans/from-template", json={"template": "TPL-YL", "code": "YL", "name": "医疗保障预案"},
                     headers=h).json()
    assert yl["name"] == "医疗保障预案" and yl["triggers"]["incident_types"] == ["medical"]
    assert any(p["name"].startswith("市急救中心") for p in yl["partners"]) and yl["equipment"]
    assert all(s["node_code"] is None for s in yl["steps"])  # the event has no such groups: the plan's node
    again = client.post(f"{url}/plans/from-template", json={"template": "TPL-YL", "code": "YL"}, headers=h)
    assert again.status_code == 422 and "already exists" in again.text


def test_templates_are_edited_added_and_checked(client, site, login):
    url, h, _ = site
    tpl = client.get("/api/v1/plan-templates/TPL-EQTQ", headers=h).json()
    content = {**tpl["content"], "description": "台风、暴雨红色预警时停演"}
    assert client.put("/api/v1/plan-templates/TPL-EQTQ", json={"content": content}, headers=h).status_code == 200
    plan = client.post(f"{url}/plans/from-template", json={"template": "TPL-EQTQ", "code": "TQ"}, headers=h).json()
    assert plan["description"] == "台风、暴雨红色预警时停演"
    bad = client.post("/api/v1/plan-templates", json={"code": "TPL-X", "content": {"name": "x", "colour": "red"}},
                      headers=h)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "colour"
    bad = client.put("/api/v1/plan-templates/TPL-EQTQ",
                     json={"content": {"name": "x", "sections": {"tenth_item": "..."}}}, headers=h)
    assert bad.status_code == 422 and "tenth_item" in str(bad.json()["detail"][0]["loc"])
    ok = client.post("/api/v1/plan-templates", json={"code": "TPL-X", "content": {"name": "烟花燃放专项预案",
                                                                                    "kind": "消防安全"}}, headers=h)
    assert ok.status_code == 201 and ok.json()["kind"] == "fire" and not ok.json()["builtin"]
    assert client.delete("/api/v1/plan-templates/TPL-EQTQ", headers=h).status_code == 409
    assert client.post("/api/v1/plan-templates", json={"code": "TPL-Y", "content": {"name": "y"}},
                       headers=login("analyst")).status_code == 403
    assert client.delete("/api/v1/plan-templates/TPL-X", headers=h).status_code == 204
    assert client.get("/api/v1/plan-templates/TPL-X", headers=h).status_code == 404
    assert client.post(f"{url}/plans/from-template", json={"template": "NOPE", "code": "N"},
                       headers=h).status_code == 404


def test_plan_elements_refer_to_what_the_event_has(client, site):
    url, h, _ = site
    unit = client.post(f"{url}/units", json={"code": "U1", "name": "一组", "call_sign": "巡1", "police_type": "治安"},
                       headers=h).json()
    body = {"code": "SS", "name": "疏散", "kind": "人群疏散", "unit_ids": [unit["id"]],
            "equipment": [{"name": "担架", "quantity": 10}], "partners": [{"name": "120", "role": "救治"}],
            "map_refs": {"zones": ["Z2"],
                         "routes": [{"name": "救护通道", "line": [[120.229, 30.229], [120.23, 30.23]]}]},
            "evacuation_routes": [{"name": "内场经南门", "from_zones": ["Z2"], "exits": ["G1"], "to_zone": "Z1"}]}
    r = client.post(f"{url}/plans", json=body, headers=h)
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["unit_ids"] == [unit["id"]] and p["evacuation_routes"][0]["exits"] == ["G1"]
    assert p["map_refs"]["routes"][0]["line"][1] == [120.23, 30.23]
    for patch, loc in [({"unit_ids": [unit["id"], 99999]}, ["body", "unit_ids", 1]),
                       ({"map_refs": {"zones": ["Z9"]}}, ["body", "map_refs", "zones", 0]),
                       ({"evacuation_routes": [{"name": "x", "exits": ["G9"]}]},
                        ["body", "evacuation_routes", 0, "exits", 0]),
                       ({"evacuation_routes": [{"name": "x", "to_zone": "Z9"}]},
                        ["body", "evacuation_routes", 0, "to_zone"])]:
        bad = client.patch(f"{url}/plans/{p['id']}", json=patch, headers=h)
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == loc, bad.text
    assert client.get(f"{url}/plans/{p['id']}", headers=h).json()["unit_ids"] == [unit["id"]]  # nothing lost
