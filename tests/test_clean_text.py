"""Plain-text page cleaning on pages written for these tests (uk, ru, en site templates)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from storyline.clean.boilerplate import strip_boilerplate
from storyline.clean.rules import load_rules, normalise
from storyline.clean.text import clean_page

KYIV = ZoneInfo("Europe/Kyiv")
CRAWLED = datetime(2025, 3, 14, 9, 30, tzinfo=KYIV)

P1 = ("Уряд затвердив програму відновлення мостів у трьох областях, повідомила міністерка "
      "інфраструктури Олена Коваль під час брифінгу в Києві.")
P2 = ("За її словами, перші роботи почнуться вже у квітні, а фінансування надійде з фонду "
      "відбудови та від міжнародних партнерів.")
P3_READ_ALSO_INSIDE = ("Експерти радять читайте також звіти попередніх років, адже тоді "
                       "програма вже виконувалася лише частково, нагадала Коваль.")


def page(*lines: str) -> str:
    return "\n\n".join(lines)


def test_relative_header_date_is_resolved_against_crawl_time():
    text = page("Вечірній Дніпро", "Вчора, 20:07", "Уряд затвердив програму відновлення мостів",
                P1, P2)
    result = clean_page(text, crawled_at=CRAWLED)
    assert result.published == datetime(2025, 3, 13, 20, 7, tzinfo=KYIV)
    assert result.source == "Вечірній Дніпро"
    assert result.title == "Уряд затвердив програму відновлення мостів"
    assert result.paragraphs == [P1, P2]


def test_read_also_inside_a_sentence_is_article_text():
    text = page("Мости відновлять до зими", P1, P3_READ_ALSO_INSIDE,
                "Читайте також: Коваль відвідала Харків", P2)
    result = clean_page(text)
    assert result.paragraphs == [P1, P3_READ_ALSO_INSIDE, P2]
    assert ("Читайте також: Коваль відвідала Харків", "read_also") in result.removed


def test_list_dates_are_never_the_article_date():
    text = page("Мости відновлять до зими", P1, P2, "Останні новини",
                "У Львові відкрили новий міст", "12:40", "Курс гривні не змінився", "11:05")
    result = clean_page(text, crawled_at=CRAWLED)
    assert result.published is None
    assert result.paragraphs == [P1, P2]


def test_date_after_title_and_lead_is_the_header_date():
    text = page("Мости відновлять до зими", "Програма коштуватиме 4 мільярди гривень",
                "13 березня 2025, 18:45", P1, P2)
    result = clean_page(text)
    assert result.published == datetime(2025, 3, 13, 18, 45, tzinfo=KYIV)
    assert result.paragraphs == ["Програма коштуватиме 4 мільярди гривень", P1, P2]


EN_PAGE = """Northern Ledger
March 13, 2025, 6:45 PM
Grain corridor talks resume in Istanbul
4 min read
Grain corridor talks resume in Istanbul
Negotiators from both sides returned to the table on Thursday, officials said, after a week of
deadlock over inspection rules for cargo ships.
Photo: Reuters
"We are closer than we were a month ago," said the mediator, Olena Koval.
Advertisement
Sign up for our newsletter. Subscribe to the Northern Ledger newsletter on Telegram channel LedgerDaily
Read also: Shipping insurers raise Black Sea premiums
The next round is expected in early April, according to a statement released late in the day.
Related
Markets rally on rate decision
2 hours ago
Flood waters recede in river city
5 hours ago
We use cookies to improve your experience. Accept
Accept
""".replace("\nof\n", " of ").replace("of\ndeadlock", "of deadlock")


def test_english_template():
    result = clean_page(EN_PAGE, crawled_at=CRAWLED)
    assert result.title == "Grain corridor talks resume in Istanbul"
    assert result.source == "Northern Ledger"
    assert result.published == datetime(2025, 3, 13, 18, 45, tzinfo=KYIV)
    texts = result.paragraphs
    assert texts[0].startswith("Negotiators from both sides")
    assert texts[1].startswith('"We are closer')
    assert texts[2].startswith("The next round is expected")
    assert len(texts) == 3, texts


@pytest.mark.parametrize("line,rule", [
    ("РЕКЛАМА", "ad"),
    ("3 хв читати", "reading_time"),
    ("5 мин чтения", "reading_time"),
    ("Фото: Укрінформ", "photo_credit"),
    ("Ми використовуємо cookies для покращення роботи сайту", "cookie"),
    ("Підписуйтесь на наш Telegram-канал Новини Дніпра", "source:subscribe"),
    ("Теги: мости, відбудова", "tags"),
    ("Поділитися", "share"),
])
def test_single_line_rules(line, rule):
    kept, removed = strip_boilerplate([P1, line, P2])
    assert kept == [P1, P2]
    assert removed == [(line, rule)]


def test_latin_look_alikes_inside_cyrillic_words_are_normalised_for_matching():
    assert normalise("Підписуйтеcь  на\u00a0канал") == "Підписуйтесь на канал"
    assert normalise("Lenta.UA") == "Lenta.UA"


def test_rules_are_data_and_load_once():
    assert load_rules() is load_rules()
    assert any(name == "cookie" for name, _ in load_rules().drop)
