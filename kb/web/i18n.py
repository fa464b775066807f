"""Interface text in English, Russian and Turkmen.

The interface language is chosen by `?ui=` in the URL (remembered in a cookie),
then the cookie, then the browser's Accept-Language. Document text is never
translated: only the words of the interface are. English and Russian live here, a
pair per message; Turkmen in `kb.web.i18n_tk` (a test checks that every message
has all three).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

UI_LANGUAGES: tuple[str, ...] = ("en", "ru", "tk")
DEFAULT_UI = "en"
UI_COOKIE = "kb_ui"

_MONTHS: dict[str, tuple[str, str]] = {
    f"month.{n}": pair
    for n, pair in enumerate(
        [
            ("January", "январь"),
            ("February", "февраль"),
            ("March", "март"),
            ("April", "апрель"),
            ("May", "май"),
            ("June", "июнь"),
            ("July", "июль"),
            ("August", "август"),
            ("September", "сентябрь"),
            ("October", "октябрь"),
            ("November", "ноябрь"),
            ("December", "декабрь"),
        ],
        start=1,
    )
}

# The elements of the international definition of trafficking (compare page).
_ELEMENT_NAMES: dict[str, tuple[str, str]] = {
    "act.recruitment": ("recruitment", "вербовка"),
    "act.transportation": ("transportation", "перевозка"),
    "act.transfer": ("transfer", "передача"),
    "act.harbouring": ("harbouring", "укрывательство"),
    "act.receipt": ("receipt", "получение"),
    "means.threat": ("threat (of force)", "угроза (силой)"),
    "means.force": ("use of force", "применение силы"),
    "means.coercion": ("other forms of coercion", "другие формы принуждения"),
    "means.abduction": ("abduction", "похищение"),
    "means.fraud": ("fraud", "мошенничество"),
    "means.deception": ("deception", "обман"),
    "means.abuse_of_power": ("abuse of power", "злоупотребление властью"),
    "means.abuse_of_vulnerability": (
        "abuse of a position of vulnerability",
        "использование уязвимости положения",
    ),
    "means.payments": (
        "giving or receiving payments or benefits to achieve the consent of a person having control over another",
        "подкуп в виде платежей или выгод для получения согласия лица, контролирующего другое лицо",
    ),
    "form.prostitution_of_others": (
        "exploitation of the prostitution of others",
        "эксплуатация проституции других лиц",
    ),
    "form.sexual_exploitation": (
        "other forms of sexual exploitation",
        "другие формы сексуальной эксплуатации",
    ),
    "form.forced_labour": ("forced labour or services", "принудительный труд или услуги"),
    "form.slavery": ("slavery", "рабство"),
    "form.practices_similar_to_slavery": (
        "practices similar to slavery",
        "обычаи, сходные с рабством",
    ),
    "form.servitude": ("servitude", "подневольное состояние"),
    "form.removal_of_organs": ("removal of organs", "изъятие органов"),
    "rule.consent_irrelevant": (
        "the victim's consent is irrelevant where a means was used",
        "согласие жертвы не принимается во внимание, если использовано любое из средств",
    ),
    "rule.child_no_means": (
        "child (under 18): act and purpose suffice, no means needed",
        "ребёнок (до 18 лет): достаточно действия и цели, средства не нужны",
    ),
    "rule.no_transnationality_required": (
        "no border crossing (transnationality) required",
        "пересечение границы (транснациональность) не требуется",
    ),
    "rule.no_organised_group_required": (
        "no organised criminal group required",
        "участие организованной преступной группы не требуется",
    ),
    "rule.attempt": ("attempt is punishable", "покушение наказуемо"),
    "rule.complicity": ("participation as an accomplice is punishable", "соучастие наказуемо"),
    "rule.organising": (
        "organising or directing others to commit it is punishable",
        "организация или руководство совершением наказуемы",
    ),
    "extra.sale": ("sale of a person", "купля-продажа человека"),
    "extra.purchase": ("purchase of a person", "покупка человека"),
    "extra.other_transactions": (
        "other transactions in respect of a person",
        "иные сделки в отношении человека",
    ),
    "extra.other_acts": (
        "any other act (open list of acts)",
        "любые иные действия (открытый перечень)",
    ),
    "extra.forced_begging": ("forced begging", "принуждение к попрошайничеству"),
    "extra.criminal_activity": (
        "involvement in criminal activity",
        "вовлечение в преступную деятельность",
    ),
    "extra.forced_marriage": ("forced marriage", "принудительный брак"),
    "extra.illegal_adoption": ("illegal adoption", "незаконное усыновление"),
    "extra.debt_bondage": ("debt bondage", "долговая кабала"),
    "extra.human_tissues": (
        "removal of tissues (beyond organs)",
        "изъятие тканей (помимо органов)",
    ),
    "extra.degrading_conditions": (
        "working or living conditions contrary to human dignity",
        "условия труда или жизни, унижающие человеческое достоинство",
    ),
    "extra.placing_at_disposal": (
        "placing the person at the disposal of a third party",
        "предоставление человека в распоряжение третьих лиц",
    ),
}
_ELEMENTS = {f"element.{key}": pair for key, pair in _ELEMENT_NAMES.items()}

# One entry per message: English first, then Russian. `{name}` fields are filled by `t()`.
MESSAGES: dict[str, tuple[str, str]] = {
    "site.title": (
        "Counter-trafficking knowledge base",
        "База знаний по противодействию торговле людьми",
    ),
    "site.office": ("IOM Turkmenistan and partners", "МОМ в Туркменистане и партнёры"),
    "nav.search": ("Search", "Поиск"),
    "nav.documents": ("Documents", "Документы"),
    "nav.compare": ("Compare laws", "Сравнение законов"),
    "nav.status": ("Status", "Состояние"),
    "nav.api": ("API", "API"),
    "nav.language": ("Interface language", "Язык интерфейса"),
    "nav.skip": ("Skip to content", "Перейти к содержанию"),
    "nav.skip_results": ("Skip to the results", "Перейти к результатам"),
    # search
    "search.label": ("Search the knowledge base", "Поиск по базе знаний"),
    "search.placeholder": (
        "e.g. indicators of labour exploitation",
        "например: признаки трудовой эксплуатации",
    ),
    "search.button": ("Search", "Найти"),
    "search.hint": (
        'Words in English, Russian or Turkmen; "exact phrases" in quotes; article numbers such as 129-1.',
        "Слова на английском, русском или туркменском; «точные фразы» в кавычках; номера статей, например 129-1.",
    ),
    "search.examples": ("Try", "Попробуйте"),
    "search.total": (
        "{total} sections in {documents} documents",
        "Разделов: {total}, документов: {documents}",
    ),
    "search.none": (
        "No sections match “{query}”. Try fewer words, another language, or remove a filter.",
        "По запросу «{query}» ничего не найдено. Попробуйте меньше слов, другой язык или снимите фильтр.",
    ),
    "search.did_you_mean": ("Did you mean", "Возможно, вы имели в виду"),
    "search.expansion": (
        "“{text}” names {label}: also searched for it in other words and languages ({n})",
        "«{text}» означает «{label}»: искали также другими словами и на других языках ({n})",
    ),
    "search.corrected": (
        "No sections match “{query}”; showing the results for “{searched}”.",
        "По запросу «{query}» ничего не найдено; показаны результаты для «{searched}».",
    ),
    "search.relaxed": (
        "Sections marked “some words” match only some of the words of the query.",
        "Разделы с пометкой «часть слов» содержат только часть слов запроса.",
    ),
    "search.partial": ("some words", "часть слов"),
    "search.more_in_doc": (
        "{n} more sections in this document",
        "Ещё разделов в этом документе: {n}",
    ),
    "search.cite": ("Cite", "Ссылка"),
    "search.filters_active": ("{n} active", "активных: {n}"),
    "cite.copy": ("Copy citation", "Скопировать ссылку"),
    "cite.copied": ("Citation copied", "Ссылка скопирована"),
    "cite.page": ("p. {page}", "с. {page}"),
    "cite.pages": ("pp. {first}–{last}", "с. {first}–{last}"),
    "cite.section": ("section {number}", "раздел {number}"),
    "cite.page_heading": ("Page {page}", "Страница {page}"),
    "search.filters": ("Filters", "Фильтры"),
    "search.remove_filter": ("remove filter", "снять фильтр"),
    "search.clear_filters": ("Clear all filters", "Снять все фильтры"),
    "search.any": ("any", "любой"),
    "search.apply": ("Apply", "Применить"),
    "search.sections_in_doc": ("{n} matching sections", "Совпадающих разделов: {n}"),
    "search.open_section": ("Open section", "Открыть раздел"),
    "search.page_of": ("Page {page} of {pages}", "Страница {page} из {pages}"),
    "search.previous": ("Previous", "Назад"),
    "search.next": ("Next", "Далее"),
    "search.sort": ("Sort", "Сортировка"),
    "search.sort.relevance": ("relevance", "по релевантности"),
    "search.sort.date": ("newest first", "сначала новые"),
    "facet.type": ("Type", "Тип"),
    "facet.lang": ("Language", "Язык"),
    "facet.year": ("Year", "Год"),
    "facet.tag": ("Mentions", "Упоминания"),
    "facet.doc": ("Document", "Документ"),
    # documents
    "docs.title": ("Documents", "Документы"),
    "docs.count": ("{n} documents", "Документов: {n}"),
    "docs.none": ("The knowledge base has no documents yet.", "В базе знаний пока нет документов."),
    "doc.source": ("Source", "Источник"),
    "doc.open_original": ("Open the original", "Открыть оригинал"),
    "doc.type": ("Type", "Тип"),
    "doc.language": ("Language", "Язык"),
    "doc.languages": ("Contains", "Содержит"),
    "doc.date": ("Date", "Дата"),
    "doc.pages": ("Pages", "Страниц"),
    "doc.sections": ("Sections", "Разделы"),
    "doc.contents": ("Contents", "Содержание"),
    "doc.also_at": ("Same content also at", "То же содержание также в"),
    "doc.entities": ("Mentions", "Упоминания"),
    "doc.facts": ("Facts", "Факты"),
    "doc.highlighting": (
        "Words of “{query}” are highlighted.",
        "Слова запроса «{query}» выделены.",
    ),
    "doc.back_to_results": ("Back to the results", "Назад к результатам"),
    "doc.similar": ("Similar sections", "Похожие разделы"),
    "doc.similar_link": ("similar sections", "похожие разделы"),
    "doc.similar_none": ("No similar sections found.", "Похожих разделов не найдено."),
    "doc.page_link": ("PDF page {page}", "Страница PDF {page}"),
    "doc.untitled": ("(opening text)", "(вводный текст)"),
    "doc.compare_with": ("Compare with another law", "Сравнить с другим законом"),
    "doc.repealed": (
        "This law was repealed by a later law.",
        "Этот закон утратил силу: его заменил более поздний закон.",
    ),
    "doc.read_in_force": ("Read the law in force", "Читать действующий закон"),
    "doc.editions": ("Other editions and languages", "Другие редакции и языки"),
    "doc.compare": ("compare", "сравнить"),
    "status.in_force": ("in force", "действует"),
    "status.repealed": ("repealed", "утратил силу"),
    "doc.top": ("Back to top", "Наверх"),
    "doc.citation": ("Cite this section", "Ссылка на раздел"),
    "doc.contents_link": ("contents", "содержание"),
    "doc.cite_document": ("Cite this document", "Ссылка на документ"),
    "fact.donor": ("Donor", "Донор"),
    "fact.partner": ("Partners", "Партнёры"),
    "fact.project_title": ("Project", "Проект"),
    "fact.project_id": ("Project id", "Номер проекта"),
    "fact.period": ("Period", "Период"),
    "fact.budget": ("Budget", "Бюджет"),
    "fact.trained_count": ("People trained", "Обучено человек"),
    # compare
    "compare.title": ("Compare two legal texts", "Сравнение двух правовых текстов"),
    "compare.intro": (
        "Pick two editions of a law, two language versions, or a law and an international instrument.",
        "Выберите две редакции закона, две языковые версии или закон и международный документ.",
    ),
    "compare.first": ("First text (A)", "Первый текст (A)"),
    "compare.second": ("Second text (B)", "Второй текст (B)"),
    "compare.button": ("Compare", "Сравнить"),
    "compare.show_all": ("Show unchanged articles too", "Показывать и неизменённые статьи"),
    "compare.none": (
        "There are no laws or instruments in the knowledge base to compare.",
        "В базе знаний нет законов или международных документов для сравнения.",
    ),
    "compare.summary": ("Summary", "Итог"),
    "compare.mode.redline": (
        "Same language: word-level changes, deleted words struck through, inserted words underlined.",
        "Один язык: изменения по словам, удалённые слова зачёркнуты, добавленные подчёркнуты.",
    ),
    "compare.mode.parallel": (
        "Two languages: aligned by structure and numbers, side by side (no word-level changes).",
        "Два языка: выравнивание по структуре и номерам, тексты рядом (без пословных изменений).",
    ),
    "compare.changes": ("Changes", "Изменения"),
    "compare.similarity": ("similarity {value}", "сходство {value}"),
    "compare.hidden_matched": (
        "{n} unchanged articles are hidden.",
        "Скрыто неизменённых статей: {n}.",
    ),
    "compare.elements": (
        "Definition of trafficking: elements",
        "Определение торговли людьми: элементы",
    ),
    "compare.elements_intro": (
        "Each element of the Palermo Protocol's definition, as found in each text.",
        "Каждый элемент определения Палермского протокола и его наличие в каждом тексте.",
    ),
    "compare.element": ("Element", "Элемент"),
    "compare.evidence": ("Words found", "Найденные слова"),
    "compare.same_document": ("Pick two different texts.", "Выберите два разных текста."),
    "status.matched": ("unchanged", "без изменений"),
    "status.aligned": ("aligned", "сопоставлена"),
    "status.amended": ("amended", "изменена"),
    "status.renumbered": ("renumbered", "перенумерована"),
    "status.split": ("split", "разделена"),
    "status.merged": ("merged", "объединена"),
    "status.added": ("added", "добавлена"),
    "status.removed": ("removed", "исключена"),
    "status.structure_differs": ("structure differs", "структура различается"),
    "status.present": ("present", "есть"),
    "status.partial": ("partial", "частично"),
    "status.absent": ("absent", "нет"),
    "status.broader": ("broader", "шире"),
    "status.unknown": ("unknown", "неизвестно"),
    "status.extra": ("beyond the Protocol", "сверх Протокола"),
    # status page
    "ops.title": ("Ingest status", "Состояние загрузки"),
    "ops.next_run": ("Next scheduled run", "Следующий запуск по расписанию"),
    "ops.no_schedule": (
        "No nightly run is scheduled: set one up with `kb schedule`.",
        "Ночной запуск не запланирован: настройте его командой `kb schedule`.",
    ),
    "ops.runs": ("Last ingest runs", "Последние загрузки"),
    "ops.no_runs": (
        "No ingest has run yet: run `kb build`.",
        "Загрузка ещё не запускалась: выполните `kb build`.",
    ),
    "ops.run": ("Run {id}", "Запуск {id}"),
    "ops.started": ("started", "начат"),
    "ops.finished": ("finished", "завершён"),
    "ops.state": ("state", "состояние"),
    "ops.sources": ("Sources", "Источники"),
    "ops.documents": ("Documents", "Документы"),
    "ops.changed": ("What changed", "Что изменилось"),
    "ops.nothing_changed": ("Nothing changed.", "Изменений нет."),
    "ops.failures": ("Failures", "Ошибки"),
    "ops.no_failures": ("No failures.", "Ошибок нет."),
    "ops.new": ("new", "новый"),
    "ops.updated": ("updated", "обновлён"),
    "ops.removed": ("removed", "удалён"),
    "ops.articles": (
        "articles added: {added}; removed: {removed}; amended: {amended}",
        "статьи добавлены: {added}; исключены: {removed}; изменены: {amended}",
    ),
    "ops.totals": (
        "{documents} documents, {sections} sections, {pages} PDF pages",
        "Документов: {documents}, разделов: {sections}, страниц PDF: {pages}",
    ),
    "ops.seen": ("seen", "просмотрено"),
    "ops.new_sources": ("new", "новых"),
    "ops.changed_sources": ("changed", "изменённых"),
    "ops.unchanged": ("unchanged", "без изменений"),
    "ops.removed_sources": ("removed", "удалённых"),
    "ops.failed": ("failed", "с ошибкой"),
    "ops.duplicate": ("duplicate", "дубликатов"),
    "ops.state.completed": ("completed", "завершён"),
    "ops.state.completed_with_failures": (
        "completed with {n} failures",
        "завершён, ошибок: {n}",
    ),
    "ops.duration": ("took {duration}", "длительность: {duration}"),
    "ops.times_in": ("Times are in {zone} time.", "Время указано по часовому поясу {zone}."),
    "ops.failing": ("Failing run after run", "Ошибки запуск за запуском"),
    "ops.failing_since": (
        "failed in the last {n} runs in a row, since {since}",
        "ошибка в последних {n} запусках подряд, с {since}",
    ),
    "ops.no_failing": (
        "No source failed in several runs in a row.",
        "Нет источников с ошибками в нескольких запусках подряд.",
    ),
    "ops.state.failed": ("failed", "ошибка"),
    "stage.fetch": ("fetch", "загрузка"),
    "stage.listing": ("listing page", "страница-перечень"),
    "stage.extract": ("text extraction", "извлечение текста"),
    "stage.segment": ("sections", "разбиение на разделы"),
    "stage.tag": ("tagging", "разметка"),
    "stage.run": ("the whole run", "весь запуск"),
    "ops.state.running": ("running", "выполняется"),
    "ops.state.interrupted": ("interrupted", "прерван"),
    "ops.sections": (
        "Sections: {added} added, {updated} updated, {removed} removed",
        "Разделы: добавлено {added}, обновлено {updated}, удалено {removed}",
    ),
    # errors
    "error.title": ("Something is not right", "Что-то пошло не так"),
    "error.not_found": ("Page not found", "Страница не найдена"),
    "error.back": ("Back to search", "Вернуться к поиску"),
    "error.no_page": ("There is no page at {path}.", "Страницы {path} нет."),
    "error.no_kb": (
        "The knowledge base is not built yet. Run `kb build`, then reload this page.",
        "База знаний ещё не построена. Выполните `kb build` и обновите страницу.",
    ),
    # labels
    "lang.en": ("English", "английский"),
    "lang.ru": ("Russian", "русский"),
    "lang.tk": ("Turkmen", "туркменский"),
    "lang.fr": ("French", "французский"),
    "lang.tr": ("Turkish", "турецкий"),
    "lang.az": ("Azerbaijani", "азербайджанский"),
    "lang.uz": ("Uzbek", "узбекский"),
    "lang.kk": ("Kazakh", "казахский"),
    "lang.uk": ("Ukrainian", "украинский"),
    "lang.de": ("German", "немецкий"),
    "lang.und": ("undetermined", "не определён"),
    "doctype.newsletter": ("Newsletter", "Информационный бюллетень"),
    "doctype.news": ("News item", "Новость"),
    "doctype.event_report": ("Event or training report", "Отчёт о мероприятии или тренинге"),
    "doctype.project_page": ("Project page", "Страница проекта"),
    "doctype.training_manual": ("Training manual", "Учебное пособие"),
    "doctype.legislation": ("Legislation", "Законодательство"),
    "doctype.action_plan": ("Action plan", "План действий"),
    "doctype.international_instrument": ("International instrument", "Международный документ"),
    "doctype.other": ("Other", "Другое"),
    # durations and months (dates are written in the reader's convention)
    "time.seconds": ("{s} s", "{s} с"),
    "time.minutes": ("{m} min {s} s", "{m} мин {s} с"),
    "time.hours": ("{h} h {m} min", "{h} ч {m} мин"),
    "time.zone.Asia/Ashgabat": ("Ashgabat", "Ашхабад"),
    **_MONTHS,
    **_ELEMENTS,
    "footer.print": (
        "Pages print without navigation; citations keep their page numbers.",
        "При печати навигация скрывается; ссылки сохраняют номера страниц.",
    ),
}

Translator = Callable[..., str]


def normalise_ui(value: str | None) -> str | None:
    """The UI language for `value` ("ru", "RU", "ru-RU"), or None if it is not one we have."""
    if not value:
        return None
    code = value.strip().lower().replace("_", "-").split("-", 1)[0]
    return code if code in UI_LANGUAGES else None


def choose_ui(
    query_value: str | None, cookie_value: str | None, accept_language: str | None
) -> str:
    """The URL wins (so a shared link shows what its sender saw), then the cookie, then the browser."""
    for candidate in (query_value, cookie_value):
        chosen = normalise_ui(candidate)
        if chosen:
            return chosen
    for part in (accept_language or "").split(","):
        chosen = normalise_ui(part.split(";", 1)[0])
        if chosen:
            return chosen
    return DEFAULT_UI


def translator(ui: str, messages: Mapping[str, tuple[str, str]] = MESSAGES) -> Translator:
    from kb.web.i18n_tk import TURKMEN

    column = ("en", "ru").index(ui) if ui in ("en", "ru") else 0

    def t(key: str, **fields: object) -> str:
        texts = messages.get(key)
        if texts is None:
            # A missing key shows itself rather than failing the page; a test checks none are missing.
            return key
        text = (TURKMEN.get(key) if ui == "tk" else texts[column]) or texts[0]
        return text.format(**fields) if fields else text

    return t


def label(t: Translator, prefix: str, value: str) -> str:
    """A translated label for a code ("doctype", "legislation"), or the code itself."""
    key = f"{prefix}.{value}"
    return t(key) if key in MESSAGES else value
