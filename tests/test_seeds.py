"""The five scraped pages in shared/seeds: every article paragraph kept, every boilerplate line
gone, and the right title, outlet, date and language."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from storyline.ingest.readers import read_inputs
from storyline.pipeline import Pipeline
from storyline.settings import Settings

KYIV = ZoneInfo("Europe/Kyiv")
CRAWLED = datetime(2022, 1, 1, 12, 0, tzinfo=KYIV)

# id -> (title, outlet, published, language, paragraphs by their first words)
EXPECTED = {
    "000_18365f23880e082f": (
        ("Байден підтримав ідею двосторонніх контактів США з РФ, роботу Ради Росія-НАТО, "
         "контакти РФ з ОБСЄ"),
        "Інтерфакс-Україна", datetime(2021, 12, 31, 6, 50, tzinfo=KYIV), "uk",
        ["Президент США Джо Байден під час", '"Президент Байден також висловив',
         '"Президент Байден повторив', "Про плани провести телефонну розмову",
         "У свою чергу телеканал CNN", "Це вже друга розмова Байдена"],
    ),
    "001_4bfb422e0ae3431f": (
        "Главная тема - вопросы безопасности.", "Lenta.UA", None, "ru",
        ["Главная тема - вопросы безопасности.", "США созывают переговоры",
         "«Надеемся, что к пятнице", "Президент США намерен снизить",
         "Глава Белого дома также отметил", "7 декабря Байден в преддверии",
         "Напомним, президент России", "7 декабря на фоне сообщений",
         "Видеоконференция была закрытой"],
    ),
    "002_116033f1b7b679cc": (
        "Раньше, чем думали: Путин и Байден проведут переговоры 30 декабря", "Сегодня", None,
        "ru",
        ["Переговоры будут в преддверии", "Перед встречей запланированы переговоры",
         "Телефонный разговор президента США", "Администрация американского лидера",
         '"Администрация Байдена продолжает', "Также переговоры подтвердил",
         '"Президент США в разговоре с Путиным', "Переговоры Россия – НАТО",
         "Глава МИД РФ Сергей Лавров", "Министр обороны Литвы", "23 декабря президент РФ"],
    ),
    "003_8ab916facf85dbb5": (
        "США — за діалог з Росією, про можливі контакти Путіна та Байдена оголошувати рано",
        "Інтерфакс-Україна", datetime(2021, 12, 2, 19, 21, tzinfo=KYIV), "uk",
        ["Адміністрація США виступає за діалог", '"Важко нас звинуватити',
         '"Ми регулярно підтримуємо контакти', "При цьому вона зазначила",
         "Псакі, відповідаючи на запитання", "Раніше в четвер глава МЗС РФ",
         '"Ми хочемо, щоб домовленості', "Президент Росії Володимир Путін напередодні"],
    ),
    "004_49fd28c3542652b2": (
        "Байден має намір терміново провести переговори з Путіним через Україну", "Главред",
        datetime(2021, 12, 2, 17, 50, tzinfo=KYIV), "uk",
        ["США готові працювати з Росією", "Президент США Джо Байден найближчим часом",
         "Про це повідомив держсекретар", "Блінкен за підсумками зустрічей",
         "За його словами, США готові", "Крім того, Блінкен підкреслив",
         "Як раніше повідомляли, в Білому домі", "Зустріч Байдена і Путіна",
         "Прессекретар Кремля Дмитро Пєсков", "Спікер Кремля Пєсков 18 листопада"],
    ),
}

# Lines of site furniture from each page, none of which may survive as article text.
BOILERPLATE = {
    "000_18365f23880e082f": ["1 хв читати", "ЩЕ ЗА ТЕМОЮ", "ОСТАННЄ", "РЕКЛАМА",
                             "UKR.NET- новини з усієї України",
                             "Американська DFC оголосила", "Глава ОВА просить одеситів",
                             "06:50 31.12.2021", "Інтерфакс-Україна"],
    "001_4bfb422e0ae3431f": ["Підписуйтеcь на наш Telegram-канал", "Фото: Укринформ",
                             "Читайте также:", "Ирина КостюченкоНовости", "11:55 06 сен 2025.",
                             "Оккупанты ударили по железной дороге",
                             "Украинские дети вернулись домой"],
    "002_116033f1b7b679cc": ["Далее по теме", "Зеленскому позвонили из Белого дома",
                             "Вчера, 20:07", "В прокуратуре подтвердили",
                             "Все готовы к диалогу о НАТО", "По материалам: Сегодня",
                             "Раньше, чем думали:"],
    "003_8ab916facf85dbb5": ["2 хв читати", "ЩЕ ЗА ТЕМОЮ", "ОСТАННЄ", "В Україну повернули тіла",
                             "Міносвіти: 44,4 тис.", "ЄС до 1 січня 2027 року", "РЕКЛАМА",
                             "19:21 02.12.2021"],
    "004_49fd28c3542652b2": ["Байден Путін", "Байден і Путін / Reuters", "читайте також",
                             "Читайте також:", "Якщо ви помітили помилку", "Наші стандарти",
                             "Реклама", "Останні новини", "Ми використовуемо cookies",
                             "Прийняти", "2 грудня 2021, 17:50"],
}


@pytest.fixture(scope="module")
def articles(seeds):
    pipeline = Pipeline(Settings(crawled_at=CRAWLED))
    return {a.id: a for a in pipeline.run(read_inputs([str(seeds)], crawled_at=CRAWLED))}


def test_every_seed_becomes_an_article(articles):
    assert sorted(articles) == sorted(EXPECTED)
    assert all(hasattr(a, "paragraphs") for a in articles.values()), articles


@pytest.mark.parametrize("article_id", sorted(EXPECTED))
def test_metadata(articles, article_id):
    title, source, published, lang, _ = EXPECTED[article_id]
    art = articles[article_id]
    assert art.title == title
    assert art.source == source
    assert art.published == published
    if published is not None:
        assert art.published.utcoffset() == published.utcoffset()
    assert art.lang == lang


@pytest.mark.parametrize("article_id", sorted(EXPECTED))
def test_every_article_paragraph_is_kept_in_order(articles, article_id):
    starts = EXPECTED[article_id][4]
    paragraphs = [p.text for p in articles[article_id].paragraphs]
    assert len(paragraphs) == len(starts), paragraphs
    for paragraph, start in zip(paragraphs, starts, strict=True):
        assert paragraph.startswith(start)


@pytest.mark.parametrize("article_id", sorted(EXPECTED))
def test_no_boilerplate_line_survives(articles, article_id):
    art = articles[article_id]
    for line in BOILERPLATE[article_id]:
        assert not any(p.text.startswith(line) for p in art.paragraphs), line
    # and everything dropped is accounted for, with the rule that dropped it
    assert all(rule for _, rule in art.removed)


@pytest.mark.parametrize("article_id", sorted(EXPECTED))
def test_paragraph_languages(articles, article_id):
    art = articles[article_id]
    long = [p for p in art.paragraphs if len(p.text) > 80]
    assert long and all(p.lang == art.lang for p in long)


def test_nothing_is_lost(articles, seeds):
    """Each input line is either article text, the title, or a removed line with its rule."""
    for article_id, art in articles.items():
        raw_lines = [ln.strip() for ln in (seeds / f"{article_id}.txt").read_text().splitlines()
                     if ln.strip()]
        accounted = [p.text for p in art.paragraphs] + [text for text, _ in art.removed]
        assert sorted(accounted) == sorted(raw_lines)
