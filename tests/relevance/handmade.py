"""A small knowledge base of hand-made documents for the search tests (builds in ~1 s).

Sections carry the entity tags the tagger would give them, so that the tests exercise
search alone. The texts are written for these tests.
"""

from __future__ import annotations

from pathlib import Path

from kb.home import paths as home_paths
from kb.model import Document, Section, SourceRef, Tag
from kb.store import Store
from search.indexer import build_index


def _section(sid: str, order: int, path: list[str], text: str, *, lang: str = "en",
             pages: tuple[int, int] | None = None, number: str = "", kind: str = "section",
             entities: tuple[str, ...] = ()) -> Section:  # fmt: skip
    return Section(
        id=sid,
        order=order,
        heading_path=path,
        text=text,
        page_start=pages[0] if pages else None,
        page_end=pages[1] if pages else None,
        lang=lang,
        number=number,
        kind=kind,
        tags=[Tag("entity", e) for e in entities],
    )


def _doc(doc_id: str, title: str, sections: list[Section], *, doctype: str, lang: str = "en",
         date: str = "", fmt: str = "pdf") -> Document:  # fmt: skip
    location = f"{doc_id}.{'html' if fmt == 'html' else 'pdf'}"
    source = SourceRef(key=f"/corpus/{location}", location=location)
    return Document(id=doc_id, source=source, format=fmt, title=title, sections=sections,
                    doctype=doctype, lang=lang, languages=[lang], date=date)  # fmt: skip


def documents() -> list[Document]:
    law = _doc(
        "criminal-code",
        "Criminal Code of Turkmenistan (extract)",
        [
            _section(
                "art-129",
                0,
                ["Article 129. Kidnapping"],
                "Kidnapping of a person is punishable by deprivation of liberty. Article 129 "
                "also covers the unlawful holding of a person against his or her will. Part 1 "
                "of this article does not apply where Article 129-1 applies.",
                pages=(3, 3),
                number="129",
                kind="article",
            ),
            _section(
                "art-129-1",
                1,
                ["Article 129-1. Trafficking in persons"],
                "1. The purchase and sale of a person for the purpose of exploitation is "
                "punishable by deprivation of liberty.\n"
                "2. The same act is punishable more severely when committed:\n"
                "a) against two or more persons;\n"
                "b) against a child, or by a group that holds the passports of its victims.",
                pages=(3, 4),
                number="129-1",
                kind="article",
                entities=("legal.cc_129_1", "topic.trafficking_in_persons"),
            ),
        ],
        doctype="legislation",
        date="2016-08-20",
    )
    manual = _doc(
        "manual",
        "Training Manual on Identification of Victims",
        [
            _section(
                "s-3-1",
                0,
                ["Module 3. Identification of victims", "3.1 Principles of identification"],
                "Identification is the process by which a person is recognised as a victim of "
                "trafficking. Preliminary identification happens at the first contact.",
                pages=(15, 15),
                number="3.1",
                entities=("topic.victim_identification", "topic.victims"),
            ),
            _section(
                "s-3-2",
                1,
                ["Module 3. Identification of victims", "3.2 Indicators of labour exploitation"],
                "Labour exploitation ranges from violations of labour rights to forced labour. "
                "Recruitment stage: the worker paid high recruitment fees. "
                + "Working conditions are described in the contract. " * 8
                + "Employers often keep withheld passports and impose debt bondage on the workers.",
                pages=(15, 16),
                number="3.2",
                entities=("topic.indicators", "topic.labour_exploitation", "topic.debt_bondage"),
            ),
            _section(
                "s-4-4",
                2,
                ["Module 4. Interviewing", "4.4 The survivor-centred approach"],
                "A survivor-centred approach places the rights and wishes of the person at the "
                "centre. The do-no-harm principle applies to every interview.",
                pages=(22, 23),
                number="4.4",
                entities=("topic.survivor_centred",),
            ),
            _section(
                "s-5-6",
                3,
                ["Module 5. Referral", "5.6 The hotline"],
                "The hotline numbers are printed on posters. Callers in Dashoguz and Akhal can "
                "call free of charge.",
                pages=(27, 28),
                number="5.6",
                entities=("topic.hotline", "place.dashoguz", "place.ahal"),
            ),
            _section(
                "s-7-1",
                4,
                ["Module 7. Training of trainers", "7.1 Principles of adult learning"],
                "The approach to teaching adults is called andragogy. Kolb described the "
                "experiential learning cycle.",
                pages=(32, 32),
                number="7.1",
            ),
        ],
        doctype="training_manual",
        date="2024",
    )
    russian = _doc(
        "ru-seminar",
        "Семинар по выявлению жертв торговли людьми",
        [
            _section(
                "intro",
                0,
                [],
                "В Ашхабаде прошёл семинар по выявлению жертв торговли людьми для сотрудников "
                "Государственной миграционной службы. Участники разобрали признаки трудовой "
                "эксплуатации.",
                lang="ru",
                entities=("topic.victim_identification", "topic.labour_exploitation"),
            ),
        ],
        doctype="event_report",
        lang="ru",
        date="2024-03-15",
        fmt="html",
    )
    turkmen = _doc(
        "tk-seminar",
        "Adam söwdasyna garşy göreş boýunça seminar",
        [
            _section(
                "intro",
                0,
                [],
                "Seminaryň dowamynda gatnaşyjylar adam söwdasynyň pidalaryny ýüze çykarmagyň "
                "alamatlary bilen tanyşdylar. Ynam telefonlarynyň işi barada hem gürrüň edildi.",
                lang="tk",
                entities=("topic.trafficking_in_persons", "topic.victim_identification"),
            ),
        ],
        doctype="event_report",
        lang="tk",
        date="2024-06-12",
        fmt="html",
    )
    project = _doc(
        "project",
        "Strengthening the legal framework",
        [
            _section(
                "information",
                0,
                ["Project information"],
                "Start Date 2023 Donor IOM Development Fund Prima ID TM10P0524",
            ),
            _section(
                "background",
                1,
                ["Background"],
                "Young people in Daşoguz and Ahal face pressure to look for work abroad, which "
                "exposes them to deception and debt bondage.",
                entities=("place.dashoguz", "place.ahal", "topic.debt_bondage"),
            ),
        ],
        doctype="project_page",
        date="2023",
        fmt="html",
    )
    newsletter = _doc(
        "newsletter",
        "Counter-trafficking newsletter, December 2011",
        [
            _section(
                "hotline",
                0,
                ["Hotline statistics"],
                "The two hotlines received 2,830 calls; the hotline numbers are free of charge.",
                pages=(2, 2),
                entities=("topic.hotline",),
            ),
        ],
        doctype="newsletter",
        date="2011-12",
    )
    return [law, manual, russian, turkmen, project, newsletter]


def build_small_home(home: Path) -> Path:
    """The hand-made documents in a store and an index under `home`."""
    paths = home_paths(home).ensure()
    with Store(paths.store) as store:
        with store.transaction() as db:
            for doc in documents():
                store.save_document(doc, db)
        build_index(paths, store)
    return home
