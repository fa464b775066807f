"""Word (.docx) and OpenDocument (.odt) laws, generated here, read as a user reads them.

The files are real packages (python-docx, and ODF XML in a ZIP); they go through the
pipeline into a real store and Whoosh index, and the checks are what a legal advisor
would look at: the article found by its number, its heading path, the table's rows in
reading order, the footnote kept out of the article, the structure, the elements and
a comparison of two editions.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kb.cli.legal  # noqa: F401  (registers every command on the shared app)
from kb.acquire.fetch import linked_pdfs
from kb.acquire.sources import ManifestEntry, discover, source_format
from kb.errors import SourceError
from kb.extract import extract_bytes
from kb.home import paths as home_paths
from kb.ingest.pipeline import document_from_path
from kb.legal.parse import parse_structure
from kb.legal.units import structure_to_dict
from kb.model import SourceRef
from kb.runtime.limits import Limits
from kb.store import Store
from search.indexer import build_index
from tests.cli_runner import invoke as run
from tests.docx_fixtures import (
    COMMENT,
    DEFINITION,
    FOOTNOTE,
    make_law_docx,
    make_law_odt,
    sample_law,
    sample_law_ru,
)

AMENDED = DEFINITION.replace("deception, fraud", "deception, fraud, abduction")


def _home_with(home: Path, *files: Path) -> Path:
    """The files through extraction, segmentation and tagging into a store and an index."""
    paths = home_paths(home).ensure()
    with Store(paths.store) as store:
        with store.transaction() as db:
            for file in files:
                doc = document_from_path(file)
                store.save_document(doc, db)
                if doc.doctype == "legislation":
                    store.save_artifact(
                        doc.id, "structure", structure_to_dict(parse_structure(doc)), db
                    )
        build_index(paths, store)
    return home


@pytest.fixture(scope="module")
def laws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("docx-laws")
    make_law_docx(folder / "law-styled.docx", sample_law(), heading_styles=True,
                  metadata_title="Draft v5.docx")  # fmt: skip
    make_law_docx(folder / "law-plain.docx", sample_law(), heading_styles=False)
    make_law_docx(folder / "law-2024.docx", sample_law(article5=AMENDED), heading_styles=False)
    make_law_docx(folder / "zakon-ru.docx", sample_law_ru(), heading_styles=False)
    make_law_odt(folder / "law.odt", sample_law())
    return folder


@pytest.fixture(scope="module")
def home(laws: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _home_with(
        tmp_path_factory.mktemp("docx-home"),
        laws / "law-styled.docx",
        laws / "zakon-ru.docx",
        laws / "law.odt",
    )


@pytest.mark.parametrize("name", ["law-styled.docx", "law-plain.docx", "law.odt"])
def test_articles_are_sections_with_their_heading_path(laws: Path, name: str) -> None:
    doc = document_from_path(laws / name)
    # The document's own title, not the metadata's file name ("Draft v5.docx", "law-final-v3.odt").
    assert doc.title == "Law on Combating Trafficking in Persons"
    article = doc.section("art-5")
    assert article is not None and article.number == "5"
    assert article.heading_path == ["Chapter 2. Offences", "Article 5. Trafficking in persons"]
    assert article.text.startswith("Trafficking in persons is the recruitment")
    assert [s.number for s in doc.sections if s.kind == "article"] == [str(n) for n in range(1, 9)]
    assert doc.doctype == "legislation"


@pytest.mark.parametrize("name", ["law-styled.docx", "law.odt"])
def test_footnotes_and_comments_are_notes_not_article_text(laws: Path, name: str) -> None:
    doc = document_from_path(laws / name)
    article = doc.section("art-5")
    assert article is not None
    assert "amending law of 12 March 2021" not in article.text
    assert "consolidated edition" not in doc.text.split("Footnote 1:")[0]
    notes = doc.sections[-1]
    assert notes.kind == "notes" and notes.heading_path == ["Notes"]
    assert f"Footnote 1: {FOOTNOTE}" in notes.text
    assert f"Comment (Editor): {COMMENT}" in notes.text


@pytest.mark.parametrize("name", ["law-styled.docx", "law.odt"])
def test_table_is_text_in_reading_order_and_the_image_is_a_warning(laws: Path, name: str) -> None:
    doc = document_from_path(laws / name)
    article = doc.section("art-3")
    assert article is not None
    assert article.text == (
        "The penalties for the offences defined in this Law are the following.\n\n"
        "Offence | Penalty\n"
        "Trafficking in persons | eight to twelve years\n"
        "Trafficking in children | ten to fifteen years"
    )
    assert doc.warnings == ["1 embedded image ignored (text in pictures is not read)"]


def test_russian_law_without_heading_styles_is_cut_at_its_own_numbering(laws: Path) -> None:
    doc = document_from_path(laws / "zakon-ru.docx")
    article = doc.section("art-2")
    assert article is not None
    assert article.heading_path == ["Глава 1. Общие положения", "Статья 2. Торговля людьми"]
    assert article.text.startswith("Торговля людьми — вербовка")
    assert "В редакции Закона" not in article.text
    assert doc.lang == "ru"


def test_search_finds_the_article_by_number_and_by_words(home: Path) -> None:
    code, out = run("search", "Article 5", "--json", "--flat", "--home", str(home))
    assert code == 0, out
    first = json.loads(out)["hits"][0]
    # The same law is in the store as .docx ("law-styled") and as .odt ("law").
    assert first["doc_id"] in ("law-styled", "law") and first["section_id"] == "art-5"
    assert first["heading_path"] == ["Chapter 2. Offences", "Article 5. Trafficking in persons"]
    code, out = run("search", "статья 2 торговля людьми", "--json", "--flat", "--home", str(home))
    first = json.loads(out)["hits"][0]
    assert (first["doc_id"], first["section_id"]) == ("zakon-ru", "art-2")
    # A footnote is found too, in the notes, never as the article's text.
    code, out = run(
        "search", '"amending law of 12 March 2021"', "--json", "--flat", "--home", str(home)
    )
    hits = json.loads(out)["hits"]
    assert hits and all(h["section_id"] == "notes" for h in hits)


def test_structure_shows_chapters_and_articles(home: Path) -> None:
    code, out = run("show", "law-styled", "--structure", "--json", "--home", str(home))
    assert code == 0, out
    text = json.dumps(json.loads(out), ensure_ascii=False)
    assert "Chapter 2. Offences" in text or "Offences" in text
    assert "Trafficking in persons" in text and "Entry into force" in text
    assert "amending law of 12 March 2021" not in text


def test_elements_of_the_definition_in_a_word_file(laws: Path, tmp_path: Path) -> None:
    code, out = run(
        "elements", f"{laws / 'law-plain.docx'}#art_5", "--json", "--home", str(tmp_path)
    )
    assert code == 0, out
    found = {e["id"]: e["status"] for e in json.loads(out)["elements"]}
    assert json.loads(out)["unit"] == "chp_2__art_5"
    for element in ("act.recruitment", "act.harbouring", "means.deception", "means.force",
                    "means.abuse_of_vulnerability", "rule.consent_irrelevant"):  # fmt: skip
        assert found[element] == "present", element
    assert found["means.abduction"] == "absent"


def test_compare_two_word_editions_pairs_articles_and_finds_the_change(
    laws: Path, tmp_path: Path
) -> None:
    code, out = run("compare", str(laws / "law-plain.docx"), str(laws / "law-2024.docx"),
                    "--json", "--home", str(tmp_path))  # fmt: skip
    assert code == 0, out
    result = json.loads(out)
    assert result["summary"] == {"matched": 7, "amended": 1}
    amended = next(p for p in result["pairs"] if p["status"] == "amended")
    assert amended["a_citation"] == ["Article 5"]
    assert {"op": "replace", "a": "fraud", "b": "fraud, abduction"} in amended["ops"]


def test_discovery_manifest_and_content_type_know_word_and_opendocument(laws: Path) -> None:
    refs = discover([ManifestEntry(folder=laws, collection="laws")])
    names = sorted(Path(r.key).name for r in refs)
    assert names == [
        "law-2024.docx",
        "law-plain.docx",
        "law-styled.docx",
        "law.odt",
        "zakon-ru.docx",
    ]
    docx_bytes = (laws / "law-styled.docx").read_bytes()
    web = SourceRef(key="https://example.org/download?id=5", location="…", kind="url")
    mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert source_format(web, mime, docx_bytes[:1024]) == "docx"
    odt_bytes = (laws / "law.odt").read_bytes()
    assert source_format(web, "application/octet-stream", odt_bytes[:1024]) == "odt"
    # A listing page's links to Word and OpenDocument files become sources, like its PDFs.
    page = b'<a href="/laws/code.docx">Code</a> <a href="/laws/act.odt">Act</a> <a href="/x.xlsx">x</a>'
    assert linked_pdfs(page, "https://minjust.example/laws") == [
        "https://minjust.example/laws/code.docx",
        "https://minjust.example/laws/act.odt",
    ]
    # The bytes decide: a Word file named ".pdf" is read as Word.
    named_pdf = SourceRef(key="/corpus/law.pdf", location="law.pdf")
    assert extract_bytes(named_pdf, docx_bytes).format == "docx"


def test_other_office_files_and_broken_packages_are_refused_in_one_line(tmp_path: Path) -> None:
    import zipfile

    workbook = tmp_path / "data.docx"
    with zipfile.ZipFile(workbook, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("xl/workbook.xml", "<workbook/>")
    ref = SourceRef(key=str(workbook), location="data.docx")
    with pytest.raises(SourceError) as failure:
        extract_bytes(ref, workbook.read_bytes())
    assert "Word document" in failure.value.reason or "Excel" in failure.value.reason
    assert "\n" not in failure.value.reason
    broken = b"PK\x03\x04" + b"[Content_Types].xml" + bytes(300)
    with pytest.raises(SourceError) as failure:
        extract_bytes(SourceRef(key="/c/x.docx", location="x.docx"), broken)
    assert failure.value.reason.startswith(("damaged", "unsupported format"))


def test_limits_apply_to_word_files(laws: Path) -> None:
    data = (laws / "law-styled.docx").read_bytes()
    ref = SourceRef(key="/c/law.docx", location="law.docx")
    with pytest.raises(SourceError) as failure:
        extract_bytes(ref, data, limits=Limits(max_text_mb=0.001))
    assert failure.value.reason.startswith("file too large:")
    assert "text documents" in failure.value.reason


def test_localized_heading_styles_and_outline_levels(tmp_path: Path) -> None:
    """A Russian Word file: "Заголовок 1" style names, and a custom style with an outline level."""
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import parse_xml

    from tests.docx_fixtures import W_NS

    document = docx.Document()
    chapter = document.styles.add_style("Заголовок 1", WD_STYLE_TYPE.PARAGRAPH)
    article = document.styles.add_style("Статья закона", WD_STYLE_TYPE.PARAGRAPH)
    article.element.get_or_add_pPr().append(
        parse_xml(f'<w:outlineLvl xmlns:w="{W_NS}" w:val="1"/>')
    )
    document.add_paragraph("Глава 1. Общие положения", style=chapter)
    document.add_paragraph("Статья 1. Цель", style=article)
    document.add_paragraph("Настоящий Закон определяет меры по защите пострадавших.")
    body = document.add_paragraph(
        "Пояснение составителя, выделенное как заголовок третьего уровня."
    )
    body._p.get_or_add_pPr().append(parse_xml(f'<w:outlineLvl xmlns:w="{W_NS}" w:val="2"/>'))
    document.add_paragraph("Текст пояснения.")
    path = tmp_path / "zakon.docx"
    document.save(str(path))
    doc = document_from_path(path)
    assert [s.heading_path for s in doc.sections] == [
        ["Глава 1. Общие положения", "Статья 1. Цель"],
        [
            "Глава 1. Общие положения",
            "Статья 1. Цель",
            "Пояснение составителя, выделенное как заголовок третьего уровня.",
        ],
    ]
    assert doc.sections[0].number == "1" and doc.sections[0].kind == "article"


def test_word_files_are_extracted_in_worker_processes_too(laws: Path) -> None:
    """With time and memory limits on, extraction runs in a worker process (kb.extract.worker)."""
    from kb.extract.worker import extract_isolated

    data = (laws / "law-styled.docx").read_bytes()
    ref = SourceRef(key=str(laws / "law-styled.docx"), location="law-styled.docx")
    extracted = extract_isolated(
        ref, data, "", Limits(extract_timeout_s=120, extract_memory_mb=1024)
    )
    assert extracted.format == "docx"
    assert any(b.kind == "note" and FOOTNOTE in b.text for b in extracted.blocks)


def test_a_word_file_is_known_by_its_parts_when_its_name_and_first_bytes_do_not_say(
    laws: Path,
) -> None:
    import io
    import zipfile

    original = zipfile.ZipFile(laws / "law-styled.docx")
    names = sorted(original.namelist(), key=lambda n: not n.startswith("docProps/"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name in names:  # docProps/ first: "word/" is not in the first kilobyte
            package.writestr(name, original.read(name))
    data = buffer.getvalue()
    assert b"word/" not in data[:1024] and b"[Content_Types]" not in data[:1024]
    web = SourceRef(key="https://example.org/get?id=7", location="…", kind="url")
    extracted = extract_bytes(web, data, "application/octet-stream")
    assert extracted.format == "docx"
    assert extracted.title == "Law on Combating Trafficking in Persons"


def test_entities_in_an_opendocument_file_are_not_expanded(tmp_path: Path) -> None:
    """A package's XML is untrusted: an entity bomb or an external entity is not expanded."""
    import zipfile

    from tests.docx_fixtures import ODF_NAMESPACES

    path = tmp_path / "bomb.odt"
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRETVALUE")
    content = (
        '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
        f'<!ENTITY secret SYSTEM "{secret.as_uri()}">]>'
        f"<office:document-content {ODF_NAMESPACES}><office:body><office:text>"
        "<text:p>Plain words &c; and &secret;.</text:p></office:text></office:body>"
        "</office:document-content>"
    )
    with zipfile.ZipFile(path, "w") as package:
        package.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        package.writestr("content.xml", content)
    try:
        extracted = extract_bytes(SourceRef(key=str(path), location="bomb.odt"), path.read_bytes())
    except SourceError as failure:
        assert "\n" not in failure.reason
        return
    text = " ".join(b.text for b in extracted.blocks)
    assert "aaaaaaaaaa" not in text
    assert "TOPSECRETVALUE" not in text


