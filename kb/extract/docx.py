"""Word (.docx) and OpenDocument text (.odt) files -> blocks in reading order.

Both are ZIP packages of XML. Word files are opened with python-docx, which
resolves the package's parts and relationships; paragraphs are then read from
its XML (lxml) so that inserted revisions, content controls and text boxes are
not lost, as they are in python-docx's `paragraph.text`. OpenDocument text is
read with lxml straight from `content.xml`: its headings (`text:h` with an
outline level), notes and tables are explicit in the XML, so a library adds
nothing but a second tree (odfpy, the one package for it, is a 2020 DOM layer).

What a reader sees in the body becomes blocks: paragraphs, headings (from
heading styles, localized style names or outline levels), tables as one block
of rows ("cell | cell") where they stand. Footnotes, endnotes and comments are
"note" blocks, kept out of the body (segmentation gathers them into a notes
section). Pictures are not read; a warning says how many were skipped.
Running headers and footers are left out, as they are for PDFs.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any

from lxml import etree

from kb.errors import SourceError
from kb.extract.pdf import title_is_artefact
from kb.model import Block, Extracted, SourceRef
from kb.normalize import normalize_text
from kb.segment.headings import keyword_heading

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
ODF_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
ODF_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
ODF_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
ODF_DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
ODF_STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
DC = "http://purl.org/dc/elements/1.1/"

ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"


def _parse_xml(data: bytes) -> Any:
    """Untrusted XML: entities never expanded, nothing fetched (a parser per call: not thread-safe)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    return etree.fromstring(data, parser)


# Other office packages, named for a person when someone gives us one.
_OTHER_PACKAGES: tuple[tuple[str, str], ...] = (
    ("xl/workbook.xml", "an Excel workbook (.xlsx)"),
    ("ppt/presentation.xml", "a PowerPoint presentation (.pptx)"),
)
_OTHER_ODF = {
    b"application/vnd.oasis.opendocument.spreadsheet": "an OpenDocument spreadsheet (.ods)",
    b"application/vnd.oasis.opendocument.presentation": "an OpenDocument presentation (.odp)",
}

# Heading style names as Word and LibreOffice write them in other languages ("Заголовок 1").
_HEADING_STYLE = re.compile(
    r"^(?:heading|заголовок|überschrift|titre|título|titolo|kop|nagłówek|başlık|başlyk|"
    r"sarlavha|тақырып|rubrik|otsikko|overskrift|nadpis|címsor)[\s_]*(\d)$",
    re.IGNORECASE,
)
_TITLE_STYLE = re.compile(r"^(?:title|название|titel|titre|título|titolo|tytuł|at)$", re.I)
# Table-of-contents entries ("toc 1", "Оглавление 1", LibreOffice "Contents 1") are not headings.
_TOC_STYLE = re.compile(r"^(?:toc|оглавление|contents|inhaltsverzeichnis)[\s_]*\d", re.I)


def office_format(data: bytes) -> str | None:
    """'docx' or 'odt' when the bytes are such a package, else None (not a ZIP, or another kind)."""
    if not data.startswith(b"PK\x03\x04"):
        return None
    if data[30:38] == b"mimetype" and data[38 : 38 + len(ODT_MIMETYPE)] == ODT_MIMETYPE:
        return "odt"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            names = set(package.namelist())
            if "word/document.xml" in names:
                return "docx"
            if "mimetype" in names and package.read("mimetype").strip() == ODT_MIMETYPE:
                return "odt"
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        return None
    return None


def describe_package(data: bytes) -> str | None:
    """What a ZIP that is neither .docx nor .odt is, in words ('an Excel workbook (.xlsx)'), if known."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            names = set(package.namelist())
            for name, what in _OTHER_PACKAGES:
                if name in names:
                    return what
            if "mimetype" in names:
                kind = package.read("mimetype").strip()
                return _OTHER_ODF.get(
                    kind, f"an OpenDocument file of type {kind.decode(errors='replace')}"
                )
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        return None
    return None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:160] or type(exc).__name__


def _small_int(value: str | None, default: int, most: int) -> int:
    """An attribute that should be a small count or level; anything else is the default."""
    return min(int(value), most) if value and value.isdigit() and int(value) > 0 else default


def _check_unpacked_size(data: bytes, names: tuple[str, ...], limit: int, where: str) -> None:
    """Refuse a package whose text parts unpack to more than the limit (a ZIP bomb, or a huge file)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            infos = {info.filename: info for info in package.infolist()}
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SourceError(
            f"damaged document: not a readable ZIP package ({_one_line(exc)})", source=where
        ) from None
    size = sum(infos[name].file_size for name in names if name in infos)
    if size > limit:
        raise SourceError(
            f"file too large: its text parts unpack to {size / 1e6:.1f} MB "
            f"(the limit is {limit / 1e6:g} MB per file)",
            source=where,
        )


