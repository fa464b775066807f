"""Each section's facet values, saved beside the index when it is built.

The first search after an index is opened counts facets (type, language, year, tags) over
every matching section, which needs each section's values: read from the index, that is
every facet value's whole posting list and the `doc_id` column, about 0.2 s on 100,000
sections, paid by every `kb search` (each one a new process). Saved once when the index is
built, they load in milliseconds. Without the file (an index built before, or a build that
did not call `save_facet_arrays`) they are read from the index as before: the same values.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from search.engine import FACET_COLUMNS, FACET_MANY_VALUED, IndexArrays, facet_file
from search.whoosh_internals import term_text


def save_facet_arrays(index_dir: Path) -> None:
    """Write the facet arrays of the index in `index_dir` (the indexer calls it after its
    commit; a few tenths of a second on 100,000 sections). Best effort: searching reads
    the index when the file is missing."""
    from whoosh import index as windex

    from search.schema import INDEX_NAME

    try:
        ix = windex.open_dir(str(index_dir), indexname=INDEX_NAME)
        with ix.searcher() as searcher:
            arrays = IndexArrays(searcher, cache_mb=1.0)  # caches of its own, not kept
            saved: dict[str, np.ndarray] = {}
            for fieldname in FACET_COLUMNS:
                codes, labels = arrays.column(fieldname)
                saved[f"codes:{fieldname}"] = codes
                saved[f"labels:{fieldname}"] = np.asarray(labels, dtype=str)
            for fieldname in FACET_MANY_VALUED:
                terms, ids = [], []
                for term in searcher.reader().lexicon(fieldname):
                    postings = arrays.postings(fieldname, term)
                    if postings is not None:
                        terms.append(term_text(term))
                        ids.append(postings.ids)
                saved[f"terms:{fieldname}"] = np.asarray(terms, dtype=str)
                saved[f"sizes:{fieldname}"] = np.asarray([len(i) for i in ids], dtype=np.int64)
                saved[f"ids:{fieldname}"] = np.concatenate(ids or [np.zeros(0)]).astype(np.int32)
            generation = ix.latest_generation()
        partial = index_dir / f".facets-{generation}.tmp.npz"
        np.savez(partial, **saved)
        current = facet_file(index_dir, generation)
        partial.replace(current)
        for old in index_dir.glob("facets-*.npz"):  # an updated index's copy of the last ones
            if old != current:
                old.unlink(missing_ok=True)
    except Exception as exc:  # searching reads the index instead: slower, the same results
        logging.getLogger(__name__).warning("facet arrays not saved in %s: %s", index_dir, exc)
