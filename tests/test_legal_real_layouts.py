"""Legal structure, definition check and redlines on texts laid out as real laws are.

Every fixture is written here, modelled on layouts met in real laws (a Russian code
with decimal article numbers and publisher's amendment notes, a consolidated code with
«Сноска» footnotes, a gazette PDF with margin notes and running headers, an act whose
interpretation section defines trafficking and its victims, a Turkmen article with a
note), in English, Russian and Turkmen. The words are ours.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.legal.compare import compare_structures, comparison_to_dict
from kb.legal.elements import check_elements, report_to_dict
from kb.legal.parse import parse_pages, parse_text
from kb.legal.units import find_unit
from tests.cli_runner import invoke as run_kb

# --- a Russian code: decimal numbers, notes, publisher's notes ---------------------

RU_CODE = """Глава 17. ПРЕСТУПЛЕНИЯ ПРОТИВ СВОБОДЫ ЛИЧНОСТИ
Статья 127. Незаконное лишение свободы
1. Незаконное лишение человека свободы, не связанное с его похищением, -
наказывается ограничением свободы на срок до двух лет.
Статья 127.1. Торговля людьми
1. Купля-продажа человека, а равно совершенные в целях его эксплуатации вербовка, перевозка, передача, укрывательство или получение -
наказываются лишением свободы на срок до шести лет.
2. Те же деяния, совершенные:
а) в отношении двух или более лиц;
б) в отношении несовершеннолетнего;
в) с применением насилия или с угрозой его применения;
г) в целях изъятия у потерпевшего органов или тканей, -
наказываются лишением свободы на срок от трех до десяти лет.
Примечания. 1. Лицо, впервые совершившее деяние, добровольно освободившее потерпевшего, освобождается от уголовной ответственности.
2. Под эксплуатацией человека в настоящей статье понимаются использование занятия проституцией другими лицами и иные формы сексуальной эксплуатации, рабский труд (услуги), подневольное состояние.
Статья 128. Незаконная госпитализация
1. Незаконная госпитализация лица -
наказывается лишением свободы на срок до трех лет.
"""

# The same article as a consolidated-law site publishes it: front matter, wiki links,
# blank lines, the penalty after a blank line, and «(В редакции …)» notes.
RU_ARTICLE_SITE = """---
номер: "127.1"
---
# Статья 127.1. Торговля людьми

> Раздел: [[Раздел VII]] | Глава: [[Глава 17]]

1. Купля-продажа человека, а равно совершенные в целях его эксплуатации вербовка, перевозка, передача, укрывательство или получение -

наказываются лишением свободы на срок до шести лет. (В редакции Федерального закона от
07.12.2011 № 420-ФЗ)

2. Те же деяния, совершенные: (В редакции Федерального закона от 25.11.2008 № 218-ФЗ)

а) в отношении двух или более лиц;

б) в отношении несовершеннолетнего; (В редакции Федерального закона от 29.02.2012 № 14-ФЗ)

в) с применением насилия или с угрозой его применения;

г) в целях изъятия у потерпевшего органов или тканей, -

наказываются лишением свободы на срок от трех до десяти лет.

Примечания. 1. Лицо, впервые совершившее деяние, добровольно освободившее потерпевшего, освобождается от уголовной ответственности.

