"""Chinese official documents (公文) as DOCX, laid out after GB/T 9704-2012 党政机关公文格式.

The planning module describes a document with the frozen dataclasses below (the 安全工作方案, the
专项预案, the 风险评估报告, the 任务分工表...) and :func:`render` turns it into the bytes of a .docx:

- A4, margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm; a document grid of 22 lines of 28
  characters; body 三号 (16 pt) 仿宋_GB2312, line pitch fixed at 28.95 pt, first line indented 2 characters.
- The title in 二号 (22 pt) 方正小标宋简体, centred (Word's ``Title`` style); a subtitle in 楷体 (``Subtitle``).
- Headings numbered by the writer: level 1 "一、" in 黑体 (``Heading 1``), level 2 "（一）" in 楷体_GB2312
  (``Heading 2``), level 3 "1." in bold 仿宋_GB2312 (``Heading 3``); titles are given without numbers.
- Tables with borders, a bold header row repeated on each page, 四号 or 小四 仿宋 so that they fit.
- 密级 top left, the 版头 (red 发文机关标志, 发文字号 and the red rule) when a 发文字号 is given, 主送机关,
  附件说明, the issuer's signature and the 成文日期 ("2026年11月24日"), page numbers "— 1 —" in 四号 宋体,
  right on odd pages and left on even pages.

Every run carries the East Asian font (``w:eastAsia``) beside the Latin one (Times New Roman), in the
styles and on the runs, or Word would show Chinese text in a Latin font; the font table names a
fallback for each 公文 font (仿宋_GB2312 -> 仿宋, 楷体_GB2312 -> 楷体, 方正小标宋简体 -> 宋体) for machines
without it. Text is written as given: any Unicode that XML can hold round-trips ("\\r\\n" and "\\r"
become "\\n", a line break); a character XML cannot hold is refused with :class:`DocumentError`.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import math
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import docx
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.oxml import serialize_part_xml
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.section import Section as DocxSection
from docx.shared import Length, Mm, Pt, RGBColor, Twips
from docx.styles.style import ParagraphStyle
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

# -- the page (GB/T 9704-2012 §5.2: A4, type area 156 mm x 225 mm) --------------------------------------
PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = Mm(37), Mm(35), Mm(28), Mm(26)
LINES_PER_PAGE = 22
#: fixed line pitch: 225 mm / 22 lines = 579.8 twips, rounded down so that 22 lines fit (28.95 pt)
LINE = Twips(579)
BODY_PT = 16.0  # 三号
TITLE_PT = 22.0  # 二号
TABLE_PT, TABLE_SMALL_PT = 14.0, 12.0  # 四号, 小四
FOOTER_PT = 14.0  # 四号
MARK_PT = 36.0  # 发文机关标志, 小初
CELL_PAD = 2 * Pt(5.4) + Pt(2)  # a table cell's left and right margins (108 twips each) and a little

# -- fonts ---------------------------------------------------------------------------------------------
LATIN = "Times New Roman"
FANGSONG = "仿宋_GB2312"
KAITI = "楷体_GB2312"
HEITI = "黑体"
SONG = "宋体"
XIAOBIAOSONG = "方正小标宋简体"
#: font-table fallbacks (w:altName) for the fonts that many machines lack
FALLBACKS = {FANGSONG: "仿宋", KAITI: "楷体", XIAOBIAOSONG: "宋体", HEITI: "SimHei", SONG: "SimSun"}
RED = RGBColor(0xFF, 0x00, 0x00)

#: schema order of the children of w:pPr, w:rPr, w:tblPr and w:trPr (Word rejects elements out of order)
_PPR = ("w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore", "w:framePr", "w:widowControl", "w:numPr",
        "w:suppressLineNumbers", "w:pBdr", "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap",
        "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
        "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
        "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle",
        "w:rPr", "w:sectPr", "w:pPrChange")
_RPR = ("w:rStyle", "w:rFonts", "w:b", "w:bCs", "w:i", "w:iCs", "w:caps", "w:smallCaps", "w:strike", "w:dstrike",
        "w:outline", "w:shadow", "w:emboss", "w:imprint", "w:noProof", "w:snapToGrid", "w:vanish", "w:webHidden",
        "w:color", "w:spacing", "w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:effect",
        "w:bdr", "w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout",
        "w:specVanish", "w:oMath")
_TBLPR = ("w:tblStyle", "w:tblpPr", "w:tblOverlap", "w:bidiVisual", "w:tblStyleRowBandSize",
          "w:tblStyleColBandSize", "w:tblW", "w:jc", "w:tblCellSpacing", "w:tblInd", "w:tblBorders", "w:shd",
          "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange")
_TRPR = ("w:cnfStyle", "w:divId", "w:gridBefore", "w:gridAfter", "w:wBefore", "w:wAfter", "w:cantSplit",
         "w:trHeight", "w:tblHeader", "w:tblCellSpacing", "w:jc", "w:hidden", "w:ins", "w:del", "w:trPrChange")

#: characters that XML 1.0 cannot hold
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_DIGITS = "零一二三四五六七八九"
MAX_DEPTH = 3


class DocumentError(ValueError):
    """A document that cannot be written as given; the message names the place."""


@dataclass(frozen=True)
class Table:
    """A table with a header row; ``widths_cm`` gives each column's width (default: fitted to the text)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    widths_cm: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Section:
    """A numbered part of the body: its title (without number), paragraphs, tables, then sub-sections."""

    title: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    children: tuple[Section, ...] = ()


