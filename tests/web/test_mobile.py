"""The mobile police terminal 移动警务终端 at /m/ in Debian's chromium, on a phone viewport, against a real
server holding the demo event (the ``served`` and ``browser`` fixtures of tests/web/conftest.py).

An officer logs in and picks his unit; the network goes away (``context.set_offline``), the app opens again
from its service worker, he reports an incident with a camera photo: it waits on the phone (待发送 1) and
is not on the server; the network comes back and within seconds the server holds exactly one report with
the photo, and the command map at / lists it. Task status changes from the phone, an expired login with
work waiting, a refused change (409) shown to the officer, form checks, and the message catalogs are
tested too. ``UPDATE_SCREENSHOTS=1`` writes docs/img/mobile.png.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.web.conftest import DEMO_PASSWORD, DEMO_USER, GATEWAY_USER, PASSWORD, PageWatch, Served

ROOT = Path(__file__).resolve().parents[2]
M = ROOT / "src" / "anbao" / "web" / "m"
OFFICER = "officer-m"
UNIT = "Z-01"  # 治安1组, in 内场执勤组 (D-FLOOR): zones FLOOR-A … TRACK
VENUE = {"longitude": 120.2290, "latitude": 30.2300, "accuracy": 8}  # 内场通道, inside the demo stadium
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
    "locale": "zh-CN", "timezone_id": "Asia/Shanghai", "geolocation": VENUE, "permissions": ["geolocation"],
    "bypass_csp": True,  # the test's own string predicates run in the page (tests/web/test_csp.py enforces the CSP)
}
#: console noise of a browser that is offline on purpose, or of a login that expired on purpose
NETWORK_NOISE = ("net::ERR_INTERNET_DISCONNECTED", "Failed to load resource", "ERR_NAME_NOT_RESOLVED",
                 "WebSocket connection to", "Failed to fetch")


def api(served: Served, token: str, method: str, path: str, **kw: Any) -> httpx.Response:
    return httpx.request(method, f"{served.url}/api/v1/events/{served.event_id}{path}",
                         headers={"Authorization": f"Bearer {token}"}, timeout=10, **kw)


@dataclass
class Phone:
    """One phone: a browser context with the app open, its page errors collected (the tests fail on them)."""

    served: Served
    context: Any
    page: Any
    errors: list[str] = field(default_factory=list)

    def login(self, username: str = OFFICER, password: str = PASSWORD) -> None:
        page = self.page
        page.wait_for_selector("body.needs-login #login-form", timeout=10000)
        page.fill("#login-form input[name=username]", username)
        page.fill("#login-form input[name=password]", password)
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("body:not(.needs-login)", state="attached", timeout=10000)

    def ready(self) -> None:
        self.page.wait_for_selector("body[data-ready='1']", state="attached", timeout=15000)

    def waiting(self) -> int:
        return int(self.page.evaluate("window.anbao.outbox.waiting"))

    def dismiss(self) -> None:
        """Close the notice at the top (a new task, a warning, a refusal) if one shows."""
        if self.page.locator("#notice").is_visible():
            self.page.click("#notice .x")

    def tab(self, name: str) -> None:
        self.dismiss()
        self.page.click(f"#tabs [data-tab={name}]")
        self.page.wait_for_selector(f"#screen-{name}:not([hidden])")


@pytest.fixture(scope="module")
def officer(served: Served, unit: dict[str, Any]) -> str:
    """The officer's login, linked to its unit: an officer acts on its own unit's tasks (docs/security.md)."""
    admin = {"Authorization": f"Bearer {served.token('admin-test')}"}
    r = httpx.post(f"{served.url}/api/v1/users", headers=admin,
                   json={"username": OFFICER, "password": PASSWORD, "role": "officer", "display_name": "张警官"})
    assert r.status_code == 201, r.text
    r = httpx.put(f"{served.url}/api/v1/users/{r.json()['id']}/units/{unit['id']}", headers=admin)
    assert r.status_code == 200, r.text
    return OFFICER


@pytest.fixture(scope="module")
def commander(served: Served) -> str:
    return served.token(DEMO_USER, DEMO_PASSWORD)


@pytest.fixture(scope="module")
def unit(served: Served, commander: str) -> dict[str, Any]:
    units = api(served, commander, "GET", "/units", params={"limit": 5000}).json()
    return next(u for u in units if u["code"] == UNIT)


@pytest.fixture(scope="module")
def phone(browser: Any, served: Served, officer: str, unit: dict[str, Any]) -> Iterator[Phone]:
    """Logged in as the officer, unit picked, the service worker in control (shared by the tests below)."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    p = Phone(served=served, context=context, page=page)
    page.on("pageerror", lambda e: p.errors.append(f"page error: {e}"))
    page.on("console", lambda m: p.errors.append(f"console {m.type}: {m.text}")
            if m.type == "error" and not any(n in m.text for n in NETWORK_NOISE) else None)
    page.goto(served.url + "/m/")
    p.login()
    p.ready()
    page.wait_for_selector("#screen-unit:not([hidden])")
    # the picker offers only the unit the login is linked to (the demo has 43)
    from playwright.sync_api import expect

    picker = page.locator("#unit-list button.unit")
    expect(picker).to_have_count(1, timeout=10000)
    assert picker.get_attribute("data-code") == UNIT
    page.fill("#unit-search", UNIT)
    page.click(f"#unit-list button[data-code='{UNIT}']")
    page.wait_for_selector("#screen-tasks:not([hidden])")
    assert UNIT in page.inner_text("#unit-label")
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=10000)
    yield p
    context.close()