2. Под эксплуатацией человека в настоящей статье понимаются использование занятия проституцией другими лицами и иные формы сексуальной эксплуатации, рабский труд (услуги), подневольное состояние. (Дополнение статьей - Федеральный закон от 08.12.2003 № 162-ФЗ)
"""


def test_decimal_article_number_is_its_own_article() -> None:
    code = parse_text(RU_CODE)
    article = find_unit(code, "Статья 127.1")
    assert article is not None and article.id == "chp_17__art_127.1"
    assert article.heading == "Торговля людьми"
    assert find_unit(code, "127").heading == "Незаконное лишение свободы"
    assert find_unit(code, "127.1") is article


@pytest.mark.parametrize(
    ("heading", "key"),
    [
        ("Article 129¹. Trafficking", "art_129-1"),
        ("Article 5 bis. Forced begging", "art_5bis"),
        ("Article 77cca. Illegal adoption", "art_77cca"),
        ("Article 12ter. Exploitation", "art_12ter"),
    ],
)
def test_suffixed_article_numbers_are_articles(heading: str, key: str) -> None:
    root = parse_text(f"## {heading}\n\nWhoever recruits a person for exploitation is punished.\n")
    assert [u.id for u in root.walk() if u.kind == "article"] == [key]


def test_notes_are_units_and_publisher_notes_stay_out_of_the_words() -> None:
    root = parse_text(RU_ARTICLE_SITE)
    article = find_unit(root, "127.1")
    assert article is not None
    words = article.full_text()
    assert "В редакции" not in words and "Дополнение статьей" not in words
    assert "Раздел VII" not in words and "номер" not in words
    kept = [note for unit in article.walk() for note in unit.annotations]
    assert "(В редакции Федерального закона от 29.02.2012 № 14-ФЗ)" in kept
    note = find_unit(root, "art_127.1__note_1__para_2")
    assert note is not None and note.text.startswith("Под эксплуатацией человека")
    # The penalty after the points is the part's closing words, not point г)'s.
    point = find_unit(root, "art_127.1__para_2__point_d")
    assert point is not None and "наказываются" not in point.text


def test_consolidated_code_footnotes_are_kept_apart() -> None:
    text = (
        "Статья 12. Торговля людьми\n\n"
        "      1. Вербовка, перевозка, передача, укрывательство или получение человека в целях эксплуатации –\n\n"
        "      наказываются лишением свободы на срок от четырех до семи лет.\n\n"
        "      Сноска. Статья 12 с изменениями, внесенными законом от 27.12.2019 \n№ 292-VІ\n"
        " (порядок введения в действие см. \nст.2\n).\n\n"
        "Статья 13. Клонирование человека\n\n      1. Клонирование человека –\n"
    )
    root = parse_text(text)
    article = find_unit(root, "12")
    assert "Сноска" not in article.full_text() and "292" not in article.full_text()
    assert any("Сноска. Статья 12" in note for u in article.walk() for note in u.annotations)
    assert find_unit(root, "13") is not None


# --- a gazette PDF: margin notes in small type, running headers, printer's code ------

GAZETTE_PAGES: list[tuple[list[str], list[str]]] = [
    (
        [
            "1. This Act may be cited as the Penal Code (Amendment)",
            "Act, No. 7 of 2031.",
            "2. Section 9 of the Penal Code is hereby amended as follows :—",
            "(1) in subsection (1), by the substitution of the words",
            "“within Sri Lanka” for the words “in the Island” ;",
        ],
        ["Short title.", "Amendment of", "section 9."],
    ),
    (
        [
            "(2) by the addition of the following new subsection :—",
            "“(3) A citizen shall be liable for every offence committed abroad.”.",
            "3. Section 360C of the principal enactment is hereby",
            "repealed and the following section substituted therefor :—",
            "360C. (1) Whoever—",
            "(a) recruits, transports, harbours or receives any person",
            "by the use of threat, force or deception for the purpose",
            "of securing forced labour or prostitution ;",
        ],
        ["Replacement of", "section 360C of", "the principal", "enactment.", "“Trafficking."],
    ),
    (
        [
            "(b) recruits, transports, harbours or receives a child",
            "whether with or without the consent of such child for",
            "the purpose of securing forced labour or prostitution,",
            "shall be guilty of the offence of trafficking.",
            "(2) In this section “child” means a person under",
            "eighteen years of age.",
        ],
        [],
    ),
]


def _gazette_pdf(path: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(False)
    pdf.add_font("dejavu", "", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    for number, (body, margin) in enumerate(GAZETTE_PAGES, start=1):
        pdf.add_page()
        pdf.set_font("dejavu", size=10)
        pdf.set_xy(20, 10)
        pdf.cell(0, 5, f"{number} Penal Code (Amendment) Act, No. 7 of 2031")
        pdf.set_xy(20, 22)
        for line in body:
            pdf.set_x(20)
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
        # Side headings come last in the page's content, in smaller type, as in gazettes.
        pdf.set_font("dejavu", size=8)
        pdf.set_xy(165, 22)
        for line in margin:
            pdf.set_x(165)
            pdf.cell(0, 4, line, new_x="LMARGIN", new_y="NEXT")
        pdf.set_xy(20, 291)
        pdf.cell(0, 4, f"{number}—PL 009999—2,500 (07/2031)")
    pdf.output(str(path))
    return path


def test_gazette_margin_notes_and_running_heads_never_enter_a_provision(tmp_path: Path) -> None:
    from kb.legal.files import parse_law_file

    root = parse_law_file(_gazette_pdf(tmp_path / "act.pdf"))
    assert root.heading == "Penal Code (Amendment) Act, No. 7 of 2031"
    everything = " ".join(u.full_text() for u in root.children)
    for furniture in (
        "Replacement of",
        "Short title",
        "“Trafficking.",
        "PL 009999",
        "Amendment of",
    ):
        assert furniture not in everything
    section = find_unit(root, "Section 360C")
    assert section is not None
    # "shall be guilty…" after the points closes subsection (1); it is not point (b)'s.
    opening, closing = find_unit(root, "360C(1)").own_parts()
    assert opening == "Whoever—" and closing == "shall be guilty of the offence of trafficking."
    # Nothing is lost after a page break or a margin note.
    assert find_unit(root, "Section 2(2)") is not None
    assert "citizen shall be liable" in find_unit(root, "Section 2(2)").full_text()
    assert find_unit(root, "360C(1)(b)") is not None
    assert find_unit(root, "360C(2)").text.startswith("In this section “child” means")


def test_gazette_pdf_elements_take_child_consent_as_the_child_rule(tmp_path: Path) -> None:
    code, out = run_kb("elements", str(_gazette_pdf(tmp_path / "act.pdf")), "--json")
    assert code == 0, out
    import json

    data = json.loads(out)
    by_id = {e["id"]: e for e in data["elements"]}
    assert data["unit"] == "sec_360c"
    # "with or without the consent of such child" holds for children only.
    assert by_id["rule.consent_irrelevant"]["status"] == "absent"
    assert "child" in by_id["rule.consent_irrelevant"]["reason"]
    assert by_id["rule.child_no_means"]["status"] == "present"
    assert all(e["unit"].startswith("sec_360c") for e in by_id["rule.child_no_means"]["evidence"])
    assert by_id["means.threat"]["evidence"] == [
        {"unit": "sec_360c__para_1__point_a", "text": "threat"}
    ]


# --- the definition check ------------------------------------------------------------


def statuses(report) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {r.id: r.status for r in report.elements}


MEANS = [
    "means.threat",
    "means.force",
    "means.coercion",
    "means.abduction",
    "means.fraud",
    "means.deception",
    "means.abuse_of_power",
    "means.abuse_of_vulnerability",
    "means.payments",
]


def test_russian_article_needs_no_means_and_reports_aggravating_circumstances() -> None:
    report = check_elements(parse_text(RU_CODE), "127.1", lang="ru")
    by_status = statuses(report)
    assert all(by_status[m] == "broader" for m in MEANS)
    aggravating = {e.text for e in report.aggravating}
    assert {"насилия", "угрозой"} <= aggravating
    # Forms come from the article's note, which defines exploitation.
    assert by_status["form.prostitution_of_others"] == "present"
    assert by_status["form.servitude"] == "present"
    assert by_status["form.forced_labour"] == "partial"  # "рабский труд (услуги)"
    assert by_status["form.removal_of_organs"] == "present"
    assert by_status["rule.consent_irrelevant"] == "absent"
    assert by_status["rule.child_no_means"] == "present"
    data = report_to_dict(report)
    force = next(e for e in data["elements"] if e["id"] == "means.force")
    assert "no means" in force["reason"] and "aggravating" in force["reason"]


KZ_LIKE = """Статья 3. Разъяснение некоторых понятий

      В настоящем Кодексе, если нет специальных указаний, используются следующие понятия:

      1) эксплуатация человека – использование виновным принудительного труда, занятия проституцией другим лицом или иных оказываемых им услуг сексуального характера, иные действия, связанные с осуществлением виновным некоторых или всех полномочий собственника в отношении лица;

      2) близкие лица – родители, дети, супруги;

