"""事前规划 at /plan/ in Debian's chromium against a real server holding the demo event: a score entered in
the risk drawer lands in its matrix cell; a plan made from a template keeps a section edit over a reload;
the regulation findings show under their articles; the venue's safe capacity is the API's; a macroscopic
evacuation started from the page comes back with a clearance time; a document downloads with the token."""

from __future__ import annotations

import re

import httpx

from tests.web.conftest import PASSWORD


def _api(served):
    h = {"Authorization": f"Bearer {served.token('cmd-test', PASSWORD)}"}
    return f"{served.url}/api/v1/events/{served.event_id}", h


def _open(watch, tab: str) -> None:
    watch.login(path=f"/plan/#{tab}")
    watch.page.wait_for_selector(f"#pane-{tab}:not([hidden])")


def test_a_score_from_the_drawer_form_is_counted_in_its_matrix_cell(watch, served):
    base, h = _api(served)
    r = httpx.post(f"{base}/risks", headers=h, json={"code": "T-HEAT", "name": "检票口闸机故障导致滞留",
                                                      "category": "设备/电力", "source": "活动固有"})
    assert r.status_code == 201, r.text
    matrix = httpx.get(f"{base}/risk-matrix", headers=h).json()
    before = matrix["counts"][3][1]  # likelihood 4 x impact 2
    level = matrix["rows"][3][1]
    page = watch.page
    _open(watch, "risk")
    cell = "#heat-view .hc[data-l='4'][data-i='2']"
    assert page.get_attribute(cell, "data-n") == str(before)
    assert page.get_attribute(cell, "data-level") == level
    page.click("table.risks tr[data-code='T-HEAT']")
    page.wait_for_selector("#risk-drawer:not([hidden]) .score-form")
    form = page.locator("#risk-drawer .score-form")
    # a score without a likelihood is refused; the message stands next to the field, in Chinese
    form.locator("input[name=expert]").fill("张工")
    form.locator("select[name=impact]").select_option("2")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#risk-drawer .score-form [data-field=likelihood].invalid")
    assert form.locator("[data-field=likelihood] .fmsg").inner_text() == "必填"
    watch.allowed.append("status of 422")
    form.locator("select[name=likelihood]").select_option("4")
    form.locator("button[type=submit]").click()
    page.wait_for_function("([sel, n]) => document.querySelector(sel)?.dataset.n === n", arg=[cell, str(before + 1)],
                           timeout=5000)
    assert page.inner_text(cell).strip() == str(before + 1)
    row = page.locator("table.risks tr[data-code='T-HEAT']")
    assert row.locator(".chip.rl").first.get_attribute("data-level") == level
    assert "张工" in page.inner_text("#risk-drawer table.scores")
    # the cell filters the register to its risks
    page.click(cell)
    codes = page.eval_on_selector_all("table.risks tbody tr[data-code]", "rows => rows.map((r) => r.dataset.code)")
    assert "T-HEAT" in codes and len(codes) == before + 1


def test_the_matrix_editor_explains_a_refused_matrix_then_saves_and_resets(watch, served):
    page = watch.page
    _open(watch, "risk")
    assert page.inner_text("#mx-kind") == "默认矩阵"
    page.click("#mx-edit")
    page.wait_for_selector("#mx-editor:not([hidden])")
    cell = "#mx-editor select[data-l='{}'][data-i='{}']"
    page.select_option(cell.format(1, 1), "high")  # higher than the worse cell likelihood 2 x impact 1 (low)
    page.click("#mx-editor button[type=submit]")
    page.wait_for_selector("#mx-editor [data-field=rows].invalid")
    watch.allowed.append("status of 422")
    msg = page.inner_text("#mx-editor [data-field=rows] .fmsg")
    assert "低于更轻的可能性 1 × 影响 1" in msg and "可能性 2 × 影响 1" in msg, msg
    assert "invalid" in page.get_attribute(cell.format(2, 1), "class")
    page.select_option(cell.format(1, 1), "low")
    page.select_option(cell.format(5, 1), "high")  # medium -> high keeps the order
    page.click("#mx-editor button[type=submit]")
    page.wait_for_function("() => document.querySelector('#mx-kind').textContent === '自定义矩阵'")
    assert page.is_hidden("#mx-editor")
    assert page.get_attribute("#heat-view .hc[data-l='5'][data-i='1']", "data-level") == "high"
    page.click("#mx-edit")
    page.click("#mx-editor .mx-reset")
    page.click("#confirm .pm-ok")
    page.wait_for_function("() => document.querySelector('#mx-kind').textContent === '默认矩阵'")
    assert page.get_attribute("#heat-view .hc[data-l='5'][data-i='1']", "data-level") == "medium"


def test_a_reader_sees_the_plans_but_cannot_change_them(watch, served):
    admin = {"Authorization": f"Bearer {served.token('admin-test', PASSWORD)}"}
    r = httpx.post(f"{served.url}/api/v1/users", headers=admin,
                   json={"username": "analyst-plan", "password": PASSWORD, "role": "analyst"})
    assert r.status_code == 201, r.text
    page = watch.page
    watch.login("analyst-plan", PASSWORD, path="/plan/#plans")
    assert page.is_visible("#readonly") and page.is_hidden("#tpl-open")
    page.wait_for_selector("#plan-editor .pe-body textarea")
    assert page.is_hidden("#plan-editor .pe-save")
    assert page.eval_on_selector_all("#plan-editor .pe-body input, #plan-editor .pe-body textarea",
                                     "els => els.every((e) => e.disabled)")
    page.click("#tabs [data-tab=risk]")
    page.wait_for_selector("table.risks tbody tr[data-code]")
    assert page.is_hidden("#risk-add-open") and page.is_hidden("#mx-edit")
    page.locator("table.risks tbody tr[data-code]").first.click()
    page.wait_for_selector("#risk-drawer:not([hidden])")
    assert page.locator("#risk-drawer .score-form").count() == 0


