"""`kb search` and `kb similar`: reading commands over the search library (no Prefect)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from kb.cli.app import HomeOption, JsonOption, app, console, home_path, print_json, user_errors
from kb.library import KnowledgeBase

SEARCH_HELP = """Search the knowledge base by section, in English, Russian or Turkmen.

Query syntax: words (all must match), "exact phrase", OR, -word or NOT word,
title:word, heading:"a phrase", type:legislation, lang:ru, year:2016 (or 2011-2018),
tag:place.mary, doc:DOC_ID, prefix*; article numbers and ids (129-1, TM10P0524) match
as written. Names of topics, places and bodies are also searched in the other two
languages (--no-expand turns that off).

Results are grouped by document (--flat for one ranked list), with the heading, pages,
a snippet of the matching passage and a citation line to paste. A query that starts
with "-" goes after "--": kb search -- "-smuggling trafficking".
"""


@app.command("search", help=SEARCH_HELP)
@user_errors
def search_command(
    query: Annotated[str, typer.Argument(help='Words, "exact phrases", OR, -word, field:value …')],
    doctype: Annotated[
        str | None,
        typer.Option("--type", help="Only this document type, e.g. training_manual, legislation."),
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Only sections in this language: en, ru, tk.")
    ] = None,
    year: Annotated[
        str | None, typer.Option("--year", help="Only documents of this year, or years: 2011-2018.")
    ] = None,
    tag: Annotated[
        str | None,
        typer.Option("--tag", help="Only sections tagged with this entity, e.g. place.mary."),
    ] = None,
    doc: Annotated[
        str | None,
        typer.Option("--doc", help="Only sections of this document (all of them, ungrouped)."),
    ] = None,
    sort: Annotated[
        str, typer.Option("--sort", help="relevance, or date (newest first).")
    ] = "relevance",
    page: Annotated[int, typer.Option("--page", min=1, help="Which page of results.")] = 1,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200, help="Sections per page.")] = 10,
    flat: Annotated[
        bool, typer.Option("--flat", help="One ranked list, not grouped by document.")
    ] = False,
    per_doc: Annotated[
        int,
        typer.Option(
            "--per-doc", min=1, help="At most this many sections of a document when grouped."
        ),
    ] = 3,
    no_expand: Annotated[
        bool,
        typer.Option(
            "--no-expand", help="Search only the words as typed (no other languages or spellings)."
        ),
    ] = False,
    in_force: Annotated[
        bool,
        typer.Option(
            "--in-force", help="Leave out laws repealed by a later law (they are marked otherwise)."
        ),
    ] = False,
    json_out: JsonOption = False,
    home: HomeOption = None,
) -> None:
    results = KnowledgeBase(home_path(home)).search(query, doctype=doctype, lang=lang, year=year, tag=tag, doc=doc,
                     limit=limit, page=page, sort=sort, flat=flat or bool(doc), expand=not no_expand,
                     per_document=per_doc, in_force=in_force)  # fmt: skip
    if json_out:
        print_json(results.as_dict())
        return
    print_results(results)


@app.command("similar")
@user_errors
def similar_command(
    target: Annotated[
        str,
        typer.Argument(
            metavar="DOC_ID[#SECTION]", help="A section (DOC#SECTION) or a whole document."
        ),
    ],
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=200, help="How many sections to show.")
    ] = 10,
    same_doc: Annotated[
        bool, typer.Option("--same-doc", help="Include sections of the same document.")
    ] = False,
    doctype: Annotated[str | None, typer.Option("--type", help="Only this document type.")] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Only sections in this language: en, ru, tk.")
    ] = None,
    json_out: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Sections most like a given section (or document), across documents and languages."""
    results = KnowledgeBase(home_path(home)).similar(
        target,
        limit=limit,
        same_document=same_doc,
        doctype=doctype,
        lang=lang,
    )
    if json_out:
        print_json(results.as_dict())
        return
    if not results.hits:
        console.print(f"No other section is like [bold]{escape(target)}[/].")
        return
    console.print(
        f"Sections like [bold]{escape(target)}[/] [dim](key terms: {escape(results.searched)})[/]"
    )
    for hit in results.hits:
        _print_hit(hit, indent="")