Статья 128. Торговля людьми

      1. Купля-продажа лица, а равно вербовка, перевозка, передача, укрывательство, получение, а также совершение иных деяний в целях эксплуатации –

      наказываются лишением свободы на срок от четырех до семи лет.

      2. Те же деяния, совершенные:

      1) с применением насилия, опасного для жизни и здоровья, или угрозой его применения;

      2) путем обмана или злоупотребления доверием, –

      наказываются лишением свободы на срок от семи до девяти лет.

      Примечание. Согласие потерпевшего на эксплуатацию, полученное путем применения насилия или угрозы его применения, обмана или злоупотребления доверием с использованием служебного положения, материальной или иной зависимости, использования психического расстройства или беспомощного состояния, изъятия, сокрытия либо уничтожения документов, удостоверяющих личность потерпевшего, или иных способов воздействия, не является основанием, исключающим уголовную ответственность.

      Сноска. Статья 128 с изменениями, внесенными законом от 05.07.2024 № 111-VIII.
"""


def test_definition_in_another_article_is_followed_and_named() -> None:
    root = parse_text(KZ_LIKE)
    report = check_elements(root, "Статья 128", lang="ru")
    by = {r.id: r for r in report.elements}
    assert by["form.forced_labour"].status == "present"
    assert by["form.forced_labour"].evidence[0].unit == "art_3__point_1"
    assert by["form.slavery"].status == "present"  # "полномочий собственника"
    assert by["form.sexual_exploitation"].status == "present"
    assert report.read[:2] == ["art_128", "art_3"]
    # The note on consent is read, though it lists every means before its verb.
    assert by["rule.consent_irrelevant"].status == "present"
    assert by["rule.consent_irrelevant"].evidence[0].unit == "art_128__note_1"
    assert all(by[m].status == "broader" for m in MEANS)
    assert "Сноска" not in find_unit(root, "Статья 128").full_text()


SAARC_LIKE = """CONVENTION ON PREVENTING TRAFFICKING IN WOMEN AND CHILDREN ACT, No. 3 OF 2031

