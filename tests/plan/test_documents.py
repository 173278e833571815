"""The 公文 DOCX writer: read back with python-docx and inspected in its XML."""

import datetime as dt
import io

import docx
import pytest
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn

from anbao.documents.writer import (
    Document,
    DocumentError,
    Section,
    Table,
    chinese_date,
    chinese_numeral,
    render,
    write,
)

TASKS = Table(
    columns=("序号", "任务", "牵头单位", "完成时限"),
    rows=(("1", "制定交通管制方案", "交警支队", "11月20日前"),
          ("2", "开展消防安全检查\n（含临时搭建物）", "消防救援支队", "11月22日前")),
    caption="表1 任务分工",
)


def _sample(**kw) -> Document:
    fields = dict(
        title="2026年某市马拉松赛事安全保卫工作方案",
        subtitle="（征求意见稿）",
        classification="内部",
        issuer="某市公安局",
        doc_number="某公〔2026〕12号",
        date=dt.date(2026, 11, 24),
        recipients="各分局、各警种",
        attachments=("任务分工表", "警力部署图"),
        preamble=("为确保赛事安全顺利进行，制定本方案。",),
        sections=(
            Section("总体要求", paragraphs=("坚持安全第一。", "确保万无一失。")),
            Section("组织领导", children=(
                Section("指挥部", paragraphs=("成立指挥部。",), children=(
                    Section("前方指挥所", paragraphs=("设在起点。",)),
                    Section("后方指挥所"),
                )),
                Section("工作组", tables=(TASKS,), children=(Section("安检组"),)),
            )),
            Section("工作措施"),
        ),
    )
    fields.update(kw)
    return Document(**fields)


def _read(doc: Document):
    return docx.Document(io.BytesIO(render(doc)))


def _headings(d):
    return [(p.style.name, p.text) for p in d.paragraphs if p.style.name.startswith("Heading")]


def test_headings_are_numbered_in_order_with_the_built_in_styles():
    d = _read(_sample())
    assert _headings(d) == [
        ("Heading 1", "一、总体要求"),
        ("Heading 1", "二、组织领导"),
        ("Heading 2", "（一）指挥部"),
        ("Heading 3", "1.前方指挥所"),
        ("Heading 3", "2.后方指挥所"),
        ("Heading 2", "（二）工作组"),
        ("Heading 3", "1.安检组"),  # restarts under each level 2
        ("Heading 1", "三、工作措施"),  # empty section: title only
    ]
    [title] = [p for p in d.paragraphs if p.style.name == "Title"]
    assert title.text == "2026年某市马拉松赛事安全保卫工作方案"
    assert [p.text for p in d.paragraphs if p.style.name == "Subtitle"] == ["（征求意见稿）"]
    # body text follows its heading
    texts = [p.text for p in d.paragraphs]
    assert texts.index("坚持安全第一。") == texts.index("一、总体要求") + 1


def test_level_two_numbering_restarts_under_each_level_one_and_counts_past_ten():
    sections = tuple(Section(f"第{i}部分", children=tuple(Section(f"子{j}") for j in range(1, 3)))
                     for i in range(1, 13))
    got = [t for _, t in _headings(_read(Document(title="方案", sections=sections)))]
    assert got[0:3] == ["一、第1部分", "（一）子1", "（二）子2"]
    assert got[3:6] == ["二、第2部分", "（一）子1", "（二）子2"]
    assert got[-3:] == ["十二、第12部分", "（一）子1", "（二）子2"]
    assert "十、第10部分" in got and "十一、第11部分" in got


@pytest.mark.parametrize(("n", "text"), [(1, "一"), (9, "九"), (10, "十"), (11, "十一"), (19, "十九"), (20, "二十"),
                                         (21, "二十一"), (99, "九十九"), (100, "一百"), (101, "一百零一"),
                                         (110, "一百一十"), (999, "九百九十九"), (1001, "一千零一"),
                                         (1010, "一千零一十"), (2300, "二千三百")])
def test_chinese_numerals(n, text):
    assert chinese_numeral(n) == text


@pytest.mark.parametrize("n", [0, -1, 10000])
def test_chinese_numerals_out_of_range(n):
    with pytest.raises(DocumentError):
        chinese_numeral(n)


def test_east_asian_fonts_on_styles_and_on_every_run():
    d = _read(_sample())
    expected = {"Normal": "仿宋_GB2312", "Title": "方正小标宋简体", "Heading 1": "黑体", "Heading 2": "楷体_GB2312",
                "Heading 3": "仿宋_GB2312"}
    for name, east_asia in expected.items():
        fonts = d.styles[name].element.rPr.rFonts
        assert fonts.get(qn("w:eastAsia")) == east_asia, name
        assert fonts.get(qn("w:ascii")) == "Times New Roman", name
        assert fonts.get(qn("w:eastAsiaTheme")) is None and fonts.get(qn("w:asciiTheme")) is None, name
    assert d.styles["Normal"].font.size.pt == 16
    assert d.styles["Title"].font.size.pt == 22
    assert [d.styles[f"Heading {k}"].font.bold for k in (1, 2, 3)] == [False, False, True]
    runs = [r for p in d.paragraphs for r in p.runs]
    runs += [r for t in d.tables for row in t.rows for c in row.cells for p in c.paragraphs for r in p.runs]
    assert len(runs) > 20
    for r in runs:
        assert r._r.rPr.rFonts.get(qn("w:eastAsia")), r.text
    by_text = {r.text: r._r.rPr.rFonts.get(qn("w:eastAsia")) for r in runs}
    assert by_text["一、总体要求"] == "黑体"
    assert by_text["（一）指挥部"] == "楷体_GB2312"
    assert by_text["坚持安全第一。"] == "仿宋_GB2312"


