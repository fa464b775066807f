"""Project facts: title, period, donor, budget, ids, partners and people trained."""

from __future__ import annotations

import pytest

from kb.model import Document, Section, SourceRef, Tag
from kb.tagging.facts import extract_facts, parse_amount


def document(title: str, *texts: str, doctype: str = "other") -> Document:
    return Document(
        id="doc",
        source=SourceRef(key="doc", location="doc.html", kind="url"),
        format="html",
        title=title,
        sections=[
            Section(id=f"s{n}", order=n, heading_path=[], text=text) for n, text in enumerate(texts)
        ],
        doctype=doctype,
    )


def facts(doc: Document, name: str) -> list[Tag]:
    return [t for t in extract_facts(doc) if t.value == name]


# A project page laid out like the IOM Development Fund pages: labels and values on
# separate lines, dash lines between the pairs.
PROJECT_PAGE = document(
    "Strengthening the Legal Framework on Trafficking in Persons in Turkmenistan",
    "Start Date\n2023\n-\nEnd Date\n2025\n-\nProject Status\nActive\n-\nBudget Amount (USD)\n100000.00\n"
    "-\nCoverage\nNational\n-\nPrima ID\nTM10P0524\n-\nProjects ID\nPX.0432\n-\n"
    "Benefiting Member States\nTurkmenistan",
    "The project is funded by the IOM Development Fund and implemented in close cooperation with "
    "the Mejlis of Turkmenistan and the Ministry of Justice.",
    doctype="project_page",
)


def test_project_page_block() -> None:
    [period] = facts(PROJECT_PAGE, "period")
    assert period.data == {"start": "2023", "end": "2025", "precision": "year"}
    assert period.text == "Start Date 2023 - End Date 2025"
    [budget] = facts(PROJECT_PAGE, "budget")
    assert budget.data == {"amount": 100000.0, "currency": "USD"}
    assert budget.label == "100,000 USD"
    assert budget.text == "Budget Amount (USD) 100000.00"
    assert [(t.label, t.data["scheme"]) for t in facts(PROJECT_PAGE, "project_id")] == [
        ("TM10P0524", "prima"),
        ("PX.0432", "project"),
    ]
    [title] = facts(PROJECT_PAGE, "project_title")
    assert title.label == PROJECT_PAGE.title  # a project page without a title label: its title
    [donor] = facts(PROJECT_PAGE, "donor")
    assert donor.data["id"] == "org.iom_df"
    assert donor.text.startswith("The project is funded by the IOM Development Fund")
    assert [t.data["id"] for t in facts(PROJECT_PAGE, "partner")] == [
        "gov.mejlis",
        "gov.ministry_justice",
    ]


def test_labelled_project_page_with_an_impossible_end_date() -> None:
    doc = document(
        "Combating trafficking in persons in Turkmenistan (2008-2009)",
        "Project title: Combating trafficking in persons in Turkmenistan: Prevention, protection and "
        "capacity building\n\nProject period: 01 December 2008 — 31 November 2009",
        "Governmental Agencies, such as Ministry of Foreign Affairs, State Migration Service and "
        "Ministry of Interior, remain the main IOM national strategic partners.",
        "This project is a follow-up to a regional project financed by The Ministry of Foreign "
        "Affairs of Norway.",
        doctype="project_page",
    )
    [title] = facts(doc, "project_title")
    assert title.label.startswith("Combating trafficking in persons in Turkmenistan: Prevention")
    [period] = facts(doc, "period")  # "(2008-2009)" in the title says less and is dropped
    assert (period.data["start"], period.data["end"]) == ("2008-12", "2009-11")
    assert period.data["note"] == "day 31 does not exist in November"
    assert period.text == "Project period: 01 December 2008 — 31 November 2009"
    assert [t.data["id"] for t in facts(doc, "partner")] == [
        "gov.ministry_foreign_affairs",
        "gov.state_migration_service",
        "gov.ministry_interior",
    ]  # IOM itself is the implementer, not a partner
    [donor] = facts(doc, "donor")
    assert donor.data["id"] == "org.norway_mfa"


