"""The web interface: HTML pages for people, JSON under /api/ for programs.

`create_app(home)` returns a FastAPI application over one knowledge-base home.
Handlers are thin: each calls one function of `kb.web.service`, which calls the
library the CLI uses. Pages need no JavaScript; every bit of document text goes
through Jinja2's autoescaping (or `markupsafe.escape` before marks are added).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.exceptions import HTTPException as StarletteHTTPException

from kb.errors import IndexMissingError, KBError, NotFoundError
from kb.home import paths as home_paths
from kb.home import resolve_home
from kb.web import highlight, views
from kb.web.i18n import (
    MESSAGES,
    UI_COOKIE,
    UI_LANGUAGES,
    choose_ui,
    label,
    normalise_ui,
    translator,
)
from kb.web.login import password_matches

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"

# Scripts only from our own /static (the copy-citation button, the phone's folded filters),
# never inline: a missed escape cannot run one.
PAGE_CSP = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
# A request whose address is longer than this is refused at once with a short 400: a query
# is at most search.syntax.MAX_QUERY_CHARS (1,000) characters, 6,000 when percent-encoded
# Cyrillic; a 100 KB `q` must not come back three times over in a page's links.
MAX_QUERY_STRING = 8_192
_ABSOLUTE_PATH = re.compile(r"""(?<![\w:/.~-])/(?:[^\s/'"`]+/)*[^\s/'"`:;,)]+""")


def _too_long(request: Request) -> str:
    """Why an address too long is refused: the search's own words when `q` is what is long."""
    from search.syntax import MAX_QUERY_CHARS, validate_query

    query = request.query_params.get("q", "")
    if len(query) > MAX_QUERY_CHARS:
        try:
            validate_query(query)
        except KBError as exc:
            return str(exc)
    return (
        f"request too long: the address may carry at most {MAX_QUERY_STRING:,} characters after '?'"
    )


def public_message(message: str) -> str:
    """`message` without the server's file paths: each absolute path on this machine becomes
    its last part ("no index in …/data"), so an error page tells what went wrong, not where
    files live. Addresses of this site ("/api/documents lists them"), whose first part is
    no folder of this machine, are left as they are."""

    def hide(match: re.Match[str]) -> str:
        path = match.group(0)
        if not os.path.exists("/" + path.lstrip("/").split("/", 1)[0]):  # /api/…, /file/…
            return path
        return "…/" + path.rstrip("/").rsplit("/", 1)[-1]

    return _ABSOLUTE_PATH.sub(hide, message)


def create_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["marks"] = highlight.marks_to_html
    env.filters["paragraphs"] = highlight.paragraphs
    env.filters["code"] = highlight.code_spans
    env.filters["unit_name"] = views.unit_name
    env.filters["listing"] = views.listing
    env.globals["search_url"] = views.search_url
    env.globals["query_url"] = views.query_url
    env.globals["document_url"] = views.document_url
    env.globals["with_ui"] = views.with_ui
    env.globals["UI_LANGUAGES"] = UI_LANGUAGES
    env.globals.update(views.TEMPLATE_HELPERS)
    return env


def status_code_for(exc: KBError) -> int:
    """Not found: 404; no index yet: 503; anything else the user can cause (a bad query): 400."""
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, IndexMissingError):
        return 503
    return 400


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def validation_message(exc: RequestValidationError) -> str:
    """One line naming each bad parameter: "limit: Input should be a valid integer (got 'abc')"."""
    parts = []
    for error in exc.errors():
        name = ".".join(str(x) for x in error.get("loc", ()) if x not in ("query", "path", "body"))
        given = error.get("input")
        got = f" (got {given!r})" if given is not None and not isinstance(given, dict) else ""
        parts.append(f"{name or 'request'}: {error.get('msg', 'invalid value')}{got}")
    return "; ".join(parts) or "invalid request"


