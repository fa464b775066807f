"""Blocks repeated across the pages of one site are boilerplate (menus, banners, footers).

Markup alone misses them: the seeds' hotline banner and logo text sit in plain
<div>s. A block (by its text fingerprint) that appears on most pages of a site is
removed from each of them. Pages ingested on earlier runs count too: their
fingerprints are kept in the store, so a single changed page is still cleaned.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable
from typing import TypeVar

from kb.model import Extracted

H = TypeVar("H", bound=Hashable)


def repeated_blocks(pages: Iterable[Iterable[H]]) -> set[H]:
    """Fingerprints present on at least 60 % of a site's pages (and on two or more)."""
    page_sets = [set(hashes) for hashes in pages]
    if len(page_sets) < 2:
        return set()
    counts: Counter[H] = Counter()
    for hashes in page_sets:
        counts.update(hashes)
    threshold = max(2, math.ceil(0.6 * len(page_sets)))
    return {h for h, n in counts.items() if n >= threshold}


def remove_repeated(extracted: Extracted, repeated: set[str]) -> Extracted:
    """Drop repeated blocks; a repeated heading survives when content follows it."""
    if not repeated or len(extracted.block_hashes) != len(extracted.blocks):
        return extracted
    marks = [h in repeated for h in extracted.block_hashes]
    for i, block in enumerate(extracted.blocks):
        if marks[i] and block.kind == "heading" and i + 1 < len(marks) and not marks[i + 1]:
            marks[i] = False
    kept = [b for b, drop in zip(extracted.blocks, marks, strict=True) if not drop]
    if kept:
        extracted.blocks = kept
    return extracted
