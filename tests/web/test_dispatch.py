"""接处警 on the command map in Debian's chromium: an incident from a 110 call is dispatched in two clicks
(the incident, then 派警 on a recommended unit); the unit's task and status follow; the intake form
registers a new incident at a place picked on the map."""

from __future__ import annotations

import time
import uuid

import httpx

from tests.web.conftest import PASSWORD


def _api(served):
    h = {"Authorization": f"Bearer {served.token('cmd-test', PASSWORD)}"}
    return f"{served.url}/api/v1/events/{served.event_id}", h


def test_two_click_dispatch_from_the_incident_drawer(watch, served):
    page = watch.page
    base, h = _api(served)
    units = [u for u in httpx.get(f"{base}/units", headers=h, params={"limit": 500}).json()
             if u["status"] == "available"][:2]
    post = httpx.get(f"{base}/posts", headers=h, params={"limit": 1}).json()[0]
    at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    for k, u in enumerate(units):  # two units near the post share their positions
        r = httpx.post(f"{base}/positions", headers=h, json={
            "client_key": f"disp-{uuid.uuid4()}", "unit_id": u["id"], "lon": post["lon"] + 0.0003 * (k + 1),
            "lat": post["lat"], "accuracy_m": 5, "at": at})
        assert r.status_code == 201, r.text
    r = httpx.post(f"{base}/incidents", headers=h, json={
        "client_key": f"call-{uuid.uuid4()}", "type": "医疗急救", "source": "110报警", "text": "观众晕倒",
        "lon": post["lon"], "lat": post["lat"]})
    assert r.status_code == 201, r.text
    inc = r.json()
    watch.login()
    page.wait_for_selector("#conn[data-state='live']", timeout=5000)
    # click 1: the incident in the list opens the drawer with recommendations by travel time
    page.click(f"#incidents li.inc[data-id='{inc['id']}']")
    page.wait_for_selector("#idrawer:not([hidden]) .inc-recs li.rec", timeout=8000)
    assert "医疗急救" in page.inner_text("#idrawer .dw-body") and "待处置" in page.inner_text("#idrawer .dw-body")
    assert "YA-YL 医疗救护预案" in page.inner_text("#idrawer .inc-plans")  # matched and started, with the reason
    # only the lead police type (医疗 for a medical call): no medical unit has shared a position here
    page.check("#idrawer .inc-lead-only")
    page.wait_for_function("() => document.querySelector('#idrawer .inc-recs').textContent"
                           ".includes('没有符合条件的可用警力')", timeout=8000)
    page.uncheck("#idrawer .inc-lead-only")
    page.wait_for_function("(names) => [...document.querySelectorAll('#idrawer .inc-recs li.rec b')]"
                           ".some((b) => names.includes(b.textContent))", arg=[u["call_sign"] for u in units],
                           timeout=8000)
    first = page.locator("#idrawer .inc-recs li.rec").first
    call_sign = first.locator("b").inner_text()
    assert call_sign in {u["call_sign"] for u in units}
    assert page.evaluate("window.anbao.mapView.incidentLayer.paths.getLayers().length") >= 1  # paths drawn
    # click 2: 派警
    first.locator("button").click()
    page.wait_for_function("(cs) => document.querySelector('#idrawer .inc-assigned').textContent.includes(cs)",
                           arg=call_sign, timeout=5000)
    page.wait_for_function("() => document.querySelector('#idrawer .dw-body').textContent.includes('已派警')",
                           timeout=5000)
    unit = next(u for u in units if u["call_sign"] == call_sign)
    page.wait_for_function("(id) => window.anbao.store.units.get(id).status === 'assigned'", arg=unit["id"],
                           timeout=5000)
    # only the sent unit's route stays on the map (was: the candidates' routes, the sent one hidden), with
    # its ETA counting down in the drawer and on the route
    page.wait_for_function("() => document.querySelectorAll('.route-sent').length === 1"
                           " && document.querySelectorAll('.route-cand').length === 0", timeout=5000)
    eta = page.locator("#idrawer .inc-assigned .eta-left")
    first_eta = eta.inner_text()
    assert "后到达" in first_eta or "超出" in first_eta, first_eta
    page.wait_for_function("(t) => document.querySelector('#idrawer .eta-left').textContent !== t",
                           arg=first_eta, timeout=4000)
    assert call_sign in page.inner_text(".route-tip")
    tasks = httpx.get(f"{base}/tasks", headers=h, params={"unit_id": unit["id"], "open": "true"}).json()
    assert any(t["incident_id"] == inc["id"] and t["title"].startswith("出警") for t in tasks)
    # resolve from the drawer: the unit is free again
    page.click("#idrawer .inc-actions button.primary")
    page.wait_for_function("(id) => window.anbao.store.units.get(id).status === 'available'", arg=unit["id"],
                           timeout=5000)
    assert httpx.get(f"{base}/incidents/{inc['id']}", headers=h).json()["status"] == "resolved"
    # the response figures above the list count it (median / p90 minutes to dispatch, arrival, resolution)
    page.wait_for_function("document.querySelector('#incident-stats').textContent.includes('派警')", timeout=8000)
    assert "处置" in page.inner_text("#incident-stats")
    watch.check()


