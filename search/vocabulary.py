"""The domain vocabulary for query expansion, loaded fast.

Reading the vocabulary's TOML files and building its matcher takes a few tenths of a
second, too much for every `kb search`. Each index build stores the built vocabulary
next to the index, with a fingerprint of the files it came from; a search loads that
copy when the fingerprint still holds, and reads the files otherwise.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
from pathlib import Path
from typing import Any

VOCABULARY_FILE = "vocabulary.pickle"
_lock = threading.Lock()
_loaded: dict[tuple[str, str], Any] = {}


def _sources() -> list[Path]:
    from kb.tagging import vocab

    folder = Path(vocab.DEFAULT_FOLDER)
    return [Path(vocab.__file__), *sorted(folder.glob("*.toml"))]


def fingerprint() -> str:
    """Changes when the vocabulary's files or the code that reads them change."""
    digest = hashlib.sha256()
    for path in _sources():
        try:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        except OSError:
            digest.update(path.name.encode() + b"\0missing")
    return digest.hexdigest()[:16]


def save_vocabulary(index_dir: Path) -> None:
    """Store the built vocabulary with the index (best effort: searching works without it)."""
    try:
        from kb.tagging.vocab import DEFAULT_FOLDER, read_vocabulary

        vocabulary = read_vocabulary(Path(DEFAULT_FOLDER))
        payload = pickle.dumps((fingerprint(), vocabulary), protocol=pickle.HIGHEST_PROTOCOL)
        partial = index_dir / (VOCABULARY_FILE + ".tmp")
        partial.write_bytes(payload)
        partial.replace(index_dir / VOCABULARY_FILE)
    except Exception:
        # A vocabulary that cannot be read is reported by the tagger; searching then
        # reads the files itself (and reports the error there, once).
        (index_dir / VOCABULARY_FILE).unlink(missing_ok=True)


def load_vocabulary_for(index_dir: Path | None) -> Any:
    """The vocabulary: the copy stored with the index if still current, else from the files."""
    current = fingerprint()
    key = (str(index_dir), current)
    with _lock:
        if key in _loaded:
            return _loaded[key]
        vocabulary = None
        if index_dir is not None:
            try:
                stored_fingerprint, stored = pickle.loads(
                    (index_dir / VOCABULARY_FILE).read_bytes()
                )
                if stored_fingerprint == current:
                    vocabulary = stored
            except Exception:
                vocabulary = None
        if vocabulary is None:
            from kb.tagging.vocab import load_vocabulary

            vocabulary = load_vocabulary()
        _loaded.clear()
        _loaded[key] = vocabulary
        return vocabulary
