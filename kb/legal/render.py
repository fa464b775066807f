"""Terminal views of a comparison and of an elements report (Rich)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from kb.legal.compare import AlignedPair, Comparison, DiffOp
from kb.legal.elements import ElementsReport, element_labels
from kb.legal.structure import citation

STATUS_STYLE = {
    "matched": "dim",
    "amended": "yellow",
    "renumbered": "cyan",
    "split": "magenta",
    "merged": "magenta",
    "added": "green",
    "removed": "red",
    "structure_differs": "bold red",
    "present": "green",
    "partial": "yellow",
    "absent": "bold red",
    "broader": "cyan",
    "unknown": "dim",
}


def redline_text(ops: list[DiffOp]) -> Text:
    """Deleted words struck through in red, inserted words in green, context plain."""
    text = Text()
    for op in ops:
        if text:
            text.append(" ")
        if op.op == "equal":
            text.append(op.a, style="dim")
        elif op.op == "delete":
            text.append(op.a, style="red strike")
        elif op.op == "insert":
            text.append(op.b, style="green")
        else:
            text.append(op.a, style="red strike")
            text.append(" ")
            text.append(op.b, style="green")
    return text


def _side(comparison: Comparison, pair: AlignedPair, side: str) -> Text:
    root = comparison.a_root if side == "a" else comparison.b_root
    units = pair.a if side == "a" else pair.b
    text = Text()
    for unit in units:
        if text:
            text.append("\n")
        text.append(citation(root, unit), style="bold")
        if unit.heading:
            text.append(f". {unit.heading}")
    return text or Text("—", style="dim")


def render_comparison(
    comparison: Comparison, *, show_matched: bool = False, full_text: bool = False
) -> RenderableType:
    """Side-by-side table of the alignment; same-language pairs carry their redline."""
    counts = ", ".join(f"{n} {status}" for status, n in comparison.counts().items())
    title = f"{comparison.a_name or comparison.a_root.heading} → {comparison.b_name or comparison.b_root.heading}"
    table = Table(title=title, caption=counts, show_lines=True, expand=True)
    table.add_column("status", no_wrap=True)
    table.add_column("A", ratio=2)
    table.add_column("B", ratio=2)
    parallel = comparison.mode == "parallel"
    table.add_column("A text" if parallel or full_text else "changes", ratio=5)
    if parallel or full_text:
        table.add_column("B text", ratio=5)
    for pair in comparison.pairs:
        if pair.status == "matched" and not show_matched and not pair.notes:
            continue
        status = Text(pair.status, style=STATUS_STYLE.get(pair.status, ""))
        if pair.similarity and pair.status not in ("matched", "added", "removed"):
            status.append(f"\n{pair.similarity:.2f}", style="dim")
        row: list[RenderableType] = [
            status,
            _side(comparison, pair, "a"),
            _side(comparison, pair, "b"),
        ]
        notes = Text("\n".join(pair.notes), style="italic yellow") if pair.notes else None
        if parallel or full_text:
            a_text = Text("\n".join(u.full_text() for u in pair.a))
            b_text = Text("\n".join(u.full_text() for u in pair.b))
            row += [Group(a_text, notes) if notes else a_text, b_text]
        elif pair.ops:
            row.append(Group(redline_text(pair.ops), notes) if notes else redline_text(pair.ops))
        elif pair.status in ("added", "removed"):
            unit_text = Text(
                " ".join((pair.b or pair.a)[0].full_text().split()),
                style="green" if pair.b else "red",
            )
            row.append(unit_text)
        else:
            row.append(notes or Text(""))
        table.add_row(*row)
    return table


def render_elements(report: ElementsReport) -> RenderableType:
    """One row per element of the international definition, with the words found."""
    labels = element_labels()
    table = Table(
        title=f"Trafficking definition check: {report.document or 'document'} ({report.unit or 'whole text'})",
        caption="present / partial / absent / broader (needs less than the international definition)",
        expand=True,
        show_lines=False,
    )
    table.add_column("element", ratio=3)
    table.add_column("status", no_wrap=True)
    table.add_column("evidence (unit: words)", ratio=5)
    previous_kind = ""
    for result in report.elements:
        if result.kind != previous_kind and previous_kind:
            table.add_section()
        previous_kind = result.kind
        evidence = Text()
        for item in result.evidence:
            if evidence:
                evidence.append("\n")
            evidence.append(
                item.unit.split("__", 1)[-1] if "__" in item.unit else item.unit, style="dim"
            )
            evidence.append(f": {item.text}")
        table.add_row(
            Text(labels.get(result.id, result.id)),
            Text(result.status, style=STATUS_STYLE.get(result.status, "")),
            evidence,
        )
    if report.extra:
        table.add_section()
        for result in report.extra:
            words = "; ".join(dict.fromkeys(e.text for e in result.evidence))
            table.add_row(
                Text(labels.get(result.id, result.id)), Text("extra", style="cyan"), Text(words)
            )
    return table
