"""PDFs as publishers lay them out: printed page numbers, real titles, gazette furniture
(running headers, page numbers, margin notes), printed contents, paragraphs cut by a page
break, larger-font headings, and HTML pages saved under a PDF's name.

Every PDF is written here with fpdf2 (and pypdf for page labels), modelled on real layouts.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

import kb.cli  # noqa: F401  (registers the commands on the shared app)
from kb.errors import SourceError
from kb.extract import extract_bytes
from kb.ingest.sequence import run_ingest
from kb.model import Extracted, SourceRef
from kb.segment.sections import segment
from search.query import search
from tests.cli_runner import invoke as run

pytestmark = pytest.mark.usefixtures("closing_searchers")

FONTS = Path("/usr/share/fonts/truetype/dejavu")


def _pdf() -> FPDF:
    pdf = FPDF(format=(127, 195))  # a gazette's small page, in mm
    pdf.set_auto_page_break(False)
    pdf.add_font("dejavu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("dejavu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    return pdf


def _write(pdf: FPDF, x: float, y: float, text: str, size: float, style: str = "") -> None:
    pdf.set_font("dejavu", style, size)
    pdf.set_xy(x, y)
    pdf.cell(0, size * 0.45, text)


def _extract(data: bytes, name: str = "doc.pdf") -> Extracted:
    return extract_bytes(SourceRef(key=f"/corpus/{name}", location=name), data)


def _body(lines: list[str], pdf: FPDF, *, x: float = 18, y: float = 22, size: float = 10) -> float:
    for line in lines:
        _write(pdf, x, y, line, size)
        y += 5.2
    return y


# -- printed page numbers ---------------------------------------------------------------


def labelled_report(start: int = 67) -> bytes:
    """A report chapter whose pages are printed from `start` on (PDF page labels)."""
    pdf = _pdf()
    chapters = [
        (
            "Chapter 4. Recruitment through online advertisements",
            "recruiters posted fake job offers",
        ),
        (
            "Chapter 5. Debt bondage in seasonal agriculture",
            "workers owed the recruiter for transport",
        ),
        ("Chapter 6. Identification by labour inspectors", "inspectors found withheld passports"),
    ]
    for number, (heading, finding) in enumerate(chapters):
        pdf.add_page()
        if number == 0:
            _write(pdf, 18, 10, "Global Report on Trafficking in Persons", 14, "B")
        _write(pdf, 18, 20, heading, 10, "B")
        _body([f"In the cases studied, {finding}", f"in {2019 + number} and the victims did not know",
               "where to go; each case was recorded with consent."], pdf, y=30)  # fmt: skip
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(bytes(pdf.output()))))
    writer.set_page_label(0, 2, style="/D", start=start)
    writer.add_metadata({"/Title": "Global Report on Trafficking in Persons, chapter 2"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_page_labels_are_the_printed_pages_of_a_section() -> None:
    extracted = _extract(labelled_report())
    assert extracted.page_labels == ("67", "68", "69")
    assert extracted.title == "Global Report on Trafficking in Persons, chapter 2"
    doc = segment(extracted, "report")
    section = next(s for s in doc.sections if "withheld passports" in s.text)
    assert section.pages == [3] and doc.printed_pages(section.pages) == ["69"]


# -- gazette furniture ------------------------------------------------------------------

ACT = "Penal Code (Amendment) Act, No. 16 of 2006"
CUT_SENTENCE = (
    "exploiting the vulnerability of another for the purpose of securing forced or compulsory "
    "labour or services, slavery, servitude, the removal of organs, prostitution or other forms "
    "of sexual exploitation shall be guilty of the offence of trafficking."
)


def gazette() -> bytes:
    """A gazette act: cover, then pages with a running header carrying the printed page number
    (on the left of even pages, the right of odd ones), side headings in a smaller font in the
    outer margin drawn after the body (as the gazette's text comes out), a printer's line at
    the foot, and a provision whose paragraph runs over a page break."""
    pdf = _pdf()
    pdf.add_page()
    _write(pdf, 20, 40, "PARLIAMENT OF THE DEMOCRATIC", 15, "B")
    _write(pdf, 30, 47, "SOCIALIST REPUBLIC OF SRI LANKA", 15, "B")
    _write(pdf, 25, 75, "PENAL CODE (AMENDMENT)", 14, "B")
    _write(pdf, 35, 82, "ACT, No. 16 OF 2006", 14, "B")
    _write(pdf, 30, 110, "[Certified on 24th April, 2006]", 10)
    pages = [
        (
            [
                "1. This Act may be cited as the Penal Code",
                "(Amendment) Act, No. 16 of 2006.",
                "2. Section 358A of the principal enactment is",
                "hereby amended by the substitution for the words",
                "“one year” of the words “five years”.",
                "3. Section 360C of the principal enactment is hereby",
                "repealed and the following section substituted therefor:—",
                "360C. (1) Whoever recruits, transports, transfers,",
                "harbours or receives any person or does any other",
                "act by the use of threat, force, fraud, deception or",
                "inducement or by",
            ],
            ["Short title.", "Amendment of", "section 358A.", "Replacement of", "section 360C."],
        ),
        (
            [
                "exploiting the vulnerability of another for the",
                "purpose of securing forced or compulsory labour or",
                "services, slavery, servitude, the removal of organs,",
                "prostitution or other forms of sexual exploitation",
                "shall be guilty of the offence of trafficking.",
                "(2) Whoever commits the offence of trafficking shall",
                "on conviction be punished with imprisonment of",
                "either description for a term not less than two years.",
                "4. In the event of any inconsistency between the",
                "Sinhala and Tamil texts of this Act, the Sinhala",
                "text shall prevail.",
            ],
            ["“Trafficking.", "Sinhala text", "to prevail in", "case of", "inconsistency."],
        ),
        (
            [
                "5. The Minister may make regulations for the purpose",
                "of carrying out the provisions of this Act, and every",
                "such regulation shall be published in the Gazette.",
                "6. Every regulation made by the Minister shall, as",
                "soon as convenient after its publication in the",
                "Gazette, be brought before Parliament for approval.",
            ],
            ["Regulations."],
        ),
    ]
    for printed, (body, notes) in enumerate(pages, start=1):
        pdf.add_page()
        even = printed % 2 == 0
        if even:
            _write(pdf, 30, 10, f"{printed} {ACT}", 9)
        else:
            _write(pdf, 20, 10, f"{ACT} {printed}", 9)
        body_x, note_x = (40, 12) if not even else (12, 98)
        _body(body, pdf, x=body_x, size=9)
        y = 22.5
        for note in notes:
            _write(pdf, note_x, y, note, 7)
            y += 3.6
        _write(pdf, 12, 188, f"{printed + 1}—PL 000608–5,650 (08/2005)", 6)
    return bytes(pdf.output())


def test_gazette_furniture_stays_out_of_the_provisions() -> None:
    extracted = _extract(gazette())
    doc = segment(extracted, "act")
    text = doc.text
    assert "Penal Code (Amendment) Act, No. 16 of 2006" not in text.replace(
        "the Penal Code (Amendment) Act, No. 16 of 2006.", ""
    )
    for note in (
        "Short title",
        "Replacement of",
        "Trafficking.",
        "text to prevail",
        "Regulations.",
    ):
        assert note not in text, note
    assert "PL 000608" not in text
    # The side headings are kept apart, with their page.
    notes = {n.text: n.page for n in extracted.margin_notes}
    assert notes["Replacement of section 360C."] == 2 and notes["“Trafficking."] == 3
    # Nothing after the furniture is lost.
    for words in ("text shall prevail.", "brought before Parliament for approval.", "(2) Whoever"):
        assert words in text, words


def test_a_paragraph_cut_by_a_page_break_is_one_paragraph_over_both_pages() -> None:
    extracted = _extract(gazette())
    [block] = [b for b in extracted.blocks if "exploiting the vulnerability" in b.text]
    assert "360C. (1) Whoever recruits, transports" in block.text and CUT_SENTENCE in block.text
    assert (block.page, block.page_end) == (2, 3)
    doc = segment(extracted, "act")
    section = next(s for s in doc.sections if CUT_SENTENCE in s.text)
    assert section.page_start <= 2 and section.page_end >= 3


def test_printed_page_numbers_come_from_the_running_header() -> None:
    extracted = _extract(gazette())
    # The cover has no number (cited by its place, "[1]"); the act's pages are printed 1, 2, 3.
    assert extracted.page_labels == ("[1]", "1", "2", "3")
    doc = segment(extracted, "act")
    assert doc.page_label(1) == "[1]" and doc.page_label(2) == "1" and doc.page_label(4) == "3"


def test_a_gazette_without_title_metadata_is_titled_by_its_own_title_line() -> None:
    # The cover's largest line is the issuing parliament; the act's title is the running header.
    assert _extract(gazette()).title == ACT


# -- titles -----------------------------------------------------------------------------


def guide(meta_title: str | None, *, date_line: str = "JANUARY 2023") -> bytes:
    pdf = _pdf()
    pdf.add_page()
    _write(pdf, 15, 30, date_line, 9)
    _write(pdf, 15, 50, "Safe at Home", 26, "B")
    _write(pdf, 15, 64, "How Caregivers Can Spot", 16)
    _write(pdf, 15, 72, "Online Grooming", 16)
    _write(pdf, 15, 95, "Survey results from a national study of caregivers", 10)
    pdf.add_page()
    _write(pdf, 15, 20, "About this guide", 14, "B")
    _body(["Traffickers contact children through games and social media.",
           "This guide helps parents and caregivers notice the signs."], pdf, x=15, y=30)  # fmt: skip
    if meta_title is not None:
        pdf.set_title(meta_title)
    return bytes(pdf.output())


@pytest.mark.parametrize(
    "meta_title",
    [
        None,  # no title in the metadata
        "Draft Parent Resource Guide - v5.docx",  # the file it was made from
        "Microsoft Word - guide_final",  # the program that made it
        "PL 000608 (E) Guide PDF.p65",  # a layout program's file name
        "Quarterly financial statement",  # another document's title, left in the template
    ],
)
def test_a_title_a_librarian_would_record(meta_title: str | None) -> None:
    title = _extract(guide(meta_title), "draft.pdf").title
    # The cover's largest text and its subtitle; the date line above it is not glued on.
    assert title == "Safe at Home: How Caregivers Can Spot Online Grooming"


def test_a_right_metadata_title_is_kept() -> None:
    title = _extract(guide("Safe at Home: a guide for caregivers")).title
    assert title == "Safe at Home: a guide for caregivers"


# -- printed contents and larger-font headings ------------------------------------------


def manual_with_contents() -> bytes:
    """A manual without bookmarks: a contents page with dot leaders, then chapters whose
    headings are set larger than the text and carry no number."""
    pdf = _pdf()
    pdf.add_page()
    _write(pdf, 15, 40, "Identifying Victims", 24, "B")
    pdf.add_page()
    _write(pdf, 15, 18, "Contents", 14, "B")
    entries = [("Recognising the signs", 3), ("Talking with a possible victim", 4),
               ("Referral to shelters", 5)]  # fmt: skip
    y = 30.0
    for title, page in entries:
        _write(pdf, 15, y, f"{title} {'.' * 40} {page}", 10)
        y += 6
    chapters = [
        ("Recognising the signs", "Workers who cannot leave their workplace and whose documents are held"),
        ("Talking with a possible victim", "Speak in private and use an interpreter the person trusts"),
        ("Referral to shelters", "The hotline arranges a place in a shelter on the same day"),
    ]  # fmt: skip
    for heading, sentence in chapters:
        pdf.add_page()
        _write(pdf, 15, 18, heading, 16, "B")
        cut = sentence.rindex(" ", 0, 50)
        _body([sentence[:cut], sentence[cut + 1 :] + ".", "Each case is recorded by the case worker."],
              pdf, x=15, y=30)  # fmt: skip
    return bytes(pdf.output())


def test_a_printed_contents_page_is_not_indexed_and_larger_lines_are_headings() -> None:
    extracted = _extract(manual_with_contents())
    doc = segment(extracted, "manual")
    assert "....." not in doc.text and "Contents" not in doc.text
    headings = [s.heading for s in doc.sections]
    assert headings == ["Recognising the signs", "Talking with a possible victim",
                        "Referral to shelters"]  # fmt: skip
    referral = doc.sections[-1]
    assert "shelter on the same day" in referral.text and referral.pages == [5]
    heading_blocks = [b for b in extracted.blocks if b.kind == "heading"]
    assert all(b.size > 1.4 for b in heading_blocks)


# -- HTML pages saved as .pdf -------------------------------------------------------------

NOT_FOUND = "<title>Page not found</title></head><body><h1>Page not found</h1><p>Sorry.</p>"
HTML_SHAPES = {
    "doctype": f"<!DOCTYPE html><html><head>{NOT_FOUND}</body></html>".encode(),
    "bom": f"\ufeff<html><head>{NOT_FOUND}</body></html>".encode(),
    "saved-from": (
        f"<!-- saved from url=(0040)https://example.org/report.pdf -->\n<html><head>{NOT_FOUND}"
    ).encode(),
    "xml": (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<html xmlns="http://www.w3.org/1999/xhtml"><head>{NOT_FOUND}</html>'
    ).encode(),
    "bare-div": b'<div class="error"><h1>Page not found</h1><p>Sorry.</p></div>',
    "utf-16": f"<html><head>{NOT_FOUND}</html>".encode("utf-16"),
    "utf-16-no-bom": f"<html><head>{NOT_FOUND}</html>".encode("utf-16-le"),
}


@pytest.mark.parametrize("shape", sorted(HTML_SHAPES))
def test_an_html_page_saved_as_pdf_is_refused_as_one(shape: str) -> None:
    with pytest.raises(SourceError) as failure:
        _extract(HTML_SHAPES[shape], "annual-report-2023.pdf")
    assert failure.value.reason.startswith("not a PDF: an HTML page"), failure.value.reason
    assert "Page not found" in failure.value.reason
    assert "\n" not in failure.value.reason


# -- what a user sees after a build -------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("layout-corpus")
    (folder / "global-report-chapter-2.pdf").write_bytes(labelled_report())
    (folder / "penal-code-amendment-2006.pdf").write_bytes(gazette())
    (folder / "missing-report.pdf").write_bytes(HTML_SHAPES["saved-from"])
    home = tmp_path_factory.mktemp("layout-home")
    changes = run_ingest(home, corpus=folder)
    failures = {f.source: f.reason for f in changes.failures}
    assert list(failures) == ["missing-report.pdf"]
    assert failures["missing-report.pdf"].startswith("not a PDF: an HTML page")
    return home


def test_citations_and_json_show_the_printed_page_and_link_the_pdf_page(built: Path) -> None:
    [hit] = search("withheld passports", home=built, flat=True).hits
    assert hit.pages == [69] and hit.pdf_pages == [3]
    assert hit.citation.endswith("p. 69")
    code, out = run("search", "withheld passports", "--json", "--flat", "--home", str(built))
    assert code == 0, out
    [data] = json.loads(out)["hits"]
    assert data["pages"] == [69] and data["pdf_pages"] == [3] and data["pages_label"] == "p. 69"
    code, out = run("search", "withheld passports", "--home", str(built))
    assert "p. 69" in out and "p. 3" not in out


def test_the_gazette_is_cited_by_its_printed_pages_and_the_error_page_is_not_indexed(
    built: Path,
) -> None:
    hits = search("vulnerability forced compulsory labour", home=built, flat=True).hits
    assert hits and hits[0].title == ACT
    assert hits[0].citation.startswith(ACT) and "pp. 1–2" in hits[0].citation
    found = search("page not found sorry", home=built, flat=True).hits
    assert all(h.doc_id != "missing-report" and "not found" not in h.title.lower() for h in found)


def test_the_web_interface_shows_printed_pages_and_links_the_pdf_page(built: Path) -> None:
    from web_support import web_client

    client = web_client(built)
    html = client.get("/search", params={"q": "withheld passports"}).text
    assert "/file/global-report-chapter-2#page=3" in html and "p. 69" in html
    page = client.get("/doc/global-report-chapter-2").text
    assert 'href="/file/global-report-chapter-2#page=3"' in page
    assert ">p. 69</a>" in page and ">p. 3</a>" not in page
    api = client.get("/api/search", params={"q": "withheld passports", "flat": "1"}).json()
    assert api["hits"][0]["pages"] == [69] and api["hits"][0]["pdf_pages"] == [3]


def test_page_texts_for_the_legal_parser_carry_no_furniture() -> None:
    from kb.extract.pdf import page_texts

    pages = page_texts(_extract(gazette()))
    assert len(pages) == 4
    assert "360C. (1) Whoever recruits" in pages[1] and CUT_SENTENCE in pages[1]
    assert not any("Replacement of" in text or "PL 000608" in text for text in pages)
    assert "text shall prevail." in pages[2]


def test_page_lines_for_a_law_keep_each_printed_line_and_leave_the_same_furniture_out() -> None:
    from kb.extract.pdf import page_lines, page_texts

    read = page_lines(SourceRef(key="/corpus/act.pdf", location="act.pdf"), gazette())
    extracted = page_texts(_extract(gazette()))
    assert len(read.pages) == len(extracted) == 4
    lines = read.pages[1].split("\n")
    # A provision starts on a line of its own, as printed, for the legal parser.
    assert "360C. (1) Whoever recruits, transports, transfers," in lines
    assert "2. Section 358A of the principal enactment is" in lines
    for furniture in ("Replacement of", "section 360C.", "Short title.", "PL 000608"):
        assert not any(furniture in text for text in read.pages)
    # The words are the extractor's; the line breaks and the page of a paragraph cut by a
    # page break differ (here it stays where each line is printed).
    assert " ".join(" ".join(read.pages).split()) == " ".join(" ".join(extracted).split())
    assert read.pages[2].startswith("exploiting the vulnerability of another for the")
    # The running head taken off carries the act's short title for the parser.
    assert any("Penal Code (Amendment) Act, No. 16 of 2006" in head for head in read.running)


def report_with_footers() -> bytes:
    """A report whose footer carries its title and the page number, glued to the title on
    left pages ("…SURVIVORS2") and after a space on right pages, and whose pages begin with
    different text; two pages open a table whose column heads must stay."""
    pdf = FPDF()
    pdf.set_auto_page_break(False)
    pdf.add_font("dejavu", "", str(FONTS / "DejaVuSans.ttf"))
    for page in range(1, 9):
        pdf.add_page()
        y = 20.0
        if page in (3, 4):
            _write(pdf, 15, y, "Top reported 1st 2nd 3rd", 10)
            y += 8
        for n in range(4):
            _write(
                pdf,
                15,
                y,
                f"Finding {page}.{n}: survivors in group {page * 10 + n} reported debts.",
                10,
            )
            y += 7
        footer = "IN HARM'S WAY: HOW SYSTEMS FAIL SURVIVORS"
        if page % 2 == 0:
            _write(pdf, 100, 285, f"{footer}{page}", 7)
        else:
            _write(pdf, 15, 285, f"{footer} {page}", 7)
    return bytes(pdf.output())


def test_footers_on_left_and_right_pages_go_and_a_table_head_stays() -> None:
    doc = segment(_extract(report_with_footers()), "report")
    assert "HOW SYSTEMS FAIL" not in doc.text
    assert doc.text.count("Top reported 1st 2nd 3rd") == 2
    assert "Finding 8.3: survivors in group 83 reported debts." in doc.text
