"""The command map and the wall in Debian's chromium against a real server holding the demo event.

The simulator does not run: a reading posted through the ingest API (as a gateway) turns a zone red,
the warning shows in the queue within 2 s, and it is acknowledged from the page.
"""

from __future__ import annotations

import threading
import time

import httpx

from tests.web.conftest import GATEWAY_USER, PASSWORD

RED = "rgb(240, 58, 58)"  # LEVEL_COLORS.red of mapview.js


def _zone_fill(page, zone_id: int) -> str:
    return page.evaluate("(id) => window.anbao.mapView.zoneLayers.get(id).options.fillColor", zone_id)


def _counting_device(page, code: str) -> tuple[int, float, str]:
    """(zone id, area m2, code of a counting device in it) for the zone ``code``."""
    return tuple(page.evaluate("""(code) => {
        const s = window.anbao.store;
        const z = [...s.zones.values()].find((z) => z.props.code === code);
        const d = [...s.devices.values()].find((d) => d.props.zone_id === z.id
            && ["video_count", "camera", "wifi_probe", "bluetooth"].includes(d.props.kind));
        return [z.id, z.props.area_m2, d.props.code];
    }""", code))


def test_login_map_live_warning_and_acknowledge(watch, served):
    page = watch.page
    page.goto(served.url + "/")
    page.wait_for_selector("#login:not([hidden])")
    page.fill("#login input[name=username]", "demo")
    page.fill("#login input[name=password]", "wrong-password")
    page.click("#login button[type=submit]")
    page.wait_for_function("document.querySelector('#login .login-msg').textContent.length > 0")
    assert page.inner_text("#login .login-msg") == "用户名或密码错误"
    assert page.input_value("#login input[name=username]") == "demo"  # what was typed stays
    watch.allowed.append("status of 401")  # the refused login is a failed resource in the console
    watch.login()
    assert page.locator("#login").is_hidden()

    zones = page.locator(".leaflet-zones-pane path")
    assert zones.count() >= 30
    assert page.evaluate("window.anbao.mapView.zoneLayers.size") == 52
    page.wait_for_selector("#conn[data-state='live']", timeout=5000)
    assert page.inner_text("#incidents") .startswith("暂无警情")

    zone_id, area, sensor = _counting_device(page, "FLOOR-B")
    assert _zone_fill(page, zone_id) != RED
    token = served.token(GATEWAY_USER, PASSWORD)
    at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    started = time.monotonic()
    r = httpx.post(f"{served.url}/api/v1/events/{served.event_id}/readings",
                   json=[{"sensor": sensor, "at": at, "value": round(area * 5.6)}],
                   headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    page.wait_for_function(
        """(id) => window.anbao.mapView.zoneLayers.get(id).options.fillColor === "#f03a3a"
            && [...document.querySelectorAll('#queue li.wq.lv-red')].some((li) =>
                window.anbao.store.warnings.get(Number(li.dataset.id))?.zone_id === id)""",
        arg=zone_id, timeout=2000)
    assert time.monotonic() - started < 2.0
    path_fill = page.evaluate("(id) => getComputedStyle(window.anbao.mapView.zoneLayers.get(id).getElement()).fill",
                              zone_id)
    assert path_fill == RED
    assert page.inner_text("[data-fig=w-red]") == "1"

    item = page.locator("#queue li.wq.lv-red").first
    assert "内场站席B区" in item.inner_text() and "未确认" in item.inner_text()
    item.locator("button.ack").click()
    page.wait_for_selector("#drawer:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "dw-comment"
    page.fill("#dw-comment", "已派内场执勤组疏导，暂停B区入场")
    page.click("#drawer [data-act=ack]")
    page.wait_for_function("document.querySelector('#drawer .dw-msg').textContent === '已确认'", timeout=5000)
    page.wait_for_selector("#queue li.wq.lv-red.st-acknowledged", timeout=3000)
    assert "已确认" in page.locator("#queue li.wq.lv-red").first.inner_text()
    assert "已派内场执勤组疏导" in page.inner_text("#drawer .facts")
    # the red density warning started the evacuation plan: its tasks are listed under the warning
    page.wait_for_selector("#drawer .plan .tasks li", timeout=5000)
    assert page.locator("#drawer .plan").count() >= 1


def test_expired_login_goes_back_to_the_form_and_keeps_what_was_typed(watch, served):
    page = watch.page
    watch.login("cmd-test", PASSWORD)
    admin = {"Authorization": f"Bearer {served.token('admin-test')}"}
    users = httpx.get(f"{served.url}/api/v1/users", headers=admin).json()
    uid = next(u["id"] for u in users if u["username"] == "cmd-test")
    warning = page.evaluate("window.anbao.store.sortedWarnings()[0]?.id")
    assert warning is not None  # raised by the first test (same server)
    page.evaluate("(id) => document.querySelector(`#queue li[data-id='${id}']`).click()", warning)
    page.fill("#dw-comment", "现场已处置完毕")
    assert httpx.patch(f"{served.url}/api/v1/users/{uid}", json={"active": False}, headers=admin).status_code == 200
    watch.allowed.append("status of 401")
    page.click("#drawer [data-act=close]")
    page.wait_for_selector("#login:not([hidden])", timeout=5000)
    assert page.input_value("#login input[name=username]") == "cmd-test"
    assert "登录已过期" in page.inner_text("#login .login-msg")
    assert httpx.patch(f"{served.url}/api/v1/users/{uid}", json={"active": True}, headers=admin).status_code == 200
    page.fill("#login input[name=password]", PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#login", state="hidden")
    assert page.input_value("#dw-comment") == "现场已处置完毕"  # the unsent comment survived
    page.click("#drawer [data-act=close]")
    page.wait_for_function("document.querySelector('#drawer .dw-msg').textContent === '已解除'", timeout=5000)
    page.wait_for_function("(id) => !document.querySelector(`#queue li[data-id='${id}']`)", arg=warning, timeout=3000)


def test_live_stream_resumes_after_a_drop_and_reloads_after_a_server_restart(watch, served):
    page = watch.page
    watch.login()
    page.wait_for_selector("#conn[data-state='live']", timeout=5000)
    page.evaluate("""() => {
        const live = window.anbao.live, show = live.onState;
        window.seen = {states: [], urls: [], snapshots: 0};
        live.onState = (s, d) => { window.seen.states.push(s); show(s, d); };
        const open = live.url.bind(live);
        live.url = () => { const u = open(); window.seen.urls.push(u); return u; };
        window.anbao.store.on("snapshot", () => { window.seen.snapshots += 1; });
    }""")
    zone_id, area, sensor = _counting_device(page, "FLOOR-C")
    token = served.token(GATEWAY_USER, PASSWORD)
    before = page.evaluate("window.anbao.live.seq")
    page.evaluate("window.anbao.live.ws.close()")  # the network drops
    at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    r = httpx.post(f"{served.url}/api/v1/events/{served.event_id}/readings",
                   json=[{"sensor": sensor, "at": at, "value": round(area * 4.5)}],
                   headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    # the warning raised while the page was away arrives with the replay after the reconnect
    page.wait_for_function("""(id) => [...window.anbao.store.warnings.values()].some((w) => w.zone_id === id)
        && window.anbao.mapView.zoneLayers.get(id).options.fillColor === "#ff8a1c"
        && window.anbao.live.state === "live" """, arg=zone_id, timeout=8000)
    seen = page.evaluate("window.seen")
    assert "reconnecting" in seen["states"] and seen["states"][-1] == "live"
    assert seen["urls"][-1].endswith(f"&since={before}") or f"since={before}" in seen["urls"][-1]
    assert seen["snapshots"] == 0  # resumed by seq: nothing reloaded

    served.app.state.ui_instance = "restarted01"  # as a restarted server would answer GET /ui-config
    page.evaluate("window.anbao.live.ws.close()")
    page.wait_for_function("window.seen.snapshots === 1 && window.anbao.live.state === 'live'", timeout=8000)
    assert "since=" not in page.evaluate("window.seen.urls[window.seen.urls.length - 1]")


def test_english_switch_and_replay_slider(watch, served):
    page = watch.page
    watch.login()
    page.click(".topbar [data-lang=en]")
    page.wait_for_function("document.querySelector('#warnings-panel h2').textContent.startsWith('Warnings')")
    assert page.inner_text(".topbar .fig-label >> nth=0") == "On site"
    assert page.evaluate("document.documentElement.lang") == "en"
    slider = page.locator("#replay input[type=range]")
    slider.dispatch_event("pointerdown")
    page.wait_for_function("Number(document.querySelector('#replay input[type=range]').max) > 10")
    page.evaluate("""() => { const s = document.querySelector('#replay input[type=range]');
        s.value = s.min; s.dispatchEvent(new Event('input')); }""")
    page.wait_for_selector("#replay.replaying", timeout=3000)
    assert page.locator("#replay-banner").is_visible()
    page.click(".rp-live")
    page.wait_for_selector("#replay:not(.replaying)")
    page.click(".topbar [data-lang='zh-CN']")
    page.wait_for_function("document.querySelector('#warnings-panel h2').textContent.startsWith('预警队列')")


def test_wall_shows_map_warnings_and_figures(browser, served):
    from tests.web.conftest import PageWatch

    w = PageWatch(browser, served, size=(1920, 1080))
    try:
        w.login(path="/wall/")
        page = w.page
        assert page.locator(".leaflet-zones-pane path").count() >= 30
        page.wait_for_selector("#conn[data-state='live']", timeout=5000)
        assert page.locator("#busiest canvas").count() == 1 and page.locator("#trend canvas").count() == 1
        assert page.inner_text("[data-fig=people]") not in ("", "—")
        w.check()
    finally:
        w.close()


def test_tiles_in_gcj02_shift_the_venue_onto_them(browser, served):
    """With ANBAO_TILE_URL and ANBAO_TILE_GCJ02 the map loads the tiles and draws WGS-84 data shifted to GCJ-02."""
    import base64
    import http.server

    from anbao.app import create_app
    from tests.web.conftest import PageWatch, start_server, stop_server

    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9aw"
                           "AAAABJRU5ErkJggg==")
    hits: list[str] = []

    class Tiles(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            self.wfile.write(png)

        def log_message(self, *args: object) -> None:
            pass

    tiles = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    threading.Thread(target=tiles.serve_forever, daemon=True).start()
    tile_url = f"http://127.0.0.1:{tiles.server_address[1]}/{{z}}/{{x}}/{{y}}.png"
    settings = served.settings.model_copy(update={"tile_url": tile_url, "tile_gcj02": True})
    url, server, thread = start_server(create_app(settings))
    w = PageWatch(browser, served)
    try:
        w.served = type(served)(url=url, event_id=served.event_id, app=None, settings=settings)
        w.login()
        page = w.page
        page.wait_for_function("document.querySelectorAll('img.leaflet-tile-loaded').length > 0", timeout=5000)
        assert hits and all(h.endswith(".png") for h in hits)
        shift = page.evaluate("""() => {
            const s = window.anbao.store, m = window.anbao.mapView;
            const z = [...s.zones.values()].find((z) => z.props.code === "PITCH" || z.props.kind === "standing");
            const [lon, lat] = z.feature.geometry.coordinates[0][0];
            const drawn = m.zoneLayers.get(z.id).getLatLngs()[0][0];
            return [drawn.lng - lon, drawn.lat - lat];
        }""")
        # Hangzhou: GCJ-02 lies about 0.0046 deg east and 0.0024 deg south of WGS-84
        assert 0.003 < shift[0] < 0.006 and -0.004 < shift[1] < -0.001, shift
        w.check()
    finally:
        w.close()
        stop_server(server, thread)
        tiles.shutdown()


def test_unit_positions_move_on_the_map_and_the_list_centres_them(watch, served):
    """A position shared from the phone moves the unit's dot live; hovering shows its card; the list centres it."""
    page = watch.page
    watch.login()
    page.wait_for_selector("#conn[data-state='live']", timeout=5000)
    token = served.token("cmd-test", PASSWORD)
    h = {"Authorization": f"Bearer {token}"}
    base = f"{served.url}/api/v1/events/{served.event_id}"
    unit = next(u for u in httpx.get(f"{base}/units", headers=h, params={"limit": 500}).json()
                if u["status"] == "available")
    post = httpx.get(f"{base}/posts", headers=h, params={"limit": 1}).json()[0]
    for k, dlat in enumerate((0.0, 0.0004)):
        at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
        r = httpx.post(f"{base}/positions", headers=h, json={
            "client_key": f"web-test-{unit['id']}-{k}", "unit_id": unit["id"], "lon": post["lon"],
            "lat": post["lat"] + dlat, "accuracy_m": 6, "at": at})
        assert r.status_code == 201, r.text
        page.wait_for_function("([id, lat]) => window.anbao.store.positions.get(id)?.lat === lat",
                               arg=[unit["id"], post["lat"] + dlat], timeout=3000)
        layer_lat = page.evaluate("(id) => { const u = window.anbao.mapView.units;"
                                  " return u.layer.lat[u.ids.indexOf(id)]; }", unit["id"])
        assert abs(layer_lat - (post["lat"] + dlat)) < 1e-9  # no tiles: WGS-84 as is
    # the unit stands 44 m from a post: its nearest post counts it as present (map status, at most every 5 s)
    page.wait_for_function("(cs) => [...window.anbao.store.posts.values()].some((p) => p.props.present >= 1"
                           " && (p.props.units || []).includes(cs))", arg=unit["call_sign"], timeout=8000)
    # the unit's row shows its fix; clicking it centres the map and opens the card with the call sign
    row = page.locator(f"#units-panel tr[data-unit='{unit['id']}']")
    page.wait_for_function("(id) => !document.querySelector(`#units-panel tr[data-unit='${id}']`)"
                           ".textContent.includes('无定位')", arg=unit["id"], timeout=3000)  # redrawn within 1 s
    row.click()
    page.wait_for_selector(".leaflet-tooltip.unit-tip", timeout=3000)
    card = page.inner_text(".leaflet-tooltip.unit-tip")
    assert unit["call_sign"] in card and "待命" in card and "精度 6 米" in card
    centre = page.evaluate("(() => { const c = window.anbao.mapView.map.getCenter(); return [c.lat, c.lng]; })()")
    assert abs(centre[0] - (post["lat"] + 0.0004)) < 1e-5 and abs(centre[1] - post["lon"]) < 1e-5  # a pixel
    # hovering the dot finds it too (and the empty map shows nothing)
    box = page.locator("#map").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.5)
    page.wait_for_selector(".leaflet-tooltip.unit-tip", state="detached", timeout=2000)
    point = page.evaluate("(id) => { const u = window.anbao.mapView.units; const i = u.ids.indexOf(id);"
                          " const p = u.view.map.latLngToContainerPoint([u.layer.lat[i], u.layer.lng[i]]);"
                          " return [p.x, p.y]; }", unit["id"])
    page.mouse.move(box["x"] + point[0] + 2, box["y"] + point[1] + 1)
    page.wait_for_selector(".leaflet-tooltip.unit-tip", timeout=2000)
    assert unit["call_sign"] in page.inner_text(".leaflet-tooltip.unit-tip")
    watch.check()
