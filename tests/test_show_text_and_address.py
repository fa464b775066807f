"""A document's whole text in one call, and saved web pages cited by their own address.

A folder of saved pages is built with the library (no Prefect); the user then asks
`kb show DOC --text`, `kb show DOC --json --text`, `/api/documents/DOC?text=true`, and
`kb search --json`, and sees the article under its headings and the page's address.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_runner import invoke
from web_support import web_client

from kb.ingest.sequence import run_ingest

ADDRESS = "https://tm.example.org/news/shelter-opens-in-mary"

SAVED_PAGE = f"""<html><head><title>Shelter opens in Mary | Example news</title>
<link rel="canonical" href="{ADDRESS}"></head><body>
<ul class="menu"><li><a href="/">Front page</a></li><li><a href="/contacts">Contacts</a></li></ul>
<h1>Shelter opens in Mary</h1>
<p>A shelter for survivors of trafficking opened in Mary on 3 March 2025 with twelve beds.</p>
<h2>Services</h2>
<p>The shelter offers medical help, legal counselling and a safe place to stay for women.</p>
<h3>Referral</h3>
<p>Police officers and NGOs refer survivors through the National Referral Mechanism.</p>
</body></html>"""

PLAIN_PAGE = """<html><head><title>Notes</title></head><body>
<h1>Hotline notes</h1><p>The hotline answered calls from relatives of labour migrants.</p>
</body></html>"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("show-text")
    corpus = root / "saved"
    corpus.mkdir()
    (corpus / "shelter-opens.html").write_text(SAVED_PAGE, encoding="utf-8")
    (corpus / "hotline-notes.html").write_text(PLAIN_PAGE, encoding="utf-8")
    changes = run_ingest(root / "home", corpus=corpus, full=True)
    assert not changes.failures, changes.failures
    return root / "home"


def test_show_text_prints_every_section_under_its_headings(home: Path) -> None:
    code, out = invoke("show", "shelter-opens", "--text", "--home", str(home))
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == "# Shelter opens in Mary"
    assert "## Services" in lines and "### Referral" in lines
    assert lines.index("## Services") < lines.index("### Referral")
    assert (
        "The shelter offers medical help, legal counselling and a safe place to stay for women."
        in out
    )
    assert "National Referral Mechanism" in out.split("### Referral", 1)[1]
    assert "Front page" not in out and "Contacts" not in out


def test_show_json_text_adds_each_sections_text_and_the_api_gives_the_same(home: Path) -> None:
    code, out = invoke("show", "shelter-opens", "--json", "--text", "--home", str(home))
    assert code == 0, out
    data = json.loads(out)
    texts = {" / ".join(s["heading_path"]): s["text"] for s in data["sections"]}
    assert any("twelve beds" in t for t in texts.values())
    assert any(path.endswith("Referral") and "Referral Mechanism" in t for path, t in texts.items())
    code, plain = invoke("show", "shelter-opens", "--json", "--home", str(home))
    assert all("text" not in s for s in json.loads(plain)["sections"])

    client: Any = web_client(home)
    assert client.get("/api/documents/shelter-opens", params={"text": "true"}).json() == data
    assert all(
        "text" not in s for s in client.get("/api/documents/shelter-opens").json()["sections"]
    )


def test_saved_page_is_cited_by_its_address_and_a_page_without_one_by_its_file(home: Path) -> None:
    code, out = invoke("search", "shelter medical counselling", "--json", "--home", str(home))
    assert code == 0, out
    hits = json.loads(out)["hits"]
    hit = next(h for h in hits if h["doc_id"] == "shelter-opens")
    assert hit["source"] == ADDRESS
    assert ADDRESS in hit["citation"]

    code, out = invoke("search", "hotline relatives", "--json", "--home", str(home))
    hits = json.loads(out)["hits"]
    plain = next(h for h in hits if h["doc_id"] == "hotline-notes")
    assert plain["source"].endswith("hotline-notes.html")

    page = web_client(home).get("/doc/shelter-opens").text
    assert f'href="{ADDRESS}"' in page
