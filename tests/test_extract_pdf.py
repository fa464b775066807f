from __future__ import annotations

from pathlib import Path

import pytest
from pdf_fixtures import make_pdf

from kb.errors import SourceError
from kb.extract.pdf import extract_pdf
from kb.model import SourceRef
from kb.segment.sections import segment


def ref(path: Path) -> SourceRef:
    return SourceRef(key=str(path), location=path.name)


def test_outline_sections_keep_their_pages(tmp_path: Path) -> None:
    pages = [
        ["Training Manual", "IOM Turkmenistan"],
        ["Module 1. Basics", "Trafficking in persons is a crime.", "It has three elements."],
        ["1.1 The act", "Recruitment and transport are acts.", "More text on the act."],
        ["Still about the act, continued on this page.", "1.2 The means", "Deception is a means."],
    ]
    outline = [("Module 1. Basics", 1, 2), ("1.1 The act", 2, 3), ("1.2 The means", 2, 4)]
    pdf = make_pdf(tmp_path / "m.pdf", pages, outline=outline, header="IOM Turkmenistan · Manual")
    ex = extract_pdf(ref(pdf), pdf.read_bytes())
    assert ex.page_count == 4 and [o.title for o in ex.outline] == [t for t, _, _ in outline]
    doc = segment(ex, "m")
    act = next(s for s in doc.sections if s.heading == "1.1 The act")
    assert act.heading_path == ["Module 1. Basics", "1.1 The act"]
    assert act.pages == [3, 4]
    assert "continued on this page" in act.text
    means = next(s for s in doc.sections if s.heading == "1.2 The means")
    assert means.pages == [4] and means.id == "s-1-2"
    full = doc.text
    assert "IOM Turkmenistan · Manual" not in full and "Page 3" not in full


def test_cyrillic_and_turkmen_letters_survive(tmp_path: Path) -> None:
    pdf = make_pdf(
        tmp_path / "t.pdf",
        [
            ["Статья 1. Основные понятия"],
            ["Adam söwdasyna garşy göreş, ýaşlar, ženaýat."],
            ["Последняя страница."],
        ],
    )
    ex = extract_pdf(ref(pdf), pdf.read_bytes())
    text = " ".join(b.text for b in ex.blocks)
    assert "Основные понятия" in text and "söwdasyna garşy" in text and "ženaýat" in text


def test_truncated_pdf_is_a_clear_failure(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "x.pdf", [["Some text on a page."]] * 3)
    data = pdf.read_bytes()[:300]
    with pytest.raises(SourceError, match="damaged PDF"):
        extract_pdf(ref(pdf), data)


def test_encrypted_pdf_needs_password(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    src = make_pdf(tmp_path / "p.pdf", [["Secret text on a page."]] * 2)
    writer = PdfWriter(clone_from=PdfReader(src))
    writer.encrypt(user_password="pw", owner_password="owner")
    locked = tmp_path / "locked.pdf"
    with locked.open("wb") as fh:
        writer.write(fh)
    with pytest.raises(SourceError, match="encrypted PDF: a password is required"):
        extract_pdf(ref(locked), locked.read_bytes())