@pytest.fixture(autouse=True)
def _no_page_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "phone" in request.fixturenames:
        p: Phone = request.getfixturevalue("phone")
        errors, p.errors[:] = list(p.errors), []
        assert errors == []


def _jpeg(page: Any) -> bytes:
    """A small JPEG drawn by the browser (a stand-in for the camera)."""
    b64 = page.evaluate("""() => {
        const c = document.createElement("canvas"); c.width = 800; c.height = 600;
        const g = c.getContext("2d"); g.fillStyle = "#7a2430"; g.fillRect(0, 0, 800, 600);
        g.fillStyle = "#f5c518"; g.fillRect(250, 200, 300, 200);
        return c.toDataURL("image/jpeg", 0.9).split(",")[1]; }""")
    return base64.b64decode(b64)


def _incidents(served: Served, token: str, text: str) -> list[dict[str, Any]]:
    return [i for i in api(served, token, "GET", "/incidents", params={"limit": 5000}).json() if i["text"] == text]


def _new_task(served: Served, token: str, unit: dict[str, Any], title: str, zone_code: str = "FLOOR-B",
              detail: str = "暂停B区入场，引导观众向C区、D区分流") -> dict[str, Any]:
    zones = api(served, token, "GET", "/zones", params={"limit": 5000}).json()
    zone = next(z for z in zones if z["code"] == zone_code)
    r = api(served, token, "POST", "/tasks", json={"title": title, "detail": detail,
                                                    "command_node_id": unit["command_node_id"], "zone_id": zone["id"],
                                                    "due_min": 10})
    assert r.status_code == 201, r.text
    return r.json()


