"""Comparing law texts: the 2007/2016 answer key (corpus/src/laws/CHANGES.md), the
English/Russian alignment, redlines, concordances, and the JSON and HTML outputs."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import pytest

from kb.errors import KBError
from kb.legal.compare import (
    Comparison,
    compare_structures,
    comparison_to_dict,
    load_concordance,
    redline,
)
from kb.legal.html import comparison_to_html
from kb.legal.parse import parse_pages, parse_text
from kb.legal.units import LegalUnit

REPO = Path(__file__).resolve().parents[1]
LAWS = REPO / "corpus" / "src" / "laws"
PDFS = REPO / "corpus" / "legislation"
FIXTURES = REPO / "tests" / "fixtures" / "legal"

# The answer key of corpus/src/laws/CHANGES.md: (2007 articles, 2016 articles, status).
EXPECTED_2007_2016 = [
    (["1"], ["1"], "amended"),
    (["2"], ["2"], "matched"),
    (["3"], ["3"], "amended"),
    (["4"], ["4"], "matched"),
    (["5"], ["5"], "amended"),
    (["6"], ["6"], "matched"),
    (["7"], ["7"], "matched"),
    (["8"], ["8", "9"], "split"),
    (["9"], ["10"], "renumbered"),
    (["10"], ["11"], "renumbered"),
    (["11"], ["12"], "renumbered"),
    (["12", "13"], ["13"], "merged"),
    (["14"], [], "removed"),
    (["15"], ["14"], "renumbered"),
    ([], ["15"], "added"),
    (["16"], ["16"], "matched"),
    (["17"], ["17"], "matched"),
    ([], ["18"], "added"),
    (["18"], ["19"], "renumbered"),
    (["19"], ["20"], "renumbered"),
    (["20"], ["21"], "renumbered"),
    (["21"], ["22"], "renumbered"),
]


def load(stem: str) -> LegalUnit:
    return parse_text((LAWS / f"{stem}.md").read_text(encoding="utf-8"))


def as_rows(comparison: Comparison) -> list[tuple[list[str], list[str], str]]:
    return [([u.number for u in p.a], [u.number for u in p.b], p.status) for p in comparison.pairs]


@pytest.fixture(scope="module")
def editions() -> Comparison:
    return compare_structures(
        load("law-ctip-2007-en"), load("law-ctip-2016-en"), a_name="2007", b_name="2016"
    )


@pytest.mark.parametrize("method", ["tfidf", "rapidfuzz"])
def test_2007_and_2016_editions_align_as_the_answer_key_says(method: str) -> None:
    comparison = compare_structures(
        load("law-ctip-2007-en"), load("law-ctip-2016-en"), method=method
    )
    assert as_rows(comparison) == EXPECTED_2007_2016


def test_summary_counts(editions: Comparison) -> None:
    assert editions.counts() == {
        "matched": 6,
        "amended": 4,  # 3 in place, and 21 -> 22 renumbered and amended
        "renumbered": 8,
        "split": 1,
        "merged": 1,
        "added": 2,
        "removed": 1,
    }


def test_amended_definition_redline_shows_what_was_added_and_removed(editions: Comparison) -> None:
    pair = editions.pair_for("art_1")
    inserted = " ".join(op.b for op in pair.ops if op.op in ("insert", "replace"))
    deleted = " ".join(op.a for op in pair.ops if op.op in ("delete", "replace"))
    assert "servitude" in inserted
    assert "position of vulnerability" in inserted
    assert "forced begging" in inserted
    assert "minor victim" in deleted
    # Unchanged text is cut to the context around changes.
    assert any(op.op == "equal" and op.elided for op in pair.ops)


def test_renumbered_entry_into_force_keeps_its_text_change(editions: Comparison) -> None:
    pair = editions.pair_for("chp_5__art_22")
    assert pair.status == "renumbered"
    assert pair.amended and "renumbered and amended" in pair.notes
    assert pair.similarity < 1.0
    assert any("declared invalid" in op.b for op in pair.ops if op.op == "insert")


def test_identical_articles_have_no_redline(editions: Comparison) -> None:
    assert editions.pair_for("chp_2__art_10").ops == []
    assert editions.pair_for("chp_2__art_10").similarity == 1.0


def test_redline_elides_unchanged_words_beyond_the_context() -> None:
    before = " ".join(f"w{i}" for i in range(40)) + " old " + " ".join(f"x{i}" for i in range(40))
    after = before.replace(" old ", " new ")
    ops = redline(before, after, context=8)
    assert [op.op for op in ops] == ["equal", "replace", "equal"]
    assert ops[0].a.split()[-8:] == [f"w{i}" for i in range(32, 40)]
    assert ops[0].elided == 32
    assert ops[2].a.split()[:8] == [f"x{i}" for i in range(8)]
    assert (ops[1].a, ops[1].b) == ("old", "new")
    assert redline("same words", "same words") == []


def test_english_and_russian_2016_editions_align_unit_by_unit() -> None:
    comparison = compare_structures(load("law-ctip-2016-en"), load("law-ctip-2016-ru"), b_lang="ru")
    assert comparison.mode == "parallel"
    assert comparison.counts() == {"aligned": 22}
    assert all(not pair.ops for pair in comparison.pairs)
    assert all(not pair.notes for pair in comparison.pairs)
    english_ids = {u.id for u in load("law-ctip-2016-en").walk()}
    russian_ids = {u.id for u in load("law-ctip-2016-ru").walk()}
    assert english_ids == russian_ids


def test_units_missing_in_one_language_and_differing_numbers_are_flagged() -> None:
    english = parse_text((FIXTURES / "parallel-en.md").read_text(encoding="utf-8"))
    russian = parse_text((FIXTURES / "parallel-ru.md").read_text(encoding="utf-8"))
    comparison = compare_structures(english, russian, a_lang="en", b_lang="ru")
    rows = [(p.status, p.a_ids, p.b_ids) for p in comparison.pairs]
    assert rows == [
        ("structure_differs", ["art_1"], ["art_1"]),
        ("aligned", ["art_2"], ["art_2"]),
        ("added", [], ["art_3"]),
    ]
    notes = comparison.pairs[0].notes
    assert "only in A: para_1__point_c" in notes
    assert "para_2: numbers differ (A: 30; B: 60)" in notes


def test_concordance_forces_a_pair(tmp_path: Path) -> None:
    concordance = load_concordance(FIXTURES / "concordance.toml")
    assert concordance == {"art_14": ["art_15"]}
    comparison = compare_structures(
        load("law-ctip-2007-en"), load("law-ctip-2016-en"), concordance=concordance
    )
    pair = comparison.pair_for("chp_3__art_14")
    assert (pair.status, pair.b_ids, pair.forced) == ("renumbered", ["chp_4__art_15"], True)
    assert "removed" not in comparison.counts()
    # A concordance may also declare a split by listing two b for one a.
    split = compare_structures(
        load("law-ctip-2007-en"),
        load("law-ctip-2016-en"),
        concordance={"art_5": ["art_5", "art_6"]},
    )
    assert split.pair_for("chp_2__art_5").status == "split"


def test_bad_concordance_is_a_user_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[[pair]]\na = 'art_1'\n", encoding="utf-8")
    with pytest.raises(KBError, match="needs both a and b"):
        load_concordance(broken)
    with pytest.raises(KBError, match="not a provision of the second text"):
        compare_structures(
            load("law-ctip-2007-en"), load("law-ctip-2016-en"), concordance={"art_1": "art_99"}
        )
    with pytest.raises(KBError, match="not found"):
        load_concordance(tmp_path / "missing.toml")


def test_comparison_json_lists_every_pair_with_ids_status_similarity_and_ops(
    editions: Comparison,
) -> None:
    data = json.loads(json.dumps(comparison_to_dict(editions), ensure_ascii=False))
    assert data["mode"] == "redline"
    assert data["summary"]["split"] == 1
    assert len(data["pairs"]) == len(EXPECTED_2007_2016)
    split = next(p for p in data["pairs"] if p["status"] == "split")
    assert split["a"] == ["chp_2__art_8"]
    assert split["b"] == ["chp_2__art_8", "chp_2__art_9"]
    assert split["b_citation"] == ["Article 8", "Article 9"]
    amended = data["pairs"][0]
    assert set(amended) >= {"status", "a", "b", "similarity", "ops", "notes"}
    assert {op["op"] for op in amended["ops"]} <= {
        "equal",
        "insert",
        "delete",
        "replace",
        "moved_from",
        "moved_to",
    }
    assert 0.6 < amended["similarity"] < 1.0


def test_html_report_contains_both_texts_and_every_change(editions: Comparison) -> None:
    page = comparison_to_html(editions)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "<link" not in page and "<style" not in page
    for pair in editions.pairs:
        for unit in (*pair.a, *pair.b):
            for line in unit.full_text().split("\n"):
                assert escape(line) in page
        for op in pair.ops:
            if op.op in ("delete", "replace"):
                assert f">{escape(op.a)}</del>" in page
            if op.op in ("insert", "replace"):
                assert f">{escape(op.b)}</ins>" in page
    assert "General&#x27;s Office" in page  # apostrophes escaped like everything else


def test_html_escapes_markup_in_the_texts() -> None:
    a = parse_text("### Article 1. Terms\n\nA <b>bold</b> & risky text.")
    b = parse_text("### Article 1. Terms\n\nA <script>alert(1)</script> & risky text.")
    page = comparison_to_html(compare_structures(a, b))
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # Emphasis markup is not part of the law's words (it is stripped before comparing).
    assert "A bold &amp; risky text." in page


def test_pdf_editions_align_like_their_sources() -> None:
    if not (PDFS / "law-ctip-2007-en.pdf").exists():
        pytest.skip("corpus PDFs not rendered (run corpus/make_corpus.py)")
    import pypdf

    def from_pdf(stem: str) -> LegalUnit:
        return parse_pages([p.extract_text() for p in pypdf.PdfReader(PDFS / f"{stem}.pdf").pages])

    comparison = compare_structures(from_pdf("law-ctip-2007-en"), from_pdf("law-ctip-2016-en"))
    assert as_rows(comparison) == EXPECTED_2007_2016
    parallel = compare_structures(
        from_pdf("law-ctip-2016-en"), from_pdf("law-ctip-2016-ru"), b_lang="ru"
    )
    assert parallel.counts() == {"aligned": 22}