def test_body_line_pitch_and_first_line_indent():
    fmt = _read(_sample()).styles["Normal"].paragraph_format
    assert 28 <= fmt.line_spacing.pt <= 29
    assert fmt.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    assert fmt.first_line_indent.pt == pytest.approx(32)  # two 16 pt characters


def test_page_is_a4_portrait_with_official_margins():
    s = _read(_sample()).sections[0]
    assert s.orientation == WD_ORIENT.PORTRAIT
    for got, want in ((s.page_width, 210), (s.page_height, 297), (s.top_margin, 37), (s.bottom_margin, 35),
                      (s.left_margin, 28), (s.right_margin, 26)):
        assert abs(got.mm - want) <= 0.5, (got.mm, want)
    grid = s._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "linesAndChars" and grid.get(qn("w:linePitch")) == "579"


def test_landscape_switches_orientation_and_dimensions():
    s = _read(_sample(landscape=True)).sections[0]
    assert s.orientation == WD_ORIENT.LANDSCAPE
    assert abs(s.page_width.mm - 297) <= 0.5 and abs(s.page_height.mm - 210) <= 0.5
    assert abs(s.top_margin.mm - 37) <= 0.5 and abs(s.left_margin.mm - 28) <= 0.5


def test_tables_read_back_with_their_cells_header_and_borders():
    d = _read(_sample())
    [table] = d.tables
    cells = [[c.text for c in row.cells] for row in table.rows]
    assert cells == [list(TASKS.columns)] + [list(r) for r in TASKS.rows]
    assert all(r.font.bold for c in table.rows[0].cells for r in c.paragraphs[0].runs)
    assert not any(r.font.bold for c in table.rows[1].cells for r in c.paragraphs[0].runs)
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None  # repeated on each page
    borders = table._tbl.tblPr.find(qn("w:tblBorders"))
    assert {b.tag.split("}")[1]: b.get(qn("w:val")) for b in borders} == {
        e: "single" for e in ("top", "left", "bottom", "right", "insideH", "insideV")}
    # the caption comes just before the table, and the table fills the type area (156 mm)
    body = list(d.element.body)
    [caption] = [p for p in d.paragraphs if p._p is body[body.index(table._tbl) - 1]]
    assert (caption.text, caption.style.name) == ("表1 任务分工", "Caption")
    assert abs(sum(c.width for c in table.columns) / 36000 - 156) < 1
    assert table.rows[1].cells[0].paragraphs[0].runs[0].font.size.pt == 14  # 四号 fits four columns


def test_table_widths_are_taken_as_given_and_wide_tables_get_smaller_text():
    wide = Table(tuple(f"列{i}" for i in range(8)), (tuple(str(i) for i in range(8)),), widths_cm=(1.5,) * 8)
    d = _read(Document(title="表", sections=(Section("分工", tables=(wide,)),)))
    [table] = d.tables
    assert [round(c.width.cm, 2) for c in table.columns] == [1.5] * 8
    assert [round(c.width.cm, 2) for c in table.rows[1].cells] == [1.5] * 8
    assert table.rows[1].cells[0].paragraphs[0].runs[0].font.size.pt == 12  # 小四


def test_footers_carry_a_page_field_between_dashes():
    d = _read(_sample())
    assert d.settings.odd_and_even_pages_header_footer
    section = d.sections[0]
    for footer in (section.footer, section.even_page_footer):
        assert not footer.is_linked_to_previous
        xml = footer._element
        instr = [e.text for e in xml.iter(qn("w:instrText"))]
        assert [i.strip() for i in instr] == ["PAGE"]
        assert [e.get(qn("w:fldCharType")) for e in xml.iter(qn("w:fldChar"))] == ["begin", "separate", "end"]
        assert footer.paragraphs[0].text == "— 1 —"
        assert all(r._r.rPr.rFonts.get(qn("w:eastAsia")) == "宋体" for r in footer.paragraphs[0].runs)
    assert section.footer.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT  # right on odd pages
    assert section.even_page_footer.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.LEFT  # left on even pages