def _wait(predicate: Any, timeout: float, what: str) -> float:
    """Poll ``predicate`` until true; returns the seconds it took."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - started


# ---------------------------------------------------------------------------------------------- tests


def test_offline_report_with_photo_is_sent_once_when_back_online(phone: Phone, served: Served, commander: str,
                                                                   unit: dict[str, Any], browser: Any) -> None:
    page = phone.page
    photo = _jpeg(page)
    text = f"3号看台入口处发现无人认领黑色双肩包 {time.time_ns()}"

    phone.context.set_offline(True)
    page.reload()  # the app opens without network: the shell from the service worker, data from IndexedDB
    phone.ready()
    assert page.evaluate("navigator.onLine") is False
    assert "无网络" in page.inner_text("#banner")
    assert UNIT in page.inner_text("#unit-label")
    assert page.evaluate("caches.keys().then((k) => k.some((n) => n.startsWith('anbao-m-')))")
    assert page.evaluate("caches.match('/js/live.js').then((r) => Boolean(r))")

    phone.tab("report")
    page.click("#type-grid [data-type=suspicious_item]")
    page.fill("#report-form textarea[name=text]", text)
    page.set_input_files("#photo-input", files=[{"name": "scene.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    page.wait_for_selector("#photo-preview:not([hidden])")
    page.wait_for_function("document.querySelector('#gps-text .zone')?.textContent === '内场通道'", timeout=5000)
    page.click("#report-form button[type=submit]")
    page.wait_for_function("document.querySelector('#outbox-badge').textContent === '待发送 1'", timeout=5000)
    assert "恢复网络后自动发送" in page.inner_text("#report-msg")
    assert "待发送" in page.inner_text("#report-list .rep.pending")
    time.sleep(1.5)  # the sender keeps trying while offline: still nothing may reach the server
    assert _incidents(served, commander, text) == []
    assert phone.waiting() == 1

    phone.context.set_offline(False)
    online = time.monotonic()
    stored = _wait(lambda: bool(_incidents(served, commander, text)), 10, "the report on the server")
    page.wait_for_function("window.anbao.outbox.waiting === 0", timeout=10000)
    cleared = time.monotonic() - online
    page.wait_for_selector("#outbox-badge", state="hidden")
    print(f"\nback online -> report stored on the server: {stored:.2f} s; outbox empty on the phone: {cleared:.2f} s")

    found = _incidents(served, commander, text)
    assert len(found) == 1, found
    inc = found[0]
    assert inc["type"] == "suspicious_item" and inc["has_photo"] is True and inc["unit_id"] == unit["id"]
    assert abs(inc["lon"] - VENUE["longitude"]) < 1e-6 and abs(inc["lat"] - VENUE["latitude"]) < 1e-6
    assert inc["accuracy_m"] == 8 and inc["zone_id"] is not None and inc["reported_by"].endswith(OFFICER)
    r = api(served, commander, "GET", f"/incidents/{inc['id']}/photo")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg" and r.content[:2] == b"\xff\xd8"
    # the same client_key again (a phone that lost the answer and retries) is the same report
    officer = served.token(OFFICER)
    again = api(served, officer, "POST", "/incidents",
                json={"client_key": inc["client_key"], "type": "可疑物品", "text": text})
    assert again.status_code == 200 and again.json()["id"] == inc["id"]
    assert len(_incidents(served, commander, text)) == 1
    page.wait_for_selector(f"#report-list .rep.sent[data-id='{inc['id']}']", timeout=5000)

    # the command map at / lists it
    desk = PageWatch(browser, served)
    try:
        desk.login()
        desk.page.wait_for_function("(t) => document.querySelector('#incidents').textContent.includes(t)", arg=text,
                                    timeout=5000)
        desk.check()
    finally:
        desk.close()


def test_task_from_the_command_post_accepted_and_finished_on_the_phone(phone: Phone, served: Served, commander: str,
                                                                       unit: dict[str, Any]) -> None:
    page = phone.page
    phone.tab("tasks")
    task = _new_task(served, commander, unit, "内场B区人群密度升高，立即前往疏导")
    card = f"#task-list article[data-id='{task['id']}']"
    page.wait_for_selector(card, timeout=5000)  # pushed live
    assert "新任务" in page.inner_text("#notice")
    assert page.inner_text(f"{card} .tchip") == "待接收"
    page.click(f"{card} button[data-step=accepted]")
    took = _wait(lambda: api(served, commander, "GET", f"/tasks/{task['id']}").json()["status"] == "accepted", 5,
                 "the task accepted on the server")
    print(f"\naccept tapped -> accepted on the server: {took:.2f} s")
    page.wait_for_function(f"document.querySelector(\"{card} .tchip\").textContent === '已接收'", timeout=5000)
    # the one who acted is named as the screens name people (张警官), not by a login or "system:simulator"
    page.wait_for_function(f"document.querySelector(\"{card}\").textContent.includes('最后处理：张警官')",
                           timeout=5000)

    # a note being typed survives a live update that re-draws the list
    page.fill(f"{card} input.note", "已到达B区入口，正在疏导")
    other = _new_task(served, commander, unit, "内场C区通道保持畅通", zone_code="FLOOR-C")
    page.wait_for_selector(f"#task-list article[data-id='{other['id']}']", timeout=5000)
    assert page.input_value(f"{card} input.note") == "已到达B区入口，正在疏导"

    # arrived while offline: it waits on the phone, shows as waiting, and is sent when the network is back
    phone.context.set_offline(True)
    page.click(f"{card} button[data-step=arrived]")
    page.wait_for_selector(f"{card} .tag.wait")
    assert page.inner_text("#outbox-badge") == "待发送 1"
    assert api(served, commander, "GET", f"/tasks/{task['id']}").json()["status"] == "accepted"
    phone.context.set_offline(False)
    _wait(lambda: api(served, commander, "GET", f"/tasks/{task['id']}").json()["status"] == "arrived", 10,
          "the task arrived on the server")
    assert api(served, commander, "GET", f"/tasks/{task['id']}").json()["note"] == "已到达B区入口，正在疏导"
    page.click(f"{card} button[data-step=done]")
    _wait(lambda: api(served, commander, "GET", f"/tasks/{task['id']}").json()["status"] == "done", 5, "done")
    page.wait_for_selector(f"{card}.final")


def test_refused_change_is_shown_and_kept(phone: Phone, served: Served, commander: str, unit: dict[str, Any]) -> None:
    """A task cancelled at the command post while the phone was offline: the queued 接收 gets 409, shown."""
    page = phone.page
    phone.tab("tasks")
    task = _new_task(served, commander, unit, "核查内场通道可疑人员")
    card = f"#task-list article[data-id='{task['id']}']"
    page.wait_for_selector(card, timeout=5000)
    phone.context.set_offline(True)
    page.click(f"{card} button[data-step=accepted]")
    r = api(served, commander, "POST", f"/tasks/{task['id']}/status",
            json={"status": "cancelled", "note": "已由特警处置"})
    assert r.status_code == 200, r.text
    phone.context.set_offline(False)
    page.wait_for_selector("#notice.bad", timeout=10000)
    assert "服务器拒绝了任务状态变更（409）" in page.inner_text("#notice")
    page.wait_for_function("document.querySelector('#outbox-badge').textContent.includes('失败 1')")
    phone.tab("me")
    assert "409" in page.inner_text("#failed-list")
    page.once("dialog", lambda d: d.accept())
    page.click("#failed-list button:has-text('删除')")
    page.wait_for_selector("#outbox-badge", state="hidden")
    assert api(served, commander, "GET", f"/tasks/{task['id']}").json()["status"] == "cancelled"


def _serve_on(app: Any, port: int) -> tuple[Any, threading.Thread]:
    """uvicorn in a thread on ``port`` (the same origin again: service worker, IndexedDB and login are per origin)."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical",
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, name=f"mobile-test-server-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail(f"the server did not start on port {port}")
        time.sleep(0.05)
    return server, thread


