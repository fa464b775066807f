"""`kb compare` and `kb elements`: law editions side by side, and the definition check."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from kb.cli.app import HomeOption, JsonOption, app, console, home_path, print_json, user_errors
from kb.errors import KBError, NotFoundError
from kb.home import paths as home_paths
from kb.legal.compare import compare_structures, comparison_to_dict, load_concordance
from kb.legal.elements import (
    LANGUAGES,
    ElementsReport,
    check_elements,
    guess_language,
    report_to_dict,
)
from kb.legal.files import DIRECT_SUFFIXES, parse_law_file
from kb.legal.html import comparison_to_html
from kb.legal.parse import parse_structure
from kb.legal.render import render_comparison, render_elements
from kb.legal.units import LegalUnit, structure_from_dict
from kb.model import Document

TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
FILE_SUFFIXES = TEXT_SUFFIXES | {".pdf", ".html", ".htm", ".docx", ".odt"}
_INSTRUMENT_TITLE = re.compile(
    r"\b(?:protocol|convention|конвенци|протокол|konwensiýa|protokol)", re.IGNORECASE
)

_NATIONAL_ACT_TITLE = re.compile(
    r"\b(?:Act,? No\.?|Act of \d{4}|Закон|Law No\.?|Kanuny)\b|\bAct\s*$", re.IGNORECASE
)


@dataclass
class LegalSource:
    """A law or instrument ready for comparison: its tree, language and kind."""

    name: str
    root: LegalUnit
    lang: str
    doctype: str

    @property
    def is_instrument(self) -> bool:
        return self.doctype == "international_instrument"


def _doctype_of(root: LegalUnit, given: str = "") -> str:
    if given and given != "other":
        return given
    title = root.heading or ""
    # "Convention on … Trafficking … Act, No. 30 of 2005" is a national act giving effect
    # to a convention: legislation.
    if _INSTRUMENT_TITLE.search(title) and not _NATIONAL_ACT_TITLE.search(title):
        return "international_instrument"
    return "legislation"


def load_from_file(path: Path) -> LegalSource:
    """Markdown and text are parsed as they are; PDF and HTML go through the pipeline."""
    suffix = path.suffix.lower()
    if suffix not in FILE_SUFFIXES:
        raise KBError(
            f"{path}: cannot read {suffix or 'a file without extension'} (use .pdf, .docx, .odt, .md, .txt or .html)"
        )
    if suffix in DIRECT_SUFFIXES:
        # The same reading `kb build` keeps for the index (kb.legal.files).
        root = parse_law_file(path)
        return LegalSource(path.name, root, guess_language(root.full_text()), _doctype_of(root))
    from kb.pipeline import document_from_path  # the pipeline pulls in every extractor

    return source_from_document(document_from_path(path), path.name)


def source_from_document(
    doc: Document, name: str = "", structure: dict | None = None
) -> LegalSource:
    root = structure_from_dict(structure) if structure else parse_structure(doc)
    lang = doc.lang if doc.lang in LANGUAGES else guess_language(root.full_text())
    return LegalSource(name or doc.id, root, lang, _doctype_of(root, doc.doctype))


def load_from_store(doc_id: str, home: Path | None) -> LegalSource:
    """A document already in the store, with its saved structure when there is one."""
    store_path = home_paths(home_path(home)).store
    if not store_path.exists():
        raise NotFoundError(
            f"{doc_id!r} is neither a file nor a document: no store at {store_path}"
        )
    from kb.store import Store

    with Store(store_path, readonly=True) as store:
        doc = store.load_document(doc_id)
        if doc is None:
            raise NotFoundError(f"{doc_id!r} is neither a file nor a document in {store_path}")
        structure = store.load_artifact(doc_id, "structure")
    return source_from_document(doc, doc_id, structure)


def load_legal_source(ref: str, home: Path | None = None) -> LegalSource:
    """A file path (.pdf/.docx/.odt/.md/.txt/.html) or a document id in the store."""
    path = Path(ref).expanduser()
    if path.is_file():
        return load_from_file(path)
    if "/" in ref or path.suffix.lower() in FILE_SUFFIXES:
        raise NotFoundError(f"file not found: {ref}")
    return load_from_store(ref, home)


def _elements_for_other_side(a: LegalSource, b: LegalSource) -> ElementsReport | None:
    if a.is_instrument == b.is_instrument:
        return None
    national = b if a.is_instrument else a
    return check_elements(national.root, lang=national.lang)


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
    left = load_legal_source(a, home)
    right = load_legal_source(b, home)
    forced = load_concordance(concordance) if concordance else None
    comparison = compare_structures(
        left.root,
        right.root,
        a_lang=left.lang,
        b_lang=right.lang,
        concordance=forced,
        method=method,
        a_name=left.name,
        b_name=right.name,
    )
    elements = _elements_for_other_side(left, right)
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
    source = load_legal_source(ref, home)
    if lang is not None and lang not in LANGUAGES:
        raise KBError(f"--lang {lang}: use one of {', '.join(LANGUAGES)}")
    report = check_elements(source.root, unit or None, lang=lang or source.lang)
    report.document = report.document or source.name
    if json_out:
        print_json(report_to_dict(report))
        return
    console.print(render_elements(report))


__all__ = ["LegalSource", "compare", "elements", "load_legal_source"]
