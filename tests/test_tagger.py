"""The tagging stage end to end on hand-built documents."""

from __future__ import annotations

import pytest

from kb.model import Document, Section, SourceRef, Tag
from kb.tagging.tagger import tag_document

HOTLINE_RU = "Вы планируете выехать за рубеж? Не спешите. Позвоните на горячую линию!"


def document(
    title: str,
    sections: list[tuple[str, str]],
    *,
    hint: str = "",
    lang_hint: str = "",
    metadata: dict[str, str] | None = None,
) -> Document:
    return Document(
        id="d",
        source=SourceRef(
            key="https://example.org/d",
            location="https://example.org/d",
            kind="url",
            doctype_hint=hint,
            lang_hint=lang_hint,
        ),
        format="html",
        title=title,
        sections=[
            Section(id=f"s{n}", order=n, heading_path=[h] if h else [], text=t)
            for n, (h, t) in enumerate(sections)
        ],
        metadata=dict(metadata or {}),
    )


def kinds(tags: list[Tag], kind: str) -> list[Tag]:
    return [t for t in tags if t.kind == kind]


NEWS = document(
    "A pool of trainers on investigation and prosecution established",
    [
        (
            "",
            "On June 5-8, 2018, the International Organization for Migration (IOM) organized a "
            "four-day training of trainers in Mary for prosecutors, judges and advocates of Mary, "
            "Lebap and Akhal velayats. The training was funded by the Office to Monitor and Combat "
            "Trafficking in Persons, U.S. Department of State.",
        ),
        (
            "Results",
            "The training brought together 10 prosecutors (1 female and 9 male) and 4 advocates "
            "(4 female). Participants analysed cases under Article 129-1 of the Criminal Code. "
            "IOM and IOM staff thanked the participants.",
        ),
        ("Contacts", HOTLINE_RU),
    ],
    metadata={"date": "2018-06-12"},
)


@pytest.fixture(scope="module")
def news() -> Document:
    return tag_document(NEWS)


def test_languages_of_sections_and_document(news: Document) -> None:
    assert [s.lang for s in news.sections] == ["en", "en", "ru"]
    assert news.lang == "en"
    assert news.languages == ["en", "ru"]


def test_type_and_publication_date(news: Document) -> None:
    assert news.doctype == "event_report"
    assert "held" in news.doctype_reason
    assert (news.date, news.date_text) == ("2018-06-12", "2018-06-12")
    assert news.metadata["date_source"] == "metadata 'date'"


def test_section_entity_tags_are_deduplicated(news: Document) -> None:
    results = kinds(news.sections[1].tags, "entity")
    by_id = {t.value: t for t in results}
    assert len(by_id) == len(results)
    assert by_id["org.iom"].data == {"kind": "organisation", "count": 2}
    assert by_id["org.iom"].label == "International Organization for Migration"
    assert by_id["legal.cc_129_1"].text == "Article 129-1 of the Criminal Code"
    hotline = kinds(news.sections[2].tags, "entity")
    assert [t.value for t in hotline] == ["topic.hotline"]


def test_document_entities_are_the_union_of_sections(news: Document) -> None:
    doc_ids = {t.value for t in kinds(news.tags, "entity")}
    section_ids = {t.value for s in news.sections for t in kinds(s.tags, "entity")}
    assert section_ids <= doc_ids
    assert {"place.mary", "place.lebap", "place.ahal", "org.us_jtip", "topic.hotline"} <= doc_ids
    iom = next(t for t in news.tags if t.value == "org.iom")
    assert iom.data["count"] == 4  # name and "(IOM)" in the first section, twice in the second


def test_date_tags(news: Document) -> None:
    [date] = kinds(news.sections[0].tags, "date")
    assert (date.value, date.text) == ("2018-06-05", "June 5-8, 2018")
    assert date.data == {"end": "2018-06-08", "precision": "day", "is_period": True}


def test_fact_tags(news: Document) -> None:
    facts = {(t.value, t.label) for t in kinds(news.tags, "fact")}
    assert ("donor", "Office to Monitor and Combat Trafficking in Persons") in facts
    assert ("trained_count", "10 prosecutors") in facts
    assert ("trained_count", "4 advocates") in facts


