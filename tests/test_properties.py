"""Properties of ingest, export and clustering over generated multilingual corpora (hypothesis):

(a) ingesting the same inputs twice changes nothing: every article "unchanged", the same export;
(b) `export --format jsonl` ingested into a fresh store gives the same articles and, with the
    same settings, the same event and story partition;
(c) the order of the inputs within one run does not change the partition (distinct times).

Articles are drawn from a small pool of real-looking uk/ru/en sentences on a few topics, so that
they form events and stories across languages; the lexical embedder keeps each example fast."""

from __future__ import annotations

import io
import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storyline.export import export_articles
from storyline.ingest.run import ingest
from storyline.settings import Settings
from storyline.store import open_store

# min_chars low: three short sentences are an article here; too_short is tested elsewhere.
SETTINGS = Settings(embedder="lexical", crawled_at=datetime(2025, 5, 1, 12, tzinfo=UTC),
                    min_chars=80)
START = datetime(2025, 3, 1, 8, tzinfo=UTC)
PROPERTY = settings(max_examples=20, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

SENTENCES = {
    "bridges": {
        "uk": ["Уряд України ухвалив рішення про відбудову мостів у Харківській області.",
               "Роботи почнуться навесні, фінансування передбачено в державному бюджеті.",
               ("Міністр інфраструктури Олександр Кубраков сказав, що першими відновлять мости "
               "на трасі до Ізюма."),
               "Підрядників оберуть через відкриті торги на платформі Prozorro.",
               "Місцева влада Харкова просить прискорити ремонт переправи через Сіверський Донець."],
        "ru": [("Правительство Украины приняло решение о восстановлении мостов в Харьковской "
               "области."),
               "Работы начнутся весной, финансирование предусмотрено в государственном бюджете.",
               ("Министр инфраструктуры Александр Кубраков сказал, что первыми восстановят мосты "
               "на трассе до Изюма."),
               "Подрядчиков выберут через открытые торги на платформе Prozorro.",
               "Местные власти Харькова просят ускорить ремонт переправы через Северский Донец."],
        "en": ["The Ukrainian government approved the rebuilding of bridges in the Kharkiv region.",
               "Work will start in spring and is funded from the state budget.",
               ("Infrastructure minister Oleksandr Kubrakov said the bridges on the road to Izium "
               "would be rebuilt first."),
               "Contractors will be chosen in open tenders on the Prozorro platform.",
               ("Local authorities in Kharkiv asked for faster repairs of the Siverskyi Donets "
               "crossing.")],
    },
    "talks": {
        "uk": ["Президент США Джо Байден і Володимир Путін провели відеопереговори у вівторок.",
               "Розмова тривала дві години і стосувалася ситуації на кордоні з Україною.",
               "Байден попередив Путіна про жорсткі економічні санкції у разі вторгнення.",
               "У Кремлі заявили, що розмова була відвертою і діловою.",
               "Радник з нацбезпеки Джейк Салліван пообіцяв поінформувати союзників у НАТО."],
        "ru": ["Президент США Джо Байден и Владимир Путин провели видеопереговоры во вторник.",
               "Разговор длился два часа и касался ситуации на границе с Украиной.",
               "Байден предупредил Путина о жестких экономических санкциях в случае вторжения.",
               "В Кремле заявили, что разговор был откровенным и деловым.",
               ("Советник по нацбезопасности Джейк Салливан пообещал проинформировать союзников "
               "по НАТО.")],
        "en": ["US President Joe Biden and Vladimir Putin held a video call on Tuesday.",
               ("The conversation lasted two hours and focused on the situation at the border "
               "with Ukraine."),
               "Biden warned Putin of tough economic sanctions in case of an invasion.",
               "The Kremlin said the conversation was frank and businesslike.",
               "National security adviser Jake Sullivan promised to brief NATO allies."],
    },
    "grain": {
        "uk": ["Уряд оголосив про нові заходи підтримки експортерів зерна цього року.",
               ("Мита знизять з першого числа наступного місяця, а квоти розподілять між "
               "регіонами."),
               "Міністр аграрної політики заявив, що врожай пшениці буде вищим за минулорічний.",
               "Порти Одеси збільшили перевалку кукурудзи на третину.",
               "Трейдери очікують зростання цін на ячмінь восени."],
        "ru": ["Правительство объявило о новых мерах поддержки экспортёров зерна в этом году.",
               ("Пошлины снизят с первого числа следующего месяца, а квоты распределят между "
               "регионами."),
               ("Министр сельского хозяйства заявил, что урожай пшеницы окажется выше "
               "прошлогоднего."),
               "Порты Новороссийска увеличили перевалку кукурузы на треть.",
               "Трейдеры ожидают роста цен на ячмень осенью."],
        "en": ["The government announced new support for grain exporters this year.",
               ("Duties will be cut from the first day of next month and quotas split between "
               "regions."),
               "The agriculture minister said the wheat harvest would beat last year's.",
               "Ports increased their corn shipments by a third.",
               "Traders expect barley prices to rise in the autumn."],
    },
}
OUTLETS = ["Гомін", "Новостной Меридиан", "Pontic Dispatch", "Інтерфакс-Україна"]


@st.composite
def articles(draw, min_size: int = 2, max_size: int = 7) -> list[dict]:
    """Records with distinct ids and distinct publication times, in generation order."""
    count = draw(st.integers(min_size, max_size))
    hours = draw(st.lists(st.integers(0, 24 * 30), min_size=count, max_size=count, unique=True))
    out = []
    for number, hour in enumerate(hours):
        topic = draw(st.sampled_from(sorted(SENTENCES)))
        lang = draw(st.sampled_from(["uk", "ru", "en"]))
        picked = draw(st.lists(st.sampled_from(SENTENCES[topic][lang]), min_size=3, max_size=5,
                               unique=True))
        cut = draw(st.integers(1, len(picked) - 1))
        text = " ".join(picked[:cut]) + "\n\n" + " ".join(picked[cut:])
        # A headline shorter than the lead: a paragraph equal to the title is dropped as a repeat.
        title = " ".join(picked[0].split()[:7]).rstrip(".,")
        record = {"id": f"a{number:02d}", "title": title, "text": text,
                  "source": draw(st.sampled_from(OUTLETS)),
                  "published": (START + timedelta(hours=hour)).isoformat()}
        if draw(st.booleans()):
            record["lang"] = lang
        out.append(record)
    return out


@st.composite
def mixed_inputs(draw) -> list[tuple[str, dict]]:
    """The same records, each written as a JSON Lines record, a text page or an HTML page."""
    return [(draw(st.sampled_from(["record", "text", "html"])), record)
            for record in draw(articles())]


def write_inputs(folder: Path, inputs: list[tuple[str, dict]]) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    for kind, record in inputs:
        if kind == "record":
            records.append(json.dumps(record, ensure_ascii=False))
        elif kind == "text":
            (folder / f"{record['id']}.txt").write_text(
                f"{record['source']}\n{record['title']}\n\n{record['text']}\n", encoding="utf-8")
        else:
            paragraphs = "".join(f"<p>{p}</p>" for p in record["text"].split("\n\n"))
            (folder / f"{record['id']}.html").write_text(
                f"<html><head><title>{record['title']}</title>"
                f'<meta property="article:published_time" content="{record["published"]}">'
                f'<meta property="og:site_name" content="{record["source"]}"></head>'
                f"<body><article><h1>{record['title']}</h1>{paragraphs}</article></body></html>",
                encoding="utf-8")
    if records:
        (folder / "feed.jsonl").write_text("\n".join(records) + "\n", encoding="utf-8")
    return [str(folder)]


def export_jsonl(url: str) -> bytes:
    buffer = io.BytesIO()
    with open_store(url) as store:
        export_articles(store, "jsonl", buffer)
    return buffer.getvalue()


def partition(url: str) -> tuple[frozenset, frozenset]:
    """Events and stories as sets of article-id sets: what clustering decided, not its names."""
    events: dict[str, set] = {}
    stories: dict[str, set] = {}
    with open_store(url) as store:
        for article in store.iter_articles():
            events.setdefault(article.event_id, set()).add(article.id)
            stories.setdefault(article.story_id, set()).add(article.id)
    return (frozenset(frozenset(x) for x in events.values()),
            frozenset(frozenset(x) for x in stories.values()))


def _fields(url: str) -> dict[str, tuple]:
    with open_store(url) as store:
        return {a.id: (a.title, a.text, a.source, a.published, a.lang)
                for a in store.iter_articles()}


def _ingest(paths: list[str], url: str):
    with open_store(url) as store:
        return ingest(paths, store, SETTINGS)


@PROPERTY
@given(inputs=mixed_inputs())
def test_ingesting_twice_changes_nothing(inputs):
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_inputs(Path(tmp) / "in", inputs)
        url = f"sqlite:///{tmp}/s.db"
        first = _ingest(paths, url)
        assert first.total_rejected == 0, first.line()
        exported = export_jsonl(url)
        second = _ingest(paths, url)
        assert dict(second.counts) == {"unchanged": len(inputs)}, second.line()
        assert export_jsonl(url) == exported


@PROPERTY
@given(records=articles())
def test_export_then_ingest_gives_the_same_articles_and_partition(records):
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_inputs(Path(tmp) / "in", [("record", r) for r in records])
        first, second = f"sqlite:///{tmp}/a.db", f"sqlite:///{tmp}/b.db"
        _ingest(paths, first)
        exported = Path(tmp) / "export.jsonl"
        exported.write_bytes(export_jsonl(first))
        summary = _ingest([str(exported)], second)
        assert summary.total_rejected == 0, summary.line()
        assert _fields(second) == _fields(first)
        assert partition(second) == partition(first)


@PROPERTY
@given(data=st.data(), records=articles(min_size=3, max_size=8))
def test_input_order_within_a_run_does_not_change_the_partition(data, records):
    shuffled = data.draw(st.permutations(records))
    with tempfile.TemporaryDirectory() as tmp:
        urls = []
        for name, order in (("given", records), ("shuffled", shuffled)):
            paths = write_inputs(Path(tmp) / name, [("record", r) for r in order])
            urls.append(f"sqlite:///{tmp}/{name}.db")
            _ingest(paths, urls[-1])
        assert partition(urls[1]) == partition(urls[0])