def _check_text_size(blocks: list[Block], limit: int, where: str) -> None:
    size = sum(len(b.text.encode("utf-8")) for b in blocks)
    if size > limit:
        raise SourceError(
            f"file too large: {size / 1e6:.1f} MB of text (the limit is {limit / 1e6:g} MB "
            "for text documents)",
            source=where,
        )


# --- Word ------------------------------------------------------------------


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


_W_T, _W_TAB, _W_BR, _W_CR = _w("t"), _w("tab"), _w("br"), _w("cr")
_W_NBH, _W_P, _W_TBL, _W_TR, _W_TC = _w("noBreakHyphen"), _w("p"), _w("tbl"), _w("tr"), _w("tc")
_W_SDT, _W_SDT_CONTENT, _W_CUSTOM = _w("sdt"), _w("sdtContent"), _w("customXml")
_W_VAL = _w("val")
_MC_FALLBACK = f"{{{MC}}}Fallback"


def _w_text(element: Any) -> str:
    """The visible text of a paragraph: inserted revisions in, deleted text and fallbacks out."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        for child in node:
            tag = child.tag
            if tag == _W_T:
                parts.append(child.text or "")
            elif tag == _W_TAB:
                parts.append(" ")
            elif tag in (_W_BR, _W_CR):
                parts.append("\n")
            elif tag == _W_NBH:
                parts.append("-")
            elif tag == _MC_FALLBACK:
                continue  # a text box is read once, from the choice Word shows
            elif tag == _W_P:
                parts.append(" ")  # a text box's own paragraph inside this one
                walk(child)
            else:
                walk(child)

    walk(element)
    return "".join(parts)


class _WordStyles:
    """Heading levels of the document's paragraph styles, following `basedOn`."""

    def __init__(self, styles_xml: Any | None) -> None:
        self.names: dict[str, str] = {}
        self.outline: dict[str, int] = {}
        self.based_on: dict[str, str] = {}
        if styles_xml is None:
            return
        for style in styles_xml.iter(_w("style")):
            style_id = style.get(_w("styleId"), "")
            name = style.find(_w("name"))
            self.names[style_id] = name.get(_W_VAL, "") if name is not None else style_id
            level = style.find(f"{_w('pPr')}/{_w('outlineLvl')}")
            if level is not None and (level.get(_W_VAL) or "").isdigit():
                self.outline[style_id] = int(level.get(_W_VAL))
            base = style.find(_w("basedOn"))
            if base is not None:
                self.based_on[style_id] = base.get(_W_VAL, "")

    def kind(self, style_id: str) -> tuple[str, int]:
        """('title', 1), ('heading', n), ('toc', 0) or ('body', 0) for a paragraph style."""
        seen: set[str] = set()
        current = style_id
        while current and current not in seen:
            seen.add(current)
            name = self.names.get(current, current).strip()
            if _TITLE_STYLE.match(name) or _TITLE_STYLE.match(current):
                return "title", 1
            if _TOC_STYLE.match(name) or _TOC_STYLE.match(current):
                return "toc", 0
            m = _HEADING_STYLE.match(name) or _HEADING_STYLE.match(current)
            if m:
                return "heading", max(1, int(m.group(1)))
            if current in self.outline:
                level = self.outline[current]
                return ("heading", level + 1) if level < 9 else ("body", 0)
            current = self.based_on.get(current, "")
        return "body", 0


_ROMAN = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"),
          (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))  # fmt: skip
_RUSSIAN_LETTERS = "абвгдежзиклмнопрстуфхцчшщэюя"


