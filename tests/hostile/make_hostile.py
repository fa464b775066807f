"""Write a hostile corpus: the broken, odd and oversized files real collections contain.

    python tests/hostile/make_hostile.py OUT_DIR [--large]

Every file is generated here (nothing downloaded, nothing large committed). The
small files take well under a second; `--large` adds a 50 MB text file and a
2,000-page PDF (a few seconds), which tests generate once per session into tmp.
`EXPECTED` says what `kb build --corpus OUT_DIR` must make of each file: indexed,
or one failure whose reason starts with the given words.
"""

from __future__ import annotations

import argparse
import io
import random
import zlib
from dataclasses import dataclass
from pathlib import Path

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

# The seeds' project page gives a day that does not exist (November has 30 days).
IMPOSSIBLE_PERIOD = "Project period: 01 December 2008 — 31 November 2009"


@dataclass(frozen=True)
class Expected:
    """What a build must make of one hostile file."""

    indexed: bool
    stage: str = ""
    reason: str = ""  # the failure reason starts with this
    same_as: str = ""  # identical bytes to this other file: the two are indexed once


EXPECTED: dict[str, Expected] = {
    "good-manual.pdf": Expected(True),
    "truncated.pdf": Expected(False, "extract", "damaged PDF:"),
    "broken-xref.pdf": Expected(True),
    "encrypted-with-password.pdf": Expected(
        False, "extract", "encrypted PDF: a password is required"
    ),
    "encrypted-empty-password.pdf": Expected(True),
    "scanned-no-text.pdf": Expected(False, "extract", "no text layer: the PDF looks scanned"),
    "outline-missing-pages.pdf": Expected(True),
    "flate-bomb.pdf": Expected(False, "extract", "damaged PDF:"),
    "empty.pdf": Expected(False, "extract", "empty file: 0 bytes"),
    "annual-report-really-html.pdf": Expected(False, "extract", "not a PDF: an HTML page"),
    "garbage.html": Expected(False, "extract", "not HTML:"),
    "charset-says-1251-is-utf8.html": Expected(True),
    "charset-says-utf8-is-1251.html": Expected(True),
    "no-body.html": Expected(True),
    "deeply-nested.html": Expected(True),
    "Отчёт о семинаре 'Мары' \"2018\".html": Expected(True),
    "project-ctip-2008-2009.html": Expected(True),
    "hotline leaflet.pdf": Expected(True, same_as="copies/hotline leaflet (copy).pdf"),
    "copies/hotline leaflet (copy).pdf": Expected(True, same_as="hotline leaflet.pdf"),
}

EXPECTED_LARGE: dict[str, Expected] = {
    "big-50mb.txt": Expected(False, "extract", "file too large:"),
    "pages-2000.pdf": Expected(
        False, "extract", "too many pages: 2000 (the limit is 1500 pages per PDF)"
    ),
}

MANUAL_PAGES = [
    ["Guide for Front-line Officers", "IOM Turkmenistan, Ashgabat"],
    [
        "Module 1. Recognising a victim",
        "Front-line officers meet victims at borders, in hospitals and at police stations.",
        "Indicators of labour exploitation include withheld passports and unpaid wages.",
    ],
    [
        "Module 2. Referral",
        "A presumed victim is referred to a shelter run by a partner organisation.",
        "The hotline gives advice in Turkmen, Russian and English.",
    ],
]

LEAFLET_PAGES = [
    ["Hotline leaflet", "Planning to work abroad? Call the hotline before you travel."],
    [
        "The hotline counsellors check job offers and explain visa rules.",
        "Calls are free and confidential.",
    ],
]


def _font_pdf():  # type: ignore[no-untyped-def]
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(False)
    pdf.add_font("dejavu", "", str(DEJAVU))
    pdf.set_font("dejavu", size=11)
    return pdf


