"""Regenerate the bundled sample corpus from the texts under corpus/src/.

Run from the repository root:

    .venv/bin/python corpus/make_corpus.py            # everything
    .venv/bin/python corpus/make_corpus.py --only laws
    .venv/bin/python corpus/make_corpus.py --out /tmp/corpus-copy

What it writes (paths relative to corpus/):
  manuals/, newsletters/, plans/   one PDF per corpus/src/<stem>.md that names an `output`
  legislation/<stem>.pdf           one PDF per corpus/src/laws/<stem>.md (all-caps names
                                   such as CHANGES.md document the laws and are skipped)
  web/<name>.html                  one page per corpus/src/web/<name>.html, wrapped in
                                   the shared site layout corpus/src/web/_layout.html
  CORPUS.md                        the generated tables between the GENERATED markers

Every output is deterministic: fixed creation dates, no timestamps, the PDF /ID is a
hash of the content, so re-running gives byte-identical files. The source text format
is described in corpus/src/README.md.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from fpdf import FPDF
from fpdf.outline import OutlineSection

CORPUS_DIR = Path(__file__).resolve().parent
SRC_DIR = CORPUS_DIR / "src"
LAWS_SRC_DIR = SRC_DIR / "laws"
WEB_SRC_DIR = SRC_DIR / "web"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")

# Only the four faces shipped by the fonts-dejavu-core package, so that any machine
# with that package can regenerate the corpus.
FONT_FILES: dict[tuple[str, str], str] = {
    ("sans", ""): "DejaVuSans.ttf",
    ("sans", "B"): "DejaVuSans-Bold.ttf",
    ("serif", ""): "DejaVuSerif.ttf",
    ("serif", "B"): "DejaVuSerif-Bold.ttf",
}

# Law texts carry no front matter; they get these settings.
LAW_DEFAULTS: dict[str, str] = {
    "font": "serif",
    "size": "10.5",
    "align": "J",
    "outline": "headings",
    "footer": "{page}",
    "title_page": "no",
    "first_page_header": "no",
    "date": "2024-01-01",
    "subject": "Fictional sample law text for the counter-trafficking knowledge base test corpus",
}

GENERATED_BEGIN = "<!-- BEGIN GENERATED: {name} (corpus/make_corpus.py; do not edit by hand) -->"
GENERATED_END = "<!-- END GENERATED: {name} -->"

# Page geometry, in millimetres (A4).
MARGIN_SIDE = 20.0
MARGIN_TOP = 22.0
MARGIN_BOTTOM = 20.0


class CorpusError(Exception):
    """A problem with the corpus sources or the machine; printed as one line."""


# ---------------------------------------------------------------------------
# Source text format
# ---------------------------------------------------------------------------

BlockType = Literal["heading", "paragraph", "bullet", "box", "table", "toc", "newpage"]


@dataclass
class TextBlock:
    type: BlockType
    text: str = ""
    level: int = 0  # headings: the number of "#"
    rows: list[list[str]] = field(default_factory=list)  # tables: cells, header row first
    pages: int = 0  # @toc: pages reserved for the table of contents


@dataclass
class SourceText:
    path: Path
    meta: dict[str, str]
    blocks: list[TextBlock]

    @property
    def title(self) -> str:
        if "title" in self.meta:
            return self.meta["title"]
        first_heading = next((b for b in self.blocks if b.type == "heading"), None)
        return first_heading.text if first_heading else self.path.stem


# A numbered point in a law ("1.", "2)", "a)", "–") starts its own paragraph even
# without a blank line before it, as laws are usually written one point a line.
_POINT_START = re.compile(r"^(\d+[.)]|[a-zа-яäçňöşüýž]\)|[–—-] )", re.IGNORECASE)
_HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*$")


def split_front_matter(text: str) -> tuple[dict[str, str], list[str]]:
    lines = text.splitlines()
    meta: dict[str, str] = {}
    if lines and lines[0].strip() == "---":
        try:
            end = lines.index("---", 1)
        except ValueError as exc:
            raise CorpusError("front matter opened with '---' is never closed") from exc
        for line in lines[1:end]:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            key, sep, value = line.partition(":")
            if not sep:
                raise CorpusError(f"front matter line without 'key: value': {line!r}")
            meta[key.strip()] = value.strip()
        lines = lines[end + 1 :]
    return meta, lines


def parse_source(path: Path, defaults: dict[str, str] | None = None) -> SourceText:
    """Read one Markdown-like source file (format: corpus/src/README.md)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path}: cannot read as UTF-8 text ({exc})") from exc
    try:
        meta, lines = split_front_matter(text)
    except CorpusError as exc:
        raise CorpusError(f"{path}: {exc}") from exc
    merged = dict(defaults or {})
    merged.update(meta)
    return SourceText(path=path, meta=merged, blocks=list(parse_blocks(lines)))