def _format_number(value: int, fmt: str) -> str:
    """One level of a list number as Word shows it: 3 -> "3", "c", "iii", "в"."""
    if fmt in ("lowerLetter", "upperLetter"):
        letter = chr(ord("a") + (value - 1) % 26) * ((value - 1) // 26 + 1)
        return letter.upper() if fmt == "upperLetter" else letter
    if fmt in ("lowerRoman", "upperRoman"):
        roman, rest = "", value
        for number, numeral in _ROMAN:
            while rest >= number:
                roman, rest = roman + numeral, rest - number
        return roman.upper() if fmt == "upperRoman" else roman
    if fmt in ("russianLower", "russianUpper"):
        letter = _RUSSIAN_LETTERS[(value - 1) % len(_RUSSIAN_LETTERS)]
        return letter.upper() if fmt == "russianUpper" else letter
    if fmt == "decimalZero":
        return f"{value:02d}"
    return str(value)


class _WordNumbering:
    """Word's automatic numbering ("Статья %1.", "%1.%2.", "a)"), rendered as a reader sees it.

    A law whose articles are numbered by a list style has no number in its text; without
    this its articles could not be found by number. Counters are kept per abstract list,
    as Word continues a list across paragraphs that share it; a deeper level restarts
    when a shallower one moves on. Bullets add nothing.
    """

    def __init__(self, numbering_xml: Any | None, styles_xml: Any | None) -> None:
        self.abstract_of: dict[str, str] = {}
        self.starts: dict[str, dict[int, int]] = {}  # numId -> level -> start override
        self.levels: dict[str, dict[int, tuple[int, str, str]]] = {}  # abstract -> level -> ...
        self.counters: dict[str, list[int | None]] = {}
        self.style_numbering: dict[str, tuple[str, int]] = {}
        self.started: set[str] = set()
        if numbering_xml is not None:
            for abstract in numbering_xml.iterchildren(_w("abstractNum")):
                levels: dict[int, tuple[int, str, str]] = {}
                for lvl in abstract.iterchildren(_w("lvl")):
                    start = lvl.find(_w("start"))
                    fmt = lvl.find(_w("numFmt"))
                    text = lvl.find(_w("lvlText"))
                    levels[_small_int(lvl.get(_w("ilvl")), 0, 8)] = (
                        _small_int(start.get(_W_VAL) if start is not None else None, 1, 10**6),
                        fmt.get(_W_VAL, "decimal") if fmt is not None else "decimal",
                        text.get(_W_VAL, "") if text is not None else "",
                    )
                self.levels[abstract.get(_w("abstractNumId"), "")] = levels
            for num in numbering_xml.iterchildren(_w("num")):
                num_id = num.get(_w("numId"), "")
                abstract_id = num.find(_w("abstractNumId"))
                if abstract_id is not None:
                    self.abstract_of[num_id] = abstract_id.get(_W_VAL, "")
                for override in num.iterchildren(_w("lvlOverride")):
                    start = override.find(_w("startOverride"))
                    if start is not None:
                        level = _small_int(override.get(_w("ilvl")), 0, 8)
                        self.starts.setdefault(num_id, {})[level] = _small_int(
                            start.get(_W_VAL), 1, 10**6
                        )
        if styles_xml is not None:
            for style in styles_xml.iter(_w("style")):
                num_id = style.find(f"{_w('pPr')}/{_w('numPr')}/{_w('numId')}")
                if num_id is not None:
                    ilvl = style.find(f"{_w('pPr')}/{_w('numPr')}/{_w('ilvl')}")
                    self.style_numbering[style.get(_w("styleId"), "")] = (
                        num_id.get(_W_VAL, ""),
                        _small_int(ilvl.get(_W_VAL) if ilvl is not None else None, 0, 8),
                    )

    def label(self, paragraph: Any, style_id: str) -> str:
        """The number Word prints before this paragraph ("Статья 3.", "2.1", "б)"), or ''."""
        num_id, level = self.style_numbering.get(style_id, ("", 0))
        own = paragraph.find(f"{_w('pPr')}/{_w('numPr')}")
        if own is not None:
            own_id, own_level = own.find(_w("numId")), own.find(_w("ilvl"))
            if own_id is not None:
                num_id = own_id.get(_W_VAL, "")
            if own_level is not None:
                level = _small_int(own_level.get(_W_VAL), 0, 8)
        abstract = self.abstract_of.get(num_id)
        if (
            not num_id
            or num_id == "0"
            or abstract is None
            or level not in self.levels.get(abstract, {})
        ):
            return ""
        levels = self.levels[abstract]
        counters = self.counters.setdefault(abstract, [None] * 9)
        override = self.starts.get(num_id, {})
        if num_id not in self.started and override:
            # A list that restarts its numbering ("startOverride") starts again here.
            counters[:] = [None] * 9
        self.started.add(num_id)
        start = override.get(level, levels[level][0])
        counters[level] = start if counters[level] is None else counters[level] + 1
        counters[level + 1 :] = [None] * (8 - level)
        _, fmt, template = levels[level]
        if fmt in ("bullet", "none") or not template:
            return ""

        def value(match: re.Match[str]) -> str:
            at = int(match.group(1)) - 1
            if at not in levels:
                return ""
            count = (
                counters[at] if at < len(counters) and counters[at] is not None else levels[at][0]
            )
            return _format_number(count, levels[at][1])

        return re.sub(r"%([1-9])", value, template).strip()


def extract_docx(
    ref: SourceRef, data: bytes, *, max_file_bytes: int, max_text_bytes: int
) -> Extracted:
    where = ref.location
    _check_unpacked_size(
        data,
        (
            "word/document.xml",
            "word/footnotes.xml",
            "word/endnotes.xml",
            "word/comments.xml",
            "word/styles.xml",
            "word/numbering.xml",
        ),
        max_file_bytes,
        where,
    )
    if office_format(data) != "docx":
        what = describe_package(data) or "a ZIP archive without a Word document in it"
        raise SourceError(
            f"unsupported format: the file is {what}, not a Word document", source=where
        )
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    try:
        document = docx.Document(io.BytesIO(data))
    # python-docx reports a malformed package with whatever its parser met first
    # (KeyError, AttributeError, XMLSyntaxError…): any of them means a damaged file.
    except Exception as exc:
        raise SourceError(f"damaged Word document: {_one_line(exc)}", source=where) from None
    part = document.part
    warnings: list[str] = []
    try:
        styles_xml = part.styles.element
    except (KeyError, ValueError, etree.XMLSyntaxError):
        styles_xml = None
    styles = _WordStyles(styles_xml)
    numbering_xml = None
    for rel in part.rels.values():
        if rel.reltype == RT.NUMBERING and not rel.is_external:
            try:
                numbering_xml = _parse_xml(rel.target_part.blob)
            except etree.XMLSyntaxError:
                warnings.append(
                    "list numbering could not be read: numbered paragraphs lack numbers"
                )
    numbering = _WordNumbering(numbering_xml, styles_xml)
    blocks: list[Block] = []
    body = document.element.body
    title = _collect_blocks(
        _word_blocks(body, styles, numbering), blocks, "damaged Word document", where
    )
    blocks = [b for b in blocks if b.text]
    pictures = len(body.findall(f".//{_w('drawing')}")) + len(body.findall(f".//{_w('pict')}"))
    if pictures:
        warnings.append(
            f"{pictures} embedded image{'s' if pictures != 1 else ''} ignored (text in pictures is not read)"
        )

    for reltype, label in (
        (RT.FOOTNOTES, "footnote"),
        (RT.ENDNOTES, "endnote"),
        (RT.COMMENTS, "comment"),
    ):
        for rel in part.rels.values():
            if rel.reltype != reltype or rel.is_external:
                continue
            try:
                root = _parse_xml(rel.target_part.blob)
            except etree.XMLSyntaxError as exc:
                warnings.append(f"{label}s could not be read ({exc})")
                continue
            blocks.extend(_word_notes(root, label))

    if not any(b.kind != "note" for b in blocks):
        raise SourceError("no text: the Word document has no text in its body", source=where)
    _check_text_size(blocks, max_text_bytes, where)
    properties = document.core_properties
    meta_title = normalize_text(properties.title or "").strip()
    metadata = {
        key: value
        for key, value in (
            ("title", meta_title),
            ("author", normalize_text(properties.author or "").strip()),
            ("modified", properties.modified.date().isoformat() if properties.modified else ""),
        )
        if value
    }
    return Extracted(
        source=ref,
        format="docx",
        title=_choose_title(ref, title, meta_title, blocks),
        blocks=blocks,
        metadata=metadata,
        warnings=warnings,
    )


def _word_blocks(
    container: Any, styles: _WordStyles, numbering: _WordNumbering | None = None
) -> Iterator[tuple[str, int, str]]:
    """(kind, level, text) for each paragraph and table of a body, in reading order."""
    for child in container:
        tag = child.tag
        if tag == _W_P:
            text = normalize_text(_w_text(child)).strip()
            if not text:
                continue
            own = child.find(f"{_w('pPr')}/{_w('outlineLvl')}")
            style = child.find(f"{_w('pPr')}/{_w('pStyle')}")
            style_id = style.get(_W_VAL, "") if style is not None else ""
            kind, level = styles.kind(style_id)
            label = numbering.label(child, style_id) if numbering is not None else ""
            if label:
                text = f"{label} {text}"
            if own is not None and (own.get(_W_VAL) or "").isdigit() and kind != "toc":
                value = int(own.get(_W_VAL))
                kind, level = ("heading", value + 1) if value < 9 else ("body", 0)
            if kind == "toc":
                continue  # the table of contents repeats the headings, with page numbers
            # A heading style on a long paragraph is formatting, not a heading.
            if kind in ("title", "heading") and len(text) > 300:
                kind, level = "body", 0
            yield kind, level, " ".join(text.split()) if kind != "body" else text
        elif tag == _W_TBL:
            text = _word_table(child)
            if text:
                yield "body", 0, text
        elif tag in (_W_SDT, _W_CUSTOM):
            content = child.find(_W_SDT_CONTENT) if tag == _W_SDT else child
            if content is not None:
                yield from _word_blocks(content, styles, numbering)


def _word_table(table: Any) -> str:
    """A table as text, row by row: 'cell | cell'. Nested tables are read inside their cell."""
    rows: list[str] = []
    for row in table.iterchildren(_W_TR):
        cells: list[str] = []
        for cell in row.iterchildren(_W_TC):
            pieces = [text for _, _, text in _word_blocks(cell, _WordStyles(None))]
            cells.append(" ".join(" ".join(p.split()) for p in pieces))
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)


