"""The one document model that flows through every stage of the pipeline.

extract -> `Extracted` (pages, blocks, outline) -> segment -> `Document` made of
`Section`s -> tag (adds `Tag`s, languages, type, dates) -> store -> index.
Every stage takes and returns these plain dataclasses; nothing re-parses text an
earlier stage already produced.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

# "note": a footnote, endnote or comment, kept out of the body (Word and OpenDocument files).
BlockKind = Literal["heading", "paragraph", "list", "meta", "caption", "note"]

# Language codes used everywhere: ISO 639-1, plus "und" (undetermined).
Lang = str


@dataclass
class Tag:
    """A fact attached to a document or a section.

    kind: "entity" (value = vocabulary id, e.g. "org.iom"), "date" (value = ISO
    partial date "2009-11"), "period", "fact", "lang", "legal_ref", ...
    text: the words in the source that produced the tag (evidence).
    """

    kind: str
    value: str
    label: str = ""
    text: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Block:
    """A run of text as extraction found it: a heading, a paragraph, a list item."""

    text: str
    kind: BlockKind = "paragraph"
    level: int = 0  # heading level (1 = top); 0 for non-headings
    page: int | None = None  # 1-based PDF page; None for web pages
    # The last page of a paragraph that a page break cut (joined again); None: `page` only.
    page_end: int | None = None
    # PDF layout signals for segmentation: the block's largest font size relative to the
    # body text (1.0 = body size; 0 when unknown) and whether all of it is set in bold.
    size: float = 0.0
    bold: bool = False


@dataclass
class OutlineEntry:
    """A PDF bookmark: title, depth (1 = top) and the 1-based page it points to."""

    title: str
    level: int
    page: int | None


@dataclass
class SourceRef:
    """Where a document comes from, with the manifest's hints."""

    key: str  # stable identity: absolute path or URL
    location: str  # what a user recognises: file name relative to the corpus, or URL
    kind: Literal["file", "url"] = "file"
    collection: str = ""
    doctype_hint: str = ""
    lang_hint: str = ""
    title_hint: str = ""
    site: str = ""  # pages of one site share boilerplate: host, or the collection
    # The manifest named the site (or the page was fetched by URL): a page's own
    # address (canonical link, og:url) does not regroup it.
    site_given: bool = False
    supersedes: str = ""  # laws only: ids of the editions this one repeals, comma-separated
    in_force_from: str = ""  # laws only: ISO date the law takes effect


@dataclass
class Extracted:
    """What an extractor produces from one source's bytes."""

    source: SourceRef
    format: Literal["pdf", "html", "text", "docx", "odt"]
    title: str
    blocks: list[Block]
    outline: list[OutlineEntry] = field(default_factory=list)
    page_count: int = 0
    published: str = ""  # date text found in metadata / the page, as written
    metadata: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Fingerprints of the HTML blocks (before boilerplate removal), so that blocks
    # repeated across pages of one site can be recognised on later runs too.
    block_hashes: list[str] = field(default_factory=list)
    # The printed page number of each PDF page (index 0 = page 1), from the PDF's page
    # labels or the running header/footer; empty when the printed numbers are the index.
    # (Tuples, so that their empty defaults are class attributes: extractions pickled in
    # the flow's cache before these fields existed still read.)
    page_labels: tuple[str, ...] = ()
    # Side headings of gazette PDFs, kept out of the body text (kind "meta", with page).
    margin_notes: tuple[Block, ...] = ()


@dataclass
class Section:
    """The unit of retrieval: a titled span of a document with the pages it covers."""

    id: str  # unique within its document, stable across runs for the same text layout
    order: int
    heading_path: list[str]
    text: str
    page_start: int | None = None
    page_end: int | None = None
    lang: Lang = "und"
    number: str = ""  # "3.2", "5", "129-1" when the heading carries a number
    kind: str = "section"  # section | article | preamble | module ...
    tags: list[Tag] = field(default_factory=list)

    @property
    def heading(self) -> str:
        return self.heading_path[-1] if self.heading_path else ""

    @property
    def pages(self) -> list[int]:
        if self.page_start is None:
            return []
        end = self.page_end if self.page_end is not None else self.page_start
        return list(range(self.page_start, end + 1))


@dataclass
class Document:
    id: str
    source: SourceRef
    format: str
    title: str
    sections: list[Section]
    doctype: str = "other"
    doctype_reason: str = ""
    lang: Lang = "und"
    languages: list[Lang] = field(default_factory=list)
    date: str = ""  # ISO partial date of publication: "2025", "2025-01", "2025-01-18"
    date_text: str = ""  # the publication date as written
    page_count: int = 0
    metadata: dict[str, str] = field(default_factory=dict)
    tags: list[Tag] = field(default_factory=list)
    content_hash: str = ""
    warnings: list[str] = field(default_factory=list)
    # Printed page numbers of a PDF (see `Extracted.page_labels`); empty: the index is printed.
    page_labels: list[str] = field(default_factory=list)
    # A law's article tree (`kb.legal.units.structure_to_dict`), parsed where the document
    # is built and saved with it by the commit; or why it could not be parsed. Not part of
    # the document's contents: the store keeps the tree apart (an artifact).
    structure: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    structure_error: str = field(default="", compare=False, repr=False)

    def page_label(self, page: int) -> str:
        """The number printed on PDF page `page` (1-based), else the page index itself."""
        if 0 < page <= len(self.page_labels) and self.page_labels[page - 1]:
            return self.page_labels[page - 1]
        return str(page)

    def printed_pages(self, pages: list[int]) -> list[str]:
        """Printed numbers of these PDF pages; [] when the PDF prints its index."""
        return [self.page_label(p) for p in pages] if self.page_labels else []

    def section(self, section_id: str) -> Section | None:
        return next((s for s in self.sections if s.id == section_id), None)

    def cited_source(self) -> str:
        """Where the document is cited from: a web page's own address when it is known
        (fetched by URL, or a saved page's canonical link or og:url), else its location."""
        if self.format == "html" and self.source.kind != "url":
            return self.metadata.get("address") or self.source.location
        return self.source.location

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections)

    def to_dict(self) -> dict[str, Any]:
        """The document's contents (a law's structure is kept apart: see `structure`)."""
        data = asdict(replace(self, structure=None))
        del data["structure"], data["structure_error"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        data = dict(data)
        data["source"] = SourceRef(**data["source"])
        data["tags"] = [Tag(**t) for t in data.get("tags", [])]
        sections = []
        for s in data.get("sections", []):
            s = dict(s)
            s["tags"] = [Tag(**t) for t in s.get("tags", [])]
            sections.append(Section(**s))
        data["sections"] = sections
        return cls(**data)


DOCTYPES: tuple[str, ...] = (
    "newsletter",
    "news",
    "event_report",
    "project_page",
    "training_manual",
    "legislation",
    "action_plan",
    "international_instrument",
    "other",
)

# The types whose text is a law's: read as provisions, compared, checked against the definition.
LEGAL_DOCTYPES: tuple[str, ...] = ("legislation", "international_instrument")

DOCTYPE_LABELS: dict[str, str] = {
    "newsletter": "Newsletter",
    "news": "News item",
    "event_report": "Event or training report",
    "project_page": "Project page",
    "training_manual": "Training manual",
    "legislation": "Legislation",
    "action_plan": "Action plan",
    "international_instrument": "International instrument",
    "other": "Other",
}