def parse_blocks(lines: list[str]) -> Iterator[TextBlock]:
    pending: list[str] = []
    pending_type: BlockType = "paragraph"
    table_rows: list[list[str]] = []

    def flush() -> Iterator[TextBlock]:
        nonlocal pending, table_rows
        if pending:
            yield TextBlock(type=pending_type, text=" ".join(s.strip() for s in pending))
            pending = []
        if table_rows:
            yield TextBlock(type="table", rows=table_rows)
            table_rows = []

    for raw in lines:
        line = raw.rstrip()
        stripped = line.strip()
        if stripped.startswith("%"):
            continue  # a comment for the authors of the source text
        if not stripped:
            yield from flush()
            continue
        if stripped.startswith("|"):
            if pending:
                yield from flush()
            cells = [cell.strip() for cell in stripped.strip("|").split("|")]
            if all(set(cell) <= set("-: ") for cell in cells):
                continue  # the |---|---| separator under a header row
            table_rows.append(cells)
            continue
        if table_rows:
            yield from flush()
        heading = _HEADING.match(stripped)
        if heading:
            yield from flush()
            yield TextBlock(type="heading", text=heading.group(2), level=len(heading.group(1)))
            continue
        if stripped.startswith("@toc"):
            yield from flush()
            pages = stripped.removeprefix("@toc").strip() or "1"
            if not pages.isdigit():
                raise CorpusError(f"@toc takes a page count, got {stripped!r}")
            yield TextBlock(type="toc", pages=int(pages))
            continue
        if stripped == "@newpage":
            yield from flush()
            yield TextBlock(type="newpage")
            continue
        if stripped.startswith("- ") and not line.startswith(" "):
            yield from flush()
            pending, pending_type = [stripped[2:]], "bullet"
            continue
        if stripped.startswith(">"):
            content = stripped[1:].strip()
            if pending and pending_type != "box":
                yield from flush()
            pending_type = "box"
            pending.append(content)
            continue
        if pending and pending_type == "paragraph" and _POINT_START.match(stripped):
            yield from flush()
        if not pending:
            pending_type = "paragraph"
        pending.append(stripped)
    yield from flush()


# ---------------------------------------------------------------------------
# PDF rendering
# ---------------------------------------------------------------------------


def check_fonts() -> None:
    missing = [name for name in FONT_FILES.values() if not (FONT_DIR / name).is_file()]
    if missing:
        raise CorpusError(
            f"DejaVu fonts not found in {FONT_DIR} ({', '.join(missing)}): "
            "apt-get install fonts-dejavu-core"
        )


def fixed_date(value: str) -> datetime:
    try:
        day = datetime.strptime(value, "%Y-%m-%d")
    except ValueError as exc:
        raise CorpusError(f"front matter date {value!r} is not YYYY-MM-DD") from exc
    return day.replace(hour=9, tzinfo=UTC)


def strip_inline_markup(text: str) -> str:
    return text.replace("**", "")


