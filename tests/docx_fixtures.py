"""Small real Word and OpenDocument files for tests, written here.

Word files are made with python-docx; footnotes, which python-docx cannot write,
are added as a real footnotes part related from the document part, as Word does.
OpenDocument text is written as its XML in a ZIP, the way LibreOffice stores it.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


@dataclass
class Provision:
    """One article of a generated law: its heading, paragraphs, and what hangs on it."""

    number: str
    title: str
    paragraphs: list[str]
    footnote: str = ""  # attached to the first paragraph
    comment: str = ""
    table: list[list[str]] = field(default_factory=list)
    image: bool = False


@dataclass
class Law:
    title: str
    chapters: list[tuple[str, list[Provision]]]
    article_word: str = "Article"


def tiny_png() -> bytes:
    """A real 2x2 PNG picture, so python-docx embeds it as Word would."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def make_law_docx(path: Path, law: Law, *, heading_styles: bool, metadata_title: str = "") -> Path:
    """A law as a .docx: heading styles ("Title", "Heading 1/2") or all in the Normal style."""
    import docx
    from docx.opc.constants import CONTENT_TYPE as CT
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml import parse_xml
    from docx.shared import Inches

    document = docx.Document()
    if metadata_title:
        document.core_properties.title = metadata_title
    document.add_paragraph(law.title, style="Title" if heading_styles else None)
    footnotes: list[str] = []
    for chapter, provisions in law.chapters:
        document.add_paragraph(chapter, style="Heading 1" if heading_styles else None)
        for provision in provisions:
            heading = f"{law.article_word} {provision.number}. {provision.title}"
            document.add_paragraph(heading, style="Heading 2" if heading_styles else None)
            for index, text in enumerate(provision.paragraphs):
                paragraph = document.add_paragraph(text)
                if index == 0 and provision.footnote:
                    footnotes.append(provision.footnote)
                    run = paragraph.add_run()
                    run._r.append(
                        parse_xml(
                            f'<w:footnoteReference xmlns:w="{W_NS}" w:id="{len(footnotes)}"/>'
                        )
                    )
                if index == 0 and provision.comment:
                    document.add_comment(paragraph.runs[0], provision.comment, author="Editor")
            if provision.table:
                table = document.add_table(rows=len(provision.table), cols=len(provision.table[0]))
                for row, values in zip(table.rows, provision.table, strict=True):
                    for cell, value in zip(row.cells, values, strict=True):
                        cell.text = value
            if provision.image:
                picture = path.with_suffix(".png")
                picture.write_bytes(tiny_png())
                document.add_picture(str(picture), width=Inches(0.5))
    if footnotes:
        notes = "".join(
            f'<w:footnote w:id="{number}"><w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r>'
            "</w:p></w:footnote>"
            for number, text in enumerate(footnotes, start=1)
        )
        xml = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:footnotes xmlns:w="{W_NS}">'
            '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
            '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/>'
            f"</w:r></w:p></w:footnote>{notes}</w:footnotes>"
        )
        part = Part(
            PackURI("/word/footnotes.xml"),
            CT.WML_FOOTNOTES,
            xml.encode("utf-8"),
            document.part.package,
        )
        document.part.relate_to(part, RT.FOOTNOTES)
    document.save(str(path))
    return path


ODF_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:xlink="http://www.w3.org/1999/xlink" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" office:version="1.3"'
)


def make_law_odt(path: Path, law: Law) -> Path:
    """A law as OpenDocument text: headings as text:h with outline levels, notes and tables inline."""
    from xml.sax.saxutils import escape

    body: list[str] = [f'<text:p text:style-name="Title">{escape(law.title)}</text:p>']
    note_number = 0
    for chapter, provisions in law.chapters:
        body.append(f'<text:h text:outline-level="1">{escape(chapter)}</text:h>')
        for provision in provisions:
            heading = f"{law.article_word} {provision.number}. {provision.title}"
            body.append(f'<text:h text:outline-level="2">{escape(heading)}</text:h>')
            for index, text in enumerate(provision.paragraphs):
                extra = ""
                if index == 0 and provision.footnote:
                    note_number += 1
                    extra = (
                        f'<text:note text:id="ftn{note_number}" text:note-class="footnote">'
                        f"<text:note-citation>{note_number}</text:note-citation><text:note-body>"
                        f"<text:p>{escape(provision.footnote)}</text:p></text:note-body></text:note>"
                    )
                if index == 0 and provision.comment:
                    extra += (
                        "<office:annotation><dc:creator>Editor</dc:creator>"
                        f"<text:p>{escape(provision.comment)}</text:p></office:annotation>"
                    )
                body.append(f"<text:p>{escape(text)}{extra}</text:p>")
            if provision.table:
                rows = "".join(
                    "<table:table-row>"
                    + "".join(
                        f"<table:table-cell><text:p>{escape(v)}</text:p></table:table-cell>"
                        for v in row
                    )
                    + "</table:table-row>"
                    for row in provision.table
                )
                body.append(f'<table:table table:name="T{provision.number}">{rows}</table:table>')
            if provision.image:
                body.append(
                    '<text:p><draw:frame draw:name="Picture"><draw:image xlink:href="Pictures/p.png"/>'
                    "</draw:frame></text:p>"
                )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {ODF_NAMESPACES}>'
        f"<office:body><office:text>{''.join(body)}</office:text></office:body>"
        "</office:document-content>"
    )
    meta = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-meta {ODF_NAMESPACES}>'
        "<office:meta><dc:title>law-final-v3.odt</dc:title></office:meta></office:document-meta>"
    )
    with zipfile.ZipFile(path, "w") as package:
        package.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text"
        )  # stored first and uncompressed, as the format requires
        package.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        package.writestr("meta.xml", meta, compress_type=zipfile.ZIP_DEFLATED)
        package.writestr("Pictures/p.png", tiny_png())
        package.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest '
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="/" '
            'manifest:media-type="application/vnd.oasis.opendocument.text"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            "</manifest:manifest>",
        )
    return path