1. This Act may be cited as the Convention on Preventing Trafficking in Women and Children Act.

2. (1) Any person who keeps or manages a building for the purpose of trafficking of women and children shall be guilty of an offence.

(2) The Court may order the payment of compensation to the victim.

3. In this Act, unless the context otherwise requires—
“child” means a person who has not attained the age of eighteen years;
“persons subjected to trafficking” means women and children forced into prostitution by deception, threat, coercion, kidnapping or any other unlawful means;
“prostitution” means the sexual exploitation of persons for commercial purposes;
“trafficking” means the moving, selling or buying of women and children for prostitution within and outside a country for monetary or other considerations with or without the consent of the person being subjected to trafficking.
"""


def test_victim_definition_and_sale_price_are_not_means() -> None:
    report = check_elements(parse_text(SAARC_LIKE), lang="en")
    by = {r.id: r for r in report.elements}
    assert report.unit == "sec_3"
    assert by["act.transportation"].status == "present"
    assert by["act.transportation"].evidence[0].text == "moving"
    for means in MEANS:
        assert by[means].status == "broader", means
        assert all("deception" not in e.text for e in by[means].evidence)
    # Sexual exploitation is named only as what "prostitution" means: covered that far.
    assert by["form.sexual_exploitation"].status == "partial"
    assert "prostitution" in by["form.sexual_exploitation"].reason
    # "with or without the consent of the person": for every victim, not only children.
    assert by["rule.consent_irrelevant"].status == "present"
    assert {e.id for e in report.extra} >= {"extra.sale", "extra.purchase"}


STATUTE_SPLIT = """## 1 Slavery, servitude and forced labour

(1) A person commits an offence if the person holds another person in slavery or servitude.

## 2 Human trafficking

(1) A person commits an offence if the person arranges or facilitates the travel of another person (“V”) with a view to V being exploited.

(2) It is irrelevant whether V consents to the travel (whether V is an adult or a child).

