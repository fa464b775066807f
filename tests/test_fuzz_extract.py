"""Generated HTML, text and damaged PDFs never crash extraction: a result, or a SourceError."""

from __future__ import annotations

import pytest
from hostile.make_hostile import MANUAL_PAGES, text_pdf
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kb.errors import SourceError
from kb.extract import extract_bytes
from kb.ingest.pipeline import document_from_extracted
from kb.model import Block, Extracted, SourceRef
from kb.runtime.limits import Limits

# Extraction in this process: the fuzzing is about the extractors, not the worker processes.
IN_PROCESS = Limits(extract_timeout_s=0, extract_memory_mb=0)
WORDS = ["Trafficking", "жертвы", "Aşgabat", "ýaşlar", "129-1", "2025", "31 November 2009", "\u00a0", "&amp;",
         "&#0;", "&nbsp;", "<", ">", "]]>", "<!--", "-->", "\x00", "\ufffd", "é", "ß", "🙂", " ", "\n"]  # fmt: skip
TAGS = ["div", "p", "h1", "h2", "h7", "li", "ul", "table", "td", "script", "style", "nav", "header", "footer",
        "br", "meta", "title", "body", "html", "head", "svg", "math", "template", "iframe", "a", "span"]  # fmt: skip
ATTRS = ['', ' class="nav"', ' class="menu footer"', ' id="content"', ' role="banner"', ' lang="ru"',
         ' charset="windows-1251"', ' content="text/html; charset=koi8-r" http-equiv="Content-Type"',
         ' class=', ' name="date" content="31 November 2009"', ' id="\x00"']  # fmt: skip


@st.composite
def tag_soup(draw: st.DrawFn) -> str:
    """Markup that is mostly plausible and often broken: unclosed, misnested, odd attributes."""
    parts = []
    for _ in range(draw(st.integers(0, 40))):
        kind = draw(st.integers(0, 3))
        tag = draw(st.sampled_from(TAGS))
        if kind == 0:
            parts.append(f"<{tag}{draw(st.sampled_from(ATTRS))}>")
        elif kind == 1:
            parts.append(f"</{tag}>")
        elif kind == 2:
            parts.append(draw(st.sampled_from(WORDS)))
        else:
            parts.append(draw(st.text(max_size=20)))
    return "".join(parts)


encodings = st.sampled_from(["utf-8", "cp1251", "koi8-r", "utf-16", "latin-1", "utf-8-sig"])


def _extract(name: str, data: bytes) -> Extracted | None:
    try:
        extracted = extract_bytes(
            SourceRef(key=f"/fuzz/{name}", location=name), data, limits=IN_PROCESS
        )
    except SourceError as exc:
        event(f"failed: {exc.reason.split(':')[0]}")
        assert exc.reason and "\n" not in exc.reason
        return None
    event("extracted")
    return extracted


@settings(max_examples=200, deadline=None)
@given(soup=tag_soup(), encoding=encodings)
def test_generated_html_never_crashes_extraction(soup: str, encoding: str) -> None:
    data = soup.encode(encoding, errors="replace")
    _extract("page.html", b"<html><body>" + data if len(data) % 2 else data)


@settings(max_examples=200, deadline=None)
@given(data=st.one_of(st.binary(max_size=2000), st.text(max_size=500).map(lambda t: t.encode("utf-8"))),
       name=st.sampled_from(["notes.txt", "notes.md", "page.html", "file.pdf", "no-suffix"]))  # fmt: skip
def test_arbitrary_bytes_never_crash_extraction(data: bytes, name: str) -> None:
    _extract(name, data)


@pytest.fixture(scope="module")
def good_pdf() -> bytes:
    return text_pdf(MANUAL_PAGES)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cuts=st.lists(st.tuples(st.floats(0, 1), st.integers(1, 64), st.binary(max_size=8)), min_size=1, max_size=6),
       truncate=st.one_of(st.none(), st.floats(0.05, 1)))  # fmt: skip
def test_damaged_pdfs_never_crash_extraction(
    good_pdf: bytes, cuts: list[tuple[float, int, bytes]], truncate: float | None
) -> None:
    data = bytearray(good_pdf)
    for where, length, replacement in cuts:
        at = 16 + int(where * (len(data) - 17))  # the header stays: damage, not another format
        data[at : at + length] = replacement
    if truncate is not None:
        data = data[: max(1, int(truncate * len(data)))]
    _extract("manual.pdf", bytes(data))


@settings(max_examples=60, deadline=None)
@given(blocks=st.lists(st.tuples(st.sampled_from(["heading", "paragraph", "list", "meta", "caption"]),
                                 st.integers(0, 7), st.text(max_size=120), st.one_of(st.none(), st.integers(-2, 9))),
                       max_size=25),
       title=st.text(max_size=60), fmt=st.sampled_from(["pdf", "html", "text"]))  # fmt: skip
def test_segmenting_and_tagging_generated_text_never_crash(
    blocks: list[tuple[str, int, str, int | None]], title: str, fmt: str
) -> None:
    extracted = Extracted(
        source=SourceRef(key="/fuzz/doc", location="doc"),
        format=fmt,  # type: ignore[arg-type]
        title=title,
        blocks=[
            Block(text=text, kind=kind, level=level, page=page)
            for kind, level, text, page in blocks
        ],  # type: ignore[arg-type]
        page_count=max([p or 0 for *_, p in blocks] + [0]),
    )
    try:
        document_from_extracted(extracted, "doc")
    except SourceError as exc:
        if exc.reason.startswith("no text:") and not any(text.strip() for *_, text, _ in blocks):
            return  # nothing to index: the source's failure, rightly (never an empty document)
        pytest.fail(f"{exc.stage}: {exc.reason}")  # a bug: it must at least name its stage
