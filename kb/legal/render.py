"""Terminal views (Rich) of a law's structure, of a comparison and of an elements report."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from kb.legal.compare import AlignedPair, Comparison, DiffOp
from kb.legal.elements import ElementsReport, element_labels
from kb.legal.units import LegalUnit, child_marker, citation, heading_label

STATUS_STYLE = {
    "matched": "dim",
    "aligned": "blue",
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


def _pages(unit: LegalUnit) -> str:
    if unit.page_start is None:
        return ""
    if unit.page_end in (None, unit.page_start):
        return f"p. {unit.page_start}"
    return f"pp. {unit.page_start}–{unit.page_end}"


def _snippet(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render_structure(root: LegalUnit, *, max_depth: int | None = None) -> Tree:
    """A Rich tree: chapters and articles with their headings and pages, then the
    numbered parts and points with the start of their text."""
    tree = Tree(Text(root.heading or "(untitled act)", style="bold"))

    def add(node: Tree, unit: LegalUnit, depth: int) -> None:
        label = Text()
        if unit.kind in ("paragraph", "point"):
            label.append(child_marker(unit), style="cyan")
            label.append(" " + _snippet(unit.text))
        else:
            label.append(heading_label(unit) or unit.kind.title(), style="bold cyan")
            if unit.heading:
                label.append(f". {unit.heading}")
        pages = _pages(unit)
        if pages:
            label.append(f"  [{pages}]", style="dim")
        label.append(f"  {unit.id}", style="dim green")
        branch = node.add(label)
        if max_depth is None or depth < max_depth:
            for child in unit.children:
                add(branch, child, depth + 1)

    for child in root.children:
        add(tree, child, 1)
    return tree


def redline_text(ops: list[DiffOp]) -> Text:
    """Deleted words [-struck-] in red, inserted {+words+} in green, moved words in blue
    with where they went; each point on its own line. The brackets keep the redline
    legible without colour (printed, pasted into a message, read on a phone)."""
    text = Text()
    for op in ops:
        if text:
            text.append("\n" if op.newline else " ")
        if op.op == "equal":
            text.append(op.a, style="bold" if op.newline else "dim")
        elif op.op == "delete":
            text.append(f"[-{op.a}-]", style="red strike")
        elif op.op == "insert":
            text.append(f"{{+{op.b}+}}", style="green")
        elif op.op == "moved_from":
            text.append(f"[-{op.a}-]", style="blue strike")
            text.append(f" (moved to {op.where or 'another place'})", style="blue italic")
        elif op.op == "moved_to":
            text.append(f"{{+{op.b}+}}", style="blue")
            text.append(f" (moved from {op.where or 'another place'})", style="blue italic")
        else:
            text.append(f"[-{op.a}-]", style="red strike")
            text.append(" ")
            text.append(f"{{+{op.b}+}}", style="green")
    return text


def edition_label(comparison: Comparison, side: str) -> str:
    """ "A: fr-code-penal-…-2013.md (fr)": which edition and language each side is."""
    name = comparison.a_name if side == "a" else comparison.b_name
    root = comparison.a_root if side == "a" else comparison.b_root
    lang = comparison.a_lang if side == "a" else comparison.b_lang
    return f"{side.upper()}: {name or root.heading or '—'} ({lang or '?'})"


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
    if comparison.excerpt:
        small, large = (
            comparison.excerpt["side"].upper(),
            "B" if comparison.excerpt["side"] == "a" else "A",
        )
        counts += (
            f"; {small} is an excerpt: its {comparison.excerpt['provisions']} provision(s) found in {large},"
            f" whose {comparison.excerpt['others']} other provisions are not compared"
        )
    title = f"{edition_label(comparison, 'a')} → {edition_label(comparison, 'b')}"
    table = Table(title=title, caption=counts, show_lines=True, expand=True)
    table.add_column("status", no_wrap=True)
    table.add_column("A", ratio=2)
    table.add_column("B", ratio=2)
    parallel = comparison.mode == "parallel"
    blocks: list[RenderableType] = []
    table.add_column("A text" if parallel or full_text else "changes", ratio=5)
    if parallel or full_text:
        table.add_column("B text", ratio=5)
    for pair in comparison.pairs:
        if pair.status == "matched" and not show_matched and not pair.notes:
            continue
        status = Text(pair.status, style=STATUS_STYLE.get(pair.status, ""))
        if pair.amended and pair.status != "amended":
            status.append("\n+ amended", style=STATUS_STYLE["amended"])
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
            summary = Text(_change_summary(pair.ops))
            row.append(Group(summary, notes) if notes else summary)
            blocks.append(_redline_block(comparison, pair))
        elif pair.status in ("added", "removed"):
            unit_text = Text(
                " ".join((pair.b or pair.a)[0].full_text().split()),
                style="green" if pair.b else "red",
            )
            row.append(unit_text)
        else:
            row.append(notes or Text(""))
        table.add_row(*row)
    return Group(table, *blocks) if blocks else table


def _change_summary(ops: list[DiffOp]) -> str:
    inserted = sum(len(op.b.split()) for op in ops if op.op in ("insert", "replace"))
    deleted = sum(len(op.a.split()) for op in ops if op.op in ("delete", "replace"))
    moved = sum(len(op.b.split()) for op in ops if op.op == "moved_to")
    parts = [f"+{inserted} / -{deleted} words"]
    if moved:
        parts.append(f"{moved} moved")
    return ", ".join(parts) + " (redline below)"


def _redline_block(comparison: Comparison, pair: AlignedPair) -> RenderableType:
    """One pair's redline across the whole width, each point on its own line."""
    head = Text()
    head.append(pair.status, style=STATUS_STYLE.get(pair.status, ""))
    if pair.amended and pair.status != "amended":
        head.append(" + amended", style=STATUS_STYLE["amended"])
    head.append("  ")
    head.append(_side(comparison, pair, "a"))
    head.append(" → ")
    head.append(_side(comparison, pair, "b"))
    return Group(Text(""), head, redline_text(pair.ops))


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