(3) A person may in particular arrange or facilitate V's travel by recruiting V, transporting or transferring V, harbouring or receiving V.

## 3 Meaning of exploitation

(1) For the purposes of section 2 a person is exploited only if one or more of the following subsections apply.

(2) The person is the victim of behaviour which involves the commission of an offence of slavery, servitude or forced or compulsory labour.

(3) Something is done to or in respect of the person which involves the commission of an offence concerning prostitution or sexual exploitation.

(4) The person is encouraged to make available any organ for removal.

(5) The person is subjected to force, threats or deception designed to induce him to provide services.
"""


def test_statute_with_offence_and_exploitation_in_separate_sections() -> None:
    report = check_elements(parse_text(STATUTE_SPLIT), "Section 2", lang="en")
    by = {r.id: r for r in report.elements}
    assert {a for a in by if a.startswith("act.") and by[a].status == "present"} == {
        "act.recruitment",
        "act.transportation",
        "act.transfer",
        "act.harbouring",
        "act.receipt",
    }
    for form in ("form.slavery", "form.servitude", "form.forced_labour", "form.removal_of_organs"):
        assert by[form].status == "present", form
        assert by[form].evidence[0].unit.startswith("sec_3"), form
    # Force and deception in the meaning of exploitation are not means of the offence.
    assert all(by[m].status == "broader" for m in MEANS)
    assert by["rule.consent_irrelevant"].status == "present"
    assert "sec_3" in report.read


def test_excluded_contexts_are_never_evidence() -> None:
    text = (
        "## 1. Trafficking\n\nWhoever recruits, transports or harbours a person by fraud for the "
        "purpose of sexual exploitation commits trafficking. The court may order the payment "
        "of compensation. This Act has received the assent of the President.\n"
    )
    by = {r.id: r for r in check_elements(parse_text(text), "1", lang="en").elements}
    assert by["means.payments"].status == "absent"
    assert by["act.receipt"].status == "absent"


TURKMEN_ARTICLE = """## 129¹-nji madda. Adam söwdasy

1. Adamy ekspluatasiýa etmek maksady bilen işe çekmek, daşamak, geçirmek, gizlemek ýa-da kabul etmek –

jezalandyrylýar.

2. Şol hereketler:

a) zorluk ulanmak ýa-da haýbat atmak bilen;

b) kämillik ýaşyna ýetmedik adama garşy edilen bolsa –

jezalandyrylýar.

Bellik. Şu maddada ekspluatasiýa diýlip jelepçilik, mejbury zähmet we gulçulyk düşünilýär.
"""


def test_turkmen_article_with_suffix_note_and_aggravating_means() -> None:
    root = parse_text(TURKMEN_ARTICLE)
    article = find_unit(root, "129¹")
    assert article is not None and article.id == "art_129-1"
    assert [c.kind for c in article.children] == ["paragraph", "paragraph", "note"]
    report = check_elements(root, "129¹", lang="tk")
    by_status = statuses(report)
    assert all(by_status[m] == "broader" for m in ("means.force", "means.threat"))
    assert {"zorluk", "haýbat"} <= {e.text.split()[0] for e in report.aggravating}
    assert by_status["form.forced_labour"] == "present"
    assert by_status["form.slavery"] == "present"


# --- redlines --------------------------------------------------------------------------

BEFORE = """# Article 225

Trafficking in persons is the act, in exchange for remuneration or any other benefit or a promise of remuneration, of recruiting a person, transporting, transferring, harbouring or receiving that person, to place that person at the disposal of a third party in order to commit against that person offences of procuring or sexual assault.

Trafficking in persons is punished by seven years' imprisonment and a fine of 150 000 Euros.
"""

AFTER = """# Article 225

I. - Trafficking in persons is the act of recruiting a person, transporting, transferring, harbouring or receiving that person for the purpose of exploitation in one of the following circumstances:

1° By threat, coercion or violence against the victim;

2° By a person who has authority over the victim;

3° By abuse of a situation of vulnerability;

4° In exchange for remuneration or any other benefit or a promise of remuneration.

