"""Hostile corpora written once per test session (helpers for the test modules' fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hostile.make_hostile import EXPECTED, EXPECTED_LARGE, Expected, small_files, write_large_files


def hostile_corpus(
    factory: pytest.TempPathFactory, *, large: bool = False
) -> tuple[Path, dict[str, Expected]]:
    """The small hostile files (and with `large`, the 50 MB text and the 2,000-page PDF).

    Written under the session's base temp folder the first time any test asks, then reused.
    """
    folder = factory.getbasetemp() / ("hostile-large" if large else "hostile")
    done = folder / ".complete"
    if not done.exists():
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in small_files().items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        if large:
            write_large_files(folder)
        done.write_text("")
    expected = dict(EXPECTED)
    if large:
        expected.update(EXPECTED_LARGE)
    return folder, expected