@dataclass(frozen=True)
class Document:
    """A 公文. ``preamble``: paragraphs of the 导语 before the first numbered section."""

    title: str
    sections: tuple[Section, ...]
    issuer: str = ""  # 发文机关, signed at the end; with doc_number also the red 发文机关标志 on top
    doc_number: str = ""  # 发文字号, e.g. "X公〔2026〕12号"
    date: dt.date | None = None  # 成文日期
    subtitle: str = ""
    classification: str = ""  # 密级, e.g. "内部"
    recipients: str = ""  # 主送机关
    attachments: tuple[str, ...] = ()  # 附件 names
    landscape: bool = False
    preamble: tuple[str, ...] = ()


# -- numbering and dates ---------------------------------------------------------------------------------
def chinese_numeral(n: int) -> str:
    """1 -> 一, 10 -> 十, 11 -> 十一, 20 -> 二十, 99 -> 九十九, 101 -> 一百零一 ... up to 9999."""
    if not 1 <= n <= 9999:
        raise DocumentError(f"cannot number {n} in Chinese numerals (1 to 9999)")
    out: list[str] = []
    gap = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // value % 10
        if digit == 0:
            gap = bool(out)
            continue
        if gap:
            out.append("零")
            gap = False
        out.append(_DIGITS[digit] + unit)
    text = "".join(out)
    return text[1:] if 10 <= n < 20 else text


def heading_number(level: int, n: int) -> str:
    """The official sequence mark of the n-th heading of a level: 一、 （一） 1."""
    if level == 1:
        return f"{chinese_numeral(n)}、"
    if level == 2:
        return f"（{chinese_numeral(n)}）"
    if level == 3:
        return f"{n}."
    raise DocumentError(f"no heading level {level}: sections nest at most {MAX_DEPTH} levels")


def chinese_date(day: dt.date) -> str:
    """成文日期 in Arabic numerals without leading zeros: 2026年1月5日."""
    return f"{day.year}年{day.month}月{day.day}日"


