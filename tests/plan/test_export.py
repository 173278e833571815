"""Planning documents: exported as DOCX from the record, opened again with python-docx."""

import io
import json

import docx
import pytest

from tests.plan.test_capacity import venue


def headings(doc) -> list[str]:
    return [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]


def all_text(doc) -> str:
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


@pytest.fixture
def planned(client, login):
    h = login("planner")
    ev = client.post("/api/v1/events", json={"code": "DOC", "name": "滨江音乐节", "kind": "festival",
                                             "organiser": "滨江文旅集团", "expected_attendance": 1200},
                     headers=h).json()
    url = f"/api/v1/events/{ev['id']}"
    assert client.post(f"{url}/venue-import", json=venue(), headers=h).status_code == 200
    hq = client.post(f"{url}/command-nodes", json={"code": "HQ", "name": "现场指挥部", "level": "hq",
                                                   "leader": "王队"}, headers=h).json()
    client.post(f"{url}/units", json={"code": "U1", "name": "巡逻一组", "call_sign": "巡1", "police_type": "治安",
                                      "command_node_id": hq["id"]}, headers=h)
    master = client.post(f"{url}/plans/from-template", json={"template": "TPL-ZT", "code": "ZT"}, headers=h).json()
    sections = {**master["sections"], "fire": "舞台两侧各设灭火器 20 具，消防车前置于东门。"}
    assert client.patch(f"{url}/plans/{master['id']}", json={"sections": sections}, headers=h).status_code == 200
    assert client.post(f"{url}/plans/from-template", json={"template": "TPL-YL", "code": "YL"},
                       headers=h).status_code == 201
    r = client.post(f"{url}/risks", json={
        "code": "R1", "name": "散场拥挤踩踏", "category": "人群踩踏", "source": "活动固有",
        "controls": [{"measure": "分批散场", "owner": "场馆方"}], "residual_likelihood": 2, "residual_impact": 3},
        headers=h).json()
    for expert, li, im in (("甲", 4, 5), ("乙", 2, 4), ("丙", 1, 5)):
        client.post(f"{url}/risks/{r['id']}/scores", json={"expert": expert, "likelihood": li, "impact": im},
                    headers=h)
    return url, h, ev["id"]


def test_the_command_line_writes_every_document_and_they_open(planned, anbao, tmp_path):
    _, _, eid = planned
    res = anbao("plan", "export", "--event", str(eid), "--out", str(tmp_path / "out"))
    assert res.exit_code == 0, res.output
    files = {json.loads(x)["name"]: json.loads(x)["file"] for x in res.stdout.splitlines()}
    assert set(files) == {"work-plan", "plan-YL", "risk-report", "assignments"}

    work = docx.Document(files["work-plan"])
    hs = headings(work)
    assert hs[:9] == ["一、活动的时间、地点、内容及组织方式", "二、安全工作人员的数量、任务分配和识别标志",
                      "三、活动场所消防安全措施", "四、活动场所可容纳的人员数量以及活动预计参加人数",
                      "五、治安缓冲区域的设定及其标识", "六、入场人员的票证查验和安全检查措施",
                      "七、车辆停放、疏导措施", "八、现场秩序维护、人员疏导措施", "九、应急救援预案"]
    text = all_text(work)
    assert "滨江音乐节安全工作方案" in text and "舞台两侧各设灭火器 20 具" in text
    assert "【待填写】" not in text  # template hints never reach the document
    assert "安全容量" in text and "AJ1" in text  # the capacity working and the checkpoint table
    assert "医疗救护预案" in text  # listed among the special plans

    plan = docx.Document(files["plan-YL"])
    assert headings(plan)[:6] == ["一、适用范围与启动条件", "二、指挥与职责", "三、处置流程", "四、参战力量",
                                  "五、装备物资", "六、协作单位"]
    assert "市急救中心（120）" in all_text(plan) and "医疗急救" in all_text(plan)

    report = docx.Document(files["risk-report"])
    assert headings(report) == ["一、评估依据与方法", "二、风险清单", "三、专家意见分歧", "四、管控措施与剩余风险",
                                "五、区域风险等级"]
    text = all_text(report)
    assert "散场拥挤踩踏" in text and "需专家会商" in text and "分批散场" in text

    lst = docx.Document(files["assignments"])
    assert lst.sections[0].page_width > lst.sections[0].page_height  # landscape
    assert headings(lst) == ["一、现场指挥部"] and "巡1" in all_text(lst)


