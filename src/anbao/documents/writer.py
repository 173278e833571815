"""Chinese official documents (公文) as DOCX, laid out after GB/T 9704-2012 党政机关公文格式.

Each generated document (listed by :mod:`anbao.documents.plans`: the 安全工作方案, the 专项预案, the 风险评估报告,
the 任务分工表...) is described with the frozen dataclasses below, and :func:`render` turns it into the
bytes of a .docx:

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

This module holds the document model, its checks and the layout; the page, fonts, styles and the XML
helpers it lays out with are in :mod:`anbao.documents.styles`.
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
from dataclasses import dataclass, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

import docx
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from docx.shared import Length, Mm, Pt, RGBColor, Twips
from docx.text.paragraph import Paragraph

from anbao.documents.styles import (
    BODY_PT,
    CELL_PAD,
    FANGSONG,
    FOOTER_PT,
    HEITI,
    KAITI,
    LINE,
    MARGIN_LEFT,
    MARGIN_RIGHT,
    MARK_PT,
    PPR,
    RED,
    RPR,
    SONG,
    TABLE_PT,
    TABLE_SMALL_PT,
    TBLPR,
    TRPR,
    XIAOBIAOSONG,
    add_run,
    apply_styles,
    clean,
    declare_fonts,
    element,
    fill_cell,
    no_snap,
    put,
    set_ind,
    set_page,
    style_named,
)

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


# -- the writer ----------------------------------------------------------------------------------------------
class _Writer:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.d = docx.Document()
        self._ids: dict[str, str] = {}
        self.section = self.d.sections[0]
        set_page(self.section, landscape=self.doc.landscape)
        self.width = Length(self.section.page_width or 0) - MARGIN_LEFT - MARGIN_RIGHT
        apply_styles(self.d)
        declare_fonts(self.d)
        self._metadata()
        self._footers()

    # .. set-up
    def _metadata(self) -> None:
        props, doc = self.d.core_properties, self.doc
        props.title, props.subject = clean(doc.title).replace("\n", ""), clean(doc.subtitle).replace("\n", "")
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
            p.style = style_named(self.d, "Footer")
            p.alignment = align
            set_ind(p._p.get_or_add_pPr(), left=left, right=right)
            add_run(p, "— ", SONG, latin=SONG)
            for kind in ("begin", "instr", "separate", "1", "end"):
                r = add_run(p, "", SONG, latin=SONG)._r
                if kind == "instr":
                    instr = element("w:instrText")
                    instr.text = " PAGE "
                    instr.set(qn("xml:space"), "preserve")
                    r.append(instr)
                elif kind == "1":
                    r.add_t("1")
                else:
                    r.append(element("w:fldChar", fldCharType=kind))
            add_run(p, " —", SONG, latin=SONG)

    # .. paragraphs
    def _style_id(self, name: str) -> str:
        if name not in self._ids:
            self._ids[name] = style_named(self.d, name).style_id
        return self._ids[name]

    def _para(self, text: str, east_asia: str = FANGSONG, *, style: str = "Normal",
              align: WD_ALIGN_PARAGRAPH | None = None, size: float | None = None, bold: bool | None = None,
              color: RGBColor | None = None) -> Paragraph:
        p = self.d.add_paragraph()
        if style != "Normal":  # by id: python-docx's lookup by style object walks all the styles each time
            p._p.get_or_add_pPr().style = self._style_id(style)
        if align is not None:
            p.alignment = align
        add_run(p, text, east_asia, size=size, bold=bold, color=color)
        return p

    def _plain(self, text: str, east_asia: str = FANGSONG, *, align: WD_ALIGN_PARAGRAPH | None = None,
               size: float | None = None, color: RGBColor | None = None) -> Paragraph:
        """A body paragraph without the first-line indent."""
        p = self._para(text, east_asia, align=align, size=size, color=color)
        set_ind(p._p.get_or_add_pPr())
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
            no_snap(p._p.get_or_add_pPr())
            # condense the characters rather than break the line (at most to a third of their width)
            scale = math.floor(100 * Length(self.width).pt / (text_width_em(mark) * MARK_PT))
            if scale < 100:
                for run in p.runs:
                    put(run._r.get_or_add_rPr(), element("w:w", val=str(max(33, scale))), RPR)
        p = self._plain(doc.doc_number, align=WD_ALIGN_PARAGRAPH.CENTER)
        if doc.issuer:
            p.paragraph_format.space_before = Twips(2 * LINE.twips)
        border = element("w:pBdr")
        border.append(element("w:bottom", val="single", sz="12", space="11", color="FF0000"))
        put(p._p.get_or_add_pPr(), border, PPR)

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
        put(tbl_pr, element("w:tblW", w=str(sum(Length(w).twips for w in widths)), type="dxa"), TBLPR)
        borders = element("w:tblBorders")
        for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
            borders.append(element(f"w:{edge}", val="single", sz="4", space="0", color="000000"))
        put(tbl_pr, borders, TBLPR)
        for column, width in zip(table.columns, widths, strict=True):
            column.width = width
        header = table.rows[0]
        tr_pr = header._tr.get_or_add_trPr()
        put(tr_pr, element("w:cantSplit"), TRPR)
        put(tr_pr, element("w:tblHeader"), TRPR)
        cell_style = self._style_id("Table Text")
        centred = [all(_lines_em(row[i]) * Pt(size) + CELL_PAD <= widths[i] for row in t.rows) for i in range(n)]
        for cell, text, width in zip(header.cells, t.columns, widths, strict=True):
            cell.width = width
            fill_cell(cell, text, cell_style, size, bold=True, centre=True)
        if t.rows:  # the first body row is built cell by cell, the others are copies of it with their text
            first = table.add_row()
            for i, (cell, text) in enumerate(zip(first.cells, t.rows[0], strict=True)):
                fill_cell(cell, text, cell_style, size, bold=None, centre=centred[i])
            for values in t.rows[1:]:
                tr = copy.deepcopy(first._tr)
                for tc, text in zip(tr.findall(qn("w:tc")), values, strict=True):
                    tc.find(f"{qn('w:p')}/{qn('w:r')}").text = clean(text)
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
            set_ind(p._p.get_or_add_pPr(), left=left, first=-Pt(BODY_PT * text_width_em(lead + label)))
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
                set_ind(p._p.get_or_add_pPr(), right=Pt(BODY_PT * right))
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


def _lines_em(text: str) -> float:
    return max((text_width_em(line) for line in clean(text).split("\n")), default=0.0)


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


def printable(value: Any) -> Any:
    """``value`` (a :class:`Document` or any part of one) with each character XML cannot hold shown as U+FFFD.

    Documents built from the record pass through here: text stored before input refused control
    characters (or by another door) must not stop every download of the event's documents.
    """
    if isinstance(value, str):
        return _NOT_XML.sub("\ufffd", value)
    if isinstance(value, tuple):
        return tuple(printable(v) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        return replace(value, **{f.name: printable(getattr(value, f.name)) for f in fields(value)})
    return value


def render(doc: Document) -> bytes:
    """The document as the bytes of a .docx file; :class:`DocumentError` if it cannot be written."""
    check(doc)
    return _Writer(doc).build()


def write(doc: Document, path: str | os.PathLike[str]) -> Path:
    """Render ``doc`` to ``path`` (a .docx) and return the path."""
    out = Path(path)
    out.write_bytes(render(doc))
    return out
