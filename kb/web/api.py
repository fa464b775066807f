"""The JSON API under /api/: the same objects as the CLI's --json output."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from kb.web import service

router = APIRouter(prefix="/api", tags=["api"])

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": 'A bad parameter: `{"detail": "query too long: … (the limit is 1000)"}`'},
    404: {"description": 'No such document or section: `{"detail": "no document \'x\'…"}`'},
    422: {"description": 'A parameter of the wrong type: `{"detail": "limit: Input should be…"}`'},
    503: {"description": "The knowledge base has no index yet: run `kb build`"},
}

QueryText = Annotated[str, Query(description='Words, "exact phrases", field:value …')]
TypeFilter = Annotated[
    str | None, Query(alias="type", description="Only this document type, e.g. training_manual.")
]
LangFilter = Annotated[str | None, Query(description="Only sections in this language: en, ru, tk.")]
YearFilter = Annotated[
    str | None, Query(description="Only documents of this year, or years: 2016, 2011-2018.")
]
TagFilter = Annotated[
    str | None, Query(description="Only sections tagged with this entity id, e.g. place.mary.")
]
DocFilter = Annotated[str | None, Query(description="Only sections of this document (its id).")]
Limit = Annotated[int, Query(description="Sections per page (1–200).")]
PageNumber = Annotated[int, Query(description="Page of results, from 1.")]
Sort = Annotated[str | None, Query(description="relevance (default) or date (newest first).")]


def home_of(request: Request) -> Path:
    return request.app.state.home


@router.get(
    "/search", responses=ERRORS, summary="Search sections (same object as `kb search --json`)"
)
def api_search(
    request: Request,
    q: QueryText,
    doctype: TypeFilter = None,
    lang: LangFilter = None,
    year: YearFilter = None,
    tag: TagFilter = None,
    doc: DocFilter = None,
    limit: Limit = 10,
    page: PageNumber = 1,
    sort: Sort = None,
    flat: Annotated[bool, Query(description="One ranked list, not grouped by document.")] = False,
    per_doc: Annotated[
        int, Query(description="At most this many sections of a document when grouped.")
    ] = 3,
    expand: Annotated[
        bool, Query(description="Also search names in the other languages (false: as typed).")
    ] = True,
    in_force: Annotated[
        bool, Query(description="Leave out laws repealed by a later law (marked otherwise).")
    ] = False,
) -> dict[str, Any]:
    params = service.SearchParams(
        q,
        doctype,
        lang,
        year,
        tag,
        doc,
        page,
        limit,
        sort,
        flat=flat,
        per_doc=per_doc,
        expand=expand,
        in_force=in_force,
    )
    return service.run_search(home_of(request), params)


@router.get(
    "/documents", responses=ERRORS, summary="List documents (same object as `kb docs --json`)"
)
def api_documents(request: Request) -> dict[str, Any]:
    return {"documents": service.list_documents(home_of(request))}


@router.get(
    "/documents/{doc_id}",
    responses=ERRORS,
    summary="A document (same object as `kb show DOC --json`; with text=true, `--json --text`)",
)
def api_document(
    request: Request,
    doc_id: str,
    text: Annotated[bool, Query(description="Add each section's text.")] = False,
) -> dict[str, Any]:
    return service.document_dict(
        service.load_document(home_of(request), doc_id, details=False), with_text=text
    )


@router.get(
    "/documents/{doc_id}/sections/{section_id}",
    responses=ERRORS,
    summary="One section with its text (same object as `kb show DOC#SECTION --json`)",
)
def api_section(request: Request, doc_id: str, section_id: str) -> dict[str, Any]:
    return service.section_dict(
        service.load_document(home_of(request), doc_id, details=False), section_id
    )


@router.get(
    "/documents/{doc_id}/sections/{section_id}/similar",
    responses=ERRORS,
    summary="Sections of other documents like this one (same object as `kb similar DOC#SECTION --json`)",
)
def api_similar(
    request: Request,
    doc_id: str,
    section_id: str,
    limit: Annotated[int, Query(description="How many sections (1–200).")] = 5,
) -> dict[str, Any]:
    home = home_of(request)
    service.find_section(service.load_document(home, doc_id, details=False).document, section_id)
    return service.similar(home, doc_id, section_id, limit)


@router.get(
    "/compare",
    responses=ERRORS,
    summary="Compare two legal texts of the store (same object as `kb compare A B --json`)",
)
def api_compare(
    request: Request,
    a: Annotated[str, Query(description="First document id (see /api/documents).")],
    b: Annotated[str, Query(description="Second document id.")],
    method: Annotated[str, Query(description="Text similarity: tfidf or rapidfuzz.")] = "tfidf",
) -> dict[str, Any]:
    return service.compare_documents(home_of(request), a, b, method).as_dict()


@router.get("/status", responses=ERRORS, summary="The last ingest runs and the next scheduled run")
def api_status(
    request: Request, limit: Annotated[int, Query(description="How many runs (1–100).")] = 10
) -> dict[str, Any]:
    return service.status(home_of(request), limit)
