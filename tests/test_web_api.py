"""The JSON API under /api/: the CLI's objects, and clear 4xx answers to bad parameters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner
from web_support import FAILURE, SCRIPT, build_small_home, web_client

from kb.cli import app as cli_app

runner = CliRunner()


def cli_json(*args: str) -> Any:
    result = runner.invoke(cli_app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def client(corpus_home: Path) -> Any:
    return web_client(corpus_home)


@pytest.fixture(scope="module")
def small_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_small_home(tmp_path_factory.mktemp("web-api"))


def without_timing(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "seconds"}


# --- search ----------------------------------------------------------------------------


def test_search_answers_with_the_object_of_kb_search_json(client: Any, corpus_home: Path) -> None:
    query = "indicators of labour exploitation"
    api = client.get("/api/search", params={"q": query}).json()
    cli = cli_json("search", query, "--json", "--home", str(corpus_home))
    assert without_timing(api) == without_timing(cli)
    top = api["hits"][0]
    assert (top["doc_id"], top["section_id"]) == ("training-manual-victim-identification", "s-3-2")
    assert top["pages"] == [15, 16]


def test_search_filters_and_pages_are_parameters(client: Any) -> None:
    data = client.get(
        "/api/search", params={"q": "trafficking", "type": "legislation", "limit": 5}
    ).json()
    assert data["hits"] and {h["doctype"] for h in data["hits"]} == {"legislation"}
    assert len(data["hits"]) <= 5
    assert data["filters"] == {"type": "legislation"}
    second = client.get("/api/search", params={"q": "trafficking", "limit": 5, "page": 2}).json()
    first = client.get("/api/search", params={"q": "trafficking", "limit": 5}).json()
    assert second["page"] == 2
    assert {h["section_id"] for h in second["hits"]}.isdisjoint(
        {h["section_id"] for h in first["hits"]}
    )


def test_search_in_russian_finds_russian_sections(client: Any) -> None:
    data = client.get("/api/search", params={"q": "жертвы торговли людьми", "lang": "ru"}).json()
    assert data["total"] > 0
    assert {h["lang"] for h in data["hits"]} == {"ru"}


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"q": "x" * 10_001}, 400, "query too long: 10"),
        ({"q": "   "}, 400, "empty query"),
        ({}, 422, "q: Field required"),
        ({"q": "victims", "limit": "abc"}, 422, "limit: Input should be a valid integer"),
        ({"q": "victims", "limit": "0"}, 400, "limit 0: use a number from 1 to 200"),
        ({"q": "victims", "limit": "500"}, 400, "limit 500: use a number from 1 to 200"),
        ({"q": "victims", "page": "0"}, 400, "page 0: pages are numbered from 1"),
        ({"q": "victims", "type": "novel"}, 400, "type 'novel' is not a document type"),
        ({"q": "victims", "year": "20x6"}, 400, "year '20x6': use a year or a range"),
        ({"q": "victims", "per_doc": "0"}, 400, "per_doc 0"),
        ({"q": "victims", "lang": "english"}, 400, "lang 'english'"),
        ({"q": "victims", "sort": "title"}, 400, "sort 'title': use relevance or date"),
    ],
)
def test_bad_search_parameters_get_a_clear_4xx_message(
    client: Any, params: dict[str, str], status: int, message: str
) -> None:
    response = client.get("/api/search", params=params)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    detail = response.json()["detail"]
    assert isinstance(detail, str) and message in detail


# --- documents -------------------------------------------------------------------------


def test_documents_list_is_the_object_of_kb_docs_json(client: Any, corpus_home: Path) -> None:
    api = client.get("/api/documents").json()
    assert api == cli_json("docs", "--json", "--home", str(corpus_home))
    ids = {d["id"] for d in api["documents"]}
    assert {"training-manual-victim-identification", "law-ctip-2007-en", "law-ctip-2016-ru"} <= ids


def test_document_is_the_object_of_kb_show_json(client: Any, corpus_home: Path) -> None:
    doc_id = "training-manual-victim-identification"
    api = client.get(f"/api/documents/{doc_id}").json()
    assert api == cli_json("show", doc_id, "--json", "--home", str(corpus_home))
    assert "s-3-2" in [s["id"] for s in api["sections"]]


def test_section_carries_its_text_and_pages(client: Any, corpus_home: Path) -> None:
    doc_id = "training-manual-victim-identification"
    api = client.get(f"/api/documents/{doc_id}/sections/s-3-2").json()
    assert api == cli_json("show", f"{doc_id}#s-3-2", "--json", "--home", str(corpus_home))
    assert api["pages"] == [15, 16]
    assert "passport" in api["text"]


def test_unknown_document_and_section_are_404_with_a_message(client: Any) -> None:
    response = client.get("/api/documents/no-such-doc")
    assert response.status_code == 404
    assert "no document 'no-such-doc'" in response.json()["detail"]
    response = client.get("/api/documents/law-ctip-2007-en/sections/art-999")
    assert response.status_code == 404
    assert "has no section 'art-999'" in response.json()["detail"]


def test_similar_sections_are_kb_similar_json_and_come_from_other_documents(
    client: Any, corpus_home: Path
) -> None:
    doc_id = "training-manual-victim-identification"
    api = client.get(f"/api/documents/{doc_id}/sections/s-3-2/similar", params={"limit": 3}).json()
    cli = cli_json(
        "similar", f"{doc_id}#s-3-2", "--limit", "3", "--json", "--home", str(corpus_home)
    )
    assert without_timing(api) == without_timing(cli)
    assert 0 < len(api["hits"]) <= 3
    assert all(h["doc_id"] != doc_id for h in api["hits"])
    missing = client.get(f"/api/documents/{doc_id}/sections/nope/similar")
    assert missing.status_code == 404


def test_search_within_one_document_lists_its_sections_as_kb_search_does(
    client: Any, corpus_home: Path
) -> None:
    doc_id = "training-manual-victim-identification"
    api = client.get(
        "/api/search", params={"q": "victims", "doc": doc_id, "year": "2000-2030"}
    ).json()
    cli = cli_json(
        "search",
        "victims",
        "--doc",
        doc_id,
        "--year",
        "2000-2030",
        "--json",
        "--home",
        str(corpus_home),
    )
    assert without_timing(api) == without_timing(cli)
    assert not api["grouped"] and {h["doc_id"] for h in api["hits"]} <= {doc_id}


# --- compare ---------------------------------------------------------------------------


def test_compare_answers_with_kb_compare_json_plus_the_definition_check(
    client: Any, corpus_home: Path
) -> None:
    params = {"a": "law-ctip-2007-en", "b": "law-ctip-2016-en"}
    api = client.get("/api/compare", params=params).json()
    cli = cli_json("compare", params["a"], params["b"], "--json", "--home", str(corpus_home))
    definition = api.pop("definition")
    assert api == cli
    assert api["mode"] == "redline"
    assert api["summary"]["amended"] >= 1
    assert set(definition) == {"a", "b"}
    statuses = {e["id"]: e["status"] for e in definition["b"]["elements"]}
    assert statuses["act.recruitment"] == "present"


def test_two_language_versions_are_compared_side_by_side(client: Any) -> None:
    data = client.get(
        "/api/compare", params={"a": "law-ctip-2016-en", "b": "law-ctip-2016-ru"}
    ).json()
    assert data["mode"] == "parallel"
    assert (data["a"]["lang"], data["b"]["lang"]) == ("en", "ru")


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"a": "law-ctip-2007-en"}, 422, "b: Field required"),
        ({"a": "law-ctip-2007-en", "b": "nope"}, 404, "'nope' is neither a file nor a document"),
        (
            {"a": "law-ctip-2007-en", "b": "law-ctip-2016-en", "method": "magic"},
            400,
            "method 'magic'",
        ),
        # The web compares documents of the store only, never a path on the server.
        ({"a": "law-ctip-2007-en", "b": "/etc/passwd"}, 404, "neither a file nor a document"),
    ],
)
def test_bad_compare_parameters_get_a_clear_4xx_message(
    client: Any, params: dict[str, str], status: int, message: str
) -> None:
    response = client.get("/api/compare", params=params)
    assert response.status_code == status
    assert message in response.json()["detail"]


# --- status, OpenAPI, a home without a knowledge base --------------------------------------


def test_status_lists_runs_with_failures_and_what_changed(small_home: Path) -> None:
    data = web_client(small_home).get("/api/status").json()
    cli = cli_json("status", "--json", "--home", str(small_home))
    assert [r["started"] for r in data["runs"]] == [r["started"] for r in cli["runs"]]
    newest = data["runs"][0]
    assert newest["failures"] == [FAILURE]
    assert newest["digest"]["removed"][0]["title"] == f"Old leaflet {SCRIPT}"
    assert data["next_run"] is None
    assert data["totals"]["documents"] == 2


def test_status_limit_out_of_range_is_400(small_home: Path) -> None:
    response = web_client(small_home).get("/api/status", params={"limit": 0})
    assert response.status_code == 400
    assert "limit 0" in response.json()["detail"]


def test_openapi_describes_every_endpoint(client: Any) -> None:
    spec = client.get("/api/openapi.json").json()
    paths = set(spec["paths"])
    assert {
        "/api/search",
        "/api/documents",
        "/api/documents/{doc_id}",
        "/api/compare",
        "/api/status",
    } <= paths
    assert not any(not p.startswith("/api/") for p in paths), "pages are not part of the API"
    search_params = {p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert {"q", "type", "lang", "year", "tag", "page", "limit", "sort"} <= search_params


def test_a_home_without_a_knowledge_base_says_how_to_make_one(tmp_path: Path) -> None:
    client = web_client(tmp_path / "empty")
    for url in ("/api/search?q=victims", "/api/documents", "/api/status"):
        response = client.get(url)
        assert response.status_code in (404, 503), url
        assert "kb build" in response.json()["detail"], url
    assert not (tmp_path / "empty").exists(), "reading must not create a store"