def test_intake_form_registers_an_incident_at_the_picked_place(watch, served):
    page = watch.page
    base, h = _api(served)
    watch.login()
    page.click("#incidents-panel .intake-open")
    page.wait_for_selector("#intake:not([hidden])")
    form = page.locator("#intake form")
    form.locator("select[name=type]").select_option("lost_child")
    form.locator("textarea[name=text]").fill("红衣男孩与家长走散")
    form.locator("button[type=submit]").click()  # no place yet: told to pick one, nothing stored
    page.wait_for_function("document.querySelector('#intake .dw-msg').textContent.length > 0")
    assert "地图上点选" in page.inner_text("#intake .dw-msg")
    before = len(httpx.get(f"{base}/incidents", headers=h).json())
    page.click("#intake .pick")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.5)
    page.wait_for_function("document.querySelector('#intake .pick-msg').textContent.includes(',')")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#idrawer:not([hidden])", timeout=5000)  # the new incident opens
    listed = httpx.get(f"{base}/incidents", headers=h).json()
    assert len(listed) == before + 1
    new = listed[0]
    assert (new["type"], new["source"], new["text"]) == ("lost_child", "call_110", "红衣男孩与家长走散")
    assert new["lon"] is not None and new["zone_id"] is not None  # placed, and the zone found from the place
    assert "走失儿童" in page.inner_text("#idrawer .dw-body")
    watch.check()


def test_reinforcement_from_the_warning_drawer(watch, served):
    """A red zone's warning: the drawer proposes posts that can spare officers, and gives the units 增援 tasks."""
    page = watch.page
    base, h = _api(served)
    posts = httpx.get(f"{base}/posts", headers=h, params={"limit": 500}).json()
    units = [u for u in httpx.get(f"{base}/units", headers=h, params={"limit": 500}).json()
             if u["status"] == "available"]
    at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    for post, unit in zip(posts[:6], units[2:8], strict=True):  # six units stand at six posts
        r = httpx.post(f"{base}/positions", headers=h, json={
            "client_key": f"rf-{uuid.uuid4()}", "unit_id": unit["id"], "lon": post["lon"], "lat": post["lat"],
            "accuracy_m": 5, "at": at})
        assert r.status_code == 201, r.text
    watch.login()
    page.wait_for_selector("#conn[data-state='live']", timeout=5000)
    zone = page.evaluate("""() => { const s = window.anbao.store;
        const z = [...s.zones.values()].find((z) => z.props.code === 'FLOOR-A');
        const d = [...s.devices.values()].find((d) => d.props.zone_id === z.id
            && ['video_count', 'camera'].includes(d.props.kind));
        return [z.id, z.props.area_m2, d.props.code]; }""")
    token = served.token("gw-test", PASSWORD)
    r = httpx.post(f"{base}/readings", json=[{"sensor": zone[2], "at": at, "value": round(zone[1] * 5.5)}],
                   headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    page.wait_for_function("(id) => [...window.anbao.store.warnings.values()].some((w) => w.zone_id === id)",
                           arg=zone[0], timeout=5000)
    wid = page.evaluate("(id) => [...window.anbao.store.warnings.values()].find((w) => w.zone_id === id).id", zone[0])
    page.click(f"#queue li.wq[data-id='{wid}']")
    page.wait_for_selector("#drawer:not([hidden]) .dw-reinf:not([hidden])", timeout=3000)
    page.fill("#drawer .dw-reinf .rf-need", "3")
    page.click("#drawer .dw-reinf button")
    page.wait_for_selector("#drawer .dw-reinf li.rec", timeout=8000)
    moved = page.locator("#drawer .dw-reinf li.rec b").all_inner_texts()
    assert moved and set(moved) <= {u["call_sign"] for u in units[2:8]}
    page.click("#drawer .dw-reinf button.primary")
    page.wait_for_function("document.querySelector('#drawer .dw-reinf .rf-out').textContent.includes('增援任务已下达')",
                           timeout=5000)
    tasks = httpx.get(f"{base}/tasks", headers=h, params={"warning_id": wid}).json()
    mine = [t for t in tasks if t["title"].startswith("增援：")]
    assert {t["unit_id"] for t in mine} == {u["id"] for u in units if u["call_sign"] in moved}
    watch.check()


def test_corridor_check_lists_the_zones(watch, served):
    """The corridor drawer lists every zone of the demo (it has a road network) with car times open vs closed."""
    page = watch.page
    base, h = _api(served)
    assert httpx.get(f"{base}/road-networks", headers=h).json()  # the demo loads its streets and walkways
    watch.login()
    page.click("#incidents-panel .corridor-open")
    page.wait_for_selector("#cdrawer:not([hidden]) .dw-body table", timeout=15000)
    text = page.inner_text("#cdrawer .dw-body")
    assert "应急通道畅通" in text or "受交通管制影响" in text
    assert page.locator("#cdrawer tbody tr").count() >= 30
    watch.check()


def test_a_closure_drawn_on_the_map_is_saved_and_shown(watch, served):
    page = watch.page
    base, h = _api(served)
    before = len(httpx.get(f"{base}/road-closures", headers=h).json())
    watch.login()
    page.click("#incidents-panel .corridor-open")
    page.wait_for_selector("#cdrawer .cl-form")
    page.fill("#cdrawer .cl-form input[name=name]", "测试路段封闭")
    page.click("#cdrawer .cl-draw")
    box = page.locator("#map").bounding_box()
    for fx in (0.30, 0.36, 0.42):
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * 0.2)
    assert "已取 3 个点" in page.inner_text("#cdrawer .cl-msg")
    page.click("#cdrawer .cl-form button[type=submit]")
    page.wait_for_function("document.querySelector('#cdrawer .cl-msg').textContent.includes('管制已保存')",
                           timeout=8000)
    closures = httpx.get(f"{base}/road-closures", headers=h).json()
    assert len(closures) == before + 1
    new = next(c for c in closures if c["name"] == "测试路段封闭")
    assert new["geometry"]["type"] == "LineString" and len(new["geometry"]["coordinates"]) == 3
    assert new["applies_to"] == "vehicles"
    watch.allowed.append("status of 409")
    watch.check()