def test_tagging_twice_gives_the_same_document() -> None:
    doc = tag_document(
        document("T", [("", "On 3 May 2019 the Ministry of Interior met in Ashgabat.")])
    )
    first = doc.to_dict()
    assert first["date"] == "2019-05-03"
    assert tag_document(doc).to_dict() == first


def test_turkmen_text_is_tk_and_short_sections_inherit() -> None:
    doc = tag_document(
        document(
            "Aşgabatda okuw",
            [
                (
                    "",
                    "2024-nji ýylyň 12-nji iýunynda Aşgabatda Içeri işler ministrliginiň "
                    "işgärleri üçin adam söwdasynyň pidalaryny ýüze çykarmak boýunça okuw geçirildi.",
                ),
                ("Bellik", "12 sahypa"),
            ],
        )
    )
    assert doc.lang == "tk"
    assert [s.lang for s in doc.sections] == ["tk", "tk"]
    ids = {t.value for t in kinds(doc.sections[0].tags, "entity")}
    assert {"place.ashgabat", "gov.ministry_interior", "topic.victim_identification"} <= ids
    [date] = kinds(doc.sections[0].tags, "date")
    assert date.value == "2024-06-12"


def test_russian_inflections_and_dateline() -> None:
    doc = tag_document(
        document(
            "Семинар в Дашогузе",
            [
                (
                    "",
                    "Дашогуз, 15–16 января 2025 г. Сотрудники Министерства внутренних дел обсудили "
                    "выявление жертв торговли людьми и работу Национального механизма перенаправления.",
                )
            ],
        )
    )
    assert doc.lang == "ru" and doc.languages == ["ru"]
    assert (doc.date, doc.date_text) == ("2025-01-15", "15–16 января 2025 г.")
    assert doc.metadata["date_source"] == "dateline"
    ids = [t.value for t in kinds(doc.sections[0].tags, "entity")]
    assert ids == [
        "place.dashoguz",
        "gov.ministry_interior",
        "topic.victim_identification",
        "topic.referral_mechanism",
    ]


def test_hints_and_what_the_extractor_found() -> None:
    doc = document(
        "Law of Turkmenistan",
        [("Article 1", "Short.")],
        hint="legislation",
        lang_hint="ru",
    )
    doc.date_text = "12 June 2018"  # segmentation copies the extractor's published text here
    tag_document(doc)
    assert (doc.doctype, doc.doctype_reason) == ("legislation", "manifest hint")
    assert doc.lang == "ru"  # no section long enough to tell: the manifest's language
    assert doc.date == "2018-06-12"
    assert doc.metadata["date_source"] == "metadata 'published'"
    again = tag_document(doc).to_dict()
    assert (
        again["date"] == "2018-06-12" and again["metadata"]["date_source"] == "metadata 'published'"
    )


def test_other_tags_are_kept() -> None:
    doc = document("T", [("", "The Ministry of Justice.")])
    doc.sections[0].tags.append(Tag("legal_ref", "cc:129-1", text="129-1"))
    doc.tags.append(Tag("legal_ref", "cc:129-1"))
    tag_document(doc)
    assert kinds(doc.sections[0].tags, "legal_ref") and kinds(doc.tags, "legal_ref")


def test_short_sections_inherit_unless_written_in_another_script() -> None:
    doc = tag_document(
        document(
            "IOM office",
            [
                (
                    "",
                    "The office supports victims of trafficking and runs information "
                    "campaigns on safe migration for young people across the country.",
                ),
                ("Aşgabat", ""),
                ("", "Aşgabat, Türkmenistan"),
                ("Hotline", "Позвоните на горячую линию!"),
            ],
        )
    )
    assert [s.lang for s in doc.sections] == ["en", "en", "en", "ru"]
    assert doc.languages == ["en", "ru"]


def test_empty_documents_are_tagged_without_error() -> None:
    empty = tag_document(document("", []))
    assert (empty.lang, empty.languages, empty.doctype, empty.date) == ("und", [], "other", "")
    blank = tag_document(document("Title only", [("Heading", "")], lang_hint="en"))
    assert blank.sections[0].lang == "en"
    assert blank.sections[0].tags == []
