"""The parser: a law's text (a `Document`, plain text or Markdown, or a PDF's pages) into
a tree of `LegalUnit`s (`kb.legal.units`).

`parse_structure` reads a `Document` (its sections' headings, text and pages);
`parse_text` reads plain text or Markdown; `parse_pages` reads a PDF's text page by page.

The parser works line by line. A line opens a unit when it starts like one
("Article 5.", "Статья 5.", "5-nji madda", "(2)", "б)", "1°") *and* the numbering fits
(the first item of a list, or a later item than its previous sibling) *and* the line
before it ended a sentence; otherwise it continues the text of the open unit. That is
what keeps "…under point\\na) of part 1…" in a PDF from becoming a new point.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from kb.legal.numbering import (
    PROVISION_NUMBER,
    is_first_in_sequence,
    next_in_sequence,
    normalize_number,
    number_key,
)
from kb.legal.source import ANNOTATION_MARK, clean_source
from kb.legal.units import ID_PREFIX, LegalUnit
from kb.model import Document
from kb.normalize import normalize_text
from kb.segment.sections import CONTINUATION

# --- line classification ---------------------------------------------------------

_ORDINAL_WORDS = (
    r"перв\w+|втор\w+|трет\w+|четв[её]рт\w+|пят\w+|шест\w+|седьм\w+|восьм\w+|девят\w+|десят\w+"
)
_GROUP_NUM = rf"[IVXLC]+\b|\d+[A-Za-z]?|{_ORDINAL_WORDS}"
_TAIL = r"\s*(?:$|[.:)—–-]\s*(?P<rest>.*)$)"

# Labels are matched in any case ("СТАТЬЯ 5", "ARTICLE 5"), numbers as written: only
# the label groups carry the (?i) flag, so "Section 2 of" is not section "2OF".
_ARTICLE_RE = re.compile(
    rf"^(?P<label>(?i:Article|Art\.|Artikel|Artículo|Articolo|Статья|Ст\.|Madda|Maddasy))\s*(?P<num>{PROVISION_NUMBER}){_TAIL}"
)
_TK_ARTICLE_RE = re.compile(
    rf"^(?P<num>{PROVISION_NUMBER})-?(?:\w*nj\w*)?\s+(?P<label>(?i:madda(?:sy)?))\b{_TAIL}"
)
_SECTION_RE = re.compile(
    rf"^(?P<label>Section|SECTION|Sec\.|§)\s*(?P<num>{PROVISION_NUMBER}|[IVXLC]+\b)"
    r"(?:\s*(?:$|[.:)—–-]\s*(?P<rest>.*)$)|\s+(?P<title>[A-ZА-ЯЁ][^.;]{0,80})$)"
)
_CHAPTER_RE = re.compile(
    rf"^(?P<label>(?i:Chapter|Chap\.|Глава|Chapitre|Hoofdstuk|Capítulo|Bap))\s+(?P<num>{_GROUP_NUM}){_TAIL}"
)
_TK_CHAPTER_RE = re.compile(
    rf"^(?P<num>[IVXLC]+|\d+)(?:-?\w*nj\w*)?\s+(?P<label>(?i:bap|bölüm))\b{_TAIL}"
)
_PART_RE = re.compile(
    rf"^(?P<label>(?i:Part|Раздел|Partie|Livre|Titre|Deel|Título|Bölüm))\s+(?P<num>{_GROUP_NUM}){_TAIL}"
)
_BARE_ROMAN_RE = re.compile(r"^(?P<num>[IVXLC]+)\.?$")
# A note of an article: «Примечание.», «Примечания. 1. …», "Explanation 2: …", "Bellik."
_NOTE_RE = re.compile(
    r"^(?P<label>Примечани[ея]|Примечание|Explanation|Explanations|Note|Notes|Bellik|Bellikler|Eskerme)"
    r"(?:\s+(?P<num>\d+))?\s*[.:—–-]\s*(?P<rest>.*)$"
)
# A statute's section heading as legislation sites print it: "2 Human trafficking" as a
# heading, or "2Human trafficking" glued in copied text (not "2 (1) A person…").
_GLUED_HEADING_RE = re.compile(
    r"^(?P<num>\d{1,3}[A-Z]{0,2})(?:(?P<glued>(?=[A-Z][a-z]))|\s+(?=[A-Z]))(?P<rest>[A-Z].*)$"
)
# Common-law acts number their sections "360C. (1) Whoever—" with no label.
_BARE_SECTION_RE = re.compile(
    r"^(?P<num>\d+\s?[A-Z]{0,2}|\d+[a-z])\.(?:\s+|\s*[—–]\s*(?=\())(?P<rest>\S.*)$"
)  # "360C. (1) Whoever—", and "2.—(1) A person…" as UK statutes print it

# (style, kind, regex); the number is group 1 and the text follows the match.
_MARKERS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("num-dot", "paragraph", re.compile(r"^(\d{1,3})\.\s+(?=[^\d\s])")),
    ("paren-num", "paragraph", re.compile(r"^\((\d{1,3}[A-Z]?)\)\s*(?=\S)")),
    ("roman-dash", "paragraph", re.compile(r"^([IVX]{1,5})\.\s*[-–—]\s*")),
    ("degree", "point", re.compile(r"^(\d{1,3}°)\s*")),
    ("num-paren", "point", re.compile(r"^(\d{1,3})\)\s+")),
    ("paren-roman", "point", re.compile(r"^\(([ivx]{1,5})\)\s*")),
    ("paren-letter", "point", re.compile(r"^\(([a-z])\)\s*")),
    ("letter-paren", "point", re.compile(r"^([a-zа-яäçňöşüýž])\)\s+")),
)
_ROMAN_STYLES = {"roman-dash", "paren-roman"}
# A new unit starts only after a line that closed a sentence or introduced a list.
_CLOSES = tuple('.:;—–-"”»“)!?')
# Common-law lists end items with "; or" / "; and".
_CLOSES_LIST = re.compile(r"(?:^|[;,])\s*(?:or|and|или|и)$")


def _closes(text: str) -> bool:
    return text.endswith(_CLOSES) or bool(_CLOSES_LIST.search(text))


_SANCTION = re.compile(
    r"^(?:наказыва\w+|карается|караются|shall (?:be guilty|on conviction)|jezalandyryl\w+)\b",
    re.IGNORECASE,
)
_TOC_LINE = re.compile(r"(?:\.{4,}|…{2,}|\s{3,})\s*\d+\s*$")
_MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s*(.*?)\s*#*\s*$")
_HTML_LINE = re.compile(r"^<[^>]+>$")


@dataclass
class _Line:
    text: str
    heading: bool = False
    page_start: int | None = None
    page_end: int | None = None
    annotation: bool = False  # a publisher's note: kept aside, never the law's text


@dataclass
class _Heading:
    kind: str
    label: str
    number: str
    rest: str
    titled: bool = False  # `rest` is the heading ("2 Human trafficking"), not first words


def _match_heading(text: str, *, is_heading: bool, common_law: bool) -> _Heading | None:
    text = text.replace("**", "").strip()
    for kind, pattern in (
        ("part", _PART_RE),
        ("chapter", _CHAPTER_RE),
        ("chapter", _TK_CHAPTER_RE),
        ("section", _SECTION_RE),
        ("article", _ARTICLE_RE),
        ("article", _TK_ARTICLE_RE),
    ):
        match = pattern.match(text)
        if match:
            rest = (match.group("rest") or "").strip()
            titled = bool(match.groupdict().get("title"))
            if titled:
                rest = match.group("title").strip()  # "§ 4 Penalties"
            if kind in ("part", "chapter") and not is_heading:
                if rest[:1].islower():
                    continue  # "Part of the proceeds…", running text
                if common_law and not rest:
                    continue  # "Chapter 19." in a common-law act's margin note cites a code
            label = match.group("label")
            label = label[:1].upper() + label[1:] if label.islower() else label
            return _Heading(kind, label, normalize_number(match.group("num")), rest, titled)
    if is_heading:
        match = _BARE_ROMAN_RE.match(text)
        if match:
            return _Heading("chapter", "", match.group("num"), "")
    glued = _GLUED_HEADING_RE.match(text)
    if glued and (is_heading or (common_law and glued.group("glued") is not None)):
        rest = glued.group("rest").strip()
        if len(rest) <= 120 and not rest.endswith((".", ";", ",")):
            return _Heading("section", "", normalize_number(glued.group("num")), rest, True)
    if common_law:
        match = _BARE_SECTION_RE.match(text)
        if match:
            return _Heading(
                "section", "", normalize_number(match.group("num")), match.group("rest")
            )
    return None


def _match_marker(text: str) -> tuple[str, str, str, str] | None:
    """(style, kind, number, rest) for a line that starts like a paragraph or a point."""
    for style, kind, pattern in _MARKERS:
        match = pattern.match(text)
        if match:
            return style, kind, match.group(1), text[match.end() :].strip()
    return None


# --- the tree builder ------------------------------------------------------------


@dataclass
class _Open:
    unit: LegalUnit
    style: str  # marker style of a paragraph or point; "" for headed units


class _Builder:
    def __init__(self, title: str, *, common_law: bool, has_articles: bool) -> None:
        self.root = LegalUnit("", "act", "", title, "")
        self.common_law = common_law
        self.has_articles = has_articles
        self.part: LegalUnit | None = None
        self.chapter: LegalUnit | None = None
        self.section: LegalUnit | None = None  # grouping section (laws with articles)
        self.stack: list[_Open] = []  # provision and its open paragraphs/points
        self.awaiting_heading: LegalUnit | None = None
        self.previous_closed = True
        self.editions = False
        self.free_heading_before_first = ""
        self.last_free_heading = ""
        self.seen_unit = False
        self.heading_may_continue: LegalUnit | None = None
        self.styles: dict[int, str] = {}  # id(unit) -> marker style, while parsing

    def style_of(self, unit: LegalUnit) -> str:
        return self.styles.get(id(unit), "")

    # containers
    def container(self) -> LegalUnit:
        return self.section or self.chapter or self.part or self.root

    def top(self) -> LegalUnit:
        return self.stack[-1].unit if self.stack else self.container()

    def add_heading(self, heading: _Heading, line: _Line) -> None:
        kind = heading.kind
        if kind == "section" and not self.has_articles:
            kind = "provision-section"
        unit = LegalUnit(
            "",
            "section" if kind == "provision-section" else kind,
            heading.number,
            heading.rest,
            "",
            line.page_start,
            line.page_end,
            label=heading.label,
        )
        if kind == "part":
            parent = self.root
        elif kind == "chapter":
            parent = self.part or self.root
        elif kind == "section":
            parent = self.chapter or self.part or self.root
        else:  # article, or a common-law section acting as one
            parent = (
                self.container() if kind == "article" else (self.chapter or self.part or self.root)
            )
        parent = self._check_collision(parent, unit)
        self._attach(parent, unit)
        if kind == "part":
            self.part, self.chapter, self.section, self.stack = unit, None, None, []
        elif kind == "chapter":
            self.chapter, self.section, self.stack = unit, None, []
        elif kind == "section":
            self.section, self.stack = unit, []
        else:
            self.stack = [_Open(unit, "")]
        self.seen_unit = True
        self.awaiting_heading = unit if not unit.heading else None
        self.previous_closed = True
        if kind == "provision-section" and heading.rest and not heading.titled:
            # "360C. (1) Whoever—": the heading line carries the section's first words.
            unit.heading = ""
            self.awaiting_heading = None
            rest_line = _Line(heading.rest, False, line.page_start, line.page_end)
            marker = _match_marker(heading.rest)
            if marker is None or not self.add_marker(*marker, rest_line):
                self.add_text(rest_line)

    def _check_collision(self, parent: LegalUnit, unit: LegalUnit) -> LegalUnit:
        """A number seen twice at the top: an empty table-of-contents entry, or a second
        language version of the same instrument (the Palermo Protocol in English and
        Dutch in one file). The first is dropped; the second starts a new part."""
        key = number_key(unit.number, unit.kind)
        twin = next(
            (
                c
                for c in parent.children
                if c.kind == unit.kind and number_key(c.number, c.kind) == key
            ),
            None,
        )
        if twin is None:
            return parent
        if not twin.full_text().strip():
            parent.children.remove(twin)
            return parent
        if (
            parent is self.root
            and not self.editions
            and unit.kind in ("chapter", "article", "section")
        ):
            self._start_editions()
            return self.part or self.root
        if self.editions and parent is self.part and self.part is not None:
            self._new_edition()
            return self.part
        return parent

    def _start_editions(self) -> None:
        first = LegalUnit("", "part", "1", self.free_heading_before_first, "", label="")
        first.children, self.root.children = self.root.children, [first]
        pages = [u.page_start for u in first.children if u.page_start is not None]
        first.page_start = min(pages) if pages else None
        first.page_end = max((u.page_end or 0 for u in first.children), default=None) or None
        self.editions = True
        self.part = first
        self._new_edition()

    def _new_edition(self) -> None:
        number = str(sum(1 for c in self.root.children if c.kind == "part") + 1)
        edition = LegalUnit("", "part", number, self.last_free_heading, "", label="")
        self.root.children.append(edition)
        self.part, self.chapter, self.section, self.stack = edition, None, None, []

    def _attach(self, parent: LegalUnit, unit: LegalUnit) -> None:
        parent.children.append(unit)

    def free_heading(self, line: _Line) -> None:
        if self.awaiting_heading is not None:
            self.awaiting_heading.heading = line.text
            self.awaiting_heading = None
            return
        if not self.root.heading:
            self.root.heading = line.text
        elif not self.seen_unit:
            self.free_heading_before_first = line.text
        self.last_free_heading = line.text
        # Text under a heading that is not a provision belongs to no article.
        self.stack = []
        self.section = None
        if not self.editions:
            self.chapter = None
        self.previous_closed = True

    def add_note(self, match: re.Match[str], line: _Line) -> bool:
        """«Примечание.» / "Explanation 2:" under the open article: a unit of its own, so
        that its numbered items are the note's and not the article's next parts."""
        if not self.stack or self.stack[0].style != "":
            return False
        provision = self.stack[0].unit
        label = match.group("label")
        number = match.group("num") or ""
        note = LegalUnit("", "note", number, "", "", line.page_start, line.page_end, label=label)
        provision.children.append(note)
        self.stack = [self.stack[0], _Open(note, "note")]
        self._touch(line)
        self.previous_closed = True
        rest = (match.group("rest") or "").strip()
        if rest:
            rest_line = _Line(rest, False, line.page_start, line.page_end)
            marker = _match_marker(rest)
            if marker is None or not self.add_marker(*marker, rest_line):
                self.add_text(rest_line)
        return True

    def add_marker(self, style: str, kind: str, number: str, rest: str, line: _Line) -> bool:
        roman = style in _ROMAN_STYLES
        if style == "paren-roman" and self._continues_letters(number):
            style, roman = "paren-letter", False
        if kind == "paragraph":
            # Under the article, or under its note when one is open.
            base = max((i for i, o in enumerate(self.stack) if o.style in ("", "note")), default=-1)
            parent = self.stack[base].unit if base >= 0 else self.container()
            keep = base + 1
        else:
            keep = len(self.stack)
            for index in range(len(self.stack) - 1, -1, -1):
                if self.stack[index].style == style:
                    keep = index
                    break
            parent = self.stack[keep - 1].unit if keep > 0 else self.container()
        siblings = [c for c in parent.children if c.kind == kind]
        previous = next((c for c in reversed(siblings) if self.style_of(c) == style), None)
        if previous is None:
            if not is_first_in_sequence(number, roman=roman):
                return False
        elif not next_in_sequence(previous.number, number, roman=roman):
            return False
        label = "(" if style.startswith("paren") else ("I." if style == "roman-dash" else "")
        unit = LegalUnit("", kind, number, "", rest, line.page_start, line.page_end, label=label)
        self.styles[id(unit)] = style
        parent.children.append(unit)
        self.stack = [*self.stack[:keep], _Open(unit, style)]
        self._touch(line)
        self.previous_closed = _closes(rest) or not rest
        return True

    def _continues_letters(self, number: str) -> bool:
        """ "(i)" after "(h)" is the ninth letter, not the Roman one."""
        if len(number) != 1:
            return False
        candidates = [o.unit for o in self.stack if o.style == "paren-letter"]
        parent = self.stack[-1].unit if self.stack else self.container()
        candidates += [c for c in parent.children if self.style_of(c) == "paren-letter"]
        return any(ord(number) == ord(c.number[:1]) + 1 for c in candidates if c.number)

    def close_points(self) -> None:
        while len(self.stack) > 1 and self.stack[-1].unit.kind == "point":
            self.stack.pop()

    def add_text(self, line: _Line) -> None:
        unit = self.top()
        if unit.children and unit.wrap_up_at is None and unit.kind != "act":
            unit.wrap_up_at = len(unit.text) + (1 if unit.text else 0)
        unit.text = f"{unit.text} {line.text}".strip() if unit.text else line.text
        self._touch(line)
        self.previous_closed = _closes(line.text)

    def _touch(self, line: _Line) -> None:
        if line.page_start is None:
            return
        end = line.page_end if line.page_end is not None else line.page_start
        chain = [self.root, self.part, self.chapter, self.section] + [o.unit for o in self.stack]
        for unit in chain:
            if unit is None:
                continue
            if unit.page_start is None or line.page_start < unit.page_start:
                unit.page_start = line.page_start
            if unit.page_end is None or end > unit.page_end:
                unit.page_end = end


def _feed(lines: list[_Line], title: str) -> LegalUnit:
    common_law, has_articles = _detect_mode(lines)
    builder = _Builder(title, common_law=common_law, has_articles=has_articles)
    blank_before = True
    last_closed = True  # did the last line with text end a sentence?
    for line in lines:
        text = line.text
        if line.annotation:
            if text:
                builder.top().annotations.append(text)
            continue
        if not text:
            blank_before = True
            builder.previous_closed = True
            continue
        if _TOC_LINE.search(text) and _match_heading(text, is_heading=True, common_law=False):
            blank_before = False
            continue  # table of contents entry: "Article 5. Powers ........ 4"
        if builder.heading_may_continue is not None and _continues_heading(text):
            # A heading wrapped in a PDF: "Article 8. Powers of the … State Border" / "Service".
            unit = builder.heading_may_continue
            unit.heading = f"{unit.heading} {text}"
            builder.heading_may_continue = None
            continue
        builder.heading_may_continue = None
        heading = _match_heading(text, is_heading=line.heading, common_law=common_law)
        starts_unit = blank_before or builder.previous_closed or line.heading
        note = _NOTE_RE.match(text) if heading is None and starts_unit else None
        if note is not None and builder.add_note(note, line):
            blank_before = False
            last_closed = True
            continue
        if heading is not None and (starts_unit or heading.kind != "section" or heading.label):
            builder.add_heading(heading, line)
            opened = builder.top() if builder.stack else builder.container()
            if opened.heading and not line.heading and not opened.heading.endswith(_CLOSES):
                builder.heading_may_continue = opened
        elif line.heading:
            builder.free_heading(line)
        elif builder.awaiting_heading is not None and _looks_like_heading(text):
            builder.awaiting_heading.heading = text
            builder.awaiting_heading = None
        else:
            builder.awaiting_heading = None
            marker = _match_marker(text) if starts_unit else None
            if marker is None or not builder.add_marker(*marker, line):
                if marker is None and _SANCTION.match(text):
                    # "наказываются …" after а)–и) is the part's penalty, not point и)'s words,
                    # whether or not a blank line comes before it.
                    builder.close_points()
                elif blank_before and marker is None and last_closed:
                    # An unnumbered paragraph after a list (French "alinéas") closes it;
                    # a sentence cut by a page break ("в целях" / "предупреждения") does not.
                    builder.close_points()
                builder.add_text(line)
        blank_before = False
        last_closed = _closes(text) or line.heading
    _choose_title(builder)
    _assign_ids(builder.root)
    return builder.root


_ENGLISH_WORDS = frozenset(
    ["the", "of", "and", "to", "in", "for", "on", "against", "persons", "especially"]
)


def _english_share(text: str) -> float:
    words = re.findall(r"[a-z]+", text.casefold())
    return sum(w in _ENGLISH_WORDS for w in words) / len(words) if words else 0.0


def _choose_title(builder: _Builder) -> None:
    """A bilingual file (the Dutch treaty database's "Protocol inzake …" over "Protocol to
    Prevent …") is titled in the language of its text, not by whichever heading is first."""
    first, second = builder.root.heading, builder.free_heading_before_first
    if not first or not second or first == second:
        return
    body = " ".join(u.text for u in builder.root.walk() if u.text)[:20_000]
    body_english = _english_share(body) >= 0.12
    if body_english and _english_share(second) >= 0.12 > _english_share(first):
        builder.root.heading = second


def _continues_heading(text: str) -> bool:
    return (
        len(text) <= 50
        and not text.endswith((".", ";", ":", ","))
        and _match_marker(text) is None
        and _match_heading(text, is_heading=False, common_law=False) is None
    )


def _looks_like_heading(text: str) -> bool:
    return (
        len(text) <= 120
        and not text.endswith((".", ";", ":", ","))
        and text[:1].isupper()
        and _match_marker(text) is None
    )


def _detect_mode(lines: list[_Line]) -> tuple[bool, bool]:
    """(common_law, has_articles): a text without Article/Статья/Chapter headings whose
    provisions are bare numbered sections ("360C. (1) Whoever…") is read common-law style."""
    has_articles = False
    groups = 0
    for line in lines:
        heading = _match_heading(line.text, is_heading=line.heading, common_law=False)
        if heading is None:
            continue
        if heading.kind == "article":
            has_articles = True
        elif heading.kind in ("chapter", "part") and heading.label:
            groups += 1
    # One stray "Chapter 19." (a margin note citing the amended code) is not a structure.
    return (not has_articles and groups < 2), has_articles


def _assign_ids(root: LegalUnit) -> None:
    def visit(unit: LegalUnit, prefix: str) -> None:
        used: dict[str, int] = {}
        for child in unit.children:
            key = number_key(child.number, child.kind) or "1"
            base = f"{ID_PREFIX[child.kind]}_{key}"
            used[base] = used.get(base, 0) + 1
            own = base if used[base] == 1 else f"{base}_{used[base]}"
            child.id = f"{prefix}__{own}" if prefix else own
            visit(child, child.id)

    visit(root, "")


def _text_lines(text: str, page: int | None = None) -> list[_Line]:
    lines: list[_Line] = []
    for raw in clean_source(text).split("\n"):
        if raw.startswith(ANNOTATION_MARK):
            lines.append(_Line(raw[1:].strip(), False, page, page, annotation=True))
            continue
        if _HTML_LINE.match(raw):
            continue
        match = _MARKDOWN_HEADING.match(raw)
        if match and match.group(2):
            lines.append(_Line(match.group(2).strip(), True, page, page))
        elif match:
            lines.append(_Line("", False, page, page))
        else:
            lines.append(_Line(raw.replace("**", "").strip(), False, page, page))
    return lines


def parse_text(text: str, title: str = "") -> LegalUnit:
    """Parse plain text or Markdown. The title, if not given, is the first Markdown heading,
    or in plain text a first line that reads like one ("PENAL CODE (AMENDMENT) ACT…")."""
    lines = _text_lines(text)
    if not title and not any(line.heading for line in lines):
        title, used = _first_page_title(lines)
        content = [i for i, line in enumerate(lines) if line.text and not line.annotation]
        if title and len(title) <= 160 and not title.endswith(_CLOSES):
            for i in content[:used]:
                lines[i] = _Line("", False)
        else:
            title = ""
    return _feed(lines, title)


def parse_pages(
    pages: list[str], title: str = "", *, running_heads: Sequence[str] = ()
) -> LegalUnit:
    """Parse the text of a PDF page by page (1-based pages), for page-accurate units.

    Running headers and footers ("8 Penal Code (Amendment) Act, No. 16 of 2006") are
    dropped: they would otherwise sit between the last point of one page and the first
    of the next, and hide the next point's start. `running_heads` are those a PDF
    reader already took off the pages (`kb.extract.pdf.page_lines`): the act's short
    title is looked for among them first."""
    per_page = [_text_lines(page_text, number) for number, page_text in enumerate(pages, start=1)]
    running = _running_lines(per_page)
    running_title = (
        "" if title else (_title_among(running_heads) or _running_title(per_page, running))
    )
    if not title and per_page and per_page[0]:
        first_title, used = _first_page_title(per_page[0])
        title = running_title or first_title
        same = " ".join(first_title.split()).casefold() == " ".join(title.split()).casefold()
        if same:  # the cover's title line is the title, not text of the act
            content = [i for i, line in enumerate(per_page[0]) if line.text]
            for i in content[:used]:
                per_page[0][i] = _Line("", False)
    line_numbers = _margin_line_numbers(per_page)
    lines: list[_Line] = []
    for page_lines in per_page:
        page_lines = [line for line in page_lines if line.text not in line_numbers]
        content = [i for i, line in enumerate(page_lines) if line.text]
        edges = set(content[:2] + content[-2:])
        # No blank line between pages: a sentence often runs on to the next page.
        lines.extend(
            line
            for i, line in enumerate(page_lines)
            if _page_furniture_key(line.text) not in running
            and not (i in edges and _PAGE_NUMBER.match(line.text))
        )
    return _feed(lines, title)


def _margin_line_numbers(per_page: list[list[_Line]]) -> set[str]:
    """A bill's margin line numbers ("5", "10", "15" … on their own lines): dropped when
    the pages carry several of them and nothing but multiples of five stands alone."""
    alone = [line.text for page in per_page for line in page if line.text.isdigit()]
    counted = [int(t) for t in alone if int(t) <= 100]
    if len(counted) < 3 or any(n % 5 for n in counted):
        return set()
    return {str(n) for n in counted}


_PAGE_NUMBER = re.compile(
    r"^(?:[-–—\s]*\d{1,4}[-–—\s]*|(?i:page|стр\.?|sahypa)\s*\d{1,4}(?:\s*(?:of|из)\s*\d+)?)$"
)


_TITLE_WORDS = re.compile(
    r"\b(?:Act|Law|Code|Ordinance|Decree|Protocol|Convention|Закон|Кодекс|Указ|Konstitusiýa|Kanuny|Kodeksi)\b",
    re.IGNORECASE,
)


def _title_among(running_heads: Sequence[str]) -> str:
    """The first running line that reads like an act's short title, its page number off."""
    for text in running_heads:
        title = re.sub(r"^\s*\d+\s*", "", text).strip()
        if _TITLE_WORDS.search(title) and len(title) >= 10:
            return title
    return ""


def _running_title(per_page: list[list[_Line]], running: set[str]) -> str:
    """A gazette prints the act's short title at the head of every page ("8 Penal Code
    (Amendment) Act, No. 16 of 2006"): a better title than the cover's first line
    ("PARLIAMENT OF THE DEMOCRATIC SOCIALIST REPUBLIC OF SRI LANKA")."""
    for page_lines in per_page[1:]:
        content = [line.text for line in page_lines if line.text and not line.annotation]
        head: list[str] = []
        for text in content[:_HEADER_LINES]:
            if _page_furniture_key(text) not in running:
                break
            head.append(text)
        title = re.sub(r"^\s*\d+\s*", "", " ".join(head)).strip()
        if _TITLE_WORDS.search(title) and len(title) >= 10:
            return title
    return ""


_NOT_A_TITLE = re.compile(
    r"^(?:ОБЩАЯ ЧАСТЬ|ОСОБЕННАЯ ЧАСТЬ|GENERAL PART|SPECIAL PART|СОДЕРЖАНИЕ|CONTENTS|TABLE OF CONTENTS"
    r"|UMUMY BÖLÜM|MAZMUNY|Примечание \w+!?)\.?$",
    re.IGNORECASE,
)


def _first_page_title(lines: list[_Line]) -> tuple[str, int]:
    """The first line of the first page, with its wrapped end ("… Trafficking in" / "Persons"),
    and how many lines it took."""
    content = [line.text for line in lines if line.text and not line.annotation]
    if not content or _match_heading(content[0], is_heading=False, common_law=False):
        return "", 0
    if _BARE_SECTION_RE.match(content[0]):
        return "", 0  # "12. (1) Whoever…" is a section, not a title
    glued = _GLUED_HEADING_RE.match(content[0])
    if _NOT_A_TITLE.match(content[0]) or (glued and glued.group("glued") is not None):
        return "", 0  # a code that starts with its "ОБЩАЯ ЧАСТЬ" has no title line
    if len(content) > 1 and _continues_heading(content[1]) and not re.search(r"\d", content[1]):
        return f"{content[0]} {content[1]}", 2
    return content[0], 1


def _page_furniture_key(text: str) -> str:
    return re.sub(r"[\d\s]+", " ", text).strip().casefold()


_HEADER_LINES = 3  # a running title may wrap over three lines


def _running_lines(per_page: list[list[_Line]]) -> set[str]:
    """Lines (digits ignored) found among the first three or last two lines of most pages."""
    if len(per_page) < 3:
        return set()
    counts: dict[str, int] = {}
    for page_lines in per_page:
        content = [line.text for line in page_lines if line.text]
        edge = {_page_furniture_key(t) for t in content[:_HEADER_LINES] + content[-2:]}
        for key in edge:
            if key:
                counts[key] = counts.get(key, 0) + 1
    return {key for key, count in counts.items() if count >= max(3, len(per_page) // 2)}


# A segmenter that found no headings names sections by page: not structure.
_PAGE_HEADING = re.compile(r"^(?:Page|Страница|Sahypa|Page n°)\s*\d+$", re.IGNORECASE)
# Extraction may join a PDF's lines into paragraphs: "…Whoever— (a) buys…; (b) recruits…".
# A marker right after a sentence or list-item end goes back on a line of its own; the
# numbering checks of the parser still reject a marker that does not fit. Not after a
# section number: "360C. (1) Whoever" stays one line.
_INLINE_MARKER = re.compile(
    r"(?:(?<=[.;:—–])|(?<=[;,] or)|(?<=[;,] and))(?<!\d\.)(?<!\d[A-Z]\.)\s+(?=(?:\(\d{1,3}[A-Z]?\)|\([a-z]\)|\([ivx]{1,5}\)|[a-zа-я]\)|\d{1,3}\.|\d{1,3}°|\d{1,4}[A-Z]{1,2}\.)\s)"
)


def _split_inline_markers(text: str) -> str:
    return "\n".join(_INLINE_MARKER.sub("\n", line) for line in text.split("\n"))


def parse_structure(doc: Document) -> LegalUnit:
    """Parse a document the pipeline extracted and segmented.

    Section headings that differ from the previous section's are fed as headings, so a
    segmenter that already split the law by article is used as it is; the sections'
    pages become the units' pages.
    """
    lines: list[_Line] = []
    previous_path: list[str] = []
    for section in doc.sections:
        if section.kind == "notes":
            continue  # footnotes and comments of a Word file are not provisions
        # "Article 3 (part 2)", "(page 12)": a long section cut by kb.segment.sections goes on.
        path = [CONTINUATION.sub("", normalize_text(h)) for h in section.heading_path]
        common = 0
        while common < min(len(path), len(previous_path)) and path[common] == previous_path[common]:
            common += 1
        for heading in path[common:]:
            if heading and not _PAGE_HEADING.match(heading):
                lines.append(_Line(heading, True, section.page_start, section.page_end))
        previous_path = path
        body = _split_inline_markers(clean_source(section.text))
        body_lines = body.split("\n")
        if path and body_lines and body_lines[0].strip() == path[-1]:
            body_lines = body_lines[1:]
        lines.append(_Line("", False))
        for raw in body_lines:
            note = raw.startswith(ANNOTATION_MARK)
            lines.append(
                _Line(
                    raw.lstrip(ANNOTATION_MARK).strip(),
                    False,
                    section.page_start,
                    section.page_end,
                    annotation=note,
                )
            )
    root = _feed(lines, doc.title)
    root.heading = root.heading or doc.title
    return root
