"""The domain vocabulary: its data, and finding mentions across English, Russian and Turkmen."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

from kb.errors import KBError
from kb.tagging.vocab import LANGS, VocabularyError, load_vocabulary, read_vocabulary, tk_stems


@pytest.fixture(scope="module")
def vocab():
    return load_vocabulary()


def ids(vocab, text: str) -> list[str]:
    return [m.id for m in vocab.find(text)]


def test_every_entry_has_labels_in_three_languages(vocab) -> None:
    entries = vocab.entries()
    assert len(entries) >= 100
    kinds = {e.kind for e in entries}
    assert kinds == {"organisation", "government", "place", "legal", "topic"}
    for entry in entries:
        assert set(entry.labels) == set(LANGS), entry.id


def test_every_term_finds_its_own_entry_and_no_other(vocab) -> None:
    # Two entries sharing a term would make tags and query expansion ambiguous.
    for entry in vocab.entries():
        for term in vocab.terms(entry.id):
            assert vocab.lookup(term) == [entry.id], (entry.id, term)


def test_russian_case_endings(vocab) -> None:
    text = "Сотрудники Министерства внутренних дел и Генеральной прокуратуры помогают жертвам торговли людьми."
    assert ids(vocab, text) == [
        "gov.ministry_interior",
        "gov.prosecutor_general",
        "topic.victims",
    ]
    matches = vocab.find("выявление жертв торговли людьми")
    assert [(m.id, m.text) for m in matches] == [
        ("topic.victim_identification", "выявление жертв торговли людьми")
    ]


def test_turkmen_suffixes(vocab) -> None:
    text = (
        "Içeri işler ministrliginiň işgärleri Aşgabatda adam söwdasynyň pidalaryna kömek "
        "etmek barada Daşoguz welaýatynyň häkimligi bilen gürleşdiler."
    )
    found = [(m.id, m.text) for m in vocab.find(text)]
    assert ("gov.ministry_interior", "Içeri işler ministrliginiň") in found
    assert ("place.ashgabat", "Aşgabatda") in found
    assert ("topic.direct_assistance", "adam söwdasynyň pidalaryna kömek") in found
    assert ("place.dashoguz", "Daşoguz welaýatynyň") in found


def test_turkmen_stems_share_a_reading() -> None:
    assert "turkmenistan" in tk_stems("Türkmenistanyň") & tk_stems("Türkmenistan")
    assert tk_stems("Aşgabady") & tk_stems("Aşgabat")
    assert tk_stems("pidalary") & tk_stems("pidasy")


def test_english_plurals_spellings_and_hyphens(vocab) -> None:
    assert ids(vocab, "assistance to trafficking victims in shelters") == [
        "topic.victims",
        "topic.shelter",
    ]
    assert ids(vocab, "labor exploitation") == ["topic.labour_exploitation"]
    assert ids(vocab, "a survivor centered approach") == ["topic.survivor_centred"]
    assert ids(vocab, "gender- and age-sensitive approach") == ["topic.gender_age_sensitive"]
    assert ids(vocab, "the Prosecutor’s General Office") == ["gov.prosecutor_general"]
    assert ids(vocab, "Ministry of the Interior") == ["gov.ministry_interior"]


@pytest.mark.parametrize(
    "text",
    [
        "Article 129-1",
        "art. 129-1",
        "статья 129¹",
        "статьи 129-1",
        "129-1-nji madda",
        "Article 129–1",
    ],
)
def test_criminal_code_article_129_1_in_its_written_forms(vocab, text: str) -> None:
    assert ids(vocab, f"see {text} of the Code") == ["legal.cc_129_1"]


def test_article_129_alone_is_not_129_1(vocab) -> None:
    assert "legal.cc_129_1" not in ids(vocab, "Article 129 of the Criminal Code")


def test_abbreviations_match_only_as_written(vocab) -> None:
    assert ids(vocab, "MoI and PGO staff identified VoTs") == [
        "gov.ministry_interior",
        "gov.prosecutor_general",
        "topic.victims",
    ]
    assert ids(vocab, "a useful tip for moi") == []  # "tip" and "moi" are words, not TIP and MoI
    assert ids(vocab, "МВД и ОБСЕ") == ["gov.ministry_interior", "org.osce"]


def test_words_that_are_also_other_things(vocab) -> None:
    assert ids(vocab, "from Mary, Balkan and Akhal velayats") == [
        "place.mary",
        "place.balkan",
        "place.ahal",
    ]
    assert ids(vocab, "migrants crossing the Balkans") == ["topic.migration"]


def test_longest_mention_wins_and_punctuation_splits(vocab) -> None:
    assert ids(vocab, "financed by the Ministry of Foreign Affairs of Norway") == ["org.norway_mfa"]
    assert ids(vocab, "the Ministry of Foreign Affairs") == ["gov.ministry_foreign_affairs"]
    assert ids(vocab, "identification of victims of human trafficking") == [
        "topic.victim_identification"
    ]
    assert "topic.labour_exploitation" not in ids(vocab, "labour, exploitation")
    # A term with a comma of its own still matches.
    assert ids(vocab, "подход, ориентированный на пострадавших") == ["topic.survivor_centred"]


def test_match_offsets_point_at_the_words(vocab) -> None:
    text = "Training for the State Border Service in Turkmenbashi."
    for match in vocab.find(text):
        assert text[match.start : match.end] == match.text
    assert [m.text for m in vocab.find(text)] == ["State Border Service", "Turkmenbashi"]


def test_lookup_for_query_expansion(vocab) -> None:
    assert vocab.lookup("идентификация жертв") == ["topic.victim_identification"]
    assert vocab.lookup("Human Trafficking") == ["topic.trafficking_in_persons"]
    assert vocab.lookup("adam söwdasy") == ["topic.trafficking_in_persons"]
    assert vocab.lookup("iom") == ["org.iom"]  # abbreviations ignore case here
    assert vocab.lookup("ministry") == []
    assert vocab.lookup("") == []


def test_terms_per_language(vocab) -> None:
    assert vocab.terms("topic.trafficking_in_persons", "ru")[0] == "торговля людьми"
    assert vocab.terms("topic.trafficking_in_persons", "tk")[0] == "adam söwdasy"
    everything = vocab.terms("place.balkan")
    assert "Balkan velayat" in everything and "Balkan" in everything  # no "=" marker
    assert vocab.entry("org.iom").label == "International Organization for Migration"


def test_unknown_id_is_a_user_error(vocab) -> None:
    with pytest.raises(KBError, match=re.escape("unknown vocabulary id 'org.nothing'")):
        vocab.entry("org.nothing")


def test_loading_is_cached() -> None:
    assert load_vocabulary() is load_vocabulary()


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('kind = "topic"\n[[entry]\n', "not valid TOML"),
        ('kind = "animals"\n', "'kind' must be one of"),
        ('kind = "topic"\n[[entry]]\nen = ["x"]\n', "id must look like"),
        ('kind = "topic"\n[[entry]]\nid = "org.x"\nen = ["x"]\n', "start with 'topic.'"),
        ('kind = "topic"\n[[entry]]\nid = "topic.x"\nru = ["икс"]\n', "English term"),
        ('kind = "topic"\n[[entry]]\nid = "topic.x"\nen = ["x"]\nfr = ["x"]\n', "unknown field"),
        ('kind = "topic"\n[[entry]]\nid = "topic.x"\nen = ["=two words"]\n', "must be one word"),
    ],
)
def test_bad_vocabulary_files_say_what_and_where(
    tmp_path: Path, content: str, message: str
) -> None:
    folder = write(tmp_path / "vocab", "topics.toml", content)
    with pytest.raises(VocabularyError, match=message) as error:
        read_vocabulary(folder)
    assert "topics.toml" in str(error.value)


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    entry = '[[entry]]\nid = "topic.x"\nen = ["x"]\n'
    folder = write(tmp_path / "vocab", "a.toml", 'kind = "topic"\n' + entry)
    write(folder, "b.toml", 'kind = "topic"\n' + entry)
    with pytest.raises(VocabularyError, match=re.escape("already defined in a.toml")):
        read_vocabulary(folder)


def test_a_small_custom_vocabulary(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "vocab",
        "topics.toml",
        'kind = "topic"\n[[entry]]\nid = "topic.hotline"\nen = ["hotline", "helpline"]\n'
        'ru = ["горячая линия"]\ntk = ["ynam telefony"]\n',
    )
    custom = load_vocabulary(folder)
    assert [m.id for m in custom.find("Позвоните на горячую линию or the helplines")] == [
        "topic.hotline",
        "topic.hotline",
    ]
    assert custom.terms("topic.hotline", "en") == ["hotline", "helpline"]


def test_pickled_vocabulary_matches_the_same_and_drops_its_caches(vocab) -> None:
    # The search index stores a pickled copy of the vocabulary.
    vocab.find("Министерство внутренних дел")
    copy = pickle.loads(pickle.dumps(vocab))
    assert copy._info_cache == {} and copy._result_cache == {}
    assert [m.id for m in copy.find("Министерства внутренних дел")] == ["gov.ministry_interior"]
