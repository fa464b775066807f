"""Accuracy of kb.tagging.lang on the labelled set, per language, kind and length, and
each language's precision (of the texts it called that language, the share that are).

Run: .venv/bin/python tests/lang_eval/evaluate.py [--errors]

labelled.tsv has columns lang, kind (paragraph | heading | title | mixed), text; a
literal "\\n" in text stands for a line break (mixed items put a line of another
language on its own line, as web pages do). Mixed items are labelled with their
main language. The text was written for this set and is not the training text.

Two settings are measured: without context (fallback "und": a short text must prove
its language on its own) and with the document's language as fallback (how the
tagger calls it; only a confident wrong answer counts as an error there).
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.tagging.lang import SHORT_TEXT_CHARS, detect_language

LABELLED = Path(__file__).with_name("labelled.tsv")


@dataclass(frozen=True)
class Item:
    lang: str
    kind: str
    text: str

    @property
    def length_bucket(self) -> str:
        if len(self.text) < SHORT_TEXT_CHARS:
            return f"short (<{SHORT_TEXT_CHARS} chars)"
        if len(self.text) < 200:
            return "medium (<200 chars)"
        return "long (>=200 chars)"


def load_items(path: Path = LABELLED) -> list[Item]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [Item(row["lang"], row["kind"], row["text"].replace("\\n", "\n")) for row in rows]


def _accuracy(pairs: list[tuple[bool, str]]) -> dict[str, Any]:
    correct = sum(1 for ok, _ in pairs if ok)
    return {"n": len(pairs), "correct": correct, "accuracy": correct / len(pairs) if pairs else 0.0}


def evaluate(items: list[Item] | None = None) -> dict[str, Any]:
    """Accuracy overall and by language, kind and length bucket, without context and
    with the document's language as fallback; plus the list of errors."""
    items = load_items() if items is None else items
    result: dict[str, Any] = {}
    for setting, with_context in (("no_context", False), ("document_fallback", True)):
        groups: dict[str, dict[str, list[tuple[bool, str]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        errors: list[dict[str, str]] = []
        answered: dict[str, list[bool]] = defaultdict(list)  # answer -> was it right
        for item in items:
            guess = detect_language(item.text, fallback=item.lang if with_context else "und")
            ok = guess.lang == item.lang
            answered[guess.lang].append(ok)
            for group, key in (
                ("overall", "all"),
                ("by_lang", item.lang),
                ("by_kind", item.kind),
                ("by_length", item.length_bucket),
            ):
                groups[group][key].append((ok, item.text))
            if not ok:
                errors.append(
                    {
                        "expected": item.lang,
                        "got": guess.lang,
                        "method": guess.method,
                        "kind": item.kind,
                        "text": item.text,
                    }
                )
        result[setting] = {
            group: {key: _accuracy(pairs) for key, pairs in sorted(keys.items())}
            for group, keys in groups.items()
        }
        result[setting]["precision"] = {
            lang: {"n": len(oks), "correct": sum(oks), "precision": sum(oks) / len(oks)}
            for lang, oks in sorted(answered.items())
            if lang != "und"
        }
        result[setting]["errors"] = errors
    return result


def _print_report(result: dict[str, Any], *, show_errors: bool) -> None:
    for setting, title in (
        ("no_context", "Without context (fallback 'und')"),
        ("document_fallback", "With the document's language as fallback"),
    ):
        print(f"\n{title}")
        for group in ("by_lang", "by_kind", "by_length", "overall"):
            for key, stats in result[setting][group].items():
                label = f"{group.removeprefix('by_')}={key}"
                line = f"  {label:<34} {stats['accuracy']:7.1%}  ({stats['correct']}/{stats['n']})"
                answered = result[setting]["precision"].get(key) if group == "by_lang" else None
                if answered:
                    line += (f"   precision {answered['precision']:6.1%}"
                             f"  ({answered['correct']}/{answered['n']} answers)")  # fmt: skip
                print(line)
        if show_errors:
            for error in result[setting]["errors"]:
                text = error["text"].replace("\n", " | ")[:90]
                print(
                    f"  ERROR {error['expected']}->{error['got']} ({error['method']}, {error['kind']}): {text}"
                )


if __name__ == "__main__":
    _print_report(evaluate(), show_errors="--errors" in sys.argv)
