"""The run report as Markdown (the Prefect artifact) from a run summary."""

from __future__ import annotations

from typing import Any


def run_report_markdown(summary: dict[str, Any]) -> str:
    src = summary["sources"]
    lines = [
        f"# Ingest run {summary.get('id', '')}: {summary['state']}",
        "",
        f"Started {summary['started']}, finished {summary['finished']}.",
        "",
        *(
            [
                "Includes what interrupted run(s) "
                + ", ".join(str(i) for i in summary["recovered_from"])
                + " stored before they stopped (they never reported it).",
                "",
            ]
            if summary.get("recovered_from")
            else []
        ),
        "| sources | seen | new | changed | unchanged | removed | failed | duplicate |",
        "|---|---|---|---|---|---|---|---|",
        "| | "
        + " | ".join(
            str(src.get(k, 0))
            for k in ("seen", "new", "changed", "unchanged", "removed", "failed", "duplicate")
        )
        + " |",
        "",
        "| | added | updated | removed |",
        "|---|---|---|---|",
        "| documents | "
        + " | ".join(str(summary["documents"][k]) for k in ("added", "updated", "removed"))
        + " |",
        "| sections | "
        + " | ".join(str(summary["sections"][k]) for k in ("added", "updated", "removed"))
        + " |",
        "",
        "## Time per stage (s)",
        "",
        "| " + " | ".join(summary["seconds"]) + " |",
        "|" + "---|" * len(summary["seconds"]),
        "| " + " | ".join(f"{v:.2f}" for v in summary["seconds"].values()) + " |",
    ]
    failures = summary.get("failures", [])
    lines += ["", f"## Failures ({len(failures)})", ""]
    lines += [f"- `{f['source']}` ({f['stage']}): {f['reason']}" for f in failures] or ["None."]
    digest = summary.get("digest", {})
    if digest.get("new") or digest.get("updated") or digest.get("removed"):
        lines += ["", "## What changed", ""]
        lines += [f"- new: {d['title']} (`{d['id']}`)" for d in digest.get("new", [])]
        lines += [f"- updated: {d['title']} (`{d['id']}`)" for d in digest.get("updated", [])]
        lines += [f"- removed: {d['title']} (`{d['id']}`)" for d in digest.get("removed", [])]
        for law in digest.get("legislation", []):
            lines.append(f"- {law['title']}: articles added {law['added'] or '-'}, removed {law['removed'] or '-'}, "
                         f"amended {law['amended'] or '-'}")  # fmt: skip
    return "\n".join(lines) + "\n"