def print_results(results: Any) -> None:
    query = escape(results.searched if results.corrected else results.query)
    if results.corrected:
        console.print(
            f"Nothing matched [bold]{escape(results.query)}[/]; showing results for [bold]{query}[/]."
        )
    elif results.suggestion:
        console.print(f"Did you mean [bold]{escape(results.suggestion)}[/]?")
    if not results.hits:
        console.print(f"No sections match [bold]{query}[/]." + _no_results_hint(results))
        return
    documents = len({h.doc_id for h in results.hits})
    where = f" (page {results.page} of {results.pages})" if results.pages > 1 else ""
    console.print(f"{results.total} sections match [bold]{query}[/]{where}; this page: {len(results.hits)} "
                  f"from {documents} document{'s' if documents != 1 else ''}.")  # fmt: skip
    for expansion in results.expansions:
        console.print(f"[dim]{_expansion_line(expansion)}[/]")
    if results.expansions:
        console.print("[dim](--no-expand searches only the words as typed)[/]")
    if results.relaxed:
        console.print("[dim]Sections marked (some words) match only some of the words.[/]")
    if results.grouped:
        by_key = {h.key: h for h in results.hits}
        for group in results.groups:
            first = by_key[f"{group.doc_id}#{group.sections[0]}"]
            console.print(f"\n[bold cyan]{escape(group.title)}[/]  [dim]{_meta(first)}[/]")
            for section_id in group.sections:
                _print_hit(by_key[f"{group.doc_id}#{section_id}"], indent="  ", with_title=False)
            if group.more:
                console.print(
                    f"  [dim]+ {group.more} more sections in this document: add --doc {group.doc_id}[/]"
                )
    else:
        for hit in results.hits:
            _print_hit(hit, indent="")
    _print_facets(results.facets)


LANGUAGE_NAMES = {"en": "English", "ru": "Russian", "tk": "Turkmen"}


def _expansion_line(expansion: Any) -> str:
    """'"идентификация жертв" also searched as Victim identification: victim identification,
    identification of victims (en); pidalary ýüze çykarmak (tk) …'"""
    parts = []
    for lang, terms in expansion.terms.items():
        shown = ", ".join(terms[:2]) + (" …" if len(terms) > 2 else "")
        parts.append(f"{shown} ({lang})")
    words = "; ".join(parts) or "its tag"
    return escape(
        f'"{expansion.text}" also searched as {expansion.label} [{expansion.entity}]: {words}'
    )


def _meta(hit: Any) -> str:
    repealed = ""
    if getattr(hit, "status", "") == "repealed":
        repealed = "REPEALED" + (f" by {hit.repealed_by}" if hit.repealed_by else "")
    return " · ".join(x for x in (hit.doctype, hit.lang, hit.date or "no date", repealed) if x)


def _print_hit(hit: Any, *, indent: str, with_title: bool = True) -> None:
    from search.citation import format_pages

    head = " / ".join(hit.heading_path) or "(beginning)"
    pages = format_pages(hit.pages)
    partial = " [dim](some words)[/]" if hit.partial else ""
    if with_title:
        console.print(
            f"\n{indent}[bold cyan]{hit.rank}. {escape(hit.title)}[/]  [dim]{_meta(hit)}[/]"
        )
        console.print(f"{indent}   {escape(head)}{('  ' + pages) if pages else ''}{partial}")
    else:
        console.print(
            f"\n{indent}[bold]• {escape(head)}[/]{('  ' + pages) if pages else ''}{partial}"
        )
    console.print(f"{indent}   {_bold_marks(hit.snippet)}")
    console.print(f"{indent}   [green]Cite:[/] {escape(hit.citation)}")
    console.print(f"{indent}   [dim]{hit.doc_id}#{hit.section_id} · {escape(hit.source)}[/]")


def _bold_marks(snippet: str) -> str:
    parts = escape(snippet).split("**")
    return "".join(f"[bold yellow]{p}[/]" if i % 2 else p for i, p in enumerate(parts))


def _print_facets(facets: dict[str, list[dict[str, Any]]]) -> None:
    names = {"doctype": "type", "lang": "language", "year": "year", "tags": "tags"}
    lines = []
    for key, label in names.items():
        rows = facets.get(key) or []
        if rows:
            shown = " · ".join(f"{r['value']} {r['count']}" for r in rows[:8])
            lines.append(f"[bold]{label}[/]: {escape(shown)}")
    if lines:
        console.print("\n[dim]Narrow with --type/--lang/--year/--tag:[/]")
        for line in lines:
            console.print("  " + line)


def _no_results_hint(results: Any) -> str:
    if results.filters:
        names = ", ".join(
            f"--{'type' if k == 'type' else k} {v}" for k, v in results.filters.items()
        )
        return f" Try without {names}, fewer words, or another language."
    return " Try fewer words, another word form, or another language."