@pytest.fixture(scope="module")
def law_parts(laws: Path) -> dict[str, bytes]:
    import zipfile

    with zipfile.ZipFile(laws / "law-styled.docx") as package:
        return {name: package.read(name) for name in package.namelist()}


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    part=st.sampled_from(
        ["word/document.xml", "word/styles.xml", "word/footnotes.xml", "word/numbering.xml"]
    ),
    cuts=st.lists(st.tuples(st.floats(0, 1), st.integers(1, 40), st.binary(max_size=12)),
                  min_size=1, max_size=4),
)  # fmt: skip
def test_damaged_word_xml_never_crashes_extraction(
    law_parts: dict[str, bytes], part: str, cuts: list[tuple[float, int, bytes]]
) -> None:
    """Damage inside a part's XML, in a package that is still a valid ZIP: a one-line error or text."""
    import io
    import zipfile

    xml = bytearray(law_parts[part])
    for where, length, replacement in cuts:
        at = int(where * (len(xml) - 1))
        xml[at : at + length] = replacement
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name, data in law_parts.items():
            package.writestr(name, bytes(xml) if name == part else data)
    try:
        extract_bytes(SourceRef(key="/fuzz/law.docx", location="law.docx"), buffer.getvalue(),
                      limits=Limits(extract_timeout_s=0, extract_memory_mb=0))  # fmt: skip
    except SourceError as failure:
        assert failure.reason and "\n" not in failure.reason


