"""Progress of a running flow, for whoever shows it (the CLI's Rich display)."""

from __future__ import annotations

from kb.ingest.sequence import Progress as ProgressReporter
from kb.ingest.sequence import SilentProgress

__all__ = ["ProgressReporter", "reporter", "set_reporter"]

reporter: ProgressReporter = SilentProgress()


def set_reporter(new: ProgressReporter | None) -> None:
    global reporter
    reporter = new or SilentProgress()