def _word_notes(root: Any, label: str) -> list[Block]:
    notes: list[Block] = []
    tag = {"footnote": _w("footnote"), "endnote": _w("endnote"), "comment": _w("comment")}[label]
    for number, note in enumerate(
        (n for n in root.iterchildren(tag) if n.get(_w("type")) in (None, "normal")), start=1
    ):
        text = " ".join(
            " ".join(normalize_text(_w_text(p)).split()) for p in note.iter(_W_P)
        ).strip()
        if not text:
            continue
        if label == "comment":
            author = note.get(_w("author"), "")
            notes.append(Block(f"Comment{f' ({author})' if author else ''}: {text}", "note"))
        else:
            notes.append(Block(f"{label.capitalize()} {number}: {text}", "note"))
    return notes


def _choose_title(ref: SourceRef, styled: str, meta: str, blocks: list[Block]) -> str:
    """The manifest's title, the document's own title line, then metadata that is not an artefact.

    A first heading is the title only when nothing precedes it and it is not a numbered
    division ("Глава 1. …" opens a law, it does not name it).
    """
    if ref.title_hint:
        return ref.title_hint
    if styled:
        return styled
    body = [b for b in blocks if b.kind != "note"]
    first = body[0] if body else None
    if first is not None and first.kind == "heading" and keyword_heading(first.text) is None:
        return first.text
    # File names and generator artefacts ("Document1", "Microsoft Word - x.doc") are not titles.
    if meta and not title_is_artefact(meta, ref.location):
        return meta
    for block in body[:5]:
        if block.kind == "heading":
            break
        if len(block.text) <= 200:
            return block.text
    return ref.location


