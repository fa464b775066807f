"""Each hostile file through extraction: read what can be read, one clear reason for the rest."""

from __future__ import annotations

import os
import shutil
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile.fixtures import hostile_corpus
from hostile.make_hostile import Expected, text_pdf

from kb.errors import SourceError
from kb.extract import extract_bytes
from kb.extract.ocr import INSTALL_HINT, ocr_available
from kb.ingest.pipeline import document_from_extracted
from kb.model import Extracted, SourceRef
from kb.runtime.limits import Limits, set_limits

OCR_TEXT = [
    "Protocol of the referral meeting",
    "The working group agreed on the referral of victims.",
]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Expected]]:
    return hostile_corpus(tmp_path_factory)


@pytest.fixture(autouse=True)
def _default_limits() -> Iterator[None]:
    set_limits(None)
    yield
    set_limits(None)


def _extract(folder: Path, name: str, *, limits: Limits | None = None) -> Extracted:
    path = folder / name
    ref = SourceRef(key=str(path), location=name)
    return extract_bytes(ref, path.read_bytes(), limits=limits)


def _text(extracted: Extracted) -> str:
    return " ".join(b.text for b in extracted.blocks)


def test_every_hostile_file_is_read_or_fails_with_its_reason(
    hostile: tuple[Path, dict[str, Expected]],
) -> None:
    folder, expected = hostile
    for name, want in expected.items():
        if want.indexed:
            extracted = _extract(folder, name)
            assert extracted.blocks, name
            continue
        with pytest.raises(SourceError) as failure:
            _extract(folder, name)
        assert failure.value.stage == want.stage, name
        assert failure.value.reason.startswith(want.reason), (name, failure.value.reason)
        assert "\n" not in failure.value.reason and len(failure.value.reason) < 200


def test_what_the_odd_files_contain(hostile: tuple[Path, dict[str, Expected]]) -> None:
    folder, _ = hostile
    empty_password = _extract(folder, "encrypted-empty-password.pdf")
    assert "withheld passports" in _text(empty_password) and empty_password.page_count == 3

    xref = _extract(folder, "broken-xref.pdf")
    assert "Indicators of labour exploitation" in _text(xref)

    outline = _extract(folder, "outline-missing-pages.pdf")
    assert outline.page_count == 2 and [o.page for o in outline.outline] == [2, None, None]
    assert "outline entry 'Module 3. Protection' points to a missing page" in outline.warnings

    with pytest.raises(SourceError) as html_named_pdf:
        _extract(folder, "annual-report-really-html.pdf")
    assert "an HTML page titled 'Annual report 2023'" in html_named_pdf.value.reason

    for name in ("charset-says-1251-is-utf8.html", "charset-says-utf8-is-1251.html"):
        page = _extract(folder, name)
        assert "Горячая линия помогает людям" in _text(page), name
        assert len(page.warnings) == 1 and "declared charset" in page.warnings[0]

    no_body = _extract(folder, "no-body.html")
    assert "A new shelter for victims of trafficking opened in Mary." in _text(no_body)

    odd_name = _extract(folder, "Отчёт о семинаре 'Мары' \"2018\".html")
    assert (
        odd_name.source.location == "Отчёт о семинаре 'Мары' \"2018\".html"
        and odd_name.title == "Семинар в Мары"
    )


def test_deep_nesting_is_read_in_linear_time(hostile: tuple[Path, dict[str, Expected]]) -> None:
    folder, _ = hostile
    started = time.perf_counter()
    page = _extract(folder, "deeply-nested.html")  # 5,000 nested divs: 25 s before the fix
    assert time.perf_counter() - started < 5
    assert "Text about the referral of victims, buried under many layers." in _text(page)
    assert "Text after the nesting ends." in _text(page)
    assert any(b.kind == "heading" and b.text == "Deep inside" for b in page.blocks)