def test_an_incident_on_scene_whose_unit_was_released_is_flagged(watch, served):
    page = watch.page
    base, h = _api(served)
    unit = next(u for u in httpx.get(f"{base}/units", headers=h, params={"limit": 500}).json()
                if u["status"] == "available")
    r = httpx.post(f"{base}/incidents", headers=h, json={
        "client_key": f"call-{uuid.uuid4()}", "type": "fight", "source": "110报警", "text": "纠纷",
        "lon": 120.2, "lat": 30.2})
    assert r.status_code == 201, r.text
    inc = r.json()
    a = httpx.post(f"{base}/incidents/{inc['id']}/assignments", headers=h, json={"unit_id": unit["id"]}).json()
    for st in ("on_scene",):
        r = httpx.post(f"{base}/incidents/{inc['id']}/assignments/{a['id']}/status", headers=h, json={"status": st})
        assert r.status_code == 200, r.text
    assert httpx.get(f"{base}/incidents/{inc['id']}", headers=h).json()["unattended"] is False
    watch.login()
    page.wait_for_selector(f"#incidents li.inc[data-id='{inc['id']}']")
    assert page.locator(f"#incidents li.inc[data-id='{inc['id']}'] .chip.unattended").count() == 0
    # the unit is released (as the simulator does after a minute) while the incident stays 到场处置
    r = httpx.post(f"{base}/incidents/{inc['id']}/assignments/{a['id']}/status", headers=h, json={"status": "released"})
    assert r.status_code == 200, r.text
    detail = httpx.get(f"{base}/incidents/{inc['id']}", headers=h).json()
    assert detail["status"] == "on_scene" and detail["unattended"] is True
    listed = next(i for i in httpx.get(f"{base}/incidents", headers=h).json() if i["id"] == inc["id"])
    assert listed["unattended"] is True
    page.wait_for_selector(f"#incidents li.inc[data-id='{inc['id']}'] .chip.unattended", timeout=8000)
    assert "无警力在场" in page.inner_text(f"#incidents li.inc[data-id='{inc['id']}']")
    page.wait_for_selector(".imark.unattended", timeout=5000)  # and on the map
    page.click(f"#incidents li.inc[data-id='{inc['id']}']")
    page.wait_for_selector("#idrawer .unattended-box")