def test_people_trained_with_the_sentence_they_come_from() -> None:
    sentence = (
        "As the result of completed project, 4,000 informational materials were distributed, "
        "237 law enforcement officers, prosecutors, police and 17 judges were trained on "
        "anti-trafficking legislation."
    )
    doc = document("Newsletter", sentence)
    trained = facts(doc, "trained_count")
    assert [t.data for t in trained] == [
        {"count": 237, "who": "law enforcement officers, prosecutors, police"},
        {"count": 17, "who": "judges"},
    ]
    assert all(t.text == sentence for t in trained)


def test_trained_counts_with_a_breakdown_by_sex() -> None:
    doc = document(
        "Activity update",
        "The training brought together the regional level teaching staff, namely 10 prosecutors "
        "(1 female and 9 male), 4 advocates (4 female) and 6 representatives of law enforcement "
        "agencies (6 male) from Mary, Balkan and Akhal velayats of Turkmenistan.",
    )
    assert [t.data for t in facts(doc, "trained_count")] == [
        {"count": 10, "who": "prosecutors", "female": 1, "male": 9},
        {"count": 4, "who": "advocates", "female": 4},
        {"count": 6, "who": "representatives of law enforcement agencies", "male": 6},
    ]


def test_numbers_that_are_not_people_trained() -> None:
    doc = document(
        "News",
        "On June 5-8, 2018, the training of trainers took place. The workshop used 12 handouts "
        "and lasted 4 days.",
    )
    assert facts(doc, "trained_count") == []


def test_donors_in_english_and_russian() -> None:
    doc = document(
        "News",
        "The three-year project was funded by the Office to Monitor and Combat Trafficking in "
        "Persons, U.S. Department of State, launched in October 2015.",
        "While the first INL funded project aimed at raising awareness, the new one goes further.",
        "Семинар организован МОМ при финансовой поддержке Государственного департамента США.",
        "The study was financed by the Government of Japan.",
        "The plans were developed with the support of IOM in Turkmenistan.",
    )
    donors = facts(doc, "donor")
    assert [t.data.get("id") for t in donors] == [
        "org.us_jtip",
        "org.us_inl",
        "org.us_state_department",
        None,
    ]
    assert donors[0].text.endswith("U.S. Department of State, launched in October 2015.")
    assert donors[3].data == {"name": "Government of Japan"}  # not in the vocabulary: the name


def test_quoted_project_title_and_project_period_in_a_sentence() -> None:
    doc = document(
        "Reports",
        'Reports and results of the project "Combating trafficking in persons in Turkmenistan" '
        "(2008-2009) are listed below.",
        "Taslama «Adam söwdasynyň pidalaryna goldaw» atly taslama 2016-njy ýylda başlandy.",
    )
    titles = [t.label for t in facts(doc, "project_title")]
    assert titles == [
        "Combating trafficking in persons in Turkmenistan",
        "Adam söwdasynyň pidalaryna goldaw",
    ]
    [period] = facts(doc, "period")
    assert (period.data["start"], period.data["end"]) == ("2008", "2009")


def test_budget_in_a_sentence() -> None:
    doc = document(
        "Project",
        "The total budget of the project is EUR 1.2 million.",
        "Бюджет проекта составляет 250 000 долларов США.",
        "The budget line for 2024 was discussed.",
    )
    assert [(t.data["amount"], t.data["currency"]) for t in facts(doc, "budget")] == [
        (1_200_000.0, "EUR"),
        (250_000.0, "USD"),
    ]


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("100000.00", 100000.0),
        ("1,250,000", 1250000.0),
        ("250 000,50", 250000.5),
        ("1.200.000", 1200000.0),
        ("1.2", 1.2),
        ("12,5", 12.5),
        ("1,250,000.75", 1250000.75),
    ],
)
def test_parse_amount(text: str, amount: float) -> None:
    assert parse_amount(text) == amount


def test_a_document_without_facts() -> None:
    assert extract_facts(document("Glossary", "Exploitation: the use of a person's work.")) == []