def test_app_opens_with_the_server_gone_and_sends_when_it_is_back(browser: Any, served: Served, officer: str,
                                                                  commander: str) -> None:
    """No browser emulation here: the server really stops. The shell comes from the service worker's cache,
    the data from IndexedDB; the report waits and the outbox's retry delivers it once the server is back."""
    from anbao.app import create_app
    from tests.web.conftest import start_server, stop_server

    url, server, thread = start_server(create_app(served.settings))
    port = int(url.rsplit(":", 1)[1])
    context = browser.new_context(**PHONE)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
        p = Phone(served=served, context=context, page=page)
        page.goto(url + "/m/")
        p.login()
        p.ready()
        page.click(f"#unit-list button[data-code='{UNIT}']")
        page.wait_for_selector("#screen-tasks:not([hidden])")
        page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=10000)
        stop_server(server, thread)

        page.reload()
        p.ready()
        assert "手机上保存的数据" in page.inner_text("#banner")
        assert UNIT in page.inner_text("#unit-label")
        text = f"服务器停机期间上报：南广场有人晕倒 {time.time_ns()}"
        p.tab("report")
        page.click("#type-grid [data-type=medical]")
        page.fill("#report-form textarea[name=text]", text)
        page.click("#report-form button[type=submit]")
        page.wait_for_function("document.querySelector('#outbox-badge').textContent === '待发送 1'")
        page.wait_for_function("window.anbao.outbox.state === 'retry'", timeout=5000)
        assert _incidents(served, commander, text) == []

        server, thread = _serve_on(create_app(served.settings), port)
        took = _wait(lambda: bool(_incidents(served, commander, text)), 20, "the report after the server came back")
        print(f"\nserver back -> report stored by the outbox's retry: {took:.2f} s")
        page.wait_for_function("window.anbao.outbox.waiting === 0", timeout=5000)
        assert len(_incidents(served, commander, text)) == 1
        assert errors == []
    finally:
        context.close()
        stop_server(server, thread)


def test_reports_and_task_changes_go_before_positions(phone: Phone) -> None:
    order = phone.page.evaluate("""() => import('/m/js/outbox.js').then((m) => m.sendingOrder([
        {seq: 1, kind: "position"}, {seq: 2, kind: "position"}, {seq: 3, kind: "incident"},
        {seq: 4, kind: "task"}, {seq: 5, kind: "position"}, {seq: 6, kind: "incident"}]).map((i) => i.seq))""")
    assert order == [3, 4, 6, 1, 2, 5]


