"""`kb compare` and `kb elements`: law editions side by side, and the definition check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kb.cli.app import HomeOption, JsonOption, app, console, home_path, print_json, user_errors
from kb.errors import KBError
from kb.legal.compare import comparison_to_dict
from kb.legal.elements import LANGUAGES, report_to_dict
from kb.legal.html import comparison_to_html
from kb.legal.render import render_comparison, render_elements
from kb.library import KnowledgeBase, LegalSource


@app.command()
@user_errors
def compare(
    a: Annotated[
        str,
        typer.Argument(
            help="First text: a document id in the store, or a .pdf/.docx/.odt/.md/.txt/.html file."
        ),
    ],
    b: Annotated[str, typer.Argument(help="Second text, the same way.")],
    concordance: Annotated[
        Path | None,
        typer.Option(
            "--concordance", help='TOML file of forced pairs: [[pair]] a = "art_7" b = "art_8".'
        ),
    ] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write a self-contained HTML report to FILE.")
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="List unchanged articles too.")] = False,
    method: Annotated[
        str, typer.Option("--method", help="Text similarity: tfidf or rapidfuzz.")
    ] = "tfidf",
    json_out: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Compare two editions or two language versions of a law, article by article.

    Same language: each article is matched, amended, renumbered, split, merged, added or
    removed, with a word-level redline. Two languages: aligned by numbers and structure,
    side by side, with parts present in one and missing in the other flagged. When one
    side is an international instrument, the other side's definition is checked too.
    """
    result = KnowledgeBase(home_path(home)).compare(
        a, b, method=method, concordance=concordance, files=True, definitions=False
    )
    comparison, elements = result.comparison, result.elements
    if html is not None:
        try:
            html.write_text(comparison_to_html(comparison, elements=elements), encoding="utf-8")
        except OSError as exc:
            raise KBError(f"cannot write {html}: {exc.strerror}") from None
    if json_out:
        data = comparison_to_dict(comparison)
        if elements is not None:
            data["elements"] = report_to_dict(elements)
        if html is not None:
            data["html"] = str(html)
        print_json(data)
        return
    console.print(render_comparison(comparison, show_matched=show_all))
    if elements is not None:
        console.print(render_elements(elements))
    if html is not None:
        console.print(f"HTML report written to {html}")


@app.command()
@user_errors
def elements(
    doc: Annotated[
        str,
        typer.Argument(
            help="Document id or file, optionally with a unit: DOC#art_1, law.md#'Article 3'."
        ),
    ],
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="Terms to use: en, ru, tk or fr (default: the document's)."),
    ] = None,
    json_out: JsonOption = False,
    home: HomeOption = None,
) -> None:
    """Check a definition of trafficking against the Palermo Protocol, element by element.

    Each act, means, form of exploitation and rule is reported present, partial, absent
    or broader, with the words of the text that matched and the unit they are in.
    Without #UNIT the definition article is found by its wording and the rules are
    looked for in the whole text.
    """
    ref, _, unit = doc.partition("#")
    kb = KnowledgeBase(home_path(home))
    source = kb.legal_source(ref, files=True)
    if lang is not None and lang not in LANGUAGES:
        raise KBError(f"--lang {lang}: use one of {', '.join(LANGUAGES)}")
    report = kb.elements(source, unit or None, lang)
    if json_out:
        print_json(report_to_dict(report))
        return
    console.print(render_elements(report))


__all__ = ["LegalSource", "compare", "elements"]
