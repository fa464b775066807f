"""Character n-gram evidence for Turkmen (Latin script) against English.

langdetect has no Turkmen profile, so we train our own from the Turkmen and
English text in `data/` (written for this project). The model is a naive Bayes
comparison of two smoothed 1-3 gram distributions; a word's evidence is the sum of
its grams' log-ratios, cached per word because words repeat far more often than
texts do (Zipf), which keeps scoring a long section to one dict lookup a word.

The trained table is shipped beside the texts (`data/tk_en_grams.json`): training took
15 ms of the first search of every process, loading the table takes 1. After changing
the texts or the training, write it again with `python -m kb.tagging.lang_ngram`
(tests/test_lang.py fails while it differs from what the texts train).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"
TRAINING_FILES: dict[str, str] = {"tk": "tk_train.txt", "en": "en_train.txt"}
TABLE_FILE = DATA_DIR / "tk_en_grams.json"

MAX_GRAM = 3
SMOOTHING = 0.5
# A single odd gram (a foreign name inside a Turkmen sentence) must not outvote the
# rest of the word, so each gram's say is capped.
MAX_GRAM_EVIDENCE = 4.0

# Lowercase Latin letters, including the extended blocks (ä ç ň ö ş ü ý ž, and ı ğ ə).
LATIN_WORD = re.compile(r"[a-z\u00df-\u00f6\u00f8-\u00ff\u0100-\u024f\u0259]+")


def word_grams(word: str) -> list[str]:
    """The 1-3 grams of a lowercase word padded with spaces, so that grams at the
    start and end of a word ("ň " in "adamyň") count as their own features."""
    padded = f" {word} "
    grams: list[str] = []
    for size in range(1, MAX_GRAM + 1):
        for start in range(len(padded) - size + 1):
            gram = padded[start : start + size]
            if gram.strip():
                grams.append(gram)
    return grams


class TurkmenEnglishModel:
    """log P(gram | Turkmen) - log P(gram | English), learnt from two small texts."""

    def __init__(self, log_ratio: dict[str, float], unseen_log_ratio: dict[int, float]) -> None:
        self.log_ratio = log_ratio
        self.unseen_log_ratio = unseen_log_ratio  # by gram size

    @classmethod
    def trained(cls, turkmen_text: str, english_text: str) -> TurkmenEnglishModel:
        turkmen_counts = _gram_counts(turkmen_text)
        english_counts = _gram_counts(english_text)
        log_ratio: dict[str, float] = {}
        unseen_log_ratio: dict[int, float] = {}
        for size in range(1, MAX_GRAM + 1):
            tk_grams = {g: c for g, c in turkmen_counts.items() if len(g) == size}
            en_grams = {g: c for g, c in english_counts.items() if len(g) == size}
            vocabulary = set(tk_grams) | set(en_grams)
            # +1 leaves room in the vocabulary for grams neither text contains.
            vocabulary_size = len(vocabulary) + 1
            tk_total = sum(tk_grams.values()) + SMOOTHING * vocabulary_size
            en_total = sum(en_grams.values()) + SMOOTHING * vocabulary_size
            for gram in vocabulary:
                tk_log = math.log((tk_grams.get(gram, 0) + SMOOTHING) / tk_total)
                en_log = math.log((en_grams.get(gram, 0) + SMOOTHING) / en_total)
                log_ratio[gram] = _clip(tk_log - en_log)
            unseen_log_ratio[size] = math.log(en_total / tk_total)
        return cls(log_ratio, unseen_log_ratio)

    def table(self) -> dict[str, Any]:
        """The model as `TABLE_FILE` holds it (JSON keeps every float exactly)."""
        unseen = {str(size): ratio for size, ratio in self.unseen_log_ratio.items()}
        return {"log_ratio": self.log_ratio, "unseen_log_ratio": unseen}

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> TurkmenEnglishModel:
        unseen = {int(size): ratio for size, ratio in table["unseen_log_ratio"].items()}
        return cls(table["log_ratio"], unseen)

    def word_evidence(self, word: str) -> tuple[float, int]:
        """(sum of the word's gram log-ratios, number of grams); > 0 leans Turkmen."""
        grams = word_grams(word)
        total = 0.0
        for gram in grams:
            ratio = self.log_ratio.get(gram)
            total += ratio if ratio is not None else self.unseen_log_ratio[len(gram)]
        return total, len(grams)


def _clip(value: float) -> float:
    return max(-MAX_GRAM_EVIDENCE, min(MAX_GRAM_EVIDENCE, value))


def _gram_counts(text: str) -> Counter[str]:
    # Each distinct word's grams once, times its count: the model is trained in the first
    # search that meets a Latin word, and words repeat.
    counts: Counter[str] = Counter()
    for word, times in Counter(LATIN_WORD.findall(text.lower())).items():
        for gram in word_grams(word):
            counts[gram] += times
    return counts


def trained_model() -> TurkmenEnglishModel:
    """The model trained on the bundled texts (15 ms)."""
    texts = {
        lang: (DATA_DIR / name).read_text(encoding="utf-8") for lang, name in TRAINING_FILES.items()
    }
    return TurkmenEnglishModel.trained(texts["tk"], texts["en"])


@cache
def turkmen_english_model() -> TurkmenEnglishModel:
    """The bundled model, read from its table on first use (see the module's docstring)."""
    return TurkmenEnglishModel.from_table(json.loads(TABLE_FILE.read_text(encoding="utf-8")))


@lru_cache(maxsize=200_000)
def word_evidence(word: str) -> tuple[float, int]:
    """Cached `TurkmenEnglishModel.word_evidence` of the bundled model."""
    return turkmen_english_model().word_evidence(word)


def turkmen_score(words: list[str]) -> float:
    """Mean log-ratio per gram over lowercase Latin words: > 0 Turkmen, < 0 English."""
    if not words:
        return 0.0
    totals, gram_counts = zip(*map(word_evidence, words), strict=True)
    grams = sum(gram_counts)
    return sum(totals) / grams if grams else 0.0


def write_table() -> None:
    """Train the model on the bundled texts and write its table (`TABLE_FILE`)."""
    table = json.dumps(trained_model().table(), ensure_ascii=False, indent=0, sort_keys=True)
    TABLE_FILE.write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_table()