def test_head_signature_date_and_attachments():
    d = _read(_sample())
    texts = [p.text for p in d.paragraphs]
    assert texts[0] == "内部"  # 密级 top left
    assert texts[1] == "某市公安局文件"  # red 发文机关标志
    assert d.paragraphs[1].runs[0].font.color.rgb == docx.shared.RGBColor(0xFF, 0, 0)
    number = d.paragraphs[2]
    assert number.text == "某公〔2026〕12号"
    rule = number._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert rule.get(qn("w:color")) == "FF0000"  # the red rule under the 发文字号
    assert texts[3] == "2026年某市马拉松赛事安全保卫工作方案"
    assert "各分局、各警种：" in texts
    assert texts[-4:] == ["附件：1.任务分工表", "2.警力部署图", "某市公安局", "2026年11月24日"]


def test_dates_are_written_without_leading_zeros():
    assert chinese_date(dt.date(2026, 1, 5)) == "2026年1月5日"
    d = _read(Document(title="通知", sections=(), date=dt.date(2026, 3, 9)))
    assert d.paragraphs[-1].text == "2026年3月9日"
    assert d.paragraphs[-1].paragraph_format.right_indent.pt == pytest.approx(32)  # 右空二字


def test_signature_and_date_are_placed_after_gb_t_9704():
    # a short issuer: the date keeps 2 characters to the right edge, the signature starts 2 characters before it
    d = _read(_sample())
    sign, date = d.paragraphs[-2:]
    assert sign.alignment == date.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert date.paragraph_format.right_indent.pt == pytest.approx(2 * 16)
    assert sign.paragraph_format.right_indent.pt == pytest.approx((4 + 7 - 5) * 16)  # date 7 wide, issuer 5
    # a long issuer keeps 2 characters to the right edge; the date starts 2 characters right of its start
    d = _read(_sample(issuer="某市大型活动安全保卫工作领导小组"))
    sign, date = d.paragraphs[-2:]
    assert sign.paragraph_format.right_indent.pt == pytest.approx(2 * 16)
    assert date.paragraph_format.right_indent.pt == pytest.approx((16 - 7) * 16)  # issuer 16 wide


def test_minimal_document_has_no_head():
    d = _read(Document(title="风险评估报告", sections=(Section("概述", paragraphs=("正文。",)),)))
    assert [p.text for p in d.paragraphs] == ["风险评估报告", "一、概述", "正文。"]


def test_any_unicode_round_trips():
    odd = "A&B <tag> \"引号\" ‘单’ 😀 𠮷 é עברית \t tab  two  spaces \u200b\u3000全角空格 "
    d = _read(Document(title=odd, sections=(Section(odd, paragraphs=(odd, "第一行\n第二行")),
                                             Section("表", tables=(Table((odd,), ((odd,),)),)))))
    texts = [p.text for p in d.paragraphs]
    assert texts[0] == odd
    assert "一、" + odd in texts and odd in texts
    assert "第一行\n第二行" in texts
    assert d.tables[0].rows[1].cells[0].text == odd
    assert _read(Document(title="a\r\nb", sections=())).paragraphs[0].text == "a\nb"


def test_too_deep_a_section_is_refused_naming_it():
    deep = Section("组织", children=(Section("指挥部", children=(Section("前方", children=(Section("太深"),)),)),))
    with pytest.raises(DocumentError, match=r'section 二、（一）1\. "前方".*at most 3 levels'):
        render(Document(title="方案", sections=(Section("总则"), deep)))


def test_a_row_of_the_wrong_length_is_refused_naming_table_and_row():
    bad = Table(("序号", "任务"), (("1", "巡逻"), ("2", "安检", "多余")), caption="表2 分工")
    doc = Document(title="方案", sections=(Section("措施", children=(Section("安检"),
                                                                     Section("巡逻", tables=(bad,)))),))
    where = 'table 1 "表2 分工" in section 一、（二） "巡逻", row 2 has 3 cells'
    with pytest.raises(DocumentError, match=where + ".*2 columns"):
        render(doc)
    assert issubclass(DocumentError, ValueError)


@pytest.mark.parametrize(("doc", "match"), [
    (Document(title="", sections=()), "title is empty"),
    (Document(title="方案", sections=(Section("  "),)), "section 一、 has no title"),
    (Document(title="方案", sections=(Section("甲", paragraphs=("好", "坏\x07")),)),
     r'section 一、 "甲", paragraph 2: character U\+0007'),
    (Document(title="方案", sections=(Section("甲", paragraphs="一段"),)), "paragraphs: expected a tuple"),
    (Document(title="方案", sections=(Section("甲", tables=(Table(("a", "b"), (), widths_cm=(1.0,)),)),)),
     "1 widths_cm for 2 columns"),
    (Document(title="方案", sections=(Section("甲", tables=(Table((), ()),)),)),
     'table 1 in section 一、 "甲" has no columns'),
    (Document(title="方案", sections=(), attachments=("附", None)), "attachment 2: expected text"),
])
def test_other_bad_input_is_refused_naming_the_place(doc, match):
    with pytest.raises(DocumentError, match=match):
        render(doc)


def test_write_returns_the_path(tmp_path):
    path = write(_sample(), tmp_path / "方案.docx")
    assert path == tmp_path / "方案.docx"
    assert _headings(docx.Document(str(path)))[0] == ("Heading 1", "一、总体要求")