def test_form_checks_explain_in_chinese(phone: Phone) -> None:
    page = phone.page
    phone.tab("report")
    page.fill("#report-form textarea[name=text]", "")
    page.click("#report-form button[type=submit]")
    assert page.inner_text(".field-msg[data-for=type]") == "请选择警情类型"
    assert page.inner_text(".field-msg[data-for=text]") == "请填写现场情况（至少 2 个字）"
    assert page.inner_text("#report-msg") == "请按提示补全后再上报"
    page.set_input_files("#photo-input",
                         files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a photo"}])
    page.wait_for_function("document.querySelector('.field-msg[data-for=photo]').textContent.startsWith('无法读取该文件')")
    assert phone.waiting() == 0


def test_expired_login_keeps_the_outbox_and_sends_after_login(phone: Phone, served: Served, commander: str) -> None:
    page = phone.page
    text = f"西侧通道一名儿童与家长走散 {time.time_ns()}"
    phone.context.set_offline(True)
    # the token dies while the phone is offline (revoked, or its 12 h ran out)
    page.evaluate("import('/js/api.js').then((m) => m.setToken('expired.token.value'))")
    phone.tab("report")
    page.click("#type-grid [data-type=lost_child]")
    page.fill("#report-form textarea[name=text]", text)
    page.click("#report-form button[type=submit]")
    page.wait_for_function("document.querySelector('#outbox-badge').textContent === '待发送 1'")
    phone.context.set_offline(False)
    page.wait_for_selector("body.needs-login", state="attached", timeout=10000)
    assert "登录已过期" in page.inner_text("#login-msg")
    assert "1 条内容待发送" in page.inner_text("#login-outbox")
    assert _incidents(served, commander, text) == []
    assert phone.waiting() == 1
    phone.login()
    _wait(lambda: len(_incidents(served, commander, text)) == 1, 10, "the report sent after the new login")
    page.wait_for_function("window.anbao.outbox.waiting === 0", timeout=5000)
    assert len(_incidents(served, commander, text)) == 1


def test_english_switch(phone: Phone) -> None:
    page = phone.page
    phone.tab("me")
    page.click("#me-card [data-lang=en]")
    page.wait_for_function("document.querySelector('#tabs [data-tab=report] span').textContent === 'Report'")
    assert page.evaluate("document.documentElement.lang") == "en"
    phone.tab("report")
    assert page.inner_text("#type-grid [data-type=fight]") == "Fight"
    phone.tab("me")
    page.click("#me-card [data-lang='zh-CN']")
    page.wait_for_function("document.querySelector('#tabs [data-tab=report] span').textContent === '上报'")


def test_share_position_every_n_seconds(phone: Phone, served: Served, commander: str, unit: dict[str, Any]) -> None:
    page = phone.page
    phone.tab("me")
    page.select_option("#share-interval", "5")
    page.check("#share-on")
    def shared() -> bool:
        return any(p["unit_id"] == unit["id"] for p in api(served, commander, "GET", "/unit-positions").json())

    took = _wait(shared, 5, "the unit's position on the server")
    print(f"\nsharing switched on -> position on the server: {took:.2f} s")
    pos = next(p for p in api(served, commander, "GET", "/unit-positions").json() if p["unit_id"] == unit["id"])
    assert abs(pos["lon"] - VENUE["longitude"]) < 1e-6 and pos["accuracy_m"] == 8
    page.uncheck("#share-on")
    assert page.evaluate("JSON.parse(localStorage.getItem('anbao.m.share'))") == {"on": False, "interval": 5}


def test_manifest_and_service_worker_are_served(served: Served) -> None:
    r = httpx.get(f"{served.url}/m/manifest.webmanifest")
    assert r.status_code == 200
    manifest = r.json()
    assert manifest["name"] == "安保移动警务" and manifest["scope"] == "/m/" and manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        assert httpx.get(served.url + icon["src"]).status_code == 200, icon
    sw = httpx.get(f"{served.url}/m/sw.js")
    assert sw.status_code == 200 and "javascript" in sw.headers["content-type"]
    shell = re.findall(r'^\s+"(/[^"]*)",$', sw.text, flags=re.M)
    assert "/m/" in shell and "/js/live.js" in shell
    for path in shell:  # the service worker's install fails as a whole when one of them is missing
        assert httpx.get(served.url + path).status_code == 200, path
    listed = {f"/m/js/{p.name}" for p in (M / "js").glob("*.js")}
    assert listed <= set(shell), listed - set(shell)


# ---------------------------------------------------------------------------------------------- screenshot


def test_screenshot(browser: Any, served: Served, officer: str, commander: str, unit: dict[str, Any],
                    tmp_path: Path) -> None:
    """Three screens of the app with demo data: tasks, report, warnings (a red density warning in 内场B区)."""
    zones = api(served, commander, "GET", "/zones", params={"limit": 5000}).json()
    devices = api(served, commander, "GET", "/devices", params={"limit": 5000}).json()
    floor_b = next(z for z in zones if z["code"] == "FLOOR-B")
    cam = next(d for d in devices if d["zone_id"] == floor_b["id"] and d["kind"] in ("camera", "video_count"))
    gw = served.token(GATEWAY_USER, PASSWORD)
    at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    r = httpx.post(f"{served.url}/api/v1/events/{served.event_id}/readings", headers={"Authorization": f"Bearer {gw}"},
                   json=[{"sensor": cam["code"], "at": at, "value": round(floor_b["area_m2"] * 5.3)}])
    assert r.status_code == 200, r.text
    _new_task(served, commander, unit, "内场B区红色预警：立即前往B区疏导，暂停B区入场")
    t2 = _new_task(served, commander, unit, "舞台前区隔离带增派 2 人", zone_code="PIT",
                   detail="从内场通道机动组抽调，加强隔离带左侧")
    api(served, commander, "POST", f"/tasks/{t2['id']}/status", json={"status": "accepted"})

    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        page.goto(served.url + "/m/")
        Phone(served, context, page).login()
        page.wait_for_selector("body[data-ready='1']", state="attached", timeout=15000)
        page.click(f"#unit-list button[data-code='{UNIT}']")
        page.wait_for_selector("#task-list article", timeout=5000)
        page.wait_for_function("window.anbao.model.myWarnings().length > 0", timeout=5000)
        shots = []
        for name in ("tasks", "report", "warnings"):
            page.click(f"#tabs [data-tab={name}]")
            if name == "report":
                page.click("#type-grid [data-type=crowd]")
                page.fill("#report-form textarea[name=text]", "B区入口人员拥挤，有人摔倒，已组织后排观众暂停前行")
                page.wait_for_selector("#gps-text .zone", timeout=5000)
            page.wait_for_timeout(300)
            path = tmp_path / f"{name}.png"
            page.screenshot(path=str(path))
            shots.append(path)
        board = context.new_page()
        imgs = "".join(f'<img src="data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()}">' for p in shots)
        board.set_viewport_size({"width": 3 * 390 + 4 * 16, "height": 844 + 32})
        style = "img{width:390px;height:844px;border-radius:14px;box-shadow:0 0 0 1px #20364d}"
        board.set_content(f'<body style="margin:0;padding:16px;display:flex;gap:16px;background:#050b12">'
                          f'<style>{style}</style>{imgs}</body>')
        out = tmp_path / "mobile.png"
        board.screenshot(path=str(out))
        assert out.stat().st_size > 50_000
        if os.environ.get("UPDATE_SCREENSHOTS") == "1":
            shutil.copy(out, ROOT / "docs" / "img" / "mobile.png")
    finally:
        context.close()


# ---------------------------------------------------------------------------------------------- catalogs

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
CATALOGS = {name: json.loads((M / "i18n" / f"{name}.json").read_text(encoding="utf-8")) for name in ("zh-CN", "en")}
SOURCES = [p for p in M.rglob("*") if p.suffix in (".js", ".html")]


def _strip_js_comments(js: str) -> str:
    from tests.web.test_i18n import _without_comments

    return _without_comments(js)


def test_mobile_catalogs_have_the_same_keys_and_placeholders() -> None:
    zh, en = CATALOGS["zh-CN"], CATALOGS["en"]
    assert sorted(zh) == sorted(en)
    for key in zh:
        assert zh[key].strip() and en[key].strip(), key
        assert set(re.findall(r"\{(\w+)\}", zh[key])) == set(re.findall(r"\{(\w+)\}", en[key])), key
    assert not any(CJK.search(v) for v in en.values()), "Chinese in m/i18n/en.json"


def test_no_chinese_in_the_mobile_code_and_every_key_exists() -> None:
    found, keys = [], set()
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        keys |= set(re.findall(r"""\bt\(\s*["'](\w+\.[\w.]+)["']""", text))
        for pair in re.findall(r"""\?\s*["'](\w+\.[\w.]+)["']\s*:\s*["'](\w+\.[\w.]+)["']""", text):
            keys |= set(pair)
        keys |= set(re.findall(r'data-i18n(?:-[a-z]+)?="([\w.]+)"', text))
        if path.suffix == ".html":
            text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
            text = re.sub(r">(中|中文)</button>", "></button>", text)
        else:
            text = _strip_js_comments(text)
        found += [f"{path.relative_to(M)}:{n}: {line.strip()}" for n, line in enumerate(text.splitlines(), 1)
                  if CJK.search(line)]
    assert found == []
    assert len(keys) > 100
    assert sorted(keys - set(CATALOGS["zh-CN"])) == []
    families = {
        "tasks.do": ["accepted", "arrived", "done"],
        "tstatus": ["open", "accepted", "arrived", "done", "cancelled"],
        "itype": ["fight", "theft", "lost_child", "medical", "fire", "suspicious_item", "crowd", "traffic", "terror",
                  "equipment", "opinion", "other"],
        "istatus": ["new", "dispatched", "en_route", "on_scene", "resolved", "closed"],
        "gps": ["denied", "unavailable", "timeout", "unsupported"],
        "outbox.state": ["idle", "sending", "retry", "offline", "login"],
        "outbox.what": ["incident", "position", "task"],
        "conn": ["idle", "connecting", "live", "reconnecting", "offline", "refused", "nonet"],
        "level": ["none", "blue", "yellow", "orange", "red"],
        "wstatus": ["active", "acknowledged", "closed"],
        "login.reason": ["expired", "refused", "logout"],
    }
    for family, members in families.items():
        assert [m for m in members if f"{family}.{m}" not in CATALOGS["zh-CN"]] == [], family


def test_a_dispatch_reaches_the_phone_and_its_taps_move_the_incident(phone: Phone, served: Served, commander: str,
                                                                     unit: dict[str, Any]) -> None:
    """派警 from the command post: the officer's phone shows the 出警 task; 接收 and 到场 move the incident."""
    page = phone.page
    phone.tab("tasks")
    if api(served, commander, "GET", f"/units/{unit['id']}").json()["status"] != "available":
        pytest.skip("the unit is busy from an earlier test")
    post = api(served, commander, "GET", "/posts", params={"limit": 1}).json()[0]
    inc = api(served, commander, "POST", "/incidents", json={
        "client_key": f"phone-dispatch-{int(time.time() * 1000)}", "type": "走失儿童", "source": "群众报告",
        "text": "蓝衣女孩与家长走散", "lon": post["lon"], "lat": post["lat"]}).json()
    r = api(served, commander, "POST", f"/incidents/{inc['id']}/assignments", json={"unit_id": unit["id"]})
    assert r.status_code == 201, r.text
    task_id = r.json()["task_id"]
    card = f"#task-list article[data-id='{task_id}']"
    page.wait_for_selector(card, timeout=5000)  # pushed live to the phone
    assert "出警：走失儿童" in page.inner_text(card)
    page.click(f"{card} button[data-step=accepted]")
    _wait(lambda: api(served, commander, "GET", f"/incidents/{inc['id']}").json()["status"] == "en_route", 5,
          "the incident en route")
    page.click(f"{card} button[data-step=arrived]")
    _wait(lambda: api(served, commander, "GET", f"/incidents/{inc['id']}").json()["status"] == "on_scene", 5,
          "the incident on scene")
    # a reload lists the unit's task again (loaded by unit as well as by command node)
    page.reload()
    page.wait_for_selector(card, timeout=8000)
    page.click(f"{card} button[data-step=done]")
    _wait(lambda: api(served, commander, "GET", f"/units/{unit['id']}").json()["status"] == "available", 5,
          "the unit free again")


# ---------------------------------------------------------------------------------------------- issue 13 item 15


def test_task_card_shows_the_incident_its_photo_and_a_small_map(phone: Phone, served: Served, commander: str,
                                                                  unit: dict[str, Any]) -> None:
    """派警 with a photo: the card shows the incident's type, status and text, its photo, and a map of the zone
    with the incident's place, my unit's position and the straight line between them."""
    page = phone.page
    if api(served, commander, "GET", f"/units/{unit['id']}").json()["status"] != "available":
        pytest.skip("the unit is busy from an earlier test")
    phone.tab("report")  # the report screen asks the phone for its position (the maps use it)
    page.wait_for_selector("#gps-text .mono", timeout=5000)
    phone.tab("tasks")
    zones = api(served, commander, "GET", "/zones", params={"limit": 5000}).json()
    floor_b = next(z for z in zones if z["code"] == "FLOOR-B")
    ring = floor_b["geometry"]["coordinates"][0]
    lon, lat = sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)
    photo = "data:image/jpeg;base64," + base64.b64encode(_jpeg(page)).decode()
    inc = api(served, commander, "POST", "/incidents", json={
        "client_key": f"phone-card-{int(time.time() * 1000)}", "type": "fight", "source": "群众报告",
        "text": "B区两名观众推搡，一人轻伤", "lon": lon, "lat": lat, "photo": photo}).json()
    r = api(served, commander, "POST", f"/incidents/{inc['id']}/assignments", json={"unit_id": unit["id"]})
    assert r.status_code == 201, r.text
    task_id = r.json()["task_id"]
    card = f"#task-list article[data-id='{task_id}']"
    page.wait_for_selector(f"{card} .task-inc[data-incident='{inc['id']}']", timeout=5000)
    block = page.inner_text(f"{card} .task-inc")
    assert "打架斗殴" in block and "B区两名观众推搡，一人轻伤" in block
    # the photo, fetched with the login's token (an <img src> of the API would be refused)
    page.wait_for_function(f"document.querySelector(\"{card} .task-photo img\")?.naturalWidth === 800", timeout=5000)
    # the map: the task's zone, the incident's place and my unit (VENUE, in 内场通道) with the straight line
    assert page.locator(f"{card} .tmap svg .tm-target").count() == 1
    assert page.locator(f"{card} .tmap svg .tm-inc").count() == 1
    assert page.locator(f"{card} .tmap svg .tm-me").count() == 1
    assert page.locator(f"{card} .tmap svg .tm-line").count() == 1
    assert page.locator(f"{card} .tmap svg .tm-zone").count() >= 3  # the zones around, for orientation
    metres = int(page.get_attribute(f"{card} .tmap .lg-dist", "data-m") or "0")
    expected = math.hypot((VENUE["longitude"] - lon) * 111_320 * math.cos(math.radians(lat)),
                          (VENUE["latitude"] - lat) * 110_574)
    assert abs(metres - expected) <= 0.02 * expected + 1
    legend = page.inner_text(f"{card} .tmap-legend")
    assert "内场站席B区" in legend and "本单元位置" in legend and "直线约" in legend
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        page.locator(card).scroll_into_view_if_needed()
        page.screenshot(path=str(ROOT / "docs" / "img" / "mobile-task.png"))
    for step in ("accepted", "arrived", "done"):  # the unit is free again for the tests after
        page.click(f"{card} button[data-step={step}]")
    _wait(lambda: api(served, commander, "GET", f"/units/{unit['id']}").json()["status"] == "available", 5,
          "the unit free again")


