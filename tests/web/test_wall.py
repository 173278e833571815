"""The wall 大屏 at /wall/ in Debian's chromium against a real server holding the demo event (issue 13 item 13).

Everything on the wall is sized by the screen (the root font is 1/60 of its height): at 3840 x 2160 no text is
smaller than 28 px, and the layout is the 1920 x 1080 one doubled. The wall has an incident panel, the police
strength by type and status with 在岗率, the event phase with its countdown, and labelled threshold lines on
the density ranking. ``UPDATE_SCREENSHOTS=1`` writes docs/img/wall.png and docs/img/wall-3840x2160.png.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.web.conftest import DEMO_PASSWORD, DEMO_USER, PageWatch, Served

ROOT = Path(__file__).resolve().parents[2]

#: the smallest text anywhere on the wall, in px, as a share of the screen height (0.8 rem, rem = height / 60)
SMALLEST = 0.8 / 60

#: the rendered size of every visible text on the page: font size x the CSS zoom of its ancestors (the map is
#: drawn as at 1080 lines and magnified), per element with its own text
TEXT_SIZES = """() => {
    const out = [];
    for (const node of document.querySelectorAll("body *")) {
        if (![...node.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim())) continue;
        const r = node.getBoundingClientRect();
        if (!r.width || !r.height || r.bottom < 0 || r.top > innerHeight) continue;
        if (r.right < 0 || r.left > innerWidth) continue;
        const st = getComputedStyle(node);
        if (st.visibility === "hidden" || st.display === "none" || Number(st.opacity) === 0) continue;
        let zoom = 1;
        for (let n = node; n && n.nodeType === 1; n = n.parentElement) zoom *= Number(getComputedStyle(n).zoom) || 1;
        out.push([parseFloat(st.fontSize) * zoom, node.className && String(node.className) || node.tagName,
                  node.textContent.trim().slice(0, 20)]);
    }
    return out;
}"""


@pytest.fixture(scope="module")
def commander(served: Served) -> str:
    return served.token(DEMO_USER, DEMO_PASSWORD)


def _api(served: Served, token: str, method: str, path: str, **kw: Any) -> httpx.Response:
    return httpx.request(method, f"{served.url}/api/v1/events/{served.event_id}{path}",
                         headers={"Authorization": f"Bearer {token}"}, timeout=10, **kw)


@pytest.fixture(scope="module")
def incident(served: Served, commander: str) -> dict[str, Any]:
    """An open incident (待处置) the wall lists."""
    post = _api(served, commander, "GET", "/posts", params={"limit": 1}).json()[0]
    r = _api(served, commander, "POST", "/incidents", json={
        "client_key": f"wall-{int(time.time() * 1000)}", "type": "走失儿童", "source": "群众报告",
        "text": "大屏测试：红衣男孩与家长走散", "lon": post["lon"], "lat": post["lat"]})
    assert r.status_code == 201, r.text
    return r.json()


def _wall(browser: Any, served: Served, size: tuple[int, int]) -> Iterator[PageWatch]:
    w = PageWatch(browser, served, size=size)
    try:
        w.login(path="/wall/")
        w.page.wait_for_selector("#conn[data-state='live']", timeout=5000)
        yield w
        w.check()
    finally:
        w.close()


@pytest.fixture(scope="module")
def wall4k(browser: Any, served: Served, incident: dict[str, Any]) -> Iterator[PageWatch]:
    yield from _wall(browser, served, (3840, 2160))


@pytest.fixture(scope="module")
def wall1080(browser: Any, served: Served, incident: dict[str, Any]) -> Iterator[PageWatch]:
    yield from _wall(browser, served, (1920, 1080))


def _smallest(page: Any) -> tuple[float, str, str]:
    sizes = page.evaluate(TEXT_SIZES)
    assert len(sizes) > 50
    return min((tuple(s) for s in sizes), key=lambda s: s[0])


@pytest.mark.parametrize("height", [1080, 2160])
def test_no_text_smaller_than_the_rule(height: int, wall4k: PageWatch, wall1080: PageWatch) -> None:
    page = (wall4k if height == 2160 else wall1080).page
    size, where, text = _smallest(page)
    assert size >= SMALLEST * height - 0.5, f"{size:.1f} px at {height} lines: {where} {text!r}"
    # the zone labels of the map grow with the screen as well (14 px at 1080 lines, 28 px at 2160)
    label = page.evaluate("""() => { const n = document.querySelector('.zlabel b, .zlabel');
        return n.getBoundingClientRect().height; }""")
    assert label >= 14 * height / 1080 - 1
    # the charts' text too (ECharts draws on a canvas: its option says)
    fs = page.evaluate("""() => { const o = window.anbao.charts.bars.getOption();
        return [o.yAxis[0].axisLabel.fontSize, ...o.series[0].markLine.data.map((d) => d.label.fontSize)]; }""")
    assert min(fs) >= SMALLEST * height - 0.5, fs


def test_4k_is_the_1080_layout_doubled(wall4k: PageWatch, wall1080: PageWatch) -> None:
    boxes = """() => ['.wall-head', '.tiles', '.wall-map', '.wall-warnings', '.wall-incidents', '.wall-strength',
        '.wall-trend', '.wall-busiest'].map((s) => { const r = document.querySelector(s).getBoundingClientRect();
        return [s, r.left, r.top, r.width, r.height]; })"""
    small, big = wall1080.page.evaluate(boxes), wall4k.page.evaluate(boxes)
    for a, b in zip(small, big, strict=True):
        assert all(abs(2 * x - y) <= 3 for x, y in zip(a[1:], b[1:], strict=True)), (a, b)
    # the map shows the same extent: its zoom level is the same, its pixels magnified
    zooms = [w.page.evaluate("window.anbao.mapView.map.getZoom()") for w in (wall1080, wall4k)]
    assert zooms[0] == zooms[1]


def test_incident_panel_lists_the_open_incidents(wall4k: PageWatch, incident: dict[str, Any]) -> None:
    page = wall4k.page
    row = f"#incidents li.inc[data-id='{incident['id']}']"
    page.wait_for_selector(row, timeout=5000)
    assert "大屏测试：红衣男孩与家长走散" in page.inner_text(row)
    assert "走失儿童" in page.inner_text(row) and "待处置" in page.inner_text(row)
    assert re.fullmatch(r"处置中 \d+ · 共 \d+|共 \d+ 条，显示 \d+ 条", page.inner_text("#inc-count"))


def test_police_strength_by_type_and_status_with_the_on_duty_rate(wall4k: PageWatch, served: Served,
                                                                  commander: str) -> None:
    page = wall4k.page
    units = _api(served, commander, "GET", "/units", params={"limit": 5000}).json()
    on = sum(u["status"] != "off_duty" for u in units)
    rate = f"在岗率 {round(100 * on / len(units))}% ({on}/{len(units)})"
    assert page.inner_text("#on-duty").replace("\n", "") == rate
    head = page.locator("#strength thead th").all_inner_texts()
    assert head == ["警种", "待命", "已派", "处置中", "休整", "合计"]
    rows = {r[0]: r[1:] for r in page.evaluate(
        "() => [...document.querySelectorAll('#strength tbody tr')]"
        ".map((tr) => [...tr.cells].map((c) => c.textContent))")}
    public_order = [u for u in units if u["police_type"] == "public_order"]
    assert rows["治安"][-1] == str(len(public_order))
    assert rows["治安"][0] == str(sum(u["status"] == "available" for u in public_order))
    foot = page.locator("#strength tfoot td").all_inner_texts()
    assert foot[0] == "合计" and foot[-1] == str(len(units))


def test_event_phase_and_countdown(wall4k: PageWatch) -> None:
    page = wall4k.page
    # the rule (js/wallpanels.js): 入场 from 2 h before a session, 演出 to its end, 散场 for 1 h after
    phases = page.evaluate("""async () => {
        const {eventPhase, countdown} = await import('/js/wallpanels.js');
        const s = [{label: '第一场', start: '2026-12-19T11:30:00Z', end: '2026-12-19T14:30:00Z'},
                   {label: '第二场', start: '2026-12-20T11:30:00Z', end: '2026-12-20T14:30:00Z'}];
        const at = (iso) => { const p = eventPhase(s, Date.parse(iso));
            return [p.phase, p.session && p.session.label, p.target && new Date(p.target).toISOString()]; };
        return {idle: at('2026-12-19T08:00:00Z'), entry: at('2026-12-19T10:00:00Z'),
                show: at('2026-12-19T12:00:00Z'), egress: at('2026-12-19T15:00:00Z'),
                between: at('2026-12-19T16:00:00Z'), over: at('2026-12-20T16:00:00Z'),
                none: eventPhase([], 0).phase, cd: [countdown(3723e3), countdown(2 * 86400e3 + 3723e3)]};
    }""")
    assert phases["idle"] == ["idle", "第一场", "2026-12-19T09:30:00.000Z"]
    assert phases["entry"] == ["entry", "第一场", "2026-12-19T11:30:00.000Z"]
    assert phases["show"] == ["show", "第一场", "2026-12-19T14:30:00.000Z"]
    assert phases["egress"] == ["egress", "第一场", "2026-12-19T14:30:00.000Z"]
    assert phases["between"] == ["idle", "第二场", "2026-12-20T09:30:00.000Z"]
    assert phases["over"] == ["over", "第二场", None] and phases["none"] == "none"
    assert phases["cd"] == ["01:02:03", "2天 01:02"]
    # the tile shows the phase of now
    tile = page.locator("#phase")
    now = page.evaluate("async () => (await import('/js/wallpanels.js'))"
                        ".eventPhase(window.anbao.store.event.sessions).phase")
    assert tile.get_attribute("data-phase") == now
    names = {"none": "未设场次", "idle": "未开始", "entry": "入场", "show": "演出", "egress": "散场", "over": "已结束"}
    assert page.inner_text("#ph-name") == names[now]
    # half an hour before the first session: 入场, 00:30:00 to go, the show starts at 19:30 Beijing time
    shown = page.evaluate("""async () => {
        const {renderPhase} = await import('/js/wallpanels.js');
        const ev = {sessions: [{label: '第一场', start: '2026-12-19T11:30:00Z', end: '2026-12-19T14:30:00Z'}]};
        renderPhase(document.querySelector('#phase'), ev, Date.parse('2026-12-19T11:00:00Z'));
        return ['#ph-name', '#ph-count', '#ph-next', '#ph-session'].map((s) => document.querySelector(s).textContent);
    }""")
    assert shown == ["入场", "00:30:00", "距 19:30 开演", "第一场 19:30–22:30"]


def test_ranking_threshold_lines_are_labelled(wall4k: PageWatch) -> None:
    labels = wall4k.page.evaluate("""() => window.anbao.charts.bars.getOption().series[0].markLine.data
        .map((d) => [d.xAxis, d.label.show, d.label.formatter])""")
    assert labels == [[2, True, "蓝色 2.0"], [3, True, "黄色 3.0"], [4, True, "橙色 4.0"], [5, True, "红色 5.0"]]


def test_screenshots(wall4k: PageWatch, wall1080: PageWatch, tmp_path: Path) -> None:
    for w, name in ((wall1080, "wall.png"), (wall4k, "wall-3840x2160.png")):
        w.page.mouse.move(0, 0)  # no tooltip under the pointer
        path = tmp_path / name
        w.page.screenshot(path=str(path))
        assert path.stat().st_size > 100_000
        if os.environ.get("UPDATE_SCREENSHOTS") == "1":
            (ROOT / "docs" / "img" / name).write_bytes(path.read_bytes())