# --- OpenDocument ------------------------------------------------------------


def _o(namespace: str, tag: str) -> str:
    return f"{{{namespace}}}{tag}"


_T_P, _T_H, _T_LIST = _o(ODF_TEXT, "p"), _o(ODF_TEXT, "h"), _o(ODF_TEXT, "list")
_T_ITEM, _T_HEADER = _o(ODF_TEXT, "list-item"), _o(ODF_TEXT, "list-header")
_T_SECTION, _T_NOTE = _o(ODF_TEXT, "section"), _o(ODF_TEXT, "note")
_T_S, _T_TAB, _T_BR = _o(ODF_TEXT, "s"), _o(ODF_TEXT, "tab"), _o(ODF_TEXT, "line-break")
_T_NOTE_BODY, _T_NOTE_CITATION = _o(ODF_TEXT, "note-body"), _o(ODF_TEXT, "note-citation")
_T_STYLE, _T_LEVEL = _o(ODF_TEXT, "style-name"), _o(ODF_TEXT, "outline-level")
_TBL_TABLE, _TBL_ROW, _TBL_CELL = (
    _o(ODF_TABLE, "table"),
    _o(ODF_TABLE, "table-row"),
    _o(ODF_TABLE, "table-cell"),
)
_TBL_GROUPS = {_o(ODF_TABLE, n) for n in ("table-header-rows", "table-rows", "table-row-group")}
_ANNOTATION, _FRAME = _o(ODF_OFFICE, "annotation"), _o(ODF_DRAW, "frame")