class Pages:
    """Renders templates with the interface language and the shared page context."""

    def __init__(self, env: Environment) -> None:
        self.env = env

    def ui_of(self, request: Request) -> str:
        return choose_ui(
            request.query_params.get("ui"),
            request.cookies.get(UI_COOKIE),
            request.headers.get("accept-language"),
        )

    def render(
        self, request: Request, template: str, context: dict[str, Any], status_code: int = 200
    ) -> HTMLResponse:
        ui = self.ui_of(request)
        t = translator(ui)
        page_url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        base_url = _without_param(page_url, "ui")
        html = self.env.get_template(template).render(
            request=request,
            ui=ui,
            t=t,
            label=lambda prefix, value: label(t, prefix, value),
            ui_links=[(code, views.with_ui(base_url, code)) for code in UI_LANGUAGES],
            current_path=request.url.path,
            **context,
        )
        response = HTMLResponse(html, status_code=status_code)
        chosen = normalise_ui(request.query_params.get("ui"))
        if chosen:
            response.set_cookie(
                UI_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="lax", httponly=True
            )
        return response

    def error(self, request: Request, message: str, status_code: int) -> HTMLResponse:
        return self.render(
            request, "error.html", {"message": message, "status_code": status_code}, status_code
        )


def _without_param(url: str, name: str) -> str:
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    return parts.path + (f"?{urlencode(kept)}" if kept else "")


def create_app(home: Path | str | None = None, *, password: str | None = None) -> FastAPI:
    """The application for the knowledge base in `home` (default: KB_HOME or ./data).

    With a `password`, every page, file and API call needs the login (HTTP Basic
    authentication, user LOGIN_USER): send it over TLS (a reverse proxy) beyond this machine.
    """
    from kb.web.api import router as api_router
    from kb.web.pages import router as pages_router

    app = FastAPI(
        title="Counter-trafficking knowledge base",
        summary="Search, documents, law comparison and ingest status, as JSON.",
        description=(
            "The same operations as the `kb` command line: `/api/search` answers with the object of "
            "`kb search --json`, `/api/documents/{id}` with that of `kb show --json`, `/api/compare` with "
            'that of `kb compare --json`. Errors a user can cause answer 4xx with `{"detail": message}`.'
        ),
        version="1",
        openapi_url="/api/openapi.json",
        # The interactive docs load scripts from a CDN, which the office network does not reach.
        docs_url=None,
        redoc_url=None,
    )
    app.state.home = resolve_home(home)
    app.state.pages = Pages(create_environment())
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(api_router)
    app.include_router(pages_router)

    @app.exception_handler(KBError)
    async def kb_error(request: Request, exc: KBError) -> Response:
        status_code = status_code_for(exc)
        if is_api(request):
            return JSONResponse({"detail": public_message(str(exc))}, status_code=status_code)
        message = public_message(str(exc))
        store_missing = not home_paths(request.app.state.home).store.exists()
        if isinstance(exc, IndexMissingError) or (isinstance(exc, NotFoundError) and store_missing):
            message = translator(app.state.pages.ui_of(request))("error.no_kb")
        return app.state.pages.error(request, message, status_code)

    @app.exception_handler(RequestValidationError)
    async def bad_parameters(request: Request, exc: RequestValidationError) -> Response:
        message = validation_message(exc)
        if is_api(request):
            return JSONResponse({"detail": message}, status_code=422)
        return app.state.pages.error(request, message, 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404 and message == "Not Found":
            message = f"no page at {request.url.path}"
        if is_api(request) or exc.status_code == 405:
            return JSONResponse(
                {"detail": message}, status_code=exc.status_code, headers=exc.headers
            )
        return app.state.pages.error(request, message, exc.status_code)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        if len(request.scope.get("query_string", b"")) > MAX_QUERY_STRING:
            response: Response = JSONResponse({"detail": _too_long(request)}, status_code=400)
        elif password and not password_matches(request.headers.get("authorization"), password):
            response = Response(
                "login required\n",
                status_code=401,
                media_type="text/plain",
                headers={"WWW-Authenticate": 'Basic realm="knowledge base", charset="UTF-8"'},
            )
        else:
            response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        return response

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/search", status_code=307)

    return app


def missing_messages(templates_dir: Path = TEMPLATES_DIR) -> set[str]:
    """Message keys written out in the templates that have no translation (a test keeps this
    empty; keys built from a value, like "status." ~ status, are checked by their own test)."""
    used: set[str] = set()
    for template in templates_dir.glob("*.html"):
        used |= set(
            re.findall(r"""\bt\(\s*["']([\w.]*\w)["']""", template.read_text(encoding="utf-8"))
        )
    return used - set(MESSAGES)


__all__ = ["create_app", "create_environment", "missing_messages", "public_message"]
