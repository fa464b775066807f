"""A comparison as one self-contained HTML page, readable when sent by e-mail.

Styles are written on the elements themselves (mail clients drop <style> blocks),
there are no scripts, images or links to fetch, and every piece of text is escaped.
"""

from __future__ import annotations

from html import escape

from kb.legal.compare import AlignedPair, Comparison, DiffOp
from kb.legal.elements import ElementsReport, element_labels
from kb.legal.units import LegalUnit, citation

_COLORS = {
    "matched": "#6b7280",
    "aligned": "#1d4ed8",
    "amended": "#b45309",
    "renumbered": "#0e7490",
    "split": "#7e22ce",
    "merged": "#7e22ce",
    "added": "#15803d",
    "removed": "#b91c1c",
    "structure_differs": "#b91c1c",
    "present": "#15803d",
    "partial": "#b45309",
    "absent": "#b91c1c",
    "broader": "#0e7490",
    "unknown": "#6b7280",
}
_BODY = "font-family:Georgia,'Times New Roman',serif;color:#111827;max-width:1100px;margin:16px auto;line-height:1.45"
_TABLE = "border-collapse:collapse;width:100%;margin:8px 0 20px 0"
_CELL = "border:1px solid #d1d5db;padding:6px 8px;vertical-align:top;text-align:left"
_DEL = "background:#fee2e2;color:#991b1b;text-decoration:line-through"
_INS = "background:#dcfce7;color:#166534;text-decoration:none"


def _badge(status: str) -> str:
    color = _COLORS.get(status, "#374151")
    return (
        f'<span style="display:inline-block;padding:1px 6px;border-radius:3px;'
        f'color:#ffffff;background:{color};font-family:Arial,sans-serif;font-size:12px">{escape(status)}</span>'
    )


def _unit_text_html(root: LegalUnit, unit: LegalUnit) -> str:
    title = escape(citation(root, unit)) + (f". {escape(unit.heading)}" if unit.heading else "")
    lines = "".join(
        f"<div>{escape(line)}</div>" for line in unit.full_text().split("\n") if line.strip()
    )
    return f'<div style="font-weight:bold;margin-bottom:4px">{title}</div>{lines}'


def _side_html(root: LegalUnit, units: list[LegalUnit]) -> str:
    if not units:
        return '<span style="color:#9ca3af">—</span>'
    return '<hr style="border:0;border-top:1px dashed #d1d5db">'.join(
        _unit_text_html(root, u) for u in units
    )


_MOVED = "background:#dbeafe;color:#1e3a8a"


def redline_html(ops: list[DiffOp]) -> str:
    """Each point on its own line (<br>), deletions struck, insertions underlined, moved
    words in blue with where they went."""
    parts: list[str] = []
    for op in ops:
        if parts:
            parts.append("<br>" if op.newline else " ")
        if op.op == "equal":
            style = "color:#111827;font-weight:bold" if op.newline else "color:#4b5563"
            parts.append(f'<span style="{style}">{escape(op.a)}</span>')
        elif op.op == "delete":
            parts.append(f'<del style="{_DEL}">{escape(op.a)}</del>')
        elif op.op == "insert":
            parts.append(f'<ins style="{_INS}">{escape(op.b)}</ins>')
        elif op.op == "moved_from":
            where = escape(f" (moved to {op.where or 'another place'})")
            parts.append(f'<del style="{_MOVED}">{escape(op.a)}</del><i>{where}</i>')
        elif op.op == "moved_to":
            where = escape(f" (moved from {op.where or 'another place'})")
            parts.append(f'<ins style="{_MOVED}">{escape(op.b)}</ins><i>{where}</i>')
        else:
            parts.append(
                f'<del style="{_DEL}">{escape(op.a)}</del> <ins style="{_INS}">{escape(op.b)}</ins>'
            )
    return "".join(parts)


