"""Risk register: risks, expert scores and their aggregate, the matrix and its checks, zone levels."""

import pytest

from tests.factories_cli import small_collection


@pytest.fixture
def reg(client, login):
    h = login("planner")
    ev = client.post("/api/v1/events", json={"code": "RK", "name": "风险", "kind": "concert"}, headers=h).json()
    url = f"/api/v1/events/{ev['id']}"
    assert client.post(f"{url}/venue-import", json=small_collection(), headers=h).status_code == 200
    zones = {z["code"]: z["id"] for z in client.get(f"{url}/zones", headers=h).json()}
    return url, h, zones


def _risk(client, url, h, code="R1", **kw):
    body = {"code": code, "name": "散场出口拥堵踩踏", "category": "人群踩踏", "source": "活动固有", **kw}
    r = client.post(f"{url}/risks", json=body, headers=h)
    assert r.status_code == 201, r.text
    return r.json()


def _score(client, url, h, rid, expert, li, im):
    r = client.post(f"{url}/risks/{rid}/scores", json={"expert": expert, "likelihood": li, "impact": im}, headers=h)
    assert r.status_code == 200, r.text
    return r.json()


def test_experts_scores_give_the_median_cell_and_flag_disagreement(client, reg):
    url, h, zones = reg
    r = _risk(client, url, h, zone_ids=[zones["Z2"]], controls=[{"measure": "内场设置分区护栏", "owner": "场馆方"}])
    assert r["category"] == "stampede" and r["source"] == "inherent" and r["aggregate"] is None and r["level"] is None
    assert _score(client, url, h, r["id"], "张专家", 4, 5)["level"] == "extreme"  # 20 -> 极高
    _score(client, url, h, r["id"], "李专家", 3, 4)
    one = client.get(f"{url}/risks/{r['id']}", headers=h).json()
    agg = one["aggregate"]
    # median of (4, 3) = 3.5 -> 4 (half up); of (5, 4) = 4.5 -> 5
    assert (agg["n"], agg["likelihood"], agg["impact"], agg["level"]) == (2, 4, 5, "extreme")
    assert agg["disagreement"] is False and agg["reason"] == ""
    _score(client, url, h, r["id"], "王专家", 1, 2)  # far lower: spread 3 in likelihood
    agg = client.get(f"{url}/risks/{r['id']}", headers=h).json()["aggregate"]
    assert (agg["likelihood"], agg["impact"], agg["likelihood_spread"]) == (3, 4, 3)
    assert agg["level"] == "high" and agg["disagreement"] and "需专家会商" in agg["reason"]
    # the same expert again replaces the score
    _score(client, url, h, r["id"], "王专家", 3, 4)
    one = client.get(f"{url}/risks/{r['id']}", headers=h).json()
    assert one["aggregate"]["n"] == 3 and not one["aggregate"]["disagreement"]
    assert [d["id"] for d in client.get(f"{url}/risks?disagreement=false", headers=h).json()] == [r["id"]]
    # residual after controls wins as the current level, and gives the zone its level
    one = client.patch(f"{url}/risks/{r['id']}", json={"residual_likelihood": 2, "residual_impact": 4},
                       headers=h).json()
    assert (one["residual_level"], one["level"]) == ("medium", "medium")
    zr = {z["code"]: z for z in client.get(f"{url}/zone-risks", headers=h).json()}
    assert zr["Z2"]["level"] == "medium" and zr["Z2"]["risks"] == ["R1"] and zr["Z1"]["level"] is None
    heat = client.get(f"{url}/risk-matrix", headers=h).json()
    assert heat["default"] and heat["counts"][3][4] == 0 and sum(map(sum, heat["counts"])) == 1
    assert heat["residual_counts"][1][3] == 1


def test_the_worst_risk_gives_the_zone_level(client, reg):
    url, h, zones = reg
    a = _risk(client, url, h, "R1", zone_ids=[zones["Z2"]])
    b = _risk(client, url, h, "R2", name="内场火情", category="火灾", source="外部环境",
              zone_ids=[zones["Z2"], zones["Z1"]])
    _score(client, url, h, a["id"], "甲", 2, 2)
    _score(client, url, h, b["id"], "甲", 4, 4)
    zr = {z["code"]: z for z in client.get(f"{url}/zone-risks", headers=h).json()}
    assert zr["Z2"]["level"] == "high" and zr["Z2"]["risks"] == ["R2", "R1"]
    assert [x["code"] for x in client.get(f"{url}/risks?level=high", headers=h).json()] == ["R2"]
    assert [x["code"] for x in client.get(f"{url}/risks?zone_id={zones['Z1']}", headers=h).json()] == ["R2"]