class CorpusPDF(FPDF):
    """A4 document with a running header and a printed page number in the footer."""

    def __init__(self, meta: dict[str, str]) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.meta = meta
        self.family = "DejaVuSerif" if meta.get("font") == "serif" else "DejaVuSans"
        self.body_size = float(meta.get("size", "10.5"))
        self.line_height = self.body_size * 0.56
        self.header_text = meta.get("header", "")
        self.footer_template = meta.get("footer", "{page}")
        self.first_page_plain = meta.get("title_page", "no") in {"yes", "masthead"}
        # A law's first page carries its title in full; a running header would repeat it.
        self.first_page_header = meta.get("first_page_header", "yes") == "yes"
        for (family, style), file_name in FONT_FILES.items():
            name = "DejaVuSerif" if family == "serif" else "DejaVuSans"
            self.add_font(name, style, str(FONT_DIR / file_name))
        self.set_margins(MARGIN_SIDE, MARGIN_TOP, MARGIN_SIDE)
        self.set_auto_page_break(auto=True, margin=MARGIN_BOTTOM)
        self.set_creation_date(fixed_date(meta.get("date", "2024-01-01")))
        self.set_creator("corpus/make_corpus.py (ctkb sample corpus)")
        self.set_producer("fpdf2")
        if meta.get("title"):
            self.set_title(meta["title"])
        if meta.get("author"):
            self.set_author(meta["author"])
        if meta.get("subject"):
            self.set_subject(meta["subject"])
        if meta.get("keywords"):
            self.set_keywords(meta["keywords"])
        if meta.get("lang"):
            self.set_lang(meta["lang"])

    def header(self) -> None:
        if not self.header_text:
            return
        if self.page == 1 and (self.first_page_plain or not self.first_page_header):
            return
        self.set_font("DejaVuSans", "", 8)
        self.set_text_color(90, 90, 90)
        self.set_y(10)
        self.cell(0, 4, self.header_text, align="L")
        self.set_draw_color(150, 150, 150)
        self.line(MARGIN_SIDE, 15.5, self.w - MARGIN_SIDE, 15.5)
        self.set_text_color(0, 0, 0)
        self.set_y(MARGIN_TOP)

    def footer(self) -> None:
        if self.page == 1 and self.first_page_plain:
            return
        self.set_y(-13)
        self.set_font("DejaVuSans", "", 8.5)
        self.set_text_color(60, 60, 60)
        self.cell(0, 5, self.footer_template.format(page=self.page_no()), align="C")
        self.set_text_color(0, 0, 0)

    # -- body elements -------------------------------------------------------

    def body_font(self, style: str = "", size: float | None = None) -> None:
        self.set_font(self.family, style, size or self.body_size)

    def ensure_space(self, height: float) -> None:
        """Start a new page unless `height` millimetres still fit on this one."""
        if self.get_y() + height > self.page_break_trigger:
            self.add_page()

    def paragraph(self, text: str) -> None:
        self.body_font()
        markdown = "**" in text
        self.multi_cell(
            0,
            self.line_height,
            text,
            align=self.meta.get("align", "J"),
            markdown=markdown,
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.ln(self.line_height * 0.6)

    def bullet(self, text: str) -> None:
        self.body_font()
        indent = 6.0
        self.ensure_space(self.line_height * 2)
        self.set_x(self.l_margin + 2)
        self.cell(indent - 2, self.line_height, "•")
        self.multi_cell(
            self.epw - indent,
            self.line_height,
            text,
            align="L",
            markdown="**" in text,
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.ln(self.line_height * 0.25)

    def box(self, text: str) -> None:
        self.body_font(size=self.body_size - 0.5)
        self.set_fill_color(232, 238, 244)
        self.ln(1)
        self.multi_cell(
            0,
            self.line_height,
            text,
            align="L",
            markdown="**" in text,
            fill=True,
            padding=(3, 4, 3, 4),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.ln(self.line_height * 0.8)

    def table_block(self, rows: list[list[str]]) -> None:
        widths = [int(w) for w in self.meta.get("table_widths", "").split(",") if w.strip()]
        self.body_font(size=self.body_size - 1.5)
        self.set_draw_color(120, 120, 120)
        # A short table is kept on one page; a long one (the action plan) may split.
        estimated_height = (len(rows) + 3) * self.line_height * 1.3
        if estimated_height < (self.page_break_trigger - self.t_margin) / 2:
            self.ensure_space(estimated_height)
        with self.table(
            col_widths=tuple(widths) if widths else None,
            line_height=self.line_height * 0.95,
            text_align="LEFT",
            first_row_as_headings=True,
            padding=1.5,
            repeat_headings=1,
        ) as table:
            for cells in rows:
                row = table.row()
                for cell in cells:
                    row.cell(strip_inline_markup(cell))
        self.ln(self.line_height)

    def heading(self, text: str, level: int, outline_level: int | None) -> None:
        sizes = {1: self.body_size + 5.5, 2: self.body_size + 2, 3: self.body_size + 0.5}
        size = sizes.get(level, self.body_size)
        new_page_level = int(self.meta.get("new_page_level", "0"))
        if level <= new_page_level and self.get_y() > self.t_margin + 1:
            self.add_page()
        elif self.get_y() > self.t_margin + 1:
            self.ln(self.line_height * (1.2 if level <= 2 else 0.6))
        # Keep a heading together with at least three lines of what follows it.
        self.ensure_space(size * 0.5 + self.line_height * 4)
        if outline_level is not None:
            self.start_section(text, level=outline_level)
        self.set_font(self.family, "B", size)
        self.multi_cell(0, size * 0.5, text, align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(self.line_height * (0.7 if level <= 2 else 0.4))


def render_toc(pdf: FPDF, outline: list[OutlineSection]) -> None:
    """Contents with dotted leaders; fills exactly the pages reserved for it."""
    assert isinstance(pdf, CorpusPDF)
    placeholder = pdf.toc_placeholder
    assert placeholder is not None
    last_page = placeholder.start_page + placeholder.pages - 1
    pdf.set_font(pdf.family, "B", pdf.body_size + 5.5)
    pdf.cell(0, 10, "Contents", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for entry in outline:
        if entry.name == "Contents":
            continue
        style = "B" if entry.level == 0 else ""
        pdf.set_font(pdf.family, style, pdf.body_size - 0.5)
        indent = 7.0 * entry.level
        page_label = str(entry.page_number)
        if entry.level == 0 and pdf.get_y() > pdf.t_margin + 12:
            pdf.ln(1.5)
        if pdf.get_y() + 6 > pdf.page_break_trigger:
            pdf.add_page()
        link = pdf.add_link(page=entry.page_number)
        name_width = pdf.get_string_width(entry.name)
        number_width = pdf.get_string_width(page_label)
        available = pdf.epw - indent - number_width - 2
        dots = "." * max(3, int((available - name_width - 2) / pdf.get_string_width(".")))
        pdf.set_x(pdf.l_margin + indent)
        pdf.cell(name_width + 1, 5.6, entry.name, link=link)
        pdf.set_text_color(130, 130, 130)
        pdf.cell(available - name_width - 1, 5.6, " " + dots, align="R")
        pdf.set_text_color(0, 0, 0)
        pdf.cell(number_width + 2, 5.6, page_label, align="R", link=link)
        pdf.ln(5.6)
    while pdf.page < last_page:
        pdf.add_page()


def render_title_page(pdf: CorpusPDF, meta: dict[str, str]) -> None:
    pdf.set_y(60)
    pdf.set_font(pdf.family, "", 11)
    pdf.set_text_color(0, 61, 122)
    pdf.cell(0, 6, meta.get("publisher", ""), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(25)
    pdf.set_font(pdf.family, "B", 22)
    pdf.multi_cell(0, 11, meta["title"], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    if meta.get("subtitle"):
        pdf.ln(8)
        pdf.set_font(pdf.family, "", 12)
        pdf.multi_cell(0, 7, meta["subtitle"], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(-95)
    pdf.set_font(pdf.family, "", 11)
    for key in ("author", "approval"):
        if meta.get(key):
            pdf.multi_cell(0, 6, meta[key], align="C", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
    place_year = ", ".join(v for v in (meta.get("place", ""), meta.get("year", "")) if v)
    if place_year:
        pdf.ln(6)
        pdf.cell(0, 6, place_year, align="C", new_x="LMARGIN", new_y="NEXT")
    if meta.get("fictional_note"):
        pdf.set_y(-32)
        pdf.set_font(pdf.family, "", 7.5)
        pdf.set_text_color(110, 110, 110)
        pdf.multi_cell(0, 4, meta["fictional_note"], align="C")
        pdf.set_text_color(0, 0, 0)
    pdf.add_page()


def render_masthead(pdf: CorpusPDF, meta: dict[str, str]) -> None:
    pdf.set_fill_color(0, 61, 122)
    pdf.rect(0, 0, pdf.w, 8, style="F")
    pdf.set_y(16)
    pdf.set_font(pdf.family, "", 9.5)
    pdf.set_text_color(0, 61, 122)
    pdf.cell(0, 5, meta.get("publisher", ""), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.family, "B", 17)
    pdf.multi_cell(0, 8.5, meta["title"], align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    if meta.get("subtitle"):
        pdf.set_font(pdf.family, "", 10.5)
        pdf.multi_cell(0, 6, meta["subtitle"], align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(0, 61, 122)
    pdf.set_line_width(0.6)
    pdf.line(pdf.l_margin, pdf.get_y() + 2, pdf.w - pdf.r_margin, pdf.get_y() + 2)
    pdf.set_line_width(0.2)
    pdf.ln(7)
    if meta.get("fictional_note"):
        pdf.set_font(pdf.family, "", 7.5)
        pdf.set_text_color(110, 110, 110)
        pdf.multi_cell(0, 4, meta["fictional_note"], new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        pdf.ln(3)


def render_pdf(source: SourceText) -> bytes:
    meta = source.meta
    meta.setdefault("title", source.title)
    pdf = CorpusPDF(meta)
    pdf.add_page()
    title_page = meta.get("title_page", "no")
    if title_page == "yes":
        render_title_page(pdf, meta)
    elif title_page == "masthead":
        render_masthead(pdf, meta)
    with_outline = meta.get("outline", "headings") == "headings"
    outline_depth = int(meta.get("outline_depth", "6"))
    previous_outline_level = -1
    for block in source.blocks:
        if block.type == "heading":
            outline_level: int | None = None
            if with_outline and block.level <= outline_depth:
                # Outline levels may only grow one step at a time (a law can go straight
                # from its title to an article without a chapter).
                outline_level = min(block.level - 1, previous_outline_level + 1)
                previous_outline_level = outline_level
            pdf.heading(strip_inline_markup(block.text), block.level, outline_level)
        elif block.type == "paragraph":
            pdf.paragraph(block.text)
        elif block.type == "bullet":
            pdf.bullet(block.text)
        elif block.type == "box":
            pdf.box(block.text)
        elif block.type == "table":
            pdf.table_block(block.rows)
        elif block.type == "newpage":
            pdf.add_page()
        elif block.type == "toc":
            if with_outline:
                pdf.start_section("Contents", level=0)
                previous_outline_level = 0
            pdf.insert_toc_placeholder(render_toc, pages=block.pages)
    return bytes(pdf.output())


# ---------------------------------------------------------------------------
# Web pages
# ---------------------------------------------------------------------------


def render_web_page(fragment_path: Path, layout: str) -> tuple[str, bytes]:
    """Wrap one content fragment in the site layout; returns (file name, encoded bytes)."""
    meta, lines = split_front_matter(fragment_path.read_text(encoding="utf-8"))
    for key in ("title", "lang"):
        if key not in meta:
            raise CorpusError(f"{fragment_path}: front matter needs '{key}'")
    encoding = meta.get("encoding", "utf-8")
    extra_head = []
    if meta.get("date"):
        extra_head.append(f'<meta name="date" content="{html.escape(meta["date"])}">')
    if meta.get("description"):
        extra_head.append(f'<meta name="description" content="{html.escape(meta["description"])}">')
    page = (
        layout.replace("{{charset}}", encoding)
        .replace("{{lang}}", meta["lang"])
        .replace("{{title}}", html.escape(meta["title"], quote=False))
        .replace("{{head_extra}}", "\n    ".join(extra_head))
        .replace("{{body_class}}", meta.get("body_class", "page"))
        .replace("{{breadcrumb}}", meta.get("breadcrumb", "Home"))
        .replace("{{content}}", "\n".join(lines).strip("\n"))
    )
    if "{{" in page:
        raise CorpusError(f"{fragment_path}: unknown placeholder left in the page")
    try:
        data = page.encode(encoding)
    except UnicodeEncodeError as exc:
        raise CorpusError(f"{fragment_path}: text not encodable as {encoding}: {exc}") from exc
    return fragment_path.name, data


# ---------------------------------------------------------------------------
# Building and reporting
# ---------------------------------------------------------------------------


@dataclass
class Output:
    relative_path: str
    data: bytes


def document_sources() -> list[SourceText]:
    sources = []
    for path in sorted(SRC_DIR.glob("*.md")):
        if path.name == "README.md":
            continue
        source = parse_source(path)
        if "output" not in source.meta:
            raise CorpusError(f"{path}: front matter needs 'output' (where the PDF goes)")
        sources.append(source)
    return sources


def build_documents() -> Iterator[Output]:
    for source in document_sources():
        yield Output(source.meta["output"], render_pdf(source))


def build_laws() -> Iterator[Output]:
    if not LAWS_SRC_DIR.is_dir():
        return
    for path in sorted(LAWS_SRC_DIR.glob("*.md")):
        if is_notes_file(path):
            continue
        source = parse_source(path, defaults=LAW_DEFAULTS)
        source.meta.setdefault("header", _shorten(source.title, 95))
        yield Output(f"legislation/{path.stem}.pdf", render_pdf(source))


def is_notes_file(path: Path) -> bool:
    """README.md, CHANGES.md and other all-caps files document the laws; they are not laws."""
    return path.stem.isupper()


def build_web() -> Iterator[Output]:
    layout_path = WEB_SRC_DIR / "_layout.html"
    if not layout_path.is_file():
        raise CorpusError(f"{layout_path}: site layout missing")
    layout = layout_path.read_text(encoding="utf-8")
    for path in sorted(WEB_SRC_DIR.glob("*.html")):
        if path.name.startswith("_"):
            continue
        name, data = render_web_page(path, layout)
        yield Output(f"web/{name}", data)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def write_outputs(outputs: list[Output], root: Path) -> None:
    for output in outputs:
        target = root / output.relative_path
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() and target.read_bytes() == output.data:
            continue
        target.write_bytes(output.data)
        print(f"wrote {target} ({len(output.data):,} bytes)")


@dataclass
class OutlineSpan:
    title: str
    level: int
    page_start: int
    page_end: int


def outline_spans(pdf_path: Path) -> tuple[int, list[OutlineSpan]]:
    """Page count and every outline entry with the pages its own text covers.

    An entry ends on the page before the next entry starts when that next entry is
    the first thing on its page, and on the same page when it starts lower down.
    """
    from pypdf import PdfReader
    from pypdf.generic import Destination

    reader = PdfReader(pdf_path)
    page_count = len(reader.pages)
    flat: list[tuple[str, int, int, float]] = []

    def walk(items: list[object], level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            elif isinstance(item, Destination):
                page = reader.get_destination_page_number(item) + 1
                top = float(item.top) if item.top is not None else 0.0
                flat.append((str(item.title), level, page, top))

    walk(reader.outline, 0)
    page_height = float(reader.pages[0].mediabox.height)
    body_top = page_height - (MARGIN_TOP + 1) * 72 / 25.4
    spans = []
    for index, (title, level, page, _top) in enumerate(flat):
        if index + 1 < len(flat):
            next_page, next_top = flat[index + 1][2], flat[index + 1][3]
            end = next_page - 1 if next_top >= body_top else next_page
            end = max(end, page)
        else:
            end = page_count
        spans.append(OutlineSpan(title, level, page, end))
    return page_count, spans


def pages_label(span: OutlineSpan) -> str:
    if span.page_start == span.page_end:
        return str(span.page_start)
    return f"{span.page_start}–{span.page_end}"


_MEASURE = re.compile(r"^\d\.\d{1,2}$")
_NUMBER = re.compile(r"^(Module \d+|Annex \d+|\d+(?:\.\d+)*)[.\s]")


def report_tables(root: Path) -> dict[str, str]:
    """Markdown tables describing the generated PDFs, keyed by CORPUS.md block name."""
    from pypdf import PdfReader

    tables: dict[str, str] = {}
    manual = root / "manuals" / "training-manual-victim-identification.pdf"
    if manual.is_file():
        page_count, spans = outline_spans(manual)
        lines = [
            f"{page_count} pages. Pages each outline entry's own text covers "
            "(a module's row covers its introduction only).",
            "",
            "| level | number | heading | pages |",
            "|---|---|---|---|",
        ]
        for span in spans:
            match = _NUMBER.match(span.title + " ")
            number = match.group(1) if match else ""
            lines.append(f"| {span.level + 1} | {number} | {span.title} | {pages_label(span)} |")
        tables["manual-pages"] = "\n".join(lines)

    plan = root / "plans" / "national-action-plan-2025-2029.pdf"
    if plan.is_file():
        page_count, spans = outline_spans(plan)
        lines = [f"{page_count} pages.", "", "| outline entry | pages |", "|---|---|"]
        lines += [f"| {s.title} | {pages_label(s)} |" for s in spans]
        # Measures are table rows, not bookmarks: find each number alone on its line.
        measure_pages: dict[str, int] = {}
        for page_number, page in enumerate(PdfReader(plan).pages, start=1):
            for line in page.extract_text().splitlines():
                if _MEASURE.match(line.strip()):
                    measure_pages.setdefault(line.strip(), page_number)
        lines += ["", "| measure | page (where its row starts) |", "|---|---|"]
        lines += [f"| {number} | {page} |" for number, page in measure_pages.items()]
        tables["plan-pages"] = "\n".join(lines)

    lines = ["| file | pages | outline entries |", "|---|---|---|"]
    for pdf_path in sorted((root / "newsletters").glob("*.pdf")):
        reader = PdfReader(pdf_path)
        lines.append(
            f"| newsletters/{pdf_path.name} | {len(reader.pages)} | {len(reader.outline)} |"
        )
    tables["newsletter-pages"] = "\n".join(lines)

    law_lines = [
        "| file | title | pages | outline entries (all levels) |",
        "|---|---|---|---|",
    ]
    law_pdfs = sorted((root / "legislation").glob("*.pdf"))
    for pdf_path in law_pdfs:
        page_count, spans = outline_spans(pdf_path)
        title = spans[0].title if spans else ""
        law_lines.append(f"| legislation/{pdf_path.name} | {title} | {page_count} | {len(spans)} |")
    if not law_pdfs:
        law_lines.append("| (none yet: corpus/src/laws/ is empty) | | | |")
    tables["law-pages"] = "\n".join(law_lines)
    return tables


def update_corpus_md(tables: dict[str, str], corpus_md: Path) -> None:
    if not corpus_md.is_file():
        return
    text = corpus_md.read_text(encoding="utf-8")
    for name, table in tables.items():
        begin, end = GENERATED_BEGIN.format(name=name), GENERATED_END.format(name=name)
        pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
        if not pattern.search(text):
            continue
        replacement = f"{begin}\n{table}\n{end}"
        # A function, so that backslashes in the table are not read as group references.
        text = pattern.sub(lambda _match, new=replacement: new, text)
    if text != corpus_md.read_text(encoding="utf-8"):
        corpus_md.write_text(text, encoding="utf-8")
        print(f"updated the generated tables in {corpus_md}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only",
        choices=["documents", "laws", "web"],
        action="append",
        help="build only these parts (repeatable); default: all",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=CORPUS_DIR,
        help="root folder to write into (default: corpus/ itself)",
    )
    parser.add_argument("--report", action="store_true", help="print the page tables")
    args = parser.parse_args(argv)
    parts = set(args.only or ["documents", "laws", "web"])
    try:
        outputs: list[Output] = []
        if parts & {"documents", "laws"}:
            check_fonts()
        if "documents" in parts:
            outputs += build_documents()
        if "laws" in parts:
            outputs += build_laws()
        if "web" in parts:
            outputs += build_web()
        root = args.out.resolve()
        write_outputs(outputs, root)
        tables = report_tables(root)
        if root == CORPUS_DIR:
            update_corpus_md(tables, CORPUS_DIR / "CORPUS.md")
        if args.report:
            for name, table in tables.items():
                print(f"\n## {name}\n\n{table}")
    except CorpusError as exc:
        print(f"make_corpus: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
