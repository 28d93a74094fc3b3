
import pytest

from seed_pages import seed_article
from storyline.model import Paragraph
from storyline.nlp.entities import entity_key, extract_entities
from storyline.nlp.quotes import extract_quotes


def quotes_of(article):
    entities = extract_entities(article.paragraphs, article.lang, article.title)
    return extract_quotes(article.paragraphs, article.lang, entities)


def test_seed_003_quotes_attributed_to_psaki_and_lavrov(seeds):
    quotes = quotes_of(seed_article(seeds, "003"))
    psaki, lavrov = entity_key("Psaki", "PER", "en"), entity_key("Lavrov", "PER", "en")
    by_start = {q.text.split()[0]: q.speaker_key for q in quotes}
    assert by_start["Важко"] == psaki  # "- сказала вона": the pronoun points back to Псакі
    assert by_start["Ми"] in {psaki, lavrov}
    speakers = [q.speaker_key for q in quotes]
    assert speakers.count(psaki) >= 2 and speakers.count(lavrov) >= 1


def test_seed_002_quote_attributed_to_emily_horne(seeds):
    quotes = quotes_of(seed_article(seeds, "002"))
    assert entity_key("Emily Horne", "PER", "en") in {q.speaker_key for q in quotes}


def test_seed_000_quote_attributed_to_white_house(seeds):
    quotes = quotes_of(seed_article(seeds, "000"))
    assert "white-house" in {q.speaker_key for q in quotes}


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        ('"We are not going to negotiate in public," Biden said on Tuesday.', "Biden"),
        ('"There is nothing to announce about the call yet," said press secretary Jen Psaki.', "Psaki"),
        ('Foreign minister Sergei Lavrov said: "The West must give us legal guarantees now."', "Lavrov"),
        ('According to Psaki, "the talks will continue next week in Geneva".', "Psaki"),
    ],
)
def test_english_attribution(text, speaker):
    quotes = extract_quotes([Paragraph(text, "en")], "en")
    assert [q.speaker_key for q in quotes] == [entity_key(speaker, "PER", "en")]


def test_short_quoted_names_are_not_quotes():
    text = 'Компанія «Нафтогаз» підписала угоду з "Газпромом", повідомив Юрій Вітренко.'
    assert extract_quotes([Paragraph(text, "uk")], "uk") == []


def test_unattributed_quote_keeps_no_speaker():
    quotes = extract_quotes([Paragraph("Weather: «rain and wind all over the country today».", "en")], "en")
    assert len(quotes) == 1 and quotes[0].speaker is None and quotes[0].speaker_key is None


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        # a capitalised English title is not part of the name: the key is the one uk/ru share
        (('Turkish Deputy Foreign Minister Mehmet Yardim played down the setback. '
         '"The differences are about money, not about goals," he said.'), "Мехмет Ярдим"),
        (('"Bucharest cannot take on risks that others should cover," Transport Minister Andrei '
         'Popescu said.'), "Андрей Попеску"),
        # a title before a town and a name belongs to the name, not the town
        (("«Вода еще прибывает. Никакое имущество не стоит жизни», — заявил городской голова "
         "Мукачево Андрей Балог."), "Андрій Балог"),
    ],
)
def test_titles_lead_to_the_person(text, speaker):
    lang = "ru" if "Вода" in text else "en"
    quotes = extract_quotes([Paragraph(text, lang)], lang)
    assert [q.speaker_key for q in quotes] == [entity_key(speaker, "PER", "uk")]


def test_the_outlet_in_a_dateline_is_not_the_next_quote_s_speaker():
    from storyline.model import Article, RawDocument
    from storyline.nlp.analyse import Analyser

    paragraphs = [
        "KYIV, Oct 15 (Harbour Line) - Talks on Black Sea shipping ended without a joint statement.",
        '"We are ready to pay our share of the insurance pool," she told reporters.',
    ]
    article = Article(id="a", raw=RawDocument(id="a", format="text", content="", origin="a"),
                      source="Harbour Line", lang="en", paragraphs=[Paragraph(p, "en") for p in paragraphs])
    Analyser()(article)
    assert [q.speaker for q in article.quotes] == [None]
    assert {e.type for e in article.entities if e.text == "Harbour Line"} == {"ORG"}