def test_a_plan_from_a_template_keeps_a_section_edit_after_a_reload(watch, served):
    page = watch.page
    _open(watch, "plans")
    page.click("#tpl-open")
    page.select_option("#tpl-form select[name=template]", "TPL-ZT")
    page.fill("#tpl-form input[name=code]", "ZT-TEST")
    page.fill("#tpl-form input[name=name]", "总体安保方案（测试）")
    page.click("#tpl-form button[type=submit]")
    item = "#plan-list .pl-item.sel[data-code='ZT-TEST']"
    page.wait_for_selector(item)
    assert "总体安保方案（测试）" in page.inner_text(item)
    fire = page.locator("#plan-editor .sec[data-section=fire]")
    assert "unwritten" in fire.get_attribute("class")  # still the template's 【待填写】 text
    text = "消防车 2 台前置于北广场，看台每层配灭火器 40 具，舞台烟火专人审批。"
    fire.locator("textarea").fill(text)
    assert "unwritten" not in fire.get_attribute("class")
    assert page.is_visible("#plan-editor .pe-dirty")
    page.click("#plan-editor .pe-save")
    page.wait_for_function("() => document.querySelector('#plan-editor .pe-msg').textContent.includes('已保存')")
    page.reload()
    page.wait_for_selector("body[data-ready='1']", state="attached")
    page.click("#plan-list .pl-item[data-code='ZT-TEST']")
    page.wait_for_selector("#plan-editor .sec[data-section=fire] textarea")
    assert page.input_value("#plan-editor .sec[data-section=fire] textarea") == text
    base, h = _api(served)
    plan = next(p for p in httpx.get(f"{base}/plans", headers=h).json() if p["code"] == "ZT-TEST")
    assert plan["sections"]["fire"] == text and plan["kind"] == "master" and plan["template"] == "TPL-ZT"


def test_the_compliance_tab_groups_the_findings_by_article(watch, served):
    base, h = _api(served)
    check = httpx.get(f"{base}/plan-check", headers=h).json()
    page = watch.page
    _open(watch, "check")
    page.wait_for_selector("#check-body .art")
    for f in check["findings"]:
        article = f["code"].split(".")[0]
        li = page.locator(f"#check-body section.art[data-article='{article}'] li[data-code='{f['code']}']")
        assert li.count() >= 1, f["code"]
        text = li.first.inner_text()
        assert f["article"] in text and f["message"] in text
        assert f"sev-{f['severity']}" in li.first.get_attribute("class")
        if f["hint"]:
            assert f["hint"] in text
    heads = page.eval_on_selector_all("#check-body .art-no", "h => h.map((x) => x.textContent)")
    assert "第六条" in heads
    summary = page.inner_text("#check-summary")
    assert f"警告 {check['counts']['warning']}" in summary and f"合规 {check['counts']['ok']}" in summary
    page.click("#check-run")
    page.wait_for_selector("#check-body .art")


def test_the_capacity_tab_shows_the_venue_safe_capacity_of_the_api(watch, served):
    base, h = _api(served)
    cap = httpx.get(f"{base}/capacity", headers=h).json()
    page = watch.page
    _open(watch, "capacity")
    page.wait_for_selector("#venue-safe")
    assert page.get_attribute("#venue-safe", "data-value") == str(cap["venue"]["safe_capacity"])
    assert int(page.inner_text("#venue-safe").replace(",", "")) == cap["venue"]["safe_capacity"]
    assert page.locator("#cap-zones tbody tr[data-code]").count() == len(cap["zones"])
    assert len(page.eval_on_selector_all("#cap-steps ol.steps li", "l => l")) == len(cap["venue"]["steps"])


def test_a_macro_evacuation_started_from_the_page_reaches_a_clearance_time(watch, served):
    page = watch.page
    _open(watch, "evac")
    assert page.input_value("#evac-form select[name=zone]") == ""  # the whole venue
    page.click("#evac-form .evac-start")
    page.wait_for_selector("#clearance", timeout=20000)
    result = page.evaluate("window.anbao.tabs.evac.run.result")
    assert result["model"] == "macro" and result["clearance_s"] > 0
    s = round(result["clearance_s"])
    assert page.inner_text("#clearance") == f"{s // 60}:{s % 60:02d}"
    assert re.fullmatch(r"\d+:\d\d", page.inner_text("#clearance"))
    assert page.locator("#evac-result table.exits tbody tr").count() == len(result["exits"])
    # issue 13 item 14: the exits are listed by their names (北1号门), the code only beside it
    first = page.inner_text("#evac-result table.exits tbody tr:first-child td:first-child")
    top = max(result["exits"], key=lambda e: e["persons"])
    assert first.startswith(top["label"]) and re.search(r"[\u4e00-\u9fff]", top["label"]), (first, top)
    assert page.locator("#evac-result .exit-chart canvas").count() == 1
    assert page.locator("#evac-result .pop-chart canvas").count() == (1 if result["series"] else 0)
    assert "容量核定疏散时间" in page.inner_text("#evac-compare")


def test_a_document_downloads_with_the_token(watch, served):
    page = watch.page
    _open(watch, "docs")
    page.wait_for_selector("#pane-docs .doc[data-name='risk-report'] button")
    with page.expect_download() as info:
        page.click("#pane-docs .doc[data-name='risk-report'] button")
    download = info.value
    assert download.suggested_filename.endswith("-risk-report.docx")
    with open(download.path(), "rb") as f:
        assert f.read(2) == b"PK"  # a DOCX is a zip
