"""Progress of a running flow, for whoever shows it (the CLI's Rich display)."""

from __future__ import annotations

from typing import Protocol


class ProgressReporter(Protocol):
    def stage(self, name: str, total: int) -> None: ...
    def advance(self, n: int = 1) -> None: ...


class _Silent:
    def stage(self, name: str, total: int) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


reporter: ProgressReporter = _Silent()


def set_reporter(new: ProgressReporter | None) -> None:
    global reporter
    reporter = new or _Silent()
