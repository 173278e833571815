"""The 公文 page, fonts and Word styles, and the WordprocessingML (DOCX XML) helpers of the writer.

:mod:`anbao.documents.writer` lays a document out (what goes where, in which order); this module
holds what it lays out with, after GB/T 9704-2012: the A4 page with its margins and character grid
(:func:`set_page`), the sizes and fonts, the built-in styles made 公文 styles (:func:`apply_styles`),
the font table's fallbacks (:func:`declare_fonts`), and the low-level helpers that write XML
elements in schema order (Word rejects elements out of order), name the East Asian font on every
run (:func:`add_run`) and fill table cells. Lengths are python-docx ``Length`` values (EMU);
sizes in points.
"""

from __future__ import annotations

import math
from typing import cast

from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
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
PPR = ("w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore", "w:framePr", "w:widowControl", "w:numPr",
       "w:suppressLineNumbers", "w:pBdr", "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap",
       "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
       "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
       "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle",
       "w:rPr", "w:sectPr", "w:pPrChange")
RPR = ("w:rStyle", "w:rFonts", "w:b", "w:bCs", "w:i", "w:iCs", "w:caps", "w:smallCaps", "w:strike", "w:dstrike",
       "w:outline", "w:shadow", "w:emboss", "w:imprint", "w:noProof", "w:snapToGrid", "w:vanish", "w:webHidden",
       "w:color", "w:spacing", "w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:effect",
       "w:bdr", "w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout",
       "w:specVanish", "w:oMath")
TBLPR = ("w:tblStyle", "w:tblpPr", "w:tblOverlap", "w:bidiVisual", "w:tblStyleRowBandSize",
         "w:tblStyleColBandSize", "w:tblW", "w:jc", "w:tblCellSpacing", "w:tblInd", "w:tblBorders", "w:shd",
         "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange")
TRPR = ("w:cnfStyle", "w:divId", "w:gridBefore", "w:gridAfter", "w:wBefore", "w:wAfter", "w:cantSplit",
        "w:trHeight", "w:tblHeader", "w:tblCellSpacing", "w:jc", "w:hidden", "w:ins", "w:del", "w:trPrChange")


# -- low-level XML helpers ---------------------------------------------------------------------------------
def element(tag: str, **attrs: str) -> BaseOxmlElement:
    """A new ``tag`` element (e.g. ``"w:ind"``) with ``w:``-prefixed attributes."""
    return cast(BaseOxmlElement, OxmlElement(tag, {qn(f"w:{k}"): v for k, v in attrs.items()}))


def put(parent: BaseOxmlElement, child: BaseOxmlElement, order: tuple[str, ...]) -> BaseOxmlElement:
    """Replace ``parent``'s child of the same tag by ``child``, in schema order."""
    tag = child.tag.split("}")[1]
    parent.remove_all(f"w:{tag}")
    return parent.insert_element_before(child, *order[order.index(f"w:{tag}") + 1:])


def drop(parent: BaseOxmlElement | None, *tags: str) -> None:
    """Remove ``parent``'s children with these tags (nothing if there is no parent)."""
    if parent is not None:
        parent.remove_all(*tags)


