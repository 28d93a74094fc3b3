import pytest

from storyline.nlp.lemmas import english_lemma, lemma, lemmatise


@pytest.mark.parametrize(
    ("token", "lang", "expected"),
    [
        ("Путіна", "uk", "путін"),
        ("Путіним", "uk", "путін"),
        ("Байденом", "uk", "байден"),
        ("Лаврова", "uk", "лавров"),  # the surname, not the adjective "лавровий"
        ("Путина", "ru", "путин"),
        ("Пескова", "ru", "песков"),
        ("переговорах", "ru", "переговоры"),
        ("України", "uk", "україна"),
        ("НАТО", "uk", "нато"),
    ],
)
def test_lemma_prefers_names_for_capitalised_tokens(token, lang, expected):
    assert lemma(token, lang) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("Putin's", "putin"),
        ("talks", "talk"),
        ("parties", "party"),
        ("running", "run"),
        ("stopped", "stop"),
        ("said", "say"),
        ("boxes", "box"),
        ("crisis", "crisis"),
        ("was", "be"),
    ],
)
def test_english_lemma(word, expected):
    assert english_lemma(word) == expected


def test_lemmatise_drops_stop_words_numbers_and_punctuation():
    lemmas = lemmatise("Президент Росії Володимир Путін 30 грудня заявив, що він і Байден...", "uk")
    assert lemmas == ["президент", "росія", "володимир", "путін", "грудень", "заявити", "байден"]


def test_lemmatise_uses_script_when_language_is_missing_or_foreign():
    assert lemmatise("Putin met Biden", None) == ["putin", "meet", "biden"]
    assert "путин" in lemmatise("встреча Путина", "bg")


def test_lemmatise_english_text():
    assert lemmatise("The presidents said they were discussing NATO's guarantees.", "en") == [
        "president",
        "discuss",
        "nato",
        "guarantee",
    ]
