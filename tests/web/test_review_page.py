"""The review page 复盘 at /review/ in Debian's chromium against a real server holding the demo event (issue 15):
the figures are the API's, the findings panel and the zone and device tables are drawn, the rules recompute,
the page switches language. ``UPDATE_SCREENSHOTS=1`` writes docs/img/review.png."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

from tests.web.conftest import DEMO_PASSWORD, DEMO_USER, PageWatch, Served

ROOT = Path(__file__).resolve().parents[2]


def test_review_page_shows_the_figures_and_findings_of_the_record(browser: Any, served: Served) -> None:
    token = served.token(DEMO_USER, DEMO_PASSWORD)
    api = httpx.get(f"{served.url}/api/v1/events/{served.event_id}/review",
                    headers={"Authorization": f"Bearer {token}"}, timeout=60).json()
    w = PageWatch(browser, served, size=(1920, 1080))
    try:
        w.login(path="/review/")
        page = w.page
        tiles = page.locator("#figures .rfig")
        assert tiles.count() == 6
        assert tiles.nth(1).locator("b").inner_text() == str(api["statistics"]["warnings"]["total"])
        assert page.locator("#zones tbody tr").count() == len(api["statistics"]["crowd"]["zones"])
        assert page.locator("#devices tbody tr").count() == len(api["statistics"]["devices"]["by_kind"])
        shown = page.locator("#findings .finding").count()
        assert shown == len(api["findings"])
        if not shown:
            assert page.locator("#findings .rempty").inner_text() == "按当前规则未发现问题"
        assert page.locator("#find-count").inner_text() == str(shown)
        assert page.locator(".app-name").inner_text() == "安保复盘"
        # the rules are sent with the request: a stricter rule is asked of the server
        with page.expect_request(lambda r: "/review?" in r.url and "zone_minutes=0" in r.url):
            page.fill("#rules input[name=zone_minutes]", "0")
            page.click("#rules button[type=submit]")
        with page.expect_download() as got:
            page.click("#summary")
        assert got.value.suggested_filename.endswith("-summary.docx")
        page.click(".lang [data-lang=en]")
        page.wait_for_function("document.querySelector('.app-name').textContent === 'After-action review'")
        assert page.locator("#figures .rfig .fig-label").first.inner_text() == "Peak on site"
        page.click(".lang [data-lang=zh-CN]")
        if os.environ.get("UPDATE_SCREENSHOTS") == "1":
            page.wait_for_timeout(300)
            page.screenshot(path=str(ROOT / "docs" / "img" / "review.png"))
        w.check()
    finally:
        w.close()