Exploitation is the act of placing the victim at the disposal of a third party in order to commit against the victim offences of procuring or sexual assault, reduction to slavery or forced labour.

Trafficking in persons is punished by seven years' imprisonment and a fine of 150 000 €.

II. - Trafficking in a minor is committed even outside the circumstances in 1° to 4° of I.
"""


def test_rewritten_article_redline_marks_only_what_changed() -> None:
    comparison = compare_structures(parse_text(BEFORE), parse_text(AFTER))
    (pair,) = comparison.pairs
    assert pair.status == "amended"
    inserted = " ".join(op.b for op in pair.ops if op.op in ("insert", "replace"))
    deleted = " ".join(op.a for op in pair.ops if op.op in ("delete", "replace"))
    moved_from = [op for op in pair.ops if op.op == "moved_from"]
    moved_to = [op for op in pair.ops if op.op == "moved_to"]
    # The remuneration condition moved into 4°, and is shown as moved, not deleted.
    assert moved_from and "remuneration or any other benefit" in moved_from[0].a
    assert moved_from[0].where == "4°"
    assert moved_to and "remuneration or any other benefit" in moved_to[0].b
    assert "remuneration or any other benefit" not in deleted
    for words in (
        "By threat, coercion or violence",
        "By abuse of a situation",
        "reduction to slavery",
    ):
        assert words in inserted
    assert "Trafficking in a minor is committed" in inserted
    assert "Euros" in deleted and "€" in inserted
    # Unchanged words are not marked.
    for words in ("recruiting a person", "sexual assault", "seven years' imprisonment"):
        assert words not in inserted and words not in deleted
    # Each point starts its own line, marked with its number.
    lines = [op.a for op in pair.ops if op.newline]
    assert lines[:2] == ["I. -", "1°"] and "II. -" in lines


def test_compare_output_is_legible_without_colour(tmp_path: Path) -> None:
    before, after = tmp_path / "before.md", tmp_path / "after.md"
    before.write_text(BEFORE, encoding="utf-8")
    after.write_text(AFTER, encoding="utf-8")
    code, out = run_kb("compare", str(before), str(after), "--html", str(tmp_path / "r.html"))
    assert code == 0, out
    assert "A: before.md (en)" in out and "B: after.md (en)" in out
    assert "[-Euros.-] {+€.+}" in out
    assert "(moved to 4°)" in out
    assert "\n1° {+By threat" in out
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<br>" in page and "moved to 4°" in page and 'name="viewport"' in page


def test_article_found_in_a_whole_code_compares_its_visible_text() -> None:
    code = parse_text(RU_CODE)
    comparison = compare_structures(code, parse_text(RU_ARTICLE_SITE), a_lang="ru", b_lang="ru")
    assert [(p.status, p.a_ids, p.b_ids) for p in comparison.pairs] == [
        ("matched", ["chp_17__art_127.1"], ["art_127.1"])
    ]
    assert comparison.excerpt == {"side": "b", "provisions": 1, "others": 2}
    amended = RU_ARTICLE_SITE.replace(
        "г) в целях изъятия",
        "д) с публичной демонстрацией, в том числе в сети;\n\nг) в целях изъятия",
    ).replace("д) с публичной", "г) с публичной", 1)
    amended = RU_ARTICLE_SITE.replace(
        "в) с применением насилия или с угрозой его применения;",
        "в) с применением насилия или с угрозой его применения;\n\nг) с публичной демонстрацией;",
    ).replace("г) в целях изъятия", "д) в целях изъятия")
    comparison = compare_structures(code, parse_text(amended), a_lang="ru", b_lang="ru")
    (pair,) = comparison.pairs
    assert pair.status == "amended"
    inserted = [op.b for op in pair.ops if op.op in ("insert", "moved_to")]
    assert inserted == ["с публичной демонстрацией;"]


def test_editions_differing_only_in_links_and_emphasis_are_unchanged() -> None:
    plain = (
        "## Article 12. Liability\n\nThe offences under art. 273a and article 5 bis are punished "
        "as provided in *this* Code.\n\n## Article 13. Entry into force\n\nThis Law enters into force.\n"
    )
    linked = (
        "## Article 12. Liability\n\nThe offences under [art. 273a](https://example.org/273a) and "
        '<a href="/art5bis">article 5 bis</a> are punished as provided in _this_ Code.\n\n'
        "## Article 13. Entry into force\n\nThis Law enters into force.\n"
    )
    data = comparison_to_dict(compare_structures(parse_text(plain), parse_text(linked)))
    assert data["summary"] == {"matched": 2}
    assert all(not pair["ops"] for pair in data["pairs"])


def test_the_index_keeps_the_tree_that_elements_reads_from_the_file(tmp_path: Path) -> None:
    """`kb build` saves, for a local law file, the tree `kb elements FILE` reads."""
    import json

    from kb.home import paths
    from kb.ingest.commit import _save_structure
    from kb.ingest.pipeline import document_from_path
    from kb.legal.files import parse_law_file
    from kb.legal.units import structure_to_dict
    from kb.store import Store

    law = tmp_path / "ru-code.txt"
    law.write_text(RU_CODE, encoding="utf-8")
    doc = document_from_path(law)
    doc.doctype = "legislation"
    store_path = paths(tmp_path).store
    store_path.parent.mkdir(parents=True, exist_ok=True)
    with Store(store_path) as store:
        store.save_document(doc)
        _save_structure(store, store.db, doc)
        store.db.commit()
        saved = store.load_artifact(doc.id, "structure")
    assert saved == structure_to_dict(parse_law_file(law))
    from_file = json.loads(run_kb("elements", f"{law}#127.1", "--json")[1])
    from_store = json.loads(
        run_kb("elements", f"{doc.id}#127.1", "--json", "--home", str(tmp_path))[1]
    )
    assert from_file["unit"] == from_store["unit"] == "chp_17__art_127.1"
    assert from_file["elements"] == from_store["elements"]


def test_statute_headings_as_legislation_sites_print_them() -> None:
    text = (
        "MODERN SLAVERY ACT 2031\n\n"
        "1Slavery, servitude and forced labour\n"
        "(1) A person commits an offence if the person holds another person in slavery.\n"
        "2Human trafficking\n"
        "(1) A person commits an offence if the person arranges the travel of another person.\n"
        "(2) It is irrelevant whether V consents to the travel.\n"
        "3.—(1) For the purposes of section 2 a person is exploited only if one of these apply.\n"
        "(2) Slavery, servitude and forced or compulsory labour.\n"
        "§ 4 Penalties\n"
        "(1) A person guilty of an offence is liable to imprisonment.\n"
    )
    root = parse_text(text)
    assert root.heading == "MODERN SLAVERY ACT 2031"
    sections = [(u.id, u.heading) for u in root.children]
    assert sections == [
        ("sec_1", "Slavery, servitude and forced labour"),
        ("sec_2", "Human trafficking"),
        ("sec_3", ""),
        ("sec_4", "Penalties"),
    ]
    assert find_unit(root, "Section 3(1)").text.startswith("For the purposes of section 2")
    assert find_unit(root, "§ 4(1)").text.startswith("A person guilty")
    assert (
        find_unit(root, "Section 2(2)").text == "It is irrelevant whether V consents to the travel."
    )


def test_bill_margin_line_numbers_are_not_text() -> None:
    pages = [
        "12. (1) Whoever recruits a person\n5\nfor the purpose of exploitation commits an offence.\n"
        "(2) Whoever transports a person\n10\nknowing of the exploitation commits an offence.",
        "13. Whoever harbours a victim\n5\ncommits an offence.\n14. This Act comes into force\n10\non its publication.",
    ]
    root = parse_pages(pages)
    assert find_unit(root, "12(1)").text == (
        "Whoever recruits a person for the purpose of exploitation commits an offence."
    )
    assert find_unit(root, "Section 14").text == "This Act comes into force on its publication."


def test_payments_as_one_means_among_others_is_broader_and_as_the_only_condition_partial() -> None:
    among = (
        "## 1. Trafficking\n\nWhoever recruits or transports a person by threat, force or "
        "inducement for the purpose of sexual exploitation commits trafficking.\n"
    )
    only = (
        "## 1. Trafficking\n\nWhoever, in exchange for a payment or any other benefit, recruits or "
        "transports a person for the purpose of sexual exploitation commits trafficking.\n"
    )
    first = {r.id: r for r in check_elements(parse_text(among), "1", lang="en").elements}
    assert first["means.payments"].status == "broader"
    assert "person having control" in first["means.payments"].reason
    second = {r.id: r for r in check_elements(parse_text(only), "1", lang="en").elements}
    assert second["means.payments"].status == "partial"
    assert second["means.threat"].status == "absent"


PENAL_CODE_370 = """## 370. Trafficking of person

