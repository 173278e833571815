"""Evacuation runs through the API and the command line, on the small venue worked out by hand."""

import io
import json
import time

import pytest
from PIL import Image

from tests.plan.test_capacity import venue

GG_PPS = (2.0 * 82 + 1.5 * 66) / 60  # the two exits of the floor, Green Guide: 263 persons/min


@pytest.fixture
def ev(client, login):
    def make(**kw):
        h = login("planner")
        e = client.post("/api/v1/events", json={"code": "EVAC", "name": "疏散", "kind": "concert",
                                                "expected_attendance": 1200}, headers=h).json()
        url = f"/api/v1/events/{e['id']}"
        assert client.post(f"{url}/venue-import", json=venue(**kw), headers=h).status_code == 200
        return url, h, e["id"]
    return make


def _done(client, url, h, run, timeout_s=120.0):
    end = time.monotonic() + timeout_s
    while run["status"] == "running" and time.monotonic() < end:
        time.sleep(0.1)
        run = client.get(f"{url}/evacuation-runs/{run['id']}", headers=h).json()
    assert run["status"] == "done", run
    return run["result"]


def test_macro_venue_run_uses_both_exits_by_their_capacity(client, ev):
    url, h, _ = ev()
    r = client.post(f"{url}/evacuation-runs", json={}, headers=h)
    assert r.status_code == 202, r.text
    res = _done(client, url, h, r.json())
    assert res["finished"] and res["total"] == 1200
    gg = 1200 / GG_PPS  # 273.8 s through the exits; walking across the 1,000 m2 floor comes on top
    assert gg <= res["clearance_s"] <= gg + 60
    exits = {e["name"]: e["persons"] for e in res["exits"]}
    assert set(exits) == {"EX1", "EX2"}
    assert {e["name"]: e["label"] for e in res["exits"]} == {"EX1": "一号出口", "EX2": "二号出口（楼梯）"}
    assert exits["EX1"] / 1200 == pytest.approx(164 / 263, abs=0.05)  # flows spread by capacity, not one path
    cmp_ = res["capacity"]
    assert cmp_["evacuation_min"] == pytest.approx(gg / 60, abs=0.01)
    assert cmp_["difference_pct"] == pytest.approx((res["clearance_s"] / 60 - gg / 60) / (gg / 60) * 100, abs=0.2)
    assert res["series"]["zones"]["FLOOR"][0] == pytest.approx(1200, abs=1)


def test_a_time_cap_gives_a_partial_result_with_a_warning(client, ev, anbao):
    url, h, eid = ev()
    res = _done(client, url, h, client.post(f"{url}/evacuation-runs", json={"max_s": 60}, headers=h).json())
    assert not res["finished"] and res["clearance_s"] is None and res["remaining"] > 500
    assert "未完成" in res["warning"]
    cli = anbao("evacuate", "--event", str(eid), "--max-s", "60")
    assert cli.exit_code == 1 and json.loads(cli.stdout)["finished"] is False


def test_jupedsim_in_one_zone_gives_flows_and_a_heat_map(client, ev, anbao, tmp_path):
    url, h, eid = ev()
    run = client.post(f"{url}/evacuation-runs", json={"model": "jupedsim", "zone": "FLOOR", "agents": 80},
                      headers=h).json()
    res = _done(client, url, h, run)
    assert res["finished"] and res["total"] == 80 and sum(e["persons"] for e in res["exits"]) == 80
    assert {e["name"] for e in res["exits"]} <= {"EX1", "EX2"} and res["clearance_s"] > 80 / (2 * GG_PPS)
    png = client.get(res["heatmap_url"], headers=h)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).size[0] > 300
    out = anbao("evacuate", "--event", str(eid), "--zone", "FLOOR", "--model", "jupedsim", "--agents", "40",
                "--heatmap", str(tmp_path / "h.png"))
    assert out.exit_code == 0, out.output
    line = json.loads(out.stdout)
    assert line["clearance_s"] > 0 and (tmp_path / "h.png").stat().st_size > 1000


@pytest.mark.parametrize(("body", "status", "fragment"), [
    ({"model": "jupedsim"}, 422, "give a zone code"),
    ({"model": "fluid"}, 422, "model"),
    ({"zone": "NOPE"}, 422, "zone 'NOPE' does not exist"),
    ({"zone": "ISLE"}, 422, "zone ISLE (孤立站席) has no exit"),
    ({"model": "jupedsim", "zone": "FLOOR", "agents": 99999}, 422, "agents"),
])
def test_bad_runs_are_refused_at_once(client, ev, body, status, fragment):
    url, h, _ = ev(lonely_floor=True)
    r = client.post(f"{url}/evacuation-runs", json=body, headers=h)
    assert r.status_code == status and fragment in r.text, r.text


def test_only_planners_start_runs_and_readers_follow_them(client, ev, login):
    url, h, _ = ev()
    analyst = login("analyst")
    assert client.post(f"{url}/evacuation-runs", json={}, headers=analyst).status_code == 403
    run = client.post(f"{url}/evacuation-runs", json={}, headers=h).json()
    assert client.get(f"{url}/evacuation-runs/{run['id']}", headers=analyst).status_code == 200


def test_unknown_runs_are_404(client, ev):
    url, h, _ = ev()
    assert client.get(f"{url}/evacuation-runs/abc", headers=h).status_code == 404
    res = client.post(f"{url}/evacuation-runs", json={}, headers=h).json()
    assert client.get(f"{url}/evacuation-runs/{res['id']}/heatmap.png", headers=h).status_code == 404
