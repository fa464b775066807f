"""Dates and periods in English, Russian and Turkmen, and a document's publication date."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb.tagging.dates import FoundDate, find_dates, parse_date, publication_date


def only(text: str) -> FoundDate:
    found = find_dates(text)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("text", "written", "start", "end", "precision"),
    [
        # English, as the seeds write them
        ("Project period: 01 December 2008 — 30 November 2009", "01 December 2008 — 30 November 2009", "2008-12-01", "2009-11-30", "day"),
        ("On June 5-8, 2018, IOM organized a training", "June 5-8, 2018", "2018-06-05", "2018-06-08", "day"),
        ("IOM CA Newsletter - December, 2011", "December, 2011", "2011-12", "2011-12", "month"),
        ("Ashgabat, 15-16 January 2025. Turkmenistan’s practitioners", "15-16 January 2025", "2025-01-15", "2025-01-16", "day"),
        ("in cooperation. ///nCa, 18 January 2025 (in cooperation with IOM)", "18 January 2025", "2025-01-18", "2025-01-18", "day"),
        ("In October 2011, IOM launched a project", "October 2011", "2011-10", "2011-10", "month"),
        ("meta content 2018-06-12", "2018-06-12", "2018-06-12", "2018-06-12", "day"),
        ("from 15 January – 3 February 2025", "15 January – 3 February 2025", "2025-01-15", "2025-02-03", "day"),
        ("planned for January–March 2025", "January–March 2025", "2025-01", "2025-03", "month"),
        ("the National Action Plan for 2025-2029", "2025-2029", "2025", "2029", "year"),
        ("working in Turkmenistan since 1997", "1997", "1997", "1997", "year"),
        # Russian
        ("Ашхабад, 15–16 января 2025 г. Состоялся семинар", "15–16 января 2025 г.", "2025-01-15", "2025-01-16", "day"),
        ("Опубликовано 15 марта 2024 г.", "15 марта 2024 г.", "2024-03-15", "2024-03-15", "day"),
        ("в октябре 2011 года МОМ начала проект", "октябре 2011 года", "2011-10", "2011-10", "month"),
        ("с 1 декабря 2008 г. по 30 ноября 2009 г.", "1 декабря 2008 г. по 30 ноября 2009 г.", "2008-12-01", "2009-11-30", "day"),
        ("приказ от 15.03.2024 г.", "15.03.2024 г.", "2024-03-15", "2024-03-15", "day"),
        # Turkmen, month names with case endings
        ("2025-nji ýylyň 15-nji ýanwary", "2025-nji ýylyň 15-nji ýanwary", "2025-01-15", "2025-01-15", "day"),
        ("2024-nji ýylyň 12-nji iýuny Aşgabatda", "2024-nji ýylyň 12-nji iýuny", "2024-06-12", "2024-06-12", "day"),
        ("2025-nji ýylyň 15-16-njy ýanwarynda", "2025-nji ýylyň 15-16-njy ýanwarynda", "2025-01-15", "2025-01-16", "day"),
        ("2023-nji ýylyň sentýabr aýynda", "2023-nji ýylyň sentýabr aýynda", "2023-09", "2023-09", "month"),
        ("15-nji dekabr 2021 ý. geçirildi", "15-nji dekabr 2021 ý.", "2021-12-15", "2021-12-15", "day"),
        ("2016-njy ýylda kabul edildi", "2016-njy ýylda", "2016", "2016", "year"),
    ],
)  # fmt: skip
def test_date_forms(text: str, written: str, start: str, end: str, precision: str) -> None:
    date = only(text)
    assert (date.text, date.start, date.end, date.precision) == (written, start, end, precision)
    assert date.is_period == (start != end)
    assert text[date.offset : date.offset + len(date.text)] == date.text


def test_two_year_spans_in_parentheses() -> None:
    found = find_dates("Two previous National Action Plans (2016- 2018, 2020-2022) were developed")
    assert [(d.text, d.start, d.end) for d in found] == [
        ("2016- 2018", "2016", "2018"),
        ("2020-2022", "2020", "2022"),
    ]
    assert all(d.is_period and d.precision == "year" for d in found)


def test_start_and_end_date_on_separate_lines_make_one_period() -> None:
    text = "Start Date\n2023\n-\nEnd Date\n2025\n-\nProject Status\nActive"
    date = only(text)
    assert (date.start, date.end, date.precision, date.is_period) == ("2023", "2025", "year", True)
    assert date.text == "Start Date 2023 - End Date 2025"


def test_impossible_date_is_kept_at_the_precision_that_is_certain() -> None:
    date = only("Project period: 01 December 2008 — 31 November 2009")
    assert date.text == "01 December 2008 — 31 November 2009"  # as written
    assert (date.start, date.end, date.precision) == ("2008-12", "2009-11", "month")
    assert date.note == "day 31 does not exist in November"
    single = only("signed on 29 February 2023")
    assert (single.start, single.precision) == ("2023-02", "month")
    assert "29" in single.note and "February 2023" in single.note
    assert only("signed on 29 February 2024").start == "2024-02-29"


@pytest.mark.parametrize(
    "text",
    [
        "the 2030 Agenda for Sustainable Development",
        "Tel: +99312 488407, +(993 12) 463514",
        "with 175 member states and 33 500 copies",
        "Prima ID TM10P0524",
        "nothing here",
    ],
)
def test_numbers_that_are_not_dates(text: str) -> None:
    assert find_dates(text) == []


def test_a_day_that_cannot_be_a_day_is_not_read_as_one() -> None:
    date = only("45 January 2020")
    assert (date.text, date.start, date.precision) == ("January 2020", "2020-01", "month")


def test_parse_date_of_metadata_values() -> None:
    assert parse_date("2018-06-12T10:00:00+05:00").start == "2018-06-12"
    assert parse_date("D:20180612093000+05'00'").start == "2018-06-12"
    assert parse_date("Tue, 12 Jun 2018 10:00:00 GMT").start == "2018-06-12"
    assert parse_date("2018").start == "2018"
    assert parse_date("2018-06").start == "2018-06"
    assert parse_date("soon") is None


def test_publication_date_prefers_metadata() -> None:
    text = "Ashgabat, 15-16 January 2025. A workshop was held."
    date = publication_date(text, {"article:published_time": "2025-01-20T09:00:00Z"})
    assert date is not None and date.start == "2025-01-20"
    date = publication_date(text, {"Date": "not a date", "published": "20 January 2025"})
    assert date is not None and date.start == "2025-01-20"  # an unreadable value is skipped


def test_publication_date_from_labelled_date() -> None:
    text = "Pool of trainers established\n\nOn June 5-8, 2018 IOM organized a training.\n\nPublished: 12 June 2018"
    date = publication_date(text, {})
    assert date is not None and (date.start, date.text) == ("2018-06-12", "12 June 2018")


def test_byline_at_the_end_beats_the_dateline() -> None:
    text = (
        "Ashgabat, 15-16 January 2025. Practitioners learned the best practices of identification.\n\n"
        "The workshop was final in a series. ///nCa, 18 January 2025 (in cooperation with IOM Turkmenistan)"
    )
    date = publication_date(text, {})
    assert date is not None and (date.start, date.text) == ("2025-01-18", "18 January 2025")


def test_dateline_newsletter_title_and_russian_top_date() -> None:
    dateline = publication_date("Title\n\nMary, 3 October 2023 — A survey was made.", {})
    assert dateline is not None and dateline.start == "2023-10-03"
    newsletter = publication_date(
        "IOM CA Newsletter on Counter-Trafficking Programs - December, 2011\n\nIn October 2011, IOM...",
        {},
    )
    assert newsletter is not None and (newsletter.start, newsletter.precision) == (
        "2011-12",
        "month",
    )
    russian = publication_date("Новости\n\n15 марта 2024 г. в Ашхабаде прошла встреча.", {})
    assert russian is not None and russian.start == "2024-03-15"


def test_a_project_period_is_not_a_publication_date() -> None:
    text = "Project title: Combating trafficking\n\nProject period: 01 December 2008 — 31 November 2009"
    assert publication_date(text, {}) is None
    assert publication_date("Start Date\n2023\n-\nEnd Date\n2025", {}) is None


_PIECES = [
    "31", "29", "0", "15", "5-8", "2009", "2025", "1999", "20", "12.13.2024", "01.02.2024",
    " ", ", ", " – ", "-", "\n", "November", "February", "June", "января", "марта",
    "ýanwary", "-nji", "ýylyň", "г.", "Start Date", "End Date", "(", ")", "in", "по",
]  # fmt: skip


@given(st.lists(st.sampled_from(_PIECES), max_size=25).map("".join))
@settings(max_examples=150, deadline=None)
def test_any_text_gives_well_formed_dates_and_never_fails(text: str) -> None:
    for date in find_dates(text):
        assert date.text
        assert date.start[:4].isdigit() and date.end[:4].isdigit()
        assert (
            len(date.start) == len(date.end) == {"year": 4, "month": 7, "day": 10}[date.precision]
        )
    publication_date(text, {"date": text})
