"""The benchmark corpus generator: deterministic, shaped like the real material, cheap to change."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pytest

from bench.generate import (
    PoolShape,
    change_documents,
    generate,
    link_copy,
    load_info,
    plan,
    render_html,
    render_text,
    turkmen_ordinal,
)
from kb.segment.headings import match_heading

TINY_POOL = PoolShape(pages=3, per_kind=1)


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "corpus.json"
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("bench-work")
    generate(24, work / "corpus", seed=3, work=work, workers=1, pool_shape=TINY_POOL)
    return work / "corpus"


def test_plan_mixes_formats_and_languages_in_the_stated_shares() -> None:
    docs = plan(1000, seed=0)
    formats = Counter(d.fmt for d in docs)
    langs = Counter(d.lang for d in docs)
    assert formats == {"html": 650, "pdf": 250, "text": 100}
    assert langs == {"en": 450, "ru": 350, "tk": 200}
    assert len({d.path for d in docs}) == 1000
    assert plan(1000, seed=0) == docs
    assert plan(1000, seed=1) != docs


def test_pages_read_like_domain_text_in_their_language() -> None:
    docs = plan(200, seed=0)
    ru = next(d for d in docs if d.fmt == "html" and d.lang == "ru")
    html = render_html(ru, seed=0).decode()
    assert '<html lang="ru">' in html and "<h2>" in html and "<nav" in html and "<footer" in html
    assert any(word in html for word in ("жертв", "торговл", "миграц", "горяч"))
    tk = next(d for d in docs if d.fmt == "text" and d.lang == "tk")
    text = render_text(tk, seed=0).decode()
    assert text.startswith("# ") and "\n## " in text
    assert any(ch in text for ch in "ňýşäöüç")
    assert render_text(tk, seed=0) == render_text(tk, seed=0)
    assert render_text(tk, seed=0, variant=1) != render_text(tk, seed=0)


def test_law_headings_are_ones_the_segmenter_recognises() -> None:
    assert (
        turkmen_ordinal(5) == "5-nji"
        and turkmen_ordinal(6) == "6-njy"
        and turkmen_ordinal(30) == "30-njy"
    )
    from bench.generate import article_heading
    from bench.phrases import LANGUAGES

    for lang, number in (("en", "12"), ("ru", "7"), ("tk", "9"), ("tk", "12-1")):
        heading = article_heading(LANGUAGES[lang], number, "Title")
        found = match_heading(heading)
        assert found is not None and found.kind == "article" and found.number == number, heading


def test_generated_corpus_is_deterministic_and_ingestible(corpus: Path, tmp_path: Path) -> None:
    info = load_info(corpus)
    assert (corpus / "sources.toml").exists()
    assert sum(1 for d in info.docs if d.fmt == "pdf") >= 4
    again = tmp_path / "again"
    generate(24, again, seed=3, work=corpus.parent, workers=1, pool_shape=TINY_POOL)
    assert _digest(again) == _digest(corpus)

    from kb.acquire.sources import discover, read_manifest
    from kb.ingest.pipeline import check_source, extract_outcome

    refs = discover(read_manifest(corpus / "sources.toml"), root=corpus)
    assert len(refs) == 24
    outcomes = [extract_outcome(check_source(ref, None)) for ref in refs]
    assert [o.failure for o in outcomes if o.failure] == []
    pdfs = [o.extracted for o in outcomes if o.extracted and o.extracted.format == "pdf"]
    assert pdfs and all(e.outline for e in pdfs), "every generated PDF carries an outline"
    assert len({e.title for e in pdfs}) == len(pdfs), "every generated PDF has its own title"


def test_changing_one_percent_replaces_files_and_leaves_the_pristine_copy(
    corpus: Path, tmp_path: Path
) -> None:
    before = _digest(corpus)
    copy = tmp_path / "copy"
    link_copy(corpus, copy)
    changed = change_documents(copy, 0.1, seed=0)
    assert len(changed) == 2  # 10 % of 24, rounded
    after = _digest(copy)
    assert {p for p in after if after[p] != before[p]} == set(changed)
    assert _digest(corpus) == before
