"""A run keeps each site's block fingerprints as numbers, and finds the same repeated blocks.

`SiteBlocks` holds the fingerprints of every page a run extracts until the run's boilerplate
is known: as text they were the largest thing a run held per source. These tests check that
the numbers find exactly what the text did, with earlier runs' pages (from the store) too,
and that reading every source's record for the check leaves the fingerprints in the store.
"""

from __future__ import annotations

from pathlib import Path

from kb.extract.boilerplate import repeated_blocks
from kb.extract.html import block_hash, extract_html
from kb.ingest.pipeline import Outcome, SiteBlocks, fingerprint_numbers
from kb.model import SourceRef
from kb.store import SourceRecord, Store

MENU = "<div><p>Home | News | The shelter network</p></div><div><p>Call the hotline 8 800</p></div>"
FOOT = "<div><p>© The partners' secretariat, Ashgabat</p></div>"


def _page(n: int, *, menu: bool = True) -> bytes:
    body = f"<h1>Report {n}</h1><p>Forty-{n} officers were trained in Mary.</p>"
    return (f"<html><head><title>Report {n}</title></head><body>{MENU if menu else ''}"
            f"<div class='content'>{body}</div>{FOOT}</body></html>").encode()  # fmt: skip


def _outcome(n: int, *, menu: bool = True) -> Outcome:
    ref = SourceRef(key=f"/corpus/site/{n}.html", location=f"site/{n}.html", site="partners",
                    site_given=True)  # fmt: skip
    return Outcome(ref, "new", extracted=extract_html(ref, _page(n, menu=menu)))


def test_fingerprints_kept_as_numbers_find_the_blocks_the_text_found() -> None:
    # The menu is on 3 pages of 5 (60 %: repeated), the footer on all of them.
    outcomes = [_outcome(n, menu=n < 3) for n in range(5)]
    by_text = repeated_blocks([o.extracted.block_hashes for o in outcomes if o.extracted])
    blocks = SiteBlocks()
    for o in outcomes:
        blocks.add(o)
    repeated = blocks.repeated(None)
    assert repeated == {"partners": by_text}
    assert block_hash("Call the hotline 8 800") in by_text  # a real case, not an empty set
    for o in outcomes:
        SiteBlocks.clean(o, repeated)
        assert o.extracted is not None
        texts = [b.text for b in o.extracted.blocks]
        assert not any("secretariat" in t or "hotline" in t for t in texts)
        assert any("officers were trained" in t for t in texts)


def test_earlier_pages_in_the_store_count_as_before(tmp_path: Path) -> None:
    earlier = [_outcome(n) for n in range(10, 14)]
    with Store(tmp_path / "kb.sqlite") as store:
        for o in earlier:
            assert o.extracted is not None
            store.put_source(SourceRecord(key=o.ref.key, location=o.ref.location, kind="file", site="partners",
                                          block_hashes=o.extracted.block_hashes))  # fmt: skip
        # One page changed this run: alone it repeats nothing; with the store's pages, the
        # menu and the footer are found, as with the fingerprints kept as text.
        changed = _outcome(12)
        blocks = SiteBlocks()
        blocks.add(changed)
        assert changed.extracted is not None
        pages = [changed.extracted.block_hashes,
                 *store.site_block_hashes("partners", exclude={changed.ref.key})]  # fmt: skip
        assert blocks.repeated(store) == {"partners": repeated_blocks(pages)}
        assert len(blocks.repeated(store)["partners"]) == 3  # both menu blocks, the footer


def test_a_page_s_fingerprints_take_eight_bytes_each() -> None:
    hashes = [block_hash("Home"), block_hash("News"), block_hash("Home")]
    numbers = fingerprint_numbers(hashes)
    assert numbers.itemsize == 8 and len(numbers) == 2  # distinct, as a page's set
    assert {f"{n:016x}" for n in numbers} == set(hashes)
    # Not made by `block_hash` (short, upper case, not hex): left out, as it matches nothing.
    assert fingerprint_numbers(["abc", "ABCDEF0123456789", "zz" * 8]).tolist() == []


def test_records_read_without_fingerprints_leave_them_in_the_store(tmp_path: Path) -> None:
    with Store(tmp_path / "kb.sqlite") as store:
        record = SourceRecord(key="/corpus/a.html", location="a.html", kind="file", site="partners",
                              size=120, sha256="ab" * 32, doc_id="a", extractor="html-9",
                              block_hashes=[block_hash("Home"), block_hash("News")])  # fmt: skip
        store.put_source(record)
        (lean,) = store.sources(block_hashes=False)
        assert lean.block_hashes == []
        assert {**vars(lean), "block_hashes": record.block_hashes} == vars(record)
        (whole,) = store.sources()
        assert whole == record
        assert store.site_block_hashes("partners", exclude=set()) == [record.block_hashes]