@pytest.mark.flow
def test_kb_build_ingests_a_folder_of_word_and_opendocument_laws(
    prefect_api: str, laws: Path, tmp_path: Path
) -> None:
    """`kb build --corpus DIR` through the real Prefect flow: discovered, extracted, indexed, cited."""
    home = tmp_path / "home"
    code, out = run("build", "--corpus", str(laws), "--home", str(home), "--json")
    assert code == 0, out
    code, out = run("search", "статья 2 торговля людьми", "--json", "--flat", "--home", str(home))
    first = json.loads(out)["hits"][0]
    assert (first["doc_id"], first["section_id"]) == ("zakon-ru", "art-2")
    code, out = run("show", "law-styled", "--json", "--home", str(home))
    shown = json.loads(out)
    assert shown["format"] == "docx"
    assert shown["warnings"] == ["1 embedded image ignored (text in pictures is not read)"]


def test_articles_numbered_by_a_word_list_style_keep_their_numbers(tmp_path: Path) -> None:
    """Word numbers the articles ("Статья %1.") and points ("%2)"): the text holds no number."""
    import docx
    from docx.oxml import parse_xml

    from tests.docx_fixtures import W_NS

    document = docx.Document()
    numbering = document.part.numbering_part.element
    numbering.append(parse_xml(
        f'<w:abstractNum xmlns:w="{W_NS}" w:abstractNumId="7">'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
        '<w:lvlText w:val="Статья %1."/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="russianLower"/>'
        '<w:lvlText w:val="%2)"/></w:lvl>'
        "</w:abstractNum>"
    ))  # fmt: skip
    numbering.append(
        parse_xml(f'<w:num xmlns:w="{W_NS}" w:numId="3"><w:abstractNumId w:val="7"/></w:num>')
    )

    def numbered(text: str, level: int) -> None:
        paragraph = document.add_paragraph(text)
        paragraph._p.get_or_add_pPr().append(parse_xml(
            f'<w:numPr xmlns:w="{W_NS}"><w:ilvl w:val="{level}"/><w:numId w:val="3"/></w:numPr>'
        ))  # fmt: skip

    document.add_paragraph("Закон о противодействии торговле людьми")
    numbered("Цель настоящего Закона", 0)
    document.add_paragraph("Настоящий Закон определяет меры защиты пострадавших.")
    numbered("Основные понятия", 0)
    document.add_paragraph("В настоящем Законе используются следующие понятия:")
    numbered("торговля людьми — вербовка или перевозка человека в целях эксплуатации;", 1)
    numbered("эксплуатация — принудительный труд или услуги.", 1)
    numbered("Помощь пострадавшим", 0)
    document.add_paragraph("Пострадавшим оказывается помощь.")
    path = tmp_path / "numbered.docx"
    document.save(str(path))
    doc = document_from_path(path)
    assert [s.heading_path[-1] for s in doc.sections] == [
        "Статья 1. Цель настоящего Закона",
        "Статья 2. Основные понятия",
        "Статья 3. Помощь пострадавшим",
    ]
    assert doc.section("art-2") is not None
    assert "а) торговля людьми" in doc.section("art-2").text
    assert "б) эксплуатация" in doc.section("art-2").text