class _OdfCollector:
    def __init__(self, parents: dict[str, str]) -> None:
        self.parents = parents  # automatic style -> the named style it derives from
        self.notes: list[Block] = []
        self.pictures = 0

    def style_kind(self, name: str) -> tuple[str, int]:
        seen: set[str] = set()
        while name and name not in seen:
            seen.add(name)
            readable = name.replace("_20_", " ")
            if _TITLE_STYLE.match(readable):
                return "title", 1
            if _TOC_STYLE.match(readable):
                return "toc", 0
            m = _HEADING_STYLE.match(readable)
            if m:
                return "heading", max(1, int(m.group(1)))
            name = self.parents.get(name, "")
        return "body", 0

    def text(self, element: Any) -> str:
        parts: list[str] = [element.text or ""]
        for child in element:
            tag = child.tag
            if not isinstance(tag, str):
                pass  # an XML comment, processing instruction or unexpanded entity: not text
            elif tag == _T_S:
                parts.append(" " * _small_int(child.get(_o(ODF_TEXT, "c")), 1, 100))
            elif tag == _T_TAB:
                parts.append(" ")
            elif tag == _T_BR:
                parts.append("\n")
            elif tag == _T_NOTE:
                self._note(child)
            elif tag == _ANNOTATION:
                self._comment(child)
            elif tag == _FRAME:
                self.pictures += len(child.findall(_o(ODF_DRAW, "image")))
            else:
                parts.append(self.text(child))
            parts.append(child.tail or "")
        return "".join(parts)

    def _note(self, note: Any) -> None:
        citation = note.find(_T_NOTE_CITATION)
        body = note.find(_T_NOTE_BODY)
        if body is None:
            return
        text = " ".join(" ".join(normalize_text(self.text(p)).split()) for p in body.iter(_T_P))
        label = "Endnote" if note.get(_o(ODF_TEXT, "note-class")) == "endnote" else "Footnote"
        number = (citation.text or "").strip() if citation is not None else ""
        if text.strip():
            self.notes.append(
                Block(f"{label} {number or len(self.notes) + 1}: {text.strip()}", "note")
            )

    def _comment(self, annotation: Any) -> None:
        author = annotation.findtext(_o(DC, "creator")) or ""
        text = " ".join(
            " ".join(normalize_text(self.text(p)).split()) for p in annotation.iter(_T_P)
        ).strip()
        if text:
            self.notes.append(Block(f"Comment{f' ({author})' if author else ''}: {text}", "note"))

    def blocks(self, container: Any) -> Iterator[tuple[str, int, str]]:
        for child in container:
            tag = child.tag
            if tag in (_T_P, _T_H):
                text = normalize_text(self.text(child)).strip()
                if not text:
                    continue
                kind, level = self.style_kind(child.get(_T_STYLE, ""))
                if tag == _T_H:
                    kind, level = "heading", _small_int(child.get(_T_LEVEL), 1, 10)
                if kind == "toc":
                    continue
                if kind != "body" and len(text) > 300:
                    kind, level = "body", 0
                yield kind, level, " ".join(text.split()) if kind != "body" else text
            elif tag in (_T_LIST, _T_ITEM, _T_HEADER, _T_SECTION):
                yield from self.blocks(child)
            elif tag == _TBL_TABLE:
                text = self.table(child)
                if text:
                    yield "body", 0, text
            elif tag == _FRAME:
                self.pictures += len(child.findall(_o(ODF_DRAW, "image")))

    def table(self, table: Any) -> str:
        rows: list[str] = []
        for row in self._rows(table):
            cells = [
                " ".join(" ".join(t.split()) for _, _, t in self.blocks(cell))
                for cell in row.iterchildren(_TBL_CELL)
            ]
            if any(cells):
                rows.append(" | ".join(cells))
        return "\n".join(rows)

    def _rows(self, node: Any) -> Iterator[Any]:
        for child in node:
            if child.tag == _TBL_ROW:
                yield child
            elif child.tag in _TBL_GROUPS:
                yield from self._rows(child)


