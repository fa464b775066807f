"""Search quality on the judged queries: nDCG@10, recall@10 and MRR, per kind and overall,
against a plain Whoosh baseline built from the same store.

Run: make eval   (or .venv/bin/python -m tests.relevance.evaluate [--home DIR] [--misses]
                  [--record])
Without --home, the bundled corpus is built into a temporary home with the library
functions (no Prefect, ~10 s). --misses lists, per query, judged sections not in the top
10; --record writes the overall figures to recorded.json (the test suite fails when
nDCG@10 falls more than 0.02 below the recorded figure). The last line printed is:
overall: nDCG@10=0.xx recall@10=0.xx MRR=0.xx baseline nDCG@10=0.xx
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
JUDGED = Path(__file__).with_name("judged.toml")
RECORDED = Path(__file__).with_name("recorded.json")
CUTOFF = 10
KINDS = ("keyword", "phrase", "legal", "entity", "crosslingual", "typo")


@dataclass
class Judged:
    id: str
    kind: str
    lang: str
    q: str
    grades: dict[str, int]  # "doc#section" or "doc@words" -> 2 (relevant) or 1 (partial)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Scores:
    ndcg: float
    recall: float
    mrr: float
    missing: list[str] = field(default_factory=list)


def load_judgments(path: Path = JUDGED) -> list[Judged]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out: list[Judged] = []
    seen: set[str] = set()
    for raw in data["query"]:
        if raw["id"] in seen:
            raise ValueError(f"{path.name}: query id {raw['id']} is used twice")
        seen.add(raw["id"])
        if raw["kind"] not in KINDS:
            raise ValueError(
                f"{path.name}: query {raw['id']}: kind must be one of {', '.join(KINDS)}"
            )
        grades = {key: 2 for key in raw.get("relevant", [])}
        grades.update({key: 1 for key in raw.get("partial", []) if key not in grades})
        if not grades:
            raise ValueError(f"{path.name}: query {raw['id']} has no relevant section")
        out.append(
            Judged(
                raw["id"], raw["kind"], raw["lang"], raw["q"], grades, dict(raw.get("options", {}))
            )
        )
    return out


def _squash(text: str) -> str:
    return " ".join(text.split()).casefold()


def resolve(judged: list[Judged], store: Any) -> tuple[list[Judged], list[str]]:
    """Anchors ("doc@words") become the sections that hold the words (in their heading,
    else in their text); returns the resolved judgments and the names that match nothing."""
    docs: dict[str, Any] = {}
    problems: list[str] = []
    out: list[Judged] = []
    for item in judged:
        grades: dict[str, int] = {}
        for name, grade in item.grades.items():
            sep = "@" if "@" in name else "#"
            doc_id, rest = name.split(sep, 1)
            if doc_id not in docs:
                docs[doc_id] = store.load_document(doc_id)
            doc = docs[doc_id]
            if doc is None:
                problems.append(f"{item.id}: no document {doc_id}")
                continue
            if sep == "#":
                if doc.section(rest) is None:
                    problems.append(f"{item.id}: no section {name}")
                    continue
                keys = [name]
            else:
                words = _squash(rest)
                keys = [
                    f"{doc.id}#{s.id}"
                    for s in doc.sections
                    if words in _squash(" ".join(s.heading_path))
                ]
                keys = keys or [
                    f"{doc.id}#{s.id}" for s in doc.sections if words in _squash(s.text)
                ]
                if not keys:
                    problems.append(f"{item.id}: no section of {doc_id} holds {rest!r}")
            for key in keys:
                grades[key] = max(grade, grades.get(key, 0))
        out.append(Judged(item.id, item.kind, item.lang, item.q, grades, item.options))
    return out, problems


def score(ranked: list[str], grades: dict[str, int], cutoff: int = CUTOFF) -> Scores:
    top = ranked[:cutoff]
    dcg = sum(grades.get(key, 0) / math.log2(i + 2) for i, key in enumerate(top))
    ideal = sorted(grades.values(), reverse=True)[:cutoff]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    found = [key for key in top if grades.get(key, 0) > 0]
    first = next((i for i, key in enumerate(top) if grades.get(key, 0) > 0), None)
    return Scores(
        ndcg=dcg / idcg if idcg else 0.0,
        recall=len(set(found)) / len(grades) if grades else 0.0,
        mrr=1.0 / (first + 1) if first is not None else 0.0,
        missing=[key for key in grades if key not in top],
    )


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


@dataclass
class Report:
    ours: dict[str, Scores]
    baseline: dict[str, Scores]
    judged: list[Judged]
    problems: list[str]
    seconds_per_query: float

    def overall(self) -> dict[str, float]:
        return {
            "ndcg": _mean([s.ndcg for s in self.ours.values()]),
            "recall": _mean([s.recall for s in self.ours.values()]),
            "mrr": _mean([s.mrr for s in self.ours.values()]),
            "baseline_ndcg": _mean([s.ndcg for s in self.baseline.values()]),
            "baseline_recall": _mean([s.recall for s in self.baseline.values()]),
            "baseline_mrr": _mean([s.mrr for s in self.baseline.values()]),
        }

    def by_kind(self) -> dict[str, dict[str, float]]:
        groups: dict[str, list[str]] = defaultdict(list)
        for item in self.judged:
            groups[item.kind].append(item.id)
        rows = {}
        for kind in (*KINDS, *sorted(set(groups) - set(KINDS))):
            ids = groups.get(kind, [])
            if not ids:
                continue
            rows[kind] = {
                "n": len(ids),
                "ndcg": _mean([self.ours[i].ndcg for i in ids]),
                "recall": _mean([self.ours[i].recall for i in ids]),
                "mrr": _mean([self.ours[i].mrr for i in ids]),
                "baseline_ndcg": _mean([self.baseline[i].ndcg for i in ids]),
            }
        return rows


def evaluate(home: Path, *, baseline_dir: Path | None = None) -> Report:
    """Run every judged query against the index in `home` and a plain baseline index."""
    from kb.home import paths as home_paths
    from kb.store import Store
    from search.baseline import build_plain_index, plain_search
    from search.query import search

    with Store(home_paths(home).store) as store:
        judged, problems = resolve(load_judgments(), store)
        with tempfile.TemporaryDirectory(prefix="kb-baseline-") as tmp:
            plain_dir = baseline_dir or Path(tmp) / "plain"
            if not (plain_dir / "_plain_0.toc").exists() and not any(
                plain_dir.glob("_plain_*.toc")
            ):
                build_plain_index(store, plain_dir)
            ours: dict[str, Scores] = {}
            base: dict[str, Scores] = {}
            started = time.perf_counter()
            for item in judged:
                results = search(item.q, home=home, flat=True, limit=CUTOFF, **item.options)
                ours[item.id] = score([h.key for h in results.hits], item.grades)
            seconds = (time.perf_counter() - started) / max(len(judged), 1)
            for item in judged:
                options = {k: v for k, v in item.options.items() if k in ("doctype", "lang")}
                try:
                    ranked = plain_search(plain_dir, item.q, limit=CUTOFF, **options)
                except Exception:
                    ranked = []  # the stock parser fails on some input: that is the baseline
                base[item.id] = score(ranked, item.grades)
    return Report(ours, base, judged, problems, seconds)


def build_corpus_home(home: Path) -> Path:
    """The bundled corpus built into `home` with the library functions (no Prefect)."""
    from kb.ingest.sequence import run_ingest

    changes = run_ingest(home, sources=REPO / "corpus" / "sources.toml")
    if changes.failures:
        raise RuntimeError(f"the corpus did not build: {changes.failures}")
    return home


def print_report(report: Report, *, misses: bool = False, out: Any = sys.stdout) -> None:
    for problem in report.problems:
        print(f"warning: {problem}", file=out)
    print(f"{len(report.judged)} judged queries, top {CUTOFF}; "
          f"{report.seconds_per_query * 1000:.0f} ms per query", file=out)  # fmt: skip
    print(
        f"{'kind':<14}{'n':>3}  {'nDCG@10':>8}{'recall@10':>10}{'MRR':>7}  {'baseline nDCG@10':>17}",
        file=out,
    )
    for kind, row in report.by_kind().items():
        print(f"{kind:<14}{row['n']:>3}  {row['ndcg']:>8.2f}{row['recall']:>10.2f}{row['mrr']:>7.2f}  "
              f"{row['baseline_ndcg']:>17.2f}", file=out)  # fmt: skip
    if misses:
        for item in report.judged:
            s = report.ours[item.id]
            if s.missing or s.ndcg < 0.999:
                print(
                    f"  {item.id} ({item.q!r}): nDCG {s.ndcg:.2f}, missing {', '.join(s.missing) or '-'}",
                    file=out,
                )
    o = report.overall()
    print(f"overall: nDCG@10={o['ndcg']:.2f} recall@10={o['recall']:.2f} MRR={o['mrr']:.2f} "
          f"baseline nDCG@10={o['baseline_ndcg']:.2f}", file=out)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--home", type=Path, help="an existing knowledge base (default: build the corpus)"
    )
    parser.add_argument(
        "--misses", action="store_true", help="list the judged sections each query misses"
    )
    parser.add_argument(
        "--record", action="store_true", help="write the overall figures to recorded.json"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kb-eval-") as tmp:
        home = args.home or build_corpus_home(Path(tmp) / "home")
        report = evaluate(home)
        print_report(report, misses=args.misses)
    if args.record:
        o = report.overall()
        RECORDED.write_text(json.dumps({k: round(v, 4) for k, v in o.items()} | {"queries": len(report.judged)},
                                       indent=2) + "\n")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