def text_pdf(pages: list[list[str]], *, bookmarks: bool = True, compress: bool = True) -> bytes:
    """A small real PDF; the first line of each page from the second on is a bookmark."""
    pdf = _font_pdf()
    pdf.set_compression(compress)
    for number, lines in enumerate(pages, start=1):
        pdf.add_page()
        pdf.set_xy(10, 20)
        for i, line in enumerate(lines):
            if bookmarks and i == 0 and number > 1:
                pdf.start_section(line, level=0)
            pdf.set_x(10)
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def scanned_pdf() -> bytes:
    """A page that is only a picture of text, as a scanner makes it: no text layer."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (1240, 600), color=255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(DEJAVU), 40)
    for row, line in enumerate(
        ["Protocol of the referral meeting", "Протокол заседания", "Ashgabat, 2019"]
    ):
        draw.text((60, 60 + row * 90), line, fill=0, font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    pdf = _font_pdf()
    pdf.add_page()
    pdf.image(io.BytesIO(buffer.getvalue()), x=10, y=10, w=190)
    return bytes(pdf.output())


def encrypted_pdf(user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf(MANUAL_PAGES))))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def broken_xref_pdf() -> bytes:
    """Every offset in the cross-reference table and `startxref` is wrong."""
    data = text_pdf(MANUAL_PAGES, compress=False)
    head, sep, tail = data.rpartition(b"xref\n")
    table, trailer_sep, trailer = tail.partition(b"trailer")
    lines = table.split(b"\n")
    scrambled = [
        b"%010d %s" % (int(line[:10]) + 37, line[11:])
        if len(line) >= 18 and line[:10].isdigit()
        else line
        for line in lines
    ]
    trailer = trailer.replace(b"startxref\n", b"startxref\n9")
    return head + sep + b"\n".join(scrambled) + trailer_sep + trailer


def outline_to_missing_pages_pdf() -> bytes:
    """Four bookmarked pages, then the last two pages cut while their bookmarks stay."""
    from pypdf import PdfReader, PdfWriter

    pages = [
        *MANUAL_PAGES,
        ["Module 3. Protection", "Shelters give housing, medical care and legal advice."],
    ]
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf(pages))))
    del writer.pages[2:]
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def flate_bomb_pdf(inflated_mb: int = 120) -> bytes:
    """A page whose content stream is tiny compressed and `inflated_mb` MB inflated."""
    squeezer = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    stream = b"".join(squeezer.compress(chunk) for _ in range(inflated_mb)) + squeezer.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref_at,
    )
    return bytes(out)


def html_page(title: str, body: str, *, charset: str = "utf-8", lang: str = "en") -> str:
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="{charset}"><title>{title}</title></head>'
        f"<body><main><h1>{title}</h1>{body}</main></body></html>"
    )


def pages_2000_pdf(pages: int = 2000) -> bytes:
    """One small page cloned `pages` times (fast: the page object is shared)."""
    from pypdf import PdfReader, PdfWriter

    page = PdfReader(io.BytesIO(text_pdf([["A page of a very long register of cases."]]))).pages[0]
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def write_big_text(path: Path, megabytes: int = 50) -> Path:
    paragraph = (
        b"Case register entry. The counsellor recorded a call about a job offer abroad, "
        b"checked the agency and advised the caller on safe migration.\n\n"
    )
    block = paragraph * ((1 << 20) // len(paragraph) + 1)
    with path.open("wb") as fh:
        for _ in range(megabytes):
            fh.write(block[: 1 << 20])
    return path


def small_files() -> dict[str, bytes]:
    rng = random.Random(9)
    ru = "<p>Горячая линия помогает людям, которые собираются работать за рубежом.</p>"
    files: dict[str, bytes] = {
        "good-manual.pdf": text_pdf(MANUAL_PAGES),
        "truncated.pdf": text_pdf(MANUAL_PAGES)[:700],
        "broken-xref.pdf": broken_xref_pdf(),
        "encrypted-with-password.pdf": encrypted_pdf("s3cret"),
        "encrypted-empty-password.pdf": encrypted_pdf(""),
        "scanned-no-text.pdf": scanned_pdf(),
        "outline-missing-pages.pdf": outline_to_missing_pages_pdf(),
        "flate-bomb.pdf": flate_bomb_pdf(),
        "empty.pdf": b"",
        "annual-report-really-html.pdf": html_page(
            "Annual report 2023",
            "<p>The office assisted returning migrants and trained consular staff in 2023.</p>",
        ).encode(),
        "garbage.html": bytes(rng.getrandbits(8) for _ in range(4096)),
        "charset-says-1251-is-utf8.html": html_page(
            "Горячая линия", ru, charset="windows-1251", lang="ru"
        ).encode("utf-8"),
        "charset-says-utf8-is-1251.html": html_page(
            "Горячая линия в Ашхабаде", ru, charset="utf-8", lang="ru"
        ).encode("cp1251"),
        "no-body.html": (
            b"<html><head><title>Shelter opening</title></head>"
            b"<h1>Shelter opening</h1><p>A new shelter for victims of trafficking opened in Mary.</p></html>"
        ),
        "deeply-nested.html": (
            "<html><body>"
            + '<div class="wrap">' * 5000
            + "<h2>Deep inside</h2><p>Text about the referral of victims, buried under many layers.</p>"
            + "</div>" * 5000
            + "<p>Text after the nesting ends.</p></body></html>"
        ).encode(),
        "Отчёт о семинаре 'Мары' \"2018\".html": html_page(
            "Семинар в Мары",
            "<p>В 2018 году в Мары прошёл семинар для сотрудников полиции и миграционной службы.</p>",
            lang="ru",
        ).encode(),
        "project-ctip-2008-2009.html": html_page(
            "Combating trafficking in persons in Turkmenistan (2008-2009)",
            f"<p>{IMPOSSIBLE_PERIOD}</p>"
            "<p>Project partners: five NGOs ran information campaigns and gave direct assistance "
            "to victims of trafficking throughout the country.</p>",
        ).encode(),
        "hotline leaflet.pdf": text_pdf(LEAFLET_PAGES),
    }
    files["copies/hotline leaflet (copy).pdf"] = files["hotline leaflet.pdf"]
    return files


def write_hostile_corpus(folder: Path, *, large: bool = False) -> dict[str, Expected]:
    """Write the hostile files into `folder`; return what a build must make of each."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in small_files().items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    expected = dict(EXPECTED)
    if large:
        write_large_files(folder)
        expected.update(EXPECTED_LARGE)
    return expected


def write_large_files(folder: Path) -> None:
    write_big_text(folder / "big-50mb.txt")
    (folder / "pages-2000.pdf").write_bytes(pages_2000_pdf())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument(
        "--large", action="store_true", help="also a 50 MB text file and a 2,000-page PDF"
    )
    args = parser.parse_args()
    expected = write_hostile_corpus(args.folder, large=args.large)
    print(f"wrote {len(expected)} files into {args.folder}")


if __name__ == "__main__":
    main()