def test_documents_download_through_the_api(client, planned, login):
    url, _, _ = planned
    analyst = login("analyst")
    listed = client.get(f"{url}/plan-documents", headers=analyst).json()
    assert [d["name"] for d in listed] == ["work-plan", "plan-YL", "risk-report", "assignments"]
    r = client.get(listed[2]["url"], headers=analyst)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "risk-report.docx" in r.headers["content-disposition"]
    assert headings(docx.Document(io.BytesIO(r.content)))[0] == "一、评估依据与方法"
    assert client.get(f"{url}/plan-documents/nope.docx", headers=analyst).status_code == 404


def test_export_refuses_a_file_as_the_directory(planned, anbao, tmp_path):
    _, _, eid = planned
    f = tmp_path / "f"
    f.write_text("x")
    res = anbao("plan", "export", "--event", str(eid), "--out", str(f))
    assert res.exit_code == 2 and "not a directory" in res.output


def test_work_plan_text_and_tables_give_the_same_capacity_figures(planned, client, anbao, tmp_path):
    # the fire text's exit width and the capacity tables come from one calculation: 2.0 m + 1.5 m = 3.5 m of
    # exits, 263 persons/min; the floor's declared 5,000 on 1,000 m2 is above the 4.7 ceiling and counted at it
    url, h, eid = planned
    res = anbao("plan", "export", "--event", str(eid), "--out", str(tmp_path / "out"))
    files = {json.loads(x)["name"]: json.loads(x)["file"] for x in res.stdout.splitlines()}
    work = docx.Document(files["work-plan"])
    paras = [p.text for p in work.paragraphs]
    assert ("场馆疏散以出场瓶颈处的 2 个出口计，总宽 3.5 米，每分钟可通行 263 人（见容量核定），"
            "活动期间保持畅通。") in paras
    table = next(t for t in work.tables if t.rows[0].cells[1].text == "容纳依据")
    cells = [c.text for c in table.rows[1].cells]
    assert cells[:3] == ["内场", "按上限 4.7 人/㎡（申报 5000 人超限）", cells[2]]
    holding = int(cells[2])
    assert holding == next(z for z in client.get(f"{url}/capacity", headers=h).json()["zones"]
                           if z["code"] == "FLOOR")["holding"]
    assert any(f"容纳能力：1 个区域之和 = {holding} 人" == p for p in paras)


def test_risk_report_labels_inherent_and_residual_levels(planned, anbao, tmp_path):
    # R1: experts 4x5, 2x4, 1x5 -> median 2 x 5 = 高 (inherent); residual 2 x 3 = 中. The summary used to count
    # the residual level alone ("中风险 1 项") above a table showing 高
    _, _, eid = planned
    res = anbao("plan", "export", "--event", str(eid), "--out", str(tmp_path / "out"))
    files = {json.loads(x)["name"]: json.loads(x)["file"] for x in res.stdout.splitlines()}
    report = docx.Document(files["risk-report"])
    paras = [p.text for p in report.paragraphs]
    assert "共识别风险 1 项；固有风险（管控前）高 1 项；剩余风险（落实管控措施后）中 1 项。" in paras
    assert "后果为 5 分（灾难性）的风险，无论可能性高低，至少评为高风险。" in paras
    register = next(t for t in report.tables if t.rows[0].cells[0].text == "编号" and len(t.columns) == 8)
    assert register.rows[0].cells[7].text == "固有风险" and register.rows[1].cells[7].text == "高"
    controls = next(t for t in report.tables if t.rows[0].cells[0].text == "编号" and len(t.columns) == 6)
    assert [c.text for c in controls.rows[0].cells][4:] == ["固有风险", "剩余风险"]
    assert [c.text for c in controls.rows[1].cells][4:] == ["高", "中"]
    matrix = next(t for t in report.tables if t.rows[0].cells[0].text == "可能性＼后果")
    assert [c.text for c in matrix.rows[5].cells] == ["1", "低", "低", "低", "低", "高"]  # likelihood 1