def text_width_em(text: str) -> float:
    """Width of one line of text in ems of its font: wide (CJK) characters 1, the others 0.5."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WFA" else 0.5 for c in text)


# -- checks ------------------------------------------------------------------------------------------------
def _check_text(value: object, where: str) -> None:
    if not isinstance(value, str):
        raise DocumentError(f"{where}: expected text, got {type(value).__name__}")
    bad = _NOT_XML.search(value)
    if bad:
        raise DocumentError(f"{where}: character U+{ord(bad.group()):04X} at {bad.start()} cannot be written to DOCX")


def _check_seq(value: object, where: str) -> Sequence[object]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise DocumentError(f"{where}: expected a tuple, got {type(value).__name__}")
    return value


def _check_table(table: Table, where: str) -> None:
    columns = _check_seq(table.columns, f"{where}: columns")
    if not columns:
        raise DocumentError(f"{where} has no columns")
    for i, name in enumerate(columns, 1):
        _check_text(name, f"{where}, column {i}")
    _check_text(table.caption, f"{where}, caption")
    for r, row in enumerate(_check_seq(table.rows, f"{where}: rows"), 1):
        cells = _check_seq(row, f"{where}, row {r}")
        if len(cells) != len(columns):
            raise DocumentError(f"{where}, row {r} has {len(cells)} cells but the table has {len(columns)} columns")
        for c, cell in enumerate(cells, 1):
            _check_text(cell, f"{where}, row {r}, column {c}")
    if table.widths_cm is not None:
        widths = _check_seq(table.widths_cm, f"{where}: widths_cm")
        if len(widths) != len(columns):
            raise DocumentError(f"{where}: {len(widths)} widths_cm for {len(columns)} columns")
        if not all(isinstance(w, int | float) and w > 0 and math.isfinite(w) for w in widths):
            raise DocumentError(f"{where}: widths_cm must be positive numbers, got {widths}")


def _check_sections(sections: object, level: int, prefix: str) -> None:
    for i, section in enumerate(_check_seq(sections, f"sections under {prefix or 'the document'}"), 1):
        if not isinstance(section, Section):
            raise DocumentError(f"section {prefix}{i}: expected a Section, got {type(section).__name__}")
        label = prefix + heading_number(level, i)
        _check_text(section.title, f"section {label}")
        where = f'section {label} "{section.title}"'
        if not section.title.strip():
            raise DocumentError(f"section {label} has no title")
        if level == MAX_DEPTH and section.children:
            raise DocumentError(f"{where} has {len(section.children)} sub-section(s): "
                                f"sections nest at most {MAX_DEPTH} levels (一、 （一） 1.)")
        for k, text in enumerate(_check_seq(section.paragraphs, f"{where}: paragraphs"), 1):
            _check_text(text, f"{where}, paragraph {k}")
        for k, table in enumerate(_check_seq(section.tables, f"{where}: tables"), 1):
            if not isinstance(table, Table):
                raise DocumentError(f"{where}, table {k}: expected a Table, got {type(table).__name__}")
            name = f'table {k} "{table.caption}"' if isinstance(table.caption, str) and table.caption else f"table {k}"
            _check_table(table, f"{name} in {where}")
        _check_sections(section.children, level + 1, label)


def check(doc: Document) -> None:
    """Raise :class:`DocumentError` naming the first place that cannot be written."""
    _check_text(doc.title, "document title")
    if not doc.title.strip():
        raise DocumentError("document title is empty")
    for name in ("issuer", "doc_number", "subtitle", "classification", "recipients"):
        _check_text(getattr(doc, name), f"document {name}")
    for k, text in enumerate(_check_seq(doc.preamble, "document preamble"), 1):
        _check_text(text, f"preamble paragraph {k}")
    for k, text in enumerate(_check_seq(doc.attachments, "document attachments"), 1):
        _check_text(text, f"attachment {k}")
    if doc.date is not None and not isinstance(doc.date, dt.date):
        raise DocumentError(f"document date: expected a date, got {type(doc.date).__name__}")
    _check_sections(doc.sections, 1, "")


# -- low-level XML helpers ---------------------------------------------------------------------------------
def _el(tag: str, **attrs: str) -> BaseOxmlElement:
    return cast(BaseOxmlElement, OxmlElement(tag, {qn(f"w:{k}"): v for k, v in attrs.items()}))


def _put(parent: BaseOxmlElement, child: BaseOxmlElement, order: tuple[str, ...]) -> BaseOxmlElement:
    """Replace ``parent``'s child of the same tag by ``child``, in schema order."""
    tag = child.tag.split("}")[1]
    parent.remove_all(f"w:{tag}")
    return parent.insert_element_before(child, *order[order.index(f"w:{tag}") + 1:])


def _drop(parent: BaseOxmlElement | None, *tags: str) -> None:
    if parent is not None:
        parent.remove_all(*tags)


