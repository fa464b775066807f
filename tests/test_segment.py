from __future__ import annotations

from kb.model import Block, Extracted, SourceRef
from kb.segment.headings import match_heading, normalise_number
from kb.segment.sections import segment


def test_heading_forms() -> None:
    assert match_heading("Article 129-1. Trafficking in persons").number == "129-1"
    assert match_heading("Статья 129¹. Торговля людьми").number == "129-1"
    assert match_heading("5-nji madda. Esasy düşünjeler").number == "5"
    assert match_heading("Module 3. Identification of victims").kind == "module"
    assert match_heading("3.2 Indicators of labour exploitation").number == "3.2"
    assert match_heading("Section 360C. Trafficking").number == "360C"
    assert match_heading("3.2 Indicators of labour exploitation ........ 14") is None
    assert match_heading("Article 5 of the Law provides that victims are protected") is None
    assert normalise_number("129¹") == "129-1"


def test_html_headings_build_paths() -> None:
    blocks = [
        Block("Report", "heading", 1), Block("Intro text."),
        Block("Day one", "heading", 2), Block("First day text."),
        Block("Session A", "heading", 3), Block("Session text."),
        Block("Day two", "heading", 2), Block("Second day text."),
    ]  # fmt: skip
    doc = segment(Extracted(SourceRef("k", "k"), "html", "Report", blocks), "d")
    assert [s.heading_path for s in doc.sections] == [
        [],
        ["Day one"],
        ["Day one", "Session A"],
        ["Day two"],
    ]
    assert [s.id for s in doc.sections] == ["intro", "day-one", "session-a", "day-two"]
