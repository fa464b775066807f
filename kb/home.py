"""Where the knowledge base keeps its data: one home folder (--home, KB_HOME, ./data)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def resolve_home(home: Path | str | None = None) -> Path:
    if home is None:
        home = os.environ.get("KB_HOME") or "data"
    return Path(home).expanduser().resolve()


@dataclass(frozen=True)
class HomePaths:
    root: Path

    @property
    def store(self) -> Path:
        return self.root / "kb.sqlite"

    @property
    def index_link(self) -> Path:
        """Symlink to the live index folder; swapped atomically by each build."""
        return self.root / "index"

    @property
    def indexes(self) -> Path:
        return self.root / "indexes"

    @property
    def fetched(self) -> Path:
        return self.root / "fetched"

    @property
    def lock(self) -> Path:
        return self.root / "ingest.lock"

    @property
    def prefect(self) -> Path:
        return self.root / "prefect"

    def ensure(self) -> HomePaths:
        self.root.mkdir(parents=True, exist_ok=True)
        return self


def paths(home: Path | str | None = None) -> HomePaths:
    return HomePaths(resolve_home(home))