def set_fonts(rpr: BaseOxmlElement, east_asia: str, latin: str = LATIN) -> None:
    """Name the fonts explicitly (theme fonts would win over them) and prefer the East Asian font."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = put(rpr, element("w:rFonts"), RPR)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    for attr, name in (("w:ascii", latin), ("w:hAnsi", latin), ("w:eastAsia", east_asia), ("w:cs", latin),
                       ("w:hint", "eastAsia")):
        fonts.set(qn(attr), name)


def set_ind(ppr: BaseOxmlElement, *, left: Length | int = 0, right: Length | int = 0,
            first: Length | int = 0) -> None:
    """Indents in twips; a negative ``first`` is a hanging indent."""
    ind: dict[str, str] = {"left": str(Length(left).twips), "right": str(Length(right).twips)}
    if first < 0:
        ind["hanging"] = str(Length(-first).twips)
    else:
        ind["firstLine"] = str(Length(first).twips)
    put(ppr, element("w:ind", **ind), PPR)


def no_snap(ppr: BaseOxmlElement) -> None:
    """Keep text off the character grid (titles, tables, footers: not the 16 pt body)."""
    put(ppr, element("w:snapToGrid", val="0"), PPR)


def style_named(d: DocxDocument, name: str) -> ParagraphStyle:
    """The paragraph style called ``name``."""
    return cast(ParagraphStyle, d.styles[name])


def restyle(style: ParagraphStyle, *, east_asia: str, latin: str = LATIN, size: float, bold: bool | None = None,
            align: WD_ALIGN_PARAGRAPH | None = None, line: Length | None = LINE, first: Length | int = 0,
            snap: bool = True) -> None:
    """Make a built-in style a 公文 style: explicit fonts, size, no colour, spacing and indents."""
    el = style.element
    rpr, ppr = el.get_or_add_rPr(), el.get_or_add_pPr()
    drop(rpr, "w:i", "w:iCs", "w:bCs", "w:color", "w:spacing", "w:kern", "w:caps")
    drop(ppr, "w:pBdr", "w:numPr", "w:contextualSpacing")
    set_fonts(rpr, east_asia, latin)
    style.font.size = Pt(size)
    put(rpr, element("w:szCs", val=str(round(size * 2))), RPR)
    style.font.bold = bold
    fmt = style.paragraph_format
    fmt.space_before, fmt.space_after = Pt(0), Pt(0)
    if line is None:
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    else:
        fmt.line_spacing = line
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.alignment = align
    set_ind(ppr, first=first)
    if not snap:
        no_snap(ppr)


# -- the page and the styles ------------------------------------------------------------------------------
def set_page(s: DocxSection, *, landscape: bool) -> None:
    """A4 (turned for ``landscape``) with the 公文 margins, the footer distance and the character grid."""
    s.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    s.page_width, s.page_height = (PAGE_HEIGHT, PAGE_WIDTH) if landscape else (PAGE_WIDTH, PAGE_HEIGHT)
    s.top_margin, s.bottom_margin, s.left_margin, s.right_margin = (MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT,
                                                                    MARGIN_RIGHT)
    s.gutter = Twips(0)
    s.header_distance = Mm(15)
    # the page number 7 mm below the type area: its line (18 pt) ends that far above the page edge
    s.footer_distance = Length(MARGIN_BOTTOM - Mm(7) - Pt(18))
    set_grid(s)


def set_grid(section: DocxSection) -> None:
    """A grid of 28.95 pt lines and as many 16 pt characters as fit (28 on A4 portrait, 43 landscape)."""
    width = Length((section.page_width or 0) - (section.left_margin or 0) - (section.right_margin or 0)).pt
    chars = round(width / BODY_PT)
    space = math.floor((width / chars - BODY_PT) * 4096)  # in 1/4096 pt, added to the 16 pt pitch
    grid = element("w:docGrid", type="linesAndChars", linePitch=str(LINE.twips), charSpace=str(space))
    sect_pr = section._sectPr
    old = sect_pr.find(qn("w:docGrid"))
    if old is not None:
        old.addprevious(grid)
        sect_pr.remove(old)
    else:
        sect_pr.append(grid)


def apply_styles(d: DocxDocument) -> None:
    """Make the built-in styles 公文 styles (Normal, Heading 1-3, Title, Subtitle, Caption, Footer) and add
    ``Table Text``; the document defaults and the linked character styles name the fonts too."""
    styles = d.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
        if rpr is not None:
            set_fonts(rpr, FANGSONG)
            # the character grid's pitch is reckoned from the default size: the body's 16 pt
            put(rpr, element("w:sz", val=str(round(BODY_PT * 2))), RPR)
            put(rpr, element("w:szCs", val=str(round(BODY_PT * 2))), RPR)
            put(rpr, element("w:lang", val="en-US", eastAsia="zh-CN", bidi="ar-SA"), RPR)
        ppr = defaults.find(f"{qn('w:pPrDefault')}/{qn('w:pPr')}")
        if ppr is not None:
            put(ppr, element("w:spacing", after="0", line="240", lineRule="auto"), PPR)
    normal = style_named(d, "Normal")
    restyle(normal, east_asia=FANGSONG, size=BODY_PT, align=WD_ALIGN_PARAGRAPH.JUSTIFY, first=Pt(2 * BODY_PT))
    put(normal.element.get_or_add_rPr(), element("w:lang", val="en-US", eastAsia="zh-CN", bidi="ar-SA"), RPR)
    for level, east_asia, bold in ((1, HEITI, False), (2, KAITI, False), (3, FANGSONG, True)):
        heading = style_named(d, f"Heading {level}")
        restyle(heading, east_asia=east_asia, size=BODY_PT, bold=bold, align=WD_ALIGN_PARAGRAPH.JUSTIFY,
                first=Pt(2 * BODY_PT))
        heading.paragraph_format.keep_with_next = True
    restyle(style_named(d, "Title"), east_asia=XIAOBIAOSONG, size=TITLE_PT, bold=False,
            align=WD_ALIGN_PARAGRAPH.CENTER, line=Pt(35), snap=False)
    restyle(style_named(d, "Subtitle"), east_asia=KAITI, size=BODY_PT, align=WD_ALIGN_PARAGRAPH.CENTER, snap=False)
    caption = style_named(d, "Caption")
    restyle(caption, east_asia=FANGSONG, size=BODY_PT, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, snap=False)
    caption.paragraph_format.keep_with_next = True
    caption.hidden = False
    restyle(style_named(d, "Footer"), east_asia=SONG, latin=SONG, size=FOOTER_PT, line=Pt(18), snap=False)
    cell = cast(ParagraphStyle, d.styles.add_style("Table Text", WD_STYLE_TYPE.PARAGRAPH))
    cell.base_style = normal
    restyle(cell, east_asia=FANGSONG, size=TABLE_PT, align=WD_ALIGN_PARAGRAPH.CENTER, line=None, snap=False)
    # the character styles linked to the restyled ones keep no theme fonts either
    for style_id, east_asia in (("Heading1Char", HEITI), ("Heading2Char", KAITI), ("Heading3Char", FANGSONG),
                                ("TitleChar", XIAOBIAOSONG), ("SubtitleChar", KAITI)):
        for linked in styles.findall(f"{qn('w:style')}[@{qn('w:styleId')}='{style_id}']"):
            rpr = linked.find(qn("w:rPr"))
            if rpr is not None:
                drop(rpr, "w:color", "w:i", "w:iCs", "w:spacing", "w:kern", "w:b", "w:bCs", "w:sz", "w:szCs")
                set_fonts(rpr, east_asia)


def declare_fonts(d: DocxDocument) -> None:
    """Declare the 公文 fonts as GB2312 (charset 0x86) fonts with a fallback name in the font table."""
    part = d.part.part_related_by(RT.FONT_TABLE)
    root = parse_xml(part.blob)
    known = {f.get(qn("w:name")) for f in root.findall(qn("w:font"))}
    for name, alt in FALLBACKS.items():
        if name not in known:
            root.append(parse_xml(f'<w:font {nsdecls("w")} w:name="{name}"><w:altName w:val="{alt}"/>'
                                  f'<w:charset w:val="86"/><w:family w:val="auto"/></w:font>'))
    part._blob = serialize_part_xml(root)


# -- runs and cells ---------------------------------------------------------------------------------------
def clean(text: str) -> str:
    """``\\r\\n`` and ``\\r`` become ``\\n``, a line break in a run."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def add_run(p: Paragraph, text: str, east_asia: str, *, latin: str = LATIN, size: float | None = None,
            bold: bool | None = None, color: RGBColor | None = None) -> Run:
    """Add ``text`` to ``p`` as a run naming its East Asian and Latin fonts (size in points)."""
    run = p.add_run(clean(text))
    set_fonts(run._r.get_or_add_rPr(), east_asia, latin)
    if size is not None:
        run.font.size = Pt(size)
    if bold is not None:
        run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    return run


def fill_cell(cell: _Cell, text: str, style_id: str, size: float, *, bold: bool | None, centre: bool) -> None:
    """Write ``text`` into a table cell, vertically centred, in the ``Table Text`` style (``style_id``)."""
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    p = cell.paragraphs[0]
    p._p.get_or_add_pPr().style = style_id
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER if centre else WD_ALIGN_PARAGRAPH.JUSTIFY
    add_run(p, text, FANGSONG, size=size, bold=bold)