def test_an_event_matrix_changes_the_levels_and_can_be_reset(client, reg):
    url, h, _ = reg
    r = _risk(client, url, h)
    _score(client, url, h, r["id"], "甲", 2, 3)  # 6: medium by default
    strict = [["low", "medium", "high", "high", "extreme"], ["medium", "high", "high", "extreme", "extreme"],
              ["high", "high", "extreme", "extreme", "extreme"], ["high", "extreme", "extreme", "extreme", "extreme"],
              ["extreme"] * 5]
    out = client.put(f"{url}/risk-matrix", json={"rows": strict}, headers=h).json()
    assert not out["default"] and out["rows"][1][2] == "high"
    assert client.get(f"{url}/risks/{r['id']}", headers=h).json()["level"] == "high"
    # Chinese level names are accepted too
    zh = [["低", "中", "高", "高", "极高"], *strict[1:]]
    assert client.put(f"{url}/risk-matrix", json={"rows": zh}, headers=h).status_code == 200
    assert client.delete(f"{url}/risk-matrix", headers=h).json()["default"]
    assert client.get(f"{url}/risks/{r['id']}", headers=h).json()["level"] == "medium"


@pytest.mark.parametrize(("rows", "fragment"), [
    ([["low"] * 5] * 4, "5 rows of 5 cells"),
    ([["low"] * 5] * 4 + [["low"] * 4], "5 rows of 5 cells"),
    ([["low"] * 5] * 4 + [["high", "low", "low", "low", "low"]], "lower than the better cell"),
])
def test_a_matrix_that_leaves_cells_undefined_or_lowers_a_worse_cell_is_refused(client, reg, rows, fragment):
    url, h, _ = reg
    r = client.put(f"{url}/risk-matrix", json={"rows": rows}, headers=h)
    assert r.status_code == 422 and fragment in r.text, r.text
    assert client.get(f"{url}/risk-matrix", headers=h).json()["default"]  # nothing stored


@pytest.mark.parametrize(("body", "loc"), [
    ({"likelihood": 0, "impact": 3}, "likelihood"),
    ({"likelihood": 3, "impact": 6}, "impact"),
    ({"likelihood": 2.5, "impact": 3}, "likelihood"),
    ({"likelihood": 3, "impact": 3, "weight": 2}, "weight"),
])
def test_scores_out_of_range_are_refused_and_nothing_is_stored(client, reg, body, loc):
    url, h, _ = reg
    r = _risk(client, url, h)
    bad = client.post(f"{url}/risks/{r['id']}/scores", json=body, headers=h)
    assert bad.status_code == 422 and loc in str(bad.json()["detail"][0]["loc"]), bad.text
    assert client.get(f"{url}/risks/{r['id']}", headers=h).json()["scores"] == []


def test_bad_risks_are_refused_with_the_place(client, reg):
    url, h, zones = reg
    base = {"code": "R9", "name": "x", "category": "火灾", "source": "威胁源"}
    r = client.post(f"{url}/risks", json={**base, "zone_ids": [zones["Z1"], 999999]}, headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "zone_ids", 1]
    r = client.post(f"{url}/risks", json={**base, "category": "外星人"}, headers=h)
    assert r.status_code == 422 and "category" in r.json()["detail"][0]["loc"]
    _risk(client, url, h, "R9")
    assert client.post(f"{url}/risks", json=base, headers=h).status_code == 422  # code taken
    assert client.get(f"{url}/risks/999999", headers=h).status_code == 404


def test_only_planners_change_the_register_and_deleting_a_risk_drops_its_scores(client, reg, login):
    url, h, _ = reg
    r = _risk(client, url, h)
    _score(client, url, h, r["id"], "甲", 3, 3)
    analyst = login("analyst")
    assert client.get(f"{url}/risks", headers=analyst).status_code == 200
    assert client.post(f"{url}/risks/{r['id']}/scores", json={"likelihood": 1, "impact": 1},
                       headers=analyst).status_code == 403
    assert client.delete(f"{url}/risks/{r['id']}", headers=h).status_code == 204
    assert client.get(f"{url}/risks", headers=h).json() == []
    assert sum(map(sum, client.get(f"{url}/risk-matrix", headers=h).json()["counts"])) == 0


def test_a_rare_but_catastrophic_risk_is_high_by_default(client, reg):
    # 暴恐: likelihood 1 x impact 5 = 5 was 中 by the product alone; a catastrophic impact is at least 高
    url, h, _ = reg
    r = _risk(client, url, h)
    assert _score(client, url, h, r["id"], "甲", 1, 5)["level"] == "high"
    assert client.get(f"{url}/risks/{r['id']}", headers=h).json()["aggregate"]["level"] == "high"
    m = client.get(f"{url}/risk-matrix", headers=h).json()
    assert m["default"] and [row[4] for row in m["rows"]] == ["high", "high", "high", "extreme", "extreme"]
