"""`kb build`, `kb show`, `kb status`, `kb docs` (`kb search` is in kb/cli/searching.py)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kb.cli.app import HomeOption, JsonOption, app, console, home_path, print_json, user_errors
from kb.home import paths as home_paths
from kb.library import KnowledgeBase, document_dict, find_section, section_dict
from kb.runtime.lock import check_free, ingest_lock
from kb.runtime.orphans import reap_descendants_on_exit


class _RichReporter:
    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: Any = None

    def stage(self, name: str, total: int) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=self.progress.tasks[-1].total)
        self.task = self.progress.add_task(name, total=max(total, 1))

    def advance(self, n: int = 1) -> None:
        if self.task is not None:
            self.progress.advance(self.task, n)


@app.command()
@user_errors
def build(
    corpus: Annotated[
        Path | None,
        typer.Option(
            "--corpus",
            help="Ingest every PDF, Word (.docx), OpenDocument (.odt), HTML and text file under DIR (no manifest).",
        ),
    ] = None,
    sources: Annotated[
        Path | None,
        typer.Option("--sources", help="The sources manifest (default corpus/sources.toml)."),
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Re-extract and re-index everything, changed or not.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", help="Processes for extraction and tagging (default: all cores)."
        ),
    ] = None,
    wait: Annotated[
        float,
        typer.Option("--wait", help="If another ingest is running, wait this many seconds for it."),
    ] = 0.0,
    dask: Annotated[
        str | None,
        typer.Option(
            "--dask",
            help="Run the flow's tasks on this Dask scheduler, e.g. tcp://scheduler:8786 "
            "(needs the dask extra; workers must see the same paths).",
        ),
    ] = None,
    max_pages: Annotated[
        int | None,
        typer.Option("--max-pages", help="Fail PDFs with more pages than this (default 1500)."),
    ] = None,
    max_mb: Annotated[
        float | None,
        typer.Option("--max-mb", help="Fail files larger than this many MB (default 100)."),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout", help="Fail a source whose extraction takes longer (s, default 300)."
        ),
    ] = None,
    no_ocr: Annotated[
        bool, typer.Option("--no-ocr", help="Never run OCR on scanned PDFs, even when installed.")
    ] = False,
    allow_mass_removal: Annotated[
        bool,
        typer.Option(
            "--allow-mass-removal",
            help="Remove the documents of a folder even when more than 20% of it is gone "
            "(else they are kept and the folder fails; KB_MAX_REMOVAL_SHARE sets the share).",
        ),
    ] = False,
    keep_server: Annotated[
        bool,
        typer.Option(
            "--keep-server/--no-keep-server",
            help="Start a Prefect server for this home if none runs, and leave it running for "
            "the next build (`kb server stop` ends it); or leave nothing running: a server "
            "already running is still used, else a temporary one for this build.",
        ),
    ] = True,
    json_out: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Run the ingest flow (Prefect): fetch what changed, extract, tag, store and index it.

    Runs against PREFECT_API_URL if set, else the Prefect server kept for this home
    (`kb server status`), else `kb schedule`'s, else starts one and keeps it.

    Ends with a summary: sources seen, documents and sections indexed, failures with reasons.
    Limits also come from KB_MAX_PDF_PAGES, KB_MAX_FILE_MB, KB_MAX_TEXT_MB,
    KB_EXTRACT_TIMEOUT_S, KB_EXTRACT_MEMORY_MB and KB_OCR=off.
    """
    from kb.runtime.limits import limits_with, set_limits

    set_limits(
        limits_with(
            max_pdf_pages=max_pages,
            max_file_mb=max_mb,
            extract_timeout_s=timeout,
            ocr=False if no_ocr else None,
        )
    )
    root = home_path(home)
    # Before Prefect starts (5-25 s): a build that cannot run says so at once, in one line.
    wait = _wait_for_lock(home_paths(root).lock, wait)
    # Whatever the build starts (Prefect's temporary server, extraction workers) ends with
    # it, even after `kill -9`.
    reap_descendants_on_exit()
    from flows.settings import configure_prefect

    configure_prefect(root)
    t0 = time.perf_counter()
    from flows.keep_server import use_server

    server = use_server(root, keep=keep_server)
    server_s = time.perf_counter() - t0
    from flows import progress as flow_progress
    from flows.ingest import ingest

    import_s = time.perf_counter() - t0 - server_s
    columns = (
        TextColumn("{task.description:>16}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False, disable=json_out) as progress:
        flow_progress.set_reporter(_RichReporter(progress))
        try:
            params = dict(
                home=str(root),
                sources=str(sources) if sources else None,
                corpus=str(corpus) if corpus else None,
                full=full,
                workers=workers,
                wait_seconds=wait,
                allow_mass_removal=allow_mass_removal,
            )
            if dask:
                from flows.dask_runner import ingest_on_dask

                summary = ingest_on_dask(dask, **params)
            else:
                summary = ingest(**params)
        finally:
            flow_progress.set_reporter(None)
    total_s = time.perf_counter() - t0
    work_s = sum(summary["seconds"].values())
    summary["seconds_total"] = round(total_s, 2)
    summary["seconds_prefect"] = round(max(total_s - work_s, 0.0), 2)
    summary["seconds_import"] = round(import_s, 2)
    summary["prefect_server"] = {
        "source": server.source,
        "api_url": server.api_url,
        "pid": server.pid,
    }
    summary["seconds_server"] = round(server_s, 2)
    if json_out:
        print_json(summary)
        return
    _print_summary(summary)


def _wait_for_lock(lock: Path, wait: float) -> float:
    """Fail now if another ingest holds the lock, or wait up to `wait` s for it (as the
    flow would, saying so in `kb status`); returns the wait left for the flow."""
    if wait <= 0:
        check_free(lock)
        return wait
    started = time.monotonic()
    with ingest_lock(lock, wait_seconds=wait):
        pass
    return max(wait - (time.monotonic() - started), 1.0)


def _print_summary(summary: dict[str, Any]) -> None:
    src, totals = summary["sources"], summary["totals"]
    console.print(
        f"[bold]Sources[/]: {src['seen']} seen, {src['new']} new, {src['changed']} changed, "
        f"{src['unchanged']} unchanged, {src['removed']} removed, {src['failed']} failed"
        + (f", {src['duplicate']} duplicate" if src.get("duplicate") else "")
    )
    console.print(
        f"[bold]Knowledge base[/]: {totals['documents']} documents, {totals['sections']} sections, "
        f"{totals['pages']} PDF pages; this run indexed {summary['indexed_sections']} sections"
    )
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in summary["seconds"].items())
    console.print(
        f"[bold]Time[/]: {summary['seconds_total']:.1f}s in all; our work {stages}; "
        f"Prefect start-up and overhead {summary['seconds_prefect']:.1f}s"
    )
    for f in summary["failures"]:
        console.print(f"[red]failed[/] {escape(f['source'])} ({f['stage']}): {escape(f['reason'])}")
    server = summary.get("prefect_server") or {}
    if server.get("source") == "started":
        console.print(
            f"[bold]Prefect server[/]: started for this home at {server['api_url']} and left "
            "running for the next build (`kb server status`, `kb server stop`)"
        )


@app.command()
@user_errors
def show(
    doc_id: Annotated[str, typer.Argument(help="A document id (see `kb docs`), or DOC#SECTION.")],
    section: Annotated[
        str | None, typer.Option("--section", help="Print this section's text.")
    ] = None,
    structure: Annotated[
        bool,
        typer.Option("--structure", help="For a law: its chapters, articles, parts and points."),
    ] = False,
    text: Annotated[
        bool,
        typer.Option(
            "--text",
            help="Print everything kept of the document, section by section under its"
            " headings (with --json: each section's text in the JSON).",
        ),
    ] = False,
    json_out: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """A document's metadata, tags and sections, or one section's text, or a law's structure.

    `kb show DOC --text` prints the document's whole text as kept (what a user would
    copy or feed to another tool): its title, then each section under its headings.
    """
    if "#" in doc_id and section is None:
        doc_id, section = doc_id.split("#", 1)
    kb = KnowledgeBase(home_path(home))
    view = kb.document(doc_id, hint="`kb docs` lists them", details=False)
    doc, duplicates = view.document, view.duplicates
    if structure:
        _print_structure(doc, kb.structure(doc), json_out)
        return
    if section is not None:
        sec = find_section(doc, section, hint=f"`kb show {doc_id}` lists them")
        if json_out:
            print_json({"doc_id": doc.id, "title": doc.title, **section_dict(sec, with_text=True)})
            return
        from search.query import format_pages

        console.print(f"[bold]{escape(doc.title)}[/]")
        console.print(
            f"[bold cyan]{escape(' / '.join(sec.heading_path) or '(untitled)')}[/]  {format_pages(sec.pages)}  [dim]{sec.lang}[/]"
        )
        console.print(escape(sec.text))
        return
    if json_out:
        print_json(document_dict(doc, duplicates, with_text=text))
        return
    if text:
        typer.echo(document_text(doc), nl=False)
        return
    _print_document(doc, duplicates)


def document_text(doc: Any) -> str:
    """The document's text, section by section, each heading once, marked by its depth.

    Plain text, no colours or wrapping: "# Title", then "## Heading" lines where a
    section's heading path opens a new heading, then the section's text.
    """
    lines = [f"# {doc.title}", ""]
    printed: list[str] = []
    for sec in doc.sections:
        path = list(sec.heading_path)
        if path and path[0] == doc.title:
            path = path[1:]  # the title is printed once, above everything
        common = 0
        while common < min(len(path), len(printed)) and path[common] == printed[common]:
            common += 1
        for depth in range(common, len(path)):
            lines += [f"{'#' * (depth + 2)} {path[depth]}", ""]
        printed = path
        if sec.text.strip():
            lines += [sec.text.strip(), ""]
    return "\n".join(lines)


def _print_structure(doc: Any, tree: Any, json_out: bool) -> None:
    from kb.legal.render import render_structure
    from kb.legal.units import structure_to_dict

    if json_out:
        print_json({"doc_id": doc.id, "title": doc.title, "structure": structure_to_dict(tree)})
    else:
        console.print(render_structure(tree))


def _print_document(doc: Any, duplicates: list[str]) -> None:
    from search.query import format_pages

    console.print(f"[bold]{escape(doc.title)}[/]  [dim]{doc.id}[/]")
    meta = Table.grid(padding=(0, 2))
    meta.add_row("source", escape(doc.source.location))
    meta.add_row("type", f"{doc.doctype} [dim]({escape(doc.doctype_reason)})[/]")
    meta.add_row("language", f"{doc.lang} (contains: {', '.join(doc.languages) or doc.lang})")
    meta.add_row("date", f"{doc.date or '-'} [dim]{escape(doc.date_text)}[/]")
    if doc.page_count:
        meta.add_row("pages", str(doc.page_count))
    if duplicates:
        meta.add_row("also at", escape(", ".join(duplicates)))
    entities = sorted({t.value for s in doc.sections for t in s.tags if t.kind == "entity"} |
                      {t.value for t in doc.tags if t.kind == "entity"})  # fmt: skip
    if entities:
        meta.add_row("entities", ", ".join(entities))
    for t in doc.tags:
        if t.kind == "fact":
            meta.add_row(t.value, escape(t.label or t.text))
    console.print(meta)
    table = Table(title=f"{len(doc.sections)} sections", show_lines=False)
    for col in ("id", "heading", "pages", "lang", "chars"):
        table.add_column(col)
    for s in doc.sections:
        table.add_row(
            s.id,
            escape(" / ".join(s.heading_path) or "(untitled)"),
            format_pages(s.pages),
            s.lang,
            str(len(s.text)),
        )
    console.print(table)


@app.command()
@user_errors
def docs(json_out: JsonOption = False, home: HomeOption = None) -> None:
    """List the documents in the knowledge base."""
    rows = KnowledgeBase(home_path(home)).documents()
    if json_out:
        print_json({"documents": rows})
        return
    table = Table(title=f"{len(rows)} documents")
    for col in ("id", "title", "type", "lang", "date", "sections"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["id"],
            escape(r["title"][:70]),
            r["doctype"],
            r["lang"],
            r["date"] or "-",
            str(r["sections"]),
        )
    console.print(table)