def _set_fonts(rpr: BaseOxmlElement, east_asia: str, latin: str = LATIN) -> None:
    """Name the fonts explicitly (theme fonts would win over them) and prefer the East Asian font."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = _put(rpr, _el("w:rFonts"), _RPR)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    for attr, name in (("w:ascii", latin), ("w:hAnsi", latin), ("w:eastAsia", east_asia), ("w:cs", latin),
                       ("w:hint", "eastAsia")):
        fonts.set(qn(attr), name)


def _set_ind(ppr: BaseOxmlElement, *, left: Length | int = 0, right: Length | int = 0,
             first: Length | int = 0) -> None:
    """Indents in twips; a negative ``first`` is a hanging indent."""
    ind: dict[str, str] = {"left": str(Length(left).twips), "right": str(Length(right).twips)}
    if first < 0:
        ind["hanging"] = str(Length(-first).twips)
    else:
        ind["firstLine"] = str(Length(first).twips)
    _put(ppr, _el("w:ind", **ind), _PPR)


def _no_snap(ppr: BaseOxmlElement) -> None:
    """Keep text off the character grid (titles, tables, footers: not the 16 pt body)."""
    _put(ppr, _el("w:snapToGrid", val="0"), _PPR)


def _style(d: DocxDocument, name: str) -> ParagraphStyle:
    return cast(ParagraphStyle, d.styles[name])


def _restyle(style: ParagraphStyle, *, east_asia: str, latin: str = LATIN, size: float, bold: bool | None = None,
             align: WD_ALIGN_PARAGRAPH | None = None, line: Length | None = LINE, first: Length | int = 0,
             snap: bool = True) -> None:
    """Make a built-in style a 公文 style: explicit fonts, size, no colour, spacing and indents."""
    el = style.element
    rpr, ppr = el.get_or_add_rPr(), el.get_or_add_pPr()
    _drop(rpr, "w:i", "w:iCs", "w:bCs", "w:color", "w:spacing", "w:kern", "w:caps")
    _drop(ppr, "w:pBdr", "w:numPr", "w:contextualSpacing")
    _set_fonts(rpr, east_asia, latin)
    style.font.size = Pt(size)
    _put(rpr, _el("w:szCs", val=str(round(size * 2))), _RPR)
    style.font.bold = bold
    fmt = style.paragraph_format
    fmt.space_before, fmt.space_after = Pt(0), Pt(0)
    if line is None:
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    else:
        fmt.line_spacing = line
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.alignment = align
    _set_ind(ppr, first=first)
    if not snap:
        _no_snap(ppr)


# -- the writer ----------------------------------------------------------------------------------------------
class _Writer:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.d = docx.Document()
        self._ids: dict[str, str] = {}
        self.section = self.d.sections[0]
        self._page()
        self.width = Length(self.section.page_width or 0) - MARGIN_LEFT - MARGIN_RIGHT
        self._styles()
        self._font_table()
        self._metadata()
        self._footers()

    # .. set-up
    def _page(self) -> None:
        s, landscape = self.section, self.doc.landscape
        s.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        s.page_width, s.page_height = (PAGE_HEIGHT, PAGE_WIDTH) if landscape else (PAGE_WIDTH, PAGE_HEIGHT)
        s.top_margin, s.bottom_margin, s.left_margin, s.right_margin = (MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT,
                                                                        MARGIN_RIGHT)
        s.gutter = Twips(0)
        s.header_distance = Mm(15)
        # the page number 7 mm below the type area: its line (18 pt) ends that far above the page edge
        s.footer_distance = Length(MARGIN_BOTTOM - Mm(7) - Pt(18))
        _set_grid(s)

    def _styles(self) -> None:
        d = self.d
        styles = d.styles.element
        defaults = styles.find(qn("w:docDefaults"))
        if defaults is not None:
            rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
            if rpr is not None:
                _set_fonts(rpr, FANGSONG)
                # the character grid's pitch is reckoned from the default size: the body's 16 pt
                _put(rpr, _el("w:sz", val=str(round(BODY_PT * 2))), _RPR)
                _put(rpr, _el("w:szCs", val=str(round(BODY_PT * 2))), _RPR)
                _put(rpr, _el("w:lang", val="en-US", eastAsia="zh-CN", bidi="ar-SA"), _RPR)
            ppr = defaults.find(f"{qn('w:pPrDefault')}/{qn('w:pPr')}")
            if ppr is not None:
                _put(ppr, _el("w:spacing", after="0", line="240", lineRule="auto"), _PPR)
        normal = _style(d, "Normal")
        _restyle(normal, east_asia=FANGSONG, size=BODY_PT, align=WD_ALIGN_PARAGRAPH.JUSTIFY, first=Pt(2 * BODY_PT))
        _put(normal.element.get_or_add_rPr(), _el("w:lang", val="en-US", eastAsia="zh-CN", bidi="ar-SA"), _RPR)
        for level, east_asia, bold in ((1, HEITI, False), (2, KAITI, False), (3, FANGSONG, True)):
            heading = _style(d, f"Heading {level}")
            _restyle(heading, east_asia=east_asia, size=BODY_PT, bold=bold, align=WD_ALIGN_PARAGRAPH.JUSTIFY,
                     first=Pt(2 * BODY_PT))
            heading.paragraph_format.keep_with_next = True
        _restyle(_style(d, "Title"), east_asia=XIAOBIAOSONG, size=TITLE_PT, bold=False,
                 align=WD_ALIGN_PARAGRAPH.CENTER, line=Pt(35), snap=False)
        _restyle(_style(d, "Subtitle"), east_asia=KAITI, size=BODY_PT, align=WD_ALIGN_PARAGRAPH.CENTER, snap=False)
        caption = _style(d, "Caption")
        _restyle(caption, east_asia=FANGSONG, size=BODY_PT, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, snap=False)
        caption.paragraph_format.keep_with_next = True
        caption.hidden = False
        _restyle(_style(d, "Footer"), east_asia=SONG, latin=SONG, size=FOOTER_PT, line=Pt(18), snap=False)
        cell = cast(ParagraphStyle, d.styles.add_style("Table Text", WD_STYLE_TYPE.PARAGRAPH))
        cell.base_style = normal
        _restyle(cell, east_asia=FANGSONG, size=TABLE_PT, align=WD_ALIGN_PARAGRAPH.CENTER, line=None, snap=False)
        # the character styles linked to the restyled ones keep no theme fonts either
        for style_id, east_asia in (("Heading1Char", HEITI), ("Heading2Char", KAITI), ("Heading3Char", FANGSONG),
                                    ("TitleChar", XIAOBIAOSONG), ("SubtitleChar", KAITI)):
            for linked in styles.findall(f"{qn('w:style')}[@{qn('w:styleId')}='{style_id}']"):
                rpr = linked.find(qn("w:rPr"))
                if rpr is not None:
                    _drop(rpr, "w:color", "w:i", "w:iCs", "w:spacing", "w:kern", "w:b", "w:bCs", "w:sz", "w:szCs")
                    _set_fonts(rpr, east_asia)

    def _font_table(self) -> None:
        """Declare the 公文 fonts as GB2312 (charset 0x86) fonts with a fallback name."""
        part = self.d.part.part_related_by(RT.FONT_TABLE)
        root = parse_xml(part.blob)
        known = {f.get(qn("w:name")) for f in root.findall(qn("w:font"))}
        for name, alt in FALLBACKS.items():
            if name not in known:
                root.append(parse_xml(f'<w:font {nsdecls("w")} w:name="{name}"><w:altName w:val="{alt}"/>'
                                      f'<w:charset w:val="86"/><w:family w:val="auto"/></w:font>'))
        part._blob = serialize_part_xml(root)

    def _metadata(self) -> None:
        props, doc = self.d.core_properties, self.doc
        props.title, props.subject = _clean(doc.title).replace("\n", ""), _clean(doc.subtitle).replace("\n", "")
        props.author = props.last_modified_by = doc.issuer or "AnBao"
        props.comments, props.keywords, props.category = "", "", doc.classification
        props.language = "zh-CN"
        props.created = props.modified = dt.datetime.now(dt.UTC).replace(microsecond=0)
        props.revision = 1
        package = self.d.part.package
        if package is not None:  # the template's picture of a page in another document
            for rid, rel in list(package.rels.items()):
                if rel.reltype == RT.THUMBNAIL:
                    del package.rels[rid]
        settings = self.d.settings
        settings.odd_and_even_pages_header_footer = True
        lang = settings.element.find(qn("w:themeFontLang"))
        if lang is not None:
            lang.set(qn("w:eastAsia"), "zh-CN")

    def _footers(self) -> None:
        """"— 1 —": right with one character to spare on odd pages, left on even pages."""
        room = Pt(FOOTER_PT)
        for footer, align, left, right in ((self.section.footer, WD_ALIGN_PARAGRAPH.RIGHT, 0, room),
                                           (self.section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT, room, 0)):
            footer.is_linked_to_previous = False
            p = footer.paragraphs[0]
            p.style = _style(self.d, "Footer")
            p.alignment = align
            _set_ind(p._p.get_or_add_pPr(), left=left, right=right)
            _run(p, "— ", SONG, latin=SONG)
            for kind in ("begin", "instr", "separate", "1", "end"):
                r = _run(p, "", SONG, latin=SONG)._r
                if kind == "instr":
                    instr = _el("w:instrText")
                    instr.text = " PAGE "
                    instr.set(qn("xml:space"), "preserve")
                    r.append(instr)
                elif kind == "1":
                    r.add_t("1")
                else:
                    r.append(_el("w:fldChar", fldCharType=kind))
            _run(p, " —", SONG, latin=SONG)

    # .. paragraphs
    def _style_id(self, name: str) -> str:
        if name not in self._ids:
            self._ids[name] = _style(self.d, name).style_id
        return self._ids[name]

    def _para(self, text: str, east_asia: str = FANGSONG, *, style: str = "Normal",
              align: WD_ALIGN_PARAGRAPH | None = None, size: float | None = None, bold: bool | None = None,
              color: RGBColor | None = None) -> Paragraph:
        p = self.d.add_paragraph()
        if style != "Normal":  # by id: python-docx's lookup by style object walks all the styles each time
            p._p.get_or_add_pPr().style = self._style_id(style)
        if align is not None:
            p.alignment = align
        _run(p, text, east_asia, size=size, bold=bold, color=color)
        return p

    def _plain(self, text: str, east_asia: str = FANGSONG, *, align: WD_ALIGN_PARAGRAPH | None = None,
               size: float | None = None, color: RGBColor | None = None) -> Paragraph:
        """A body paragraph without the first-line indent."""
        p = self._para(text, east_asia, align=align, size=size, color=color)
        _set_ind(p._p.get_or_add_pPr())
        return p

    def _head(self) -> None:
        """密级 top left; with a 发文字号 the 版头: red 发文机关标志, 发文字号, red rule."""
        doc = self.doc
        if doc.classification:
            self._plain(doc.classification, HEITI, align=WD_ALIGN_PARAGRAPH.LEFT)
        if not doc.doc_number:
            return
        if doc.issuer:
            mark = doc.issuer if doc.issuer.endswith("文件") else f"{doc.issuer}文件"
            p = self._plain(mark, XIAOBIAOSONG, align=WD_ALIGN_PARAGRAPH.CENTER, size=MARK_PT, color=RED)
            p.paragraph_format.space_before = Length(Mm(35) - (LINE if doc.classification else 0))
            p.paragraph_format.line_spacing = Pt(MARK_PT * 1.25)
            _no_snap(p._p.get_or_add_pPr())
            # condense the characters rather than break the line (at most to a third of their width)
            scale = math.floor(100 * Length(self.width).pt / (text_width_em(mark) * MARK_PT))
            if scale < 100:
                for run in p.runs:
                    _put(run._r.get_or_add_rPr(), _el("w:w", val=str(max(33, scale))), _RPR)
        p = self._plain(doc.doc_number, align=WD_ALIGN_PARAGRAPH.CENTER)
        if doc.issuer:
            p.paragraph_format.space_before = Twips(2 * LINE.twips)
        border = _el("w:pBdr")
        border.append(_el("w:bottom", val="single", sz="12", space="11", color="FF0000"))
        _put(p._p.get_or_add_pPr(), border, _PPR)

    def _title(self) -> None:
        doc = self.doc
        title = self._para(doc.title, XIAOBIAOSONG, style="Title")
        if doc.doc_number:  # two blank lines under the red rule
            title.paragraph_format.space_before = Twips(2 * LINE.twips)
        last = title
        if doc.subtitle:
            last = self._para(doc.subtitle, KAITI, style="Subtitle")
        last.paragraph_format.space_after = LINE
        if doc.recipients:
            colon = "" if doc.recipients.endswith(("：", ":")) else "："
            self._plain(doc.recipients + colon)

    def _sections(self, sections: Sequence[Section], level: int) -> None:
        if not sections:
            return
        east_asia = {1: HEITI, 2: KAITI, 3: FANGSONG}[level]
        for i, section in enumerate(sections, 1):
            self._para(heading_number(level, i) + section.title, east_asia, style=f"Heading {level}")
            for text in section.paragraphs:
                self._para(text)
            for table in section.tables:
                self._table(table)
            self._sections(section.children, level + 1)

    def _table(self, t: Table) -> None:
        d, n = self.d, len(t.columns)
        if t.caption:
            self._para(t.caption, style="Caption")
        size = TABLE_PT if Length(self.width).pt / n >= 5 * TABLE_PT else TABLE_SMALL_PT
        if t.widths_cm is not None:
            widths = [Length(Mm(10 * w)) for w in t.widths_cm]
        else:
            widths = _fit_widths(t, size, self.width)
        table = d.add_table(rows=1, cols=n)
        table.style = d.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        tbl_pr = table._tbl.tblPr
        _put(tbl_pr, _el("w:tblW", w=str(sum(Length(w).twips for w in widths)), type="dxa"), _TBLPR)
        borders = _el("w:tblBorders")
        for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
            borders.append(_el(f"w:{edge}", val="single", sz="4", space="0", color="000000"))
        _put(tbl_pr, borders, _TBLPR)
        for column, width in zip(table.columns, widths, strict=True):
            column.width = width
        header = table.rows[0]
        tr_pr = header._tr.get_or_add_trPr()
        _put(tr_pr, _el("w:cantSplit"), _TRPR)
        _put(tr_pr, _el("w:tblHeader"), _TRPR)
        cell_style = self._style_id("Table Text")
        centred = [all(_lines_em(row[i]) * Pt(size) + CELL_PAD <= widths[i] for row in t.rows) for i in range(n)]
        for cell, text, width in zip(header.cells, t.columns, widths, strict=True):
            cell.width = width
            _cell(cell, text, cell_style, size, bold=True, centre=True)
        if t.rows:  # the first body row is built cell by cell, the others are copies of it with their text
            first = table.add_row()
            for i, (cell, text) in enumerate(zip(first.cells, t.rows[0], strict=True)):
                _cell(cell, text, cell_style, size, bold=None, centre=centred[i])
            for values in t.rows[1:]:
                tr = copy.deepcopy(first._tr)
                for tc, text in zip(tr.findall(qn("w:tc")), values, strict=True):
                    tc.find(f"{qn('w:p')}/{qn('w:r')}").text = _clean(text)
                table._tbl.append(tr)
        d.add_paragraph()  # a blank line; it also keeps two tables apart

    def _closing(self) -> None:
        """附件说明, then the issuer's signature and the date (GB/T 9704-2012 §7.3.4, §7.3.5.2)."""
        doc = self.doc
        names = list(doc.attachments)
        for k, name in enumerate(names, 1):
            label = f"{k}." if len(names) > 1 else ""
            lead = "附件：" if k == 1 else ""
            left = Pt(BODY_PT * (2 + 3 + text_width_em(label)))  # wrapped lines align with the name
            p = self._para(lead + label + name)
            _set_ind(p._p.get_or_add_pPr(), left=left, first=-Pt(BODY_PT * text_width_em(lead + label)))
            if k == 1:
                p.paragraph_format.space_before = LINE
        signed = doc.issuer.strip()
        date = chinese_date(doc.date) if doc.date else ""
        s, w = max((text_width_em(x) for x in signed.splitlines()), default=0.0), text_width_em(date)
        if not (signed and date):  # either alone stays 2 characters off the right edge
            sign_right = date_right = 2.0
        elif w + 2 > s:  # the date is the longer: it stays 2 characters off the right edge
            sign_right, date_right = 4 + w - s, 2.0
        else:  # the signature is 2 characters off the right edge; the date starts 2 characters further right
            sign_right, date_right = 2.0, s - w
        first = True
        for text, right in ((signed, sign_right), (date, date_right)):
            if text:
                p = self._para(text, align=WD_ALIGN_PARAGRAPH.RIGHT)
                _set_ind(p._p.get_or_add_pPr(), right=Pt(BODY_PT * right))
                if first:
                    p.paragraph_format.space_before = LINE
                    first = False

    def build(self) -> bytes:
        self._head()
        self._title()
        for text in self.doc.preamble:
            self._para(text)
        self._sections(self.doc.sections, 1)
        self._closing()
        out = io.BytesIO()
        self.d.save(out)
        return out.getvalue()