def test_a_unit_without_zones_sees_the_events_warnings(browser: Any, served: Served, commander: str) -> None:
    """A unit in no command node (or in one without zones) gets the whole event's warnings (it saw none)."""
    code = f"NZ-{int(time.time()) % 100000}"
    r = api(served, commander, "POST", "/units", json={"code": code, "name": "机动无责任区组", "call_sign": code,
                                                        "police_type": "public_order"})
    assert r.status_code == 201, r.text
    zones = api(served, commander, "GET", "/zones", params={"limit": 5000}).json()
    devices = api(served, commander, "GET", "/devices", params={"limit": 5000}).json()
    zone = next(z for z in zones if z["code"] == "FLOOR-D")
    cam = next(d for d in devices if d["zone_id"] == zone["id"] and d["kind"] in ("camera", "video_count"))
    gw = served.token(GATEWAY_USER, PASSWORD)
    at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    r = httpx.post(f"{served.url}/api/v1/events/{served.event_id}/readings", headers={"Authorization": f"Bearer {gw}"},
                   json=[{"sensor": cam["code"], "at": at, "value": round(zone["area_m2"] * 5.5)}])
    assert r.status_code == 200, r.text
    _wait(lambda: any(w["zone_id"] == zone["id"] for w in
                      api(served, commander, "GET", "/warnings", params={"status": "open"}).json()), 10, "the warning")
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        page.goto(served.url + "/m/")
        Phone(served, context, page).login("cmd-test", PASSWORD)  # not linked to units: may pick any
        page.wait_for_selector("body[data-ready='1']", state="attached", timeout=15000)
        page.fill("#unit-search", code)
        page.click(f"#unit-list button[data-code='{code}']")
        page.wait_for_selector("#screen-tasks:not([hidden])")
        page.click("#tabs [data-tab=warnings]")
        page.wait_for_selector("#warning-list article.wcard", timeout=5000)
        assert page.inner_text("#warn-zones") == "本单元未划分责任区：显示全活动预警"
        assert "内场站席D区" in page.inner_text("#warning-list")
        assert page.is_visible("#badge-warnings")
    finally:
        context.close()


def test_report_status_lines_follow_the_fields_and_the_outbox(phone: Phone, served: Served, commander: str) -> None:
    """The form's line goes when the fields are fixed, and "saving, sending" becomes "sent as #id"."""
    page = phone.page
    phone.tab("report")
    page.fill("#report-form textarea[name=text]", "")
    page.click("#report-form button[type=submit]")
    assert page.inner_text("#report-msg") == "请按提示补全后再上报"
    page.click("#type-grid [data-type=crowd]")
    assert page.inner_text("#report-msg") == "请按提示补全后再上报"  # the text is still missing
    text = f"C区入口拥挤 {int(time.time() * 1000)}"
    page.fill("#report-form textarea[name=text]", text)
    assert page.inner_text("#report-msg") == ""  # every field fixed: the line is gone (it stayed)
    page.click("#report-form button[type=submit]")
    page.wait_for_function("document.querySelector('#report-msg').textContent.startsWith('已发送，警情编号 #')",
                           timeout=5000)
    stored = _incidents(served, commander, text)
    assert len(stored) == 1 and page.inner_text("#report-msg") == f"已发送，警情编号 #{stored[0]['id']}"
    phone.dismiss()