# --- the generated law the tests read ------------------------------------------------------

DEFINITION = (
    "Trafficking in persons is the recruitment, transportation, transfer, harbouring or receipt "
    "of a person by means of the threat or use of force, deception, fraud or the abuse of a "
    "position of vulnerability, for the purpose of exploitation."
)
FOOTNOTE = "Wording as amended by the amending law of 12 March 2021, in force since 1 June 2021."
COMMENT = "Check this wording against the consolidated edition."
PENALTIES = [
    ["Offence", "Penalty"],
    ["Trafficking in persons", "eight to twelve years"],
    ["Trafficking in children", "ten to fifteen years"],
]


def sample_law(*, article5: str = DEFINITION) -> Law:
    """An English anti-trafficking law of eight articles in two chapters."""
    general = [
        Provision(
            "1",
            "Purpose of this Law",
            [
                "This Law sets out the measures by which the state prevents trafficking in persons, "
                "prosecutes offenders and protects victims.",
            ],
        ),
        Provision(
            "2",
            "Scope",
            [
                "This Law applies to every person within the territory of the state and on board "
                "ships and aircraft registered in it.",
            ],
        ),
        Provision(
            "3",
            "Penalties",
            [
                "The penalties for the offences defined in this Law are the following.",
            ],
            table=PENALTIES,
        ),
        Provision(
            "4",
            "Authorities",
            [
                "The national coordinator organises the work of the ministries, the police and the "
                "border service against trafficking in persons.",
            ],
            image=True,
        ),
    ]
    offences = [
        Provision(
            "5",
            "Trafficking in persons",
            [
                article5,
                "The consent of a victim to the intended exploitation is irrelevant where any of the "
                "means set forth in this Article has been used.",
            ],
            footnote=FOOTNOTE,
            comment=COMMENT,
        ),
        Provision(
            "6",
            "Forced labour",
            [
                "Work or service exacted from a person under the menace of a penalty, for which the "
                "person has not offered himself voluntarily, is forced labour.",
            ],
        ),
        Provision(
            "7",
            "Assistance to victims",
            [
                "Victims of trafficking in persons receive shelter, medical care, legal aid and an "
                "interpreter free of charge.",
            ],
        ),
        Provision(
            "8",
            "Entry into force",
            [
                "This Law enters into force on the day of its official publication.",
            ],
        ),
    ]
    return Law(
        "Law on Combating Trafficking in Persons",
        [("Chapter 1. General provisions", general), ("Chapter 2. Offences", offences)],
    )


def sample_law_ru() -> Law:
    """The same law's opening in Russian, as a code is published: "Глава", "Статья N."."""
    return Law(
        "Закон о противодействии торговле людьми",
        [
            (
                "Глава 1. Общие положения",
                [
                    Provision(
                        "1",
                        "Цель настоящего Закона",
                        [
                            "Настоящий Закон определяет меры по предупреждению торговли людьми и защите "
                            "пострадавших.",
                        ],
                    ),
                    Provision(
                        "2",
                        "Торговля людьми",
                        [
                            "Торговля людьми — вербовка, перевозка, передача, укрывательство или получение "
                            "человека путём угрозы силой или её применения, обмана или злоупотребления "
                            "уязвимым положением в целях эксплуатации.",
                        ],
                        footnote="В редакции Закона от 12 марта 2021 года.",
                    ),
                ],
            ),
            (
                "Глава 2. Защита пострадавших",
                [
                    Provision(
                        "3",
                        "Помощь пострадавшим",
                        [
                            "Пострадавшим предоставляются убежище, медицинская и юридическая помощь.",
                        ],
                    ),
                ],
            ),
        ],
        article_word="Статья",
    )
