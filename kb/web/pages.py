"""The HTML pages: search, document, compare, status, documents, and originals."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from kb.errors import QueryError
from kb.web import highlight, service, views

router = APIRouter(include_in_schema=False)

# The original files' pages (`/file/…`) send their own Content-Security-Policy, in place
# of the pages' own (kb.web.app.PAGE_CSP).
# A saved web page is shown in a sandbox: no scripts, no same-origin access, nothing fetched.
ORIGINAL_HTML_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
# Any other original (a PDF can carry JavaScript) is shown inline with scripts forbidden and
# nothing fetched from elsewhere. Not `sandbox`: browsers then refuse to show a PDF at all.
ORIGINAL_FILE_CSP = (
    "default-src 'none'; script-src 'none'; object-src 'self'; style-src 'unsafe-inline'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)

Text = Annotated[str, Query()]
OptionalText = Annotated[str | None, Query()]


def home_of(request: Request) -> Path:
    return request.app.state.home


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    return request.app.state.pages.render(request, template, context, status_code)


def _blank_to_none(value: str | None) -> str | None:
    """An "any" choice in a form arrives as an empty parameter."""
    value = (value or "").strip()
    return value or None


@router.get("/search")
def search_page(
    request: Request,
    q: Text = "",
    doctype: Annotated[str | None, Query(alias="type")] = None,
    lang: OptionalText = None,
    year: OptionalText = None,
    tag: OptionalText = None,
    doc: OptionalText = None,
    page: Annotated[int, Query()] = 1,
    limit: Annotated[int, Query()] = views.PAGE_SIZE,
    sort: OptionalText = None,
    in_force: Annotated[bool, Query()] = False,
) -> Response:
    params = service.SearchParams(
        q.strip(),
        _blank_to_none(doctype),
        _blank_to_none(lang),
        _blank_to_none(year),
        _blank_to_none(tag),
        _blank_to_none(doc),
        page=page,
        limit=limit,
        sort=_blank_to_none(sort),
        in_force=in_force,
    )
    ui = request.app.state.pages.ui_of(request)
    context: dict[str, Any] = {
        "params": params,
        "results": None,
        "error": None,
        "examples": views.EXAMPLE_QUERIES,
        "tag_labels": {params.tag: views.entity_label(params.tag, ui)} if params.tag else {},
    }
    status_code = 200
    if params.q:
        try:
            results = service.run_search(home_of(request), params)
        except QueryError as exc:
            context["error"] = str(exc)
            status_code = 400
        else:
            pages = views.page_count(results)
            facets = views.facet_lists(results, params)
            views.localise_facets(facets, ui)
            expansions = views.expansions(results)
            views.localise_expansions(expansions, results, ui)
            context.update(
                results=results,
                groups=views.group_hits(results),
                facets=facets,
                expansions=expansions,
                pages=pages,
                page_links=views.page_links(min(params.page, pages), pages),
            )
    return render(request, "search.html", context, status_code)


@router.get("/documents")
def documents_page(request: Request) -> Response:
    return render(
        request, "documents.html", {"documents": service.list_documents(home_of(request))}
    )


@router.get("/doc/{doc_id}")
def document_page(request: Request, doc_id: str, q: Text = "", s: OptionalText = None) -> Response:
    home = home_of(request)
    view = service.load_document(home, doc_id)
    focused = view.document.section(s) if s else None
    similar = service.similar(home, doc_id, focused.id)["hits"] if focused else []
    spans = service.query_highlighter(home, q)

    def marked(text: str, lang: str) -> Markup:
        return highlight.spans_to_html(text, spans(text, lang))

    return render(
        request,
        "document.html",
        {
            "view": view,
            "doc": view.document,
            "q": q.strip(),
            "focused": focused,
            "similar": similar,
            "marked": marked,
        },
    )


@router.get("/compare")
def compare_page(
    request: Request,
    a: OptionalText = None,
    b: OptionalText = None,
    show_all: Annotated[bool, Query(alias="all")] = False,
    method: Text = "tfidf",
) -> Response:
    home = home_of(request)
    choices = service.legal_documents(home)
    a, b = _blank_to_none(a), _blank_to_none(b)
    context: dict[str, Any] = {
        "choices": choices,
        "a": a,
        "b": b,
        "show_all": show_all,
        "result": None,
        "notice": None,
    }
    if a and b and a == b:
        context["notice"] = "compare.same_document"
    elif a and b:
        result = service.compare_documents(home, a, b, method)
        rows, hidden = views.comparison_rows(result.comparison, show_matched=show_all)
        context.update(
            result=result,
            rows=rows,
            hidden=hidden,
            elements=views.elements_rows(
                result.side_elements,
                {"a": result.comparison.a_root, "b": result.comparison.b_root},
            ),
            a_doc=_choice(choices, a),
            b_doc=_choice(choices, b),
        )
    if not (a and b) and len(choices) >= 2:
        # Preselect something to compare in one click: the given text (or the first) and another.
        given = a or b or choices[0]["id"]
        other = next(d["id"] for d in choices if d["id"] != given)
        context["a"], context["b"] = (other, given) if b else (given, other)
    return render(request, "compare.html", context)


def _choice(choices: list[dict[str, Any]], doc_id: str) -> dict[str, Any]:
    return next(
        (d for d in choices if d["id"] == doc_id), {"id": doc_id, "title": doc_id, "date": ""}
    )


@router.get("/status")
def status_page(request: Request) -> Response:
    return render(request, "status.html", {"status": service.status(home_of(request))})


@router.api_route("/file/{doc_id}", methods=["GET", "HEAD"])
def original_file(request: Request, doc_id: str) -> Response:
    """The document's original: only a source the store holds for this id, never a path from the URL."""
    original = service.original_of(home_of(request), doc_id)
    if original.url is not None:
        return RedirectResponse(original.url, status_code=307)
    assert original.path is not None
    csp = ORIGINAL_HTML_CSP if original.media_type == "text/html" else ORIGINAL_FILE_CSP
    # The bytes checked against the ingest (service.original_of), not the path reopened.
    return Response(
        original.data,
        media_type=original.media_type,
        headers={
            "Content-Security-Policy": csp,
            "Content-Disposition": _inline(original.path.name),
        },
    )


def _inline(filename: str) -> str:
    """`inline` with the file's name, in the form every browser reads (RFC 6266)."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("\\", "_")
    return f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