def extract_odt(
    ref: SourceRef, data: bytes, *, max_file_bytes: int, max_text_bytes: int
) -> Extracted:
    where = ref.location
    _check_unpacked_size(data, ("content.xml", "meta.xml"), max_file_bytes, where)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            content = _parse_xml(package.read("content.xml"))
            meta = (
                _parse_xml(package.read("meta.xml")) if "meta.xml" in package.namelist() else None
            )
    except KeyError:
        raise SourceError(
            "damaged OpenDocument file: content.xml is missing", source=where
        ) from None
    except (zipfile.BadZipFile, OSError, ValueError, etree.XMLSyntaxError) as exc:
        raise SourceError(f"damaged OpenDocument file: {_one_line(exc)}", source=where) from None
    parents = {
        style.get(_o(ODF_STYLE, "name"), ""): style.get(_o(ODF_STYLE, "parent-style-name"), "")
        for style in content.iter(_o(ODF_STYLE, "style"))
    }
    collector = _OdfCollector(parents)
    text_root = content.find(f"{_o(ODF_OFFICE, 'body')}/{_o(ODF_OFFICE, 'text')}")
    if text_root is None:
        raise SourceError(
            "not a text document: the OpenDocument file has no text body", source=where
        )
    blocks: list[Block] = []
    title = _collect_blocks(collector.blocks(text_root), blocks, "damaged OpenDocument file", where)
    if not blocks:
        raise SourceError("no text: the OpenDocument file has no text in its body", source=where)
    blocks.extend(collector.notes)
    _check_text_size(blocks, max_text_bytes, where)
    warnings = []
    if collector.pictures:
        n = collector.pictures
        warnings.append(
            f"{n} embedded image{'s' if n != 1 else ''} ignored (text in pictures is not read)"
        )
    meta_title = ""
    metadata: dict[str, str] = {}
    if meta is not None:
        meta_title = normalize_text(meta.findtext(f".//{_o(DC, 'title')}") or "").strip()
        author = normalize_text(meta.findtext(f".//{_o(DC, 'creator')}") or "").strip()
        metadata = {k: v for k, v in (("title", meta_title), ("author", author)) if v}
    return Extracted(
        source=ref,
        format="odt",
        title=_choose_title(ref, title, meta_title, blocks),
        blocks=blocks,
        metadata=metadata,
        warnings=warnings,
    )


def _collect_blocks(
    found: Iterable[tuple[str, int, str]], blocks: list[Block], damaged: str, where: str
) -> str:
    """Append the (kind, level, text) items of a Word or OpenDocument body to `blocks`, as
    headings and paragraphs; returns the first title-styled text. Hostile nesting deep
    enough to exhaust the stack is a damaged file, said in one line."""
    title = ""
    try:
        for kind, level, text in found:
            if kind == "title" and not title:
                title = text
            kind_of_block = "heading" if kind in ("title", "heading") else "paragraph"
            blocks.append(Block(text, kind_of_block, level))
    except RecursionError:
        raise SourceError(f"{damaged}: its XML is nested too deep", source=where) from None
    return title
