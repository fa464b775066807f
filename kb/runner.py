"""The whole ingest in one process without Prefect: for tests, benchmarks and embedding.

It calls the same stage functions as `flows/ingest.py`, in the same order, minus
orchestration (tasks, retries, caching, the process pool, the artifact).
"""

from __future__ import annotations

from pathlib import Path

from kb.commit import ChangeSet, commit_outcomes
from kb.home import paths as home_paths
from kb.lock import ingest_lock
from kb.pipeline import build_documents, process_source
from kb.sources import discover, folder_manifest, read_manifest
from kb.store import Store
from search.indexer import build_index, update_index


def run_ingest(home: Path | str, *, sources: Path | str | None = None, corpus: Path | str | None = None,
               full: bool = False) -> ChangeSet:  # fmt: skip
    paths = home_paths(home).ensure()
    if corpus is not None:
        root = Path(corpus).resolve()
        refs = discover(folder_manifest(root), root=root)
    else:
        manifest = Path(sources or "corpus/sources.toml").resolve()
        refs = discover(read_manifest(manifest), root=manifest.parent)
    with ingest_lock(paths.lock), Store(paths.store) as store:
        outcomes = [process_source(ref, store.source(ref.key), full=full) for ref in refs]
        documents = build_documents(outcomes, store)
        changes = commit_outcomes(store, refs, outcomes, documents)
        if full:
            build_index(paths, store)
        else:
            update_index(paths, store, changes.changed_docs, changes.removed_docs)
    return changes