(1) Whoever, for the purpose of exploitation, recruits, transports, harbours, transfers, or receives a person, by—
First.—using threats, or
Secondly.—using force, or any other form of coercion, or
Thirdly.—by abduction, or
Fourthly.—by practising fraud, or deception, or
Fifthly.—by abuse of power, or
Sixthly.—by inducement, including the giving or receiving of payments or benefits, in order to achieve the consent of any person having control over the person recruited,
commits the offence of trafficking.

Explanation 1.—The expression "exploitation" shall include any act of physical exploitation or any form of sexual exploitation, slavery or practices similar to slavery, servitude, or the forced removal of organs.

Explanation 2.—The consent of the victim is immaterial in determination of the offence of trafficking.

(2) Whoever commits the offence of trafficking shall be punished with imprisonment. Where the offence involves the trafficking of a minor, the punishment is higher.
"""


def test_penal_code_definition_with_ordinal_means_and_explanations() -> None:
    report = check_elements(parse_text(PENAL_CODE_370), lang="en")
    by = {r.id: r for r in report.elements}
    assert report.unit == "sec_370"
    for means in MEANS:
        expected = "absent" if means == "means.abuse_of_vulnerability" else "present"
        assert by[means].status == expected, means
    assert {"payments", "having control"} <= {e.text for e in by["means.payments"].evidence}
    assert by["form.practices_similar_to_slavery"].status == "present"
    assert by["form.removal_of_organs"].status == "present"
    assert by["form.forced_labour"].status == "partial"  # "physical exploitation"
    assert by["form.prostitution_of_others"].status == "partial"  # within sexual exploitation
    assert "sexual exploitation" in by["form.prostitution_of_others"].reason
    assert by["rule.consent_irrelevant"].status == "present"


def test_a_built_law_pdf_s_tree_is_parsed_in_the_build_not_in_the_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tree saved by `kb build` is the one `kb elements FILE` reads, parsed where the
    document is built (worker processes in a large run), not in the run's commits."""
    import kb.ingest.sequence
    import kb.legal.files
    from kb.ingest.sequence import run_ingest
    from kb.legal.files import parse_law_file
    from kb.legal.units import structure_to_dict
    from kb.store import Store

    laws = tmp_path / "laws"
    laws.mkdir()
    law = _gazette_pdf(laws / "act.pdf")
    expected = structure_to_dict(parse_law_file(law))

    stage = ["before"]
    reads: list[str] = []
    real_parse, real_commit = kb.legal.files.parse_law_file, kb.ingest.sequence.commit_outcomes

    def parse(path: Path) -> object:
        reads.append(stage[0])
        return real_parse(path)

    def commit(*args: object, **kwargs: object) -> object:
        stage[0] = "commit"
        try:
            return real_commit(*args, **kwargs)
        finally:
            stage[0] = "between commits"

    monkeypatch.setattr(kb.legal.files, "parse_law_file", parse)
    monkeypatch.setattr(kb.ingest.sequence, "commit_outcomes", commit)
    manifest = tmp_path / "sources.toml"
    manifest.write_text('[[source]]\nfolder = "laws"\ndoctype = "legislation"\n', "utf-8")
    home = tmp_path / "home"
    changes = run_ingest(home, sources=manifest)
    assert changes.documents["added"] == 1 and not changes.failures
    with Store(home / "kb.sqlite") as store:
        (doc_id,) = store.document_ids()
        assert store.load_artifact(doc_id, "structure") == expected
    assert reads == ["before"]  # once, while the document was built