def _set_grid(section: DocxSection) -> None:
    """A grid of 28.95 pt lines and as many 16 pt characters as fit (28 on A4 portrait, 43 landscape)."""
    width = Length((section.page_width or 0) - (section.left_margin or 0) - (section.right_margin or 0)).pt
    chars = round(width / BODY_PT)
    space = math.floor((width / chars - BODY_PT) * 4096)  # in 1/4096 pt, added to the 16 pt pitch
    grid = _el("w:docGrid", type="linesAndChars", linePitch=str(LINE.twips), charSpace=str(space))
    sect_pr = section._sectPr
    old = sect_pr.find(qn("w:docGrid"))
    if old is not None:
        old.addprevious(grid)
        sect_pr.remove(old)
    else:
        sect_pr.append(grid)


def _clean(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _run(p: Paragraph, text: str, east_asia: str, *, latin: str = LATIN, size: float | None = None,
         bold: bool | None = None, color: RGBColor | None = None) -> Run:
    run = p.add_run(_clean(text))
    _set_fonts(run._r.get_or_add_rPr(), east_asia, latin)
    if size is not None:
        run.font.size = Pt(size)
    if bold is not None:
        run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    return run


def _cell(cell: _Cell, text: str, style_id: str, size: float, *, bold: bool | None, centre: bool) -> None:
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    p = cell.paragraphs[0]
    p._p.get_or_add_pPr().style = style_id
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER if centre else WD_ALIGN_PARAGRAPH.JUSTIFY
    _run(p, text, FANGSONG, size=size, bold=bold)


def _lines_em(text: str) -> float:
    return max((text_width_em(line) for line in _clean(text).split("\n")), default=0.0)


def _fit_widths(t: Table, size: float, total: Length | int) -> list[Length]:
    """Column widths that fill the type area: each column its longest line if all fit, otherwise the
    short columns keep theirs and the long ones share the rest equally."""
    wanted = [max(2.0, _lines_em(t.columns[i]), *(_lines_em(r[i]) for r in t.rows)) * Pt(size) + CELL_PAD
              for i in range(len(t.columns))]
    if sum(wanted) <= total:
        widths = [w * total / sum(wanted) for w in wanted]
    else:
        cap, left, count = 0.0, float(total), len(wanted)
        for w in sorted(wanted):
            if w * count > left:
                cap = left / count
                break
            left, count = left - w, count - 1
        widths = [min(w, cap) if cap else w for w in wanted]
    twips = [int(w / 635) for w in widths]  # EMU to whole twips, so that the grid adds up to tblW
    twips[-1] += int(total / 635) - sum(twips)
    return [Length(Twips(x)) for x in twips]


def render(doc: Document) -> bytes:
    """The document as the bytes of a .docx file; :class:`DocumentError` if it cannot be written."""
    check(doc)
    return _Writer(doc).build()


def write(doc: Document, path: str | os.PathLike[str]) -> Path:
    """Render ``doc`` to ``path`` (a .docx) and return the path."""
    out = Path(path)
    out.write_bytes(render(doc))
    return out
