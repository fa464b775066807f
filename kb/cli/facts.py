"""`kb facts`: project facts (title, period, donor, budget, ids, partners, people trained)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from kb.cli.app import HomeOption, JsonOption, app, console, home_path, print_json, user_errors
from kb.library import KnowledgeBase


@app.command()
@user_errors
def facts(
    doc_id: Annotated[str | None, typer.Argument(help="Only this document's facts.")] = None,
    by_time: Annotated[
        bool, typer.Option("--timeline", help="The projects in time order, one line each.")
    ] = False,
    json_out: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Project facts found in the documents, each with the sentence it came from."""
    projects = KnowledgeBase(home_path(home)).facts(doc_id, by_time=by_time)
    if json_out:
        print_json({"projects": [p.as_dict() for p in projects]})
        return
    if not projects:
        console.print("No project facts found.")
        return
    if by_time:
        table = Table(title="Projects in time order")
        for col in ("from", "to", "project", "donor", "document"):
            table.add_column(col)
        for p in projects:
            donor = p.first("donor")
            table.add_row(p.start or "?", p.end or "", escape(p.project_title),
                          escape(donor["value"]) if donor else "", p.doc_id)  # fmt: skip
        console.print(table)
        return
    for p in projects:
        console.print(f"\n[bold]{escape(p.title)}[/]  [dim]{p.doc_id} · {p.doctype}[/]")
        for fact in p.facts:
            console.print(f"  [cyan]{fact['name']}[/]: {escape(str(fact['value']))}")
            console.print(f"    [dim]“{escape(fact['sentence'][:200])}”[/]")
