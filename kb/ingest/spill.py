"""A run's extraction results on disk, from extraction until their segmentation batch.

Every source is extracted before any is segmented (boilerplate is found across all of a
site's pages: `kb.ingest.pipeline.SiteBlocks`), but holding every extraction at once made
a build's memory grow with the number of documents. `run_pipeline` writes each
extraction here as it arrives and reads a batch back when that batch is segmented, so at
most a batch or two of extractions are in memory, whatever the size of the run.

The folder lives under the home folder (`<home>/spill/`) and is removed when the run
ends, also on failure; a run killed outright leaves it, and the next run (holding the
ingest lock, so no other run is using it) removes it first.
"""

from __future__ import annotations

import itertools
import pickle
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kb.ingest.pipeline import Outcome
from kb.model import Extracted

SPILL_FOLDER = "spill"


class SpilledExtractions:
    """Extractions kept in files of a folder, one a source, each read back once."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._files: dict[str, Path] = {}
        self._names = itertools.count()  # never the name of a file not yet taken back

    def put(self, outcome: Outcome) -> None:
        """Move the outcome's extraction to disk (the outcome no longer holds it)."""
        assert outcome.extracted is not None
        path = self.folder / f"{next(self._names)}.pickle"
        with path.open("wb") as handle:
            pickle.dump(outcome.extracted, handle, protocol=pickle.HIGHEST_PROTOCOL)
        self._files[outcome.ref.key] = path
        outcome.extracted = None

    def holds(self, outcome: Outcome) -> bool:
        return outcome.ref.key in self._files

    def take(self, outcome: Outcome) -> None:
        """Give the outcome its extraction back, and forget the file."""
        path = self._files.pop(outcome.ref.key)
        with path.open("rb") as handle:
            extracted: Extracted = pickle.load(handle)
        path.unlink()
        outcome.extracted = extracted

    def __len__(self) -> int:
        return len(self._files)


@contextmanager
def spilled_extractions(home: Path) -> Iterator[SpilledExtractions]:
    """A fresh spill folder under `home`, removed afterwards whatever happens.

    Call it holding the ingest lock: what an earlier, killed run left there is removed.
    """
    root = home / SPILL_FOLDER
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    folder = Path(tempfile.mkdtemp(prefix="extracted-", dir=root))
    try:
        yield SpilledExtractions(folder)
    finally:
        shutil.rmtree(root, ignore_errors=True)
