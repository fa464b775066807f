"""The first searches after an index is opened: the same results as later ones, and only the
work they need (no positions for plain words, no copy of the index's files)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from whoosh import index as windex
from whoosh import query as wq

from bench.queries import QUERIES
from kb.home import paths as home_paths
from search.compile import Compiler
from search.engine import CACHE_MB, IndexArrays
from search.facet_arrays import save_facet_arrays
from search.query import search, searchers
from search.schema import INDEX_NAME
from search.syntax import parse

_FILTERS = ("doctype", "lang", "year", "tag")

# Runs in a new process: every query of the benchmark set as the first searches there.
_FRESH = """
import json, sys
from search.query import search
home, queries = sys.argv[1], json.loads(sys.argv[2])
out = [search(text, home=home, limit=10, **filters).as_dict() for text, filters in queries]
print(json.dumps(out))
"""


def _comparable(results: dict) -> dict:
    results = dict(results)
    results.pop("seconds")
    return results


def test_first_searches_in_a_new_process_give_what_later_ones_give(corpus_home: Path) -> None:
    queries = [(q.text, {k: v for k, v in q.filters.items() if k in _FILTERS}) for q in QUERIES]
    done = subprocess.run(
        [sys.executable, "-c", _FRESH, str(corpus_home), json.dumps(queries)],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    first = json.loads(done.stdout)
    for _ in range(2):  # this process's caches are warm after the first round
        later = [search(text, home=corpus_home, limit=10, **filters).as_dict()
                 for text, filters in queries]  # fmt: skip
    assert sum(1 for r in first if r["hits"]) >= 20
    for (text, _), cold, warm in zip(queries, first, later, strict=True):
        assert _comparable(cold) == _comparable(warm), text


def _fresh_arrays(corpus_home: Path) -> IndexArrays:
    # A cache size of its own gives caches of its own: nothing another test read.
    return IndexArrays(searchers.get(home_paths(corpus_home)), cache_mb=CACHE_MB + 1)


def test_plain_words_decode_no_positions_and_a_phrase_only_its_sections(
    corpus_home: Path,
) -> None:
    arrays = _fresh_arrays(corpus_home)
    searcher = arrays.searcher
    compiler = Compiler(searcher, None)
    matches = arrays.evaluate(compiler.compile(parse("trafficking victims")).query)
    assert matches.count > 10
    read = list(arrays._cache.values())
    assert any(p.values for p in read)  # positional fields were read...
    assert all(p.keys is None and not p.partly_decoded for p in read)  # ...not their positions

    # "human" is in a few sections, "trafficking" in most: the phrase can only be in the few.
    words = [t.text for t in searcher.schema["body_en"].analyzer("human trafficking")]
    rare, common = (arrays.postings("body_en", word) for word in words)
    assert rare is not None and common is not None and len(common.ids) > 4 * len(rare.ids)
    query = wq.Phrase("body_en", words)
    phrase = arrays.evaluate(query)
    assert phrase.count > 0
    # The phrase is found where Whoosh finds it...
    assert set(phrase.ids().tolist()) == {hit.docnum for hit in searcher.search(query, limit=None)}
    # ...having decoded the common word's positions only in the sections holding both.
    assert common.partly_decoded and common.keys is None
    assert rare.keys is not None  # all of its sections hold both: decoded and kept


def test_searching_leaves_the_index_files_uncopied(corpus_home: Path) -> None:
    # Whoosh copied each file of a compound segment into memory when opening it: about
    # 300 MB for a 100,000-section index, again for each searcher of the web server.
    index_dir = os.path.realpath(home_paths(corpus_home).index_link)
    with windex.open_dir(index_dir, indexname=INDEX_NAME).searcher() as searcher:
        arrays = IndexArrays(searcher, cache_mb=CACHE_MB + 1)
        query = Compiler(searcher, None).compile(parse('"forced labour" shelter')).query
        assert arrays.evaluate(query).count > 0
        for reader, _ in arrays.leaves:
            postfile = reader._terms._postfile
            assert type(postfile).__name__ == "_MappedFile"
            assert postfile.__dict__.get("_stream") is None


# Runs in a new process (this one's caches stay as other tests expect): each query on the
# home with the facet file and on the one without.
_BOTH = """
import json, sys
from kb.home import paths
from search.engine import index_arrays
from search.query import search, searchers
saved_home, read_home, queries = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
pairs = [[search(text, home=home, limit=10, **options).as_dict() for home in (saved_home, read_home)]
         for text, options in queries]
used = [index_arrays(searchers.get(paths(h))).saved_facets() is not None
        for h in (saved_home, read_home)]
print(json.dumps({"pairs": pairs, "used": used}))
"""


def test_facet_arrays_saved_with_the_index_give_the_same_results(
    corpus_home: Path, tmp_path: Path
) -> None:
    # The indexer saves the facet arrays with every index; a copy without them reads the
    # same values from the index itself.
    source = Path(os.path.realpath(home_paths(corpus_home).index_link))
    assert len(list(source.glob("facets-*.npz"))) == 1
    homes = {}
    for name in ("saved", "read"):
        home = homes[name] = tmp_path / name
        shutil.copytree(source, home / "indexes" / source.name)
        (home / "index").symlink_to(Path("indexes") / source.name)
    for stale in (homes["read"] / "indexes" / source.name).glob("facets-*.npz"):
        stale.unlink()
    # Saving again (as an update does) leaves one file, for the index's current generation.
    save_facet_arrays(homes["saved"] / "indexes" / source.name)
    assert len(list((homes["saved"] / "indexes" / source.name).glob("facets-*.npz"))) == 1
    queries = [(q.text, {k: v for k, v in q.filters.items() if k in _FILTERS}) for q in QUERIES]
    queries += [("victims", {"sort": "date"}), ("law", {"flat": True})]
    done = subprocess.run(
        [sys.executable, "-c", _BOTH, str(homes["saved"]), str(homes["read"]), json.dumps(queries)],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    found = json.loads(done.stdout)
    assert found["used"] == [True, False]
    for (text, _), (saved, read) in zip(queries, found["pairs"], strict=True):
        assert _comparable(saved) == _comparable(read), text


def test_a_search_of_an_index_with_no_sections_finds_nothing(tmp_path: Path) -> None:
    # A first build whose only folder holds nothing to index still swaps in an (empty)
    # index: searching it answers "nothing found", not a traceback. (`kb search` in a new
    # process, as a user runs it: this process's index caches stay as other tests expect.)
    from kb.ingest.sequence import run_ingest

    (tmp_path / "docs").mkdir()
    manifest = tmp_path / "sources.toml"
    manifest.write_text(
        f'[[source]]\nname = "empty"\nkind = "folder"\npath = "{tmp_path / "docs"}"\n'
    )
    home = tmp_path / "home"
    run_ingest(home, sources=manifest)
    assert home_paths(home).index_link.exists()
    kb = str(Path(sys.executable).with_name("kb"))
    done = subprocess.run([kb, "search", "hotline", "--home", str(home), "--json"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["total"] == 0 and found["hits"] == []