def _pair_html(comparison: Comparison, pair: AlignedPair) -> str:
    a_cites = ", ".join(citation(comparison.a_root, u) for u in pair.a) or "—"
    b_cites = ", ".join(citation(comparison.b_root, u) for u in pair.b) or "—"
    similarity = (
        f" · similarity {pair.similarity:.2f}"
        if pair.similarity and pair.status != "matched"
        else ""
    )
    forced = " · from the concordance" if pair.forced else ""
    head = (
        f'<h3 style="font-size:16px;margin:18px 0 4px 0">{_badge(pair.status)} '
        f"{escape(a_cites)} → {escape(b_cites)}"
        f'<span style="font-weight:normal;color:#6b7280;font-size:13px">{escape(similarity + forced)}</span></h3>'
    )
    notes = "".join(
        f'<div style="color:#92400e;font-style:italic">{escape(n)}</div>' for n in pair.notes
    )
    redline = (
        f'<div style="margin:4px 0;padding:6px 8px;background:#f9fafb;border-left:3px solid #d1d5db">'
        f"{redline_html(pair.ops)}</div>"
        if pair.ops
        else ""
    )
    sides = (
        f'<table style="{_TABLE}"><tr>'
        f'<td style="{_CELL};width:50%">{_side_html(comparison.a_root, pair.a)}</td>'
        f'<td style="{_CELL};width:50%">{_side_html(comparison.b_root, pair.b)}</td>'
        f"</tr></table>"
    )
    return head + notes + redline + sides


def elements_html(report: ElementsReport) -> str:
    labels = element_labels()
    rows = []
    for result in report.elements:
        evidence = "<br>".join(
            f'<span style="color:#6b7280">{escape(e.unit)}</span>: “{escape(e.text)}”'
            for e in result.evidence
        )
        rows.append(
            f'<tr><td style="{_CELL}">{escape(labels.get(result.id, result.id))}'
            f'<div style="color:#9ca3af;font-size:12px">{escape(result.id)}</div></td>'
            f'<td style="{_CELL}">{_badge(result.status)}</td><td style="{_CELL}">{evidence}</td></tr>'
        )
    for result in report.extra:
        words = "; ".join(dict.fromkeys(e.text for e in result.evidence))
        rows.append(
            f'<tr><td style="{_CELL}">{escape(labels.get(result.id, result.id))}</td>'
            f'<td style="{_CELL}">{_badge("extra")}</td><td style="{_CELL}">{escape(words)}</td></tr>'
        )
    return (
        f'<h2 style="font-size:18px">Trafficking definition check: {escape(report.document)} '
        f"({escape(report.unit or 'whole text')})</h2>"
        f'<table style="{_TABLE}"><tr><th style="{_CELL}">element</th><th style="{_CELL}">status</th>'
        f'<th style="{_CELL}">evidence</th></tr>{"".join(rows)}</table>'
    )


def comparison_to_html(comparison: Comparison, *, elements: ElementsReport | None = None) -> str:
    """The whole comparison: summary, then every pair with its redline and both texts."""
    a_name = comparison.a_name or comparison.a_root.heading
    b_name = comparison.b_name or comparison.b_root.heading
    summary_rows = "".join(
        f'<tr><td style="{_CELL}">{_badge(status)}</td><td style="{_CELL}">{count}</td></tr>'
        for status, count in comparison.counts().items()
    )
    mode = (
        "two language versions, aligned by structure and numbers (no redline)"
        if comparison.mode == "parallel"
        else "word-level redline: deleted words struck through, inserted words highlighted"
    )
    pairs = "".join(_pair_html(comparison, pair) for pair in comparison.pairs)
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(a_name)} → {escape(b_name)}</title></head>"
        f'<body style="{_BODY}">'
        f'<h1 style="font-size:22px">Comparison</h1>'
        f'<table style="{_TABLE}">'
        f'<tr><th style="{_CELL}">A</th><td style="{_CELL}">{escape(a_name)} ({escape(comparison.a_lang)})</td></tr>'
        f'<tr><th style="{_CELL}">B</th><td style="{_CELL}">{escape(b_name)} ({escape(comparison.b_lang)})</td></tr>'
        f'<tr><th style="{_CELL}">how</th><td style="{_CELL}">{escape(mode)}</td></tr></table>'
        f'<table style="{_TABLE};width:auto">{summary_rows}</table>'
        f"{elements_html(elements) if elements else ''}"
        f"{pairs}</body></html>"
    )