def test_impossible_date_is_kept_as_written(hostile: tuple[Path, dict[str, Expected]]) -> None:
    folder, _ = hostile
    doc = document_from_extracted(_extract(folder, "project-ctip-2008-2009.html"), "ctip")
    assert "31 November 2009" in doc.text
    dates = [t for s in doc.sections for t in s.tags if t.kind in ("date", "period")]
    period = next(t for t in dates if "31 November 2009" in t.text)
    # Normalised to what is certain (November has 30 days), never dropped, and the note says why.
    assert (period.value, period.data["end"]) == ("2008-12", "2009-11")
    assert period.data["note"] == "day 31 does not exist in November"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (
            b"PK\x03\x04" + bytes(200),
            "unsupported format: the file is a ZIP archive (a Word, Excel or OpenDocument file?), "
            "not a PDF, Word or OpenDocument text, web page or text file",
        ),
        (
            b"\xff\xd8\xff\xe0" + bytes(200),
            "unsupported format: the file is a JPEG image, "
            "not a PDF, Word or OpenDocument text, web page or text file",
        ),
        (b"\x00\x01garbage" * 50, "not a PDF: there is no PDF header at the start of the file"),
    ],
)
def test_other_formats_named_pdf_are_refused_as_what_they_are(data: bytes, reason: str) -> None:
    with pytest.raises(SourceError) as failure:
        extract_bytes(SourceRef(key="/corpus/report.pdf", location="report.pdf"), data)
    assert failure.value.reason == reason


# --- OCR ----------------------------------------------------------------------------------------


def _fake_tools(folder: Path, *, fail: bool = False) -> Path:
    """`ocrmypdf` and `tesseract` stand-ins: the first copies a PDF with a text layer to its output."""
    folder.mkdir(parents=True, exist_ok=True)
    readable = folder / "readable.pdf"
    readable.write_bytes(text_pdf([OCR_TEXT], bookmarks=False))
    if fail:
        body = "import sys\nsys.stderr.write('ERROR: page 1: image too large to read\\n')\nsys.exit(2)\n"
    else:
        body = f"import shutil, sys\nshutil.copyfile({str(readable)!r}, sys.argv[-1])\n"
    tools = {
        "ocrmypdf": body,
        "tesseract": "print('List of available languages (2):')\nprint('eng')\nprint('rus')\n",
    }
    for name, code in tools.items():
        script = folder / name
        script.write_text(f"#!{sys.executable}\n{code}")
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder


def _without_ocr_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    keep = [
        p
        for p in os.environ.get("PATH", "").split(os.pathsep)
        if not (Path(p) / "ocrmypdf").exists()
    ]
    monkeypatch.setenv("PATH", os.pathsep.join(keep))


def test_scanned_pdf_without_ocr_says_what_to_install(
    hostile: tuple[Path, dict[str, Expected]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _without_ocr_on_path(monkeypatch)
    with pytest.raises(SourceError) as failure:
        _extract(hostile[0], "scanned-no-text.pdf")
    assert (
        failure.value.reason
        == f"no text layer: the PDF looks scanned; OCR is not enabled ({INSTALL_HINT})"
    )


def test_scanned_pdf_is_read_by_ocr_when_installed(
    hostile: tuple[Path, dict[str, Expected]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{_fake_tools(tmp_path / 'bin')}{os.pathsep}{os.environ['PATH']}")
    assert ocr_available()
    for limits in (
        Limits(extract_timeout_s=0, extract_memory_mb=0),
        Limits(),
    ):  # in process; in a worker
        extracted = _extract(hostile[0], "scanned-no-text.pdf", limits=limits)
        assert "The working group agreed on the referral of victims." in _text(extracted)
        assert extracted.metadata["ocr"] == "ocrmypdf" and any(
            "OCR" in w for w in extracted.warnings
        )

    with pytest.raises(SourceError, match=r"OCR is turned off \(KB_OCR=off\)"):
        _extract(hostile[0], "scanned-no-text.pdf", limits=Limits(ocr=False))


def test_ocr_failure_is_reported_in_one_line(
    hostile: tuple[Path, dict[str, Expected]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "PATH", f"{_fake_tools(tmp_path / 'bin', fail=True)}{os.pathsep}{os.environ['PATH']}"
    )
    with pytest.raises(SourceError) as failure:
        _extract(
            hostile[0],
            "scanned-no-text.pdf",
            limits=Limits(extract_timeout_s=0, extract_memory_mb=0),
        )
    assert failure.value.reason == "OCR failed: ERROR: page 1: image too large to read"


@pytest.mark.skipif(shutil.which("ocrmypdf") is None or shutil.which("tesseract") is None,
                    reason="ocrmypdf and tesseract are not installed")  # fmt: skip
def test_real_ocr_reads_the_scanned_page(hostile: tuple[Path, dict[str, Expected]]) -> None:
    extracted = _extract(hostile[0], "scanned-no-text.pdf")
    assert "referral" in _text(extracted).lower()
