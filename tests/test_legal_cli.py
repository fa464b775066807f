"""`kb compare` and `kb elements` run in-process with Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import kb.cli.legal  # noqa: F401  (registers the commands on the shared app)
from kb.home import paths
from kb.legal.parse import parse_text
from kb.legal.units import structure_to_dict
from kb.model import Document, Section, SourceRef
from kb.store import Store
from tests.cli_runner import invoke as run

REPO = Path(__file__).resolve().parents[1]
LAWS = REPO / "corpus" / "src" / "laws"
FIXTURES = REPO / "tests" / "fixtures" / "legal"
LAW_2007 = str(LAWS / "law-ctip-2007-en.md")
LAW_2016 = str(LAWS / "law-ctip-2016-en.md")
LAW_2016_RU = str(LAWS / "law-ctip-2016-ru.md")


def test_compare_json_lists_pairs_and_summary(tmp_path: Path) -> None:
    code, out = run("compare", LAW_2007, LAW_2016, "--json", "--home", str(tmp_path))
    assert code == 0, out
    data = json.loads(out)
    assert data["a"]["name"] == "law-ctip-2007-en.md"
    assert data["a"]["lang"] == data["b"]["lang"] == "en"
    assert data["summary"] == {
        "matched": 6,
        "amended": 4,  # 3 in place, and 21 -> 22 renumbered and amended
        "renumbered": 8,
        "split": 1,
        "merged": 1,
        "added": 2,
        "removed": 1,
    }
    assert {"status", "a", "b", "similarity", "ops"} <= set(data["pairs"][0])
    assert "elements" not in data  # neither side is an international instrument


def test_compare_two_languages_is_parallel(tmp_path: Path) -> None:
    code, out = run("compare", LAW_2016, LAW_2016_RU, "--json", "--home", str(tmp_path))
    assert code == 0, out
    data = json.loads(out)
    assert (data["mode"], data["b"]["lang"], data["summary"]) == ("parallel", "ru", {"aligned": 22})


def test_compare_writes_html_and_prints_a_table(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    code, out = run("compare", LAW_2007, LAW_2016, "--html", str(report), "--home", str(tmp_path))
    assert code == 0, out
    assert "split" in out and "Article 8" in out and "removed" in out
    page = report.read_text(encoding="utf-8")
    assert "National Referral Mechanism" in page and "Licensing of the employment" in page


def test_compare_with_concordance(tmp_path: Path) -> None:
    concordance = str(FIXTURES / "concordance.toml")
    code, out = run("compare", LAW_2007, LAW_2016, "--concordance", concordance, "--json")
    assert code == 0, out
    pairs = json.loads(out)["pairs"]
    forced = [p for p in pairs if p["forced"]]
    assert [(p["a"], p["b"], p["status"]) for p in forced] == [
        (["chp_3__art_14"], ["chp_4__art_15"], "renumbered")
    ]


def test_compare_adds_elements_when_one_side_is_an_instrument(tmp_path: Path) -> None:
    code, out = run(
        "compare",
        str(FIXTURES / "palermo-like-two-languages.md"),
        LAW_2007,
        "--json",
        "--home",
        str(tmp_path),
    )
    assert code == 0, out
    data = json.loads(out)
    assert data["elements"]["unit"] == "chp_1__art_1"
    statuses = {e["id"]: e["status"] for e in data["elements"]["elements"]}
    assert statuses["form.servitude"] == "absent"


def test_elements_json_for_a_unit_of_a_file(tmp_path: Path) -> None:
    code, out = run("elements", f"{LAW_2016_RU}#art_1", "--json", "--home", str(tmp_path))
    assert code == 0, out
    data = json.loads(out)
    assert set(data) == {"document", "unit", "lang", "read", "elements", "aggravating", "extra"}
    assert data["unit"] == "chp_1__art_1"
    assert {e["status"] for e in data["elements"]} == {"present"}
    assert data["elements"][0]["evidence"][0] == {
        "unit": "chp_1__art_1__para_1__point_a",
        "text": "вербовка",
    }


def test_elements_table(tmp_path: Path) -> None:
    code, out = run("elements", f"{LAW_2007}#Article 1", "--home", str(tmp_path))
    assert code == 0, out
    assert "abuse of a position of vulnerability" in out
    assert "absent" in out and "partial" in out


def test_elements_of_a_document_in_the_store(tmp_path: Path) -> None:
    law = parse_text((LAWS / "law-ctip-2016-en.md").read_text(encoding="utf-8"))
    sections = [
        Section(f"s{i}", i, [article.heading], article.full_text(), 1, 1)
        for i, article in enumerate(u for u in law.walk() if u.kind == "article")
    ]
    doc = Document(
        id="ctip-2016",
        source=SourceRef(key="/x/law.pdf", location="law.pdf"),
        format="pdf",
        title=law.heading,
        sections=sections,
        doctype="legislation",
        lang="en",
    )
    store_path = paths(tmp_path).store
    with Store(store_path) as store:
        store.save_document(doc)
        store.save_artifact("ctip-2016", "structure", structure_to_dict(law))
    code, out = run("elements", "ctip-2016#art_1", "--json", "--home", str(tmp_path))
    assert code == 0, out
    assert json.loads(out)["unit"] == "chp_1__art_1"  # ids of the saved structure


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["elements", "missing-law.md"], "file not found: missing-law.md"),
        (["elements", "no-such-doc"], "is neither a file nor a document"),
        (["elements", f"{LAW_2016}#art_99"], "no unit 'art_99'"),
        (["elements", LAW_2016, "--lang", "de"], "--lang de"),
        (["compare", LAW_2007, LAW_2016, "--method", "cosine"], "unknown similarity method"),
    ],
)
def test_user_errors_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    code, out = run(*args, "--home", str(tmp_path))
    assert code == 1
    assert message in out
    assert "Traceback" not in out
