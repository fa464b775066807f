"""`kb search` and `kb similar` run in-process: what a user reads, and the --json object."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import kb.cli  # noqa: F401  (registers the commands on the shared app)
from tests.cli_runner import invoke as run
from tests.relevance.handmade import build_small_home


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_small_home(tmp_path_factory.mktemp("search-cli"))


def test_search_prints_grouped_sections_with_pages_snippet_and_citation(home: Path) -> None:
    code, out = run("search", "withheld passports", "--home", str(home))
    assert code == 0, out
    assert "Training Manual on Identification of Victims" in out
    assert "3.2 Indicators of labour exploitation  pp. 15–16" in out
    assert "withheld passports" in out
    assert "Cite: Training Manual on Identification of Victims (2024), section 3.2" in out
    assert "(some words)" in out  # Article 129-1 matches "passports" only


def test_search_reports_expansions_and_the_switch_to_turn_them_off(home: Path) -> None:
    code, out = run("search", "идентификация жертв", "--home", str(home))
    assert code == 0, out
    assert (
        "also searched as" in out and "topic.victim_identification" in out and "--no-expand" in out
    )
    code, out = run("search", "идентификация жертв", "--no-expand", "--home", str(home), "--json")
    assert json.loads(out)["expansions"] == []


def test_search_json_has_hits_facets_expansions_and_suggestion(home: Path) -> None:
    code, out = run("search", "hotline numbrs", "--json", "--flat", "--home", str(home))
    assert code == 0, out
    data = json.loads(out)
    assert data["suggestion"] == "hotline numbers" and data["corrected"] is True
    assert data["hits"][0]["citation"] and data["hits"][0]["pages_label"]
    assert {"doctype", "lang", "year", "tags"} <= set(data["facets"])
    assert data["grouped"] is False


def test_search_options_reach_the_library(home: Path) -> None:
    code, out = run("search", "hotline", "--type", "newsletter", "--sort", "date", "--limit", "1",
                    "--page", "1", "--json", "--home", str(home))  # fmt: skip
    data = json.loads(out)
    assert code == 0 and data["filters"] == {"type": "newsletter"} and data["sort"] == "date"
    assert [h["doctype"] for h in data["hits"]] == ["newsletter"] and data["page_size"] == 1


def test_nothing_found_says_so_and_suggests(home: Path) -> None:
    code, out = run("search", "zzqqxx", "--home", str(home))
    assert code == 0 and "No sections match" in out and "Try" in out


@pytest.mark.parametrize(
    ("query", "message"), [("*", "no words"), ("x" * 10_000, "too long"), ("a*", "prefix")]
)
def test_bad_queries_are_one_line_errors_without_traceback(
    home: Path, query: str, message: str
) -> None:
    code, out = run("search", query, "--home", str(home))
    assert code == 1 and message in out and "Traceback" not in out


def test_similar_lists_sections_of_other_documents(home: Path) -> None:
    code, out = run("similar", "manual#s-3-2", "--home", str(home), "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["hits"] and all(h["doc_id"] != "manual" for h in data["hits"])
    code, out = run("similar", "manual#nope", "--home", str(home))
    assert code == 1 and "no section manual#nope" in out
