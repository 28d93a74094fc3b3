"""A synthetic news stream for benchmarks: real uk/ru/en article text, wrapped in the boilerplate
of invented outlets, written as .txt pages, .html pages and JSON Lines records.

    python benchmarks/corpus.py --n 3000 --out DIR [--seed 1] [--formats txt,html,jsonl]
                                [--dup-rate 0.05]

The text comes from the shared datasets at run time (never from this repository): BRUK press texts
(uk), BSNLP news (uk, ru) and WMT test sentences (en, consecutive sentences joined into articles).
When N exceeds the pool, texts come round again with another outlet, date, boilerplate and id
(``copy_of`` in the truth names the first article with that body). A share of articles are near
duplicates: the same text with a few words changed, from another outlet (``duplicate_of``).

Dates: by default each text keeps its own date (BSNLP's day, or a day of its year), so a large N
lands many copies of one pool on the same days: the stream gets denser as N grows. With
``--stream-rate R`` the articles instead follow a clock of R articles a day from 1 January 2021
(in order, hours at random within the day), as a newsroom's feed does: the density stays the same
whatever N, and N only lengthens the span. Scaling benchmarks use it to measure how cost grows
with the store, not with the density of the news.

Layout of DIR (only ``pages/`` is input; the rest describes it):

    pages/txt/000/<id>.txt    plain-text pages, 1000 per folder
    pages/html/000/<id>.html  HTML pages
    pages/records/records-000.jsonl   records, 10,000 per file

or, with ``--stream-rate``, in the order of the stream (a folder read in name order is read in
time order, within half a day):

    pages/0000/<id>.txt, <id>.html, records.jsonl   250 consecutive articles of all formats

The rest of DIR:

    truth.jsonl               per id: format, title, source, published, lang, body paragraph count
                              and hashes, duplicate_of, copy_of
    manifest.json             the parameters and counts; written last, so a corpus without it is
                              incomplete

Everything streams to disk: memory stays bounded by the text pools, whatever N is.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import random
import re
import shutil
import sys
import time
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "benchmarks" / "work"
DEFAULT_OUT = WORK / "corpus"
FORMATS = ("txt", "html", "jsonl")
# Scrapers mostly save page text; HTML pages and feed records are the minority.
FORMAT_WEIGHTS = {"txt": 0.70, "html": 0.15, "jsonl": 0.15}
FILES_PER_DIR = 1000
RECORDS_PER_FILE = 10_000
# A stream's folders hold consecutive articles: half a day at 500 a day.
STREAM_PER_DIR = 250
# Near duplicates are taken from this many recent originals (bounded memory at any N).
RECENT_ORIGINALS = 1000
KYIV = ZoneInfo("Europe/Kyiv")
MANIFEST_VERSION = 1
STREAM_START = date(2021, 1, 1)

# Pool texts shorter than this would be rejected as too short by any sensible pipeline.
MIN_BODY_CHARS = 400
MAX_PARAGRAPHS = 40
# Paragraphs longer than this (BSNLP keeps many articles as one line) are cut into runs of
# sentences, the way outlets print them.
LONG_PARAGRAPH = 700
SENTENCES_PER_PARAGRAPH = 3
WMT_SENTENCES_PER_DOC = 12
_SENTENCE_END = re.compile(r"(?<=[.!?…»\"])\s+(?=[«\"“A-ZА-ЯІЇЄҐЁ0-9])")
_WORD = re.compile(r"\w{4,}")


def shared_dir() -> Path:
    """The shared data folder: beside the repository, or where STORYLINE_SHARED says."""
    return Path(os.environ.get("STORYLINE_SHARED", REPO.parent / "shared"))


def datasets_dir() -> Path:
    return shared_dir() / "datasets"


# -- text pools ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PoolText:
    key: str  # dataset:row, for provenance in the truth file
    lang: str
    title: str
    paragraphs: tuple[str, ...]
    year: int | None = None
    day: date | None = None


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
# A headline is this long; dataset rows whose "title" is a sentence of body text are left out.
TITLE_CHARS = range(20, 161)


def fold(text: str) -> str:
    """White space folded, invisible characters gone."""
    return " ".join(text.translate(_INVISIBLE).split())


def _headline(text: str) -> str:
    """A dataset title as an outlet prints it: one line, no closing full stop."""
    title = fold(text)
    return title[:-1].rstrip() if title.endswith(".") and not title.endswith("..") else title


def _paragraphs(text: str, title: str) -> tuple[str, ...]:
    out: list[str] = []
    for raw in text.splitlines():
        para = fold(raw)
        if not para or para.casefold() == title.casefold():
            continue
        if len(para) <= LONG_PARAGRAPH:
            out.append(para)
            continue
        sentences = _SENTENCE_END.split(para)
        for i in range(0, len(sentences), SENTENCES_PER_PARAGRAPH):
            out.append(" ".join(sentences[i:i + SENTENCES_PER_PARAGRAPH]))
    return tuple(out[:MAX_PARAGRAPHS])


def _usable(title: str, paragraphs: Sequence[str]) -> bool:
    return (len(title) in TITLE_CHARS and len(paragraphs) >= 2
            and sum(map(len, paragraphs)) >= MIN_BODY_CHARS)


def _jsonl(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def load_bruk(path: Path) -> list[PoolText]:
    texts = []
    for i, row in enumerate(_jsonl(path)):
        title = _headline(row.get("title") or "")
        paras = _paragraphs(row.get("text") or "", title)
        year = int(row["year"]) if str(row.get("year") or "").isdigit() else None
        if _usable(title, paras):
            texts.append(PoolText(f"bruk:{i}", "uk", title, paras, year=year))
    return texts


def load_bsnlp(path: Path) -> list[PoolText]:
    texts = []
    for i, row in enumerate(_jsonl(path)):
        title = _headline(row.get("title") or "")
        paras = _paragraphs(row.get("text") or "", title)
        day = None
        if row.get("date"):
            try:
                day = datetime.fromisoformat(row["date"]).date()
            except ValueError:
                day = None
        year = day.year if day else int(row.get("bsnlp_year") or 2018)
        if row.get("lang") in ("uk", "ru") and _usable(title, paras):
            texts.append(PoolText(f"bsnlp:{i}", row["lang"], title, paras, year=year, day=day))
    return texts


def load_wmt(paths: Sequence[Path]) -> list[PoolText]:
    """English articles from WMT test sentences: one doc_id's sentences where the set has doc ids,
    else runs of consecutive lines. The first sentence is the headline."""
    texts = []
    for path in paths:
        groups: dict[str, list[str]] = {}
        order: list[str] = []
        for i, row in enumerate(_jsonl(path)):
            sentence = fold(row.get("en") or "")
            if not sentence:
                continue
            doc = row.get("doc_id")
            key = f"doc:{doc}" if doc else f"run:{i // WMT_SENTENCES_PER_DOC}"
            if key not in groups:
                groups[key] = []
                order.append(key)
            groups[key].append(sentence)
        year = 2023 if "23" in path.name else 2022
        for key in order:
            sentences = groups[key]
            # The first headline-sized sentence is the title; the ones after it are the body.
            first = next((i for i, x in enumerate(sentences)
                          if len(_headline(x)) in TITLE_CHARS and x[:1].isupper()), None)
            if first is None:
                continue
            title = _headline(sentences[first])
            body = sentences[first + 1:]
            paras = tuple(" ".join(body[i:i + SENTENCES_PER_PARAGRAPH])
                          for i in range(0, len(body), SENTENCES_PER_PARAGRAPH))
            if _usable(title, paras):
                texts.append(PoolText(f"{path.stem}:{key}", "en", title, paras, year=year))
    return texts


def load_pools(datasets: Path | None = None) -> list[PoolText]:
    datasets = Path(datasets) if datasets else datasets_dir()
    if not datasets.is_dir():
        raise FileNotFoundError(f"datasets folder not found at {datasets}; set STORYLINE_SHARED")
    pools = load_bruk(datasets / "bruk" / "bruk_press.jsonl")
    pools += load_bsnlp(datasets / "bsnlp" / "bsnlp_dev_uk_ru.jsonl")
    pools += load_wmt(sorted((datasets / "wmt").glob("trilingual_*.jsonl")))
    return pools


# -- outlets and their boilerplate --------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Outlet:
    name: str
    lang: str
    style: str  # one of the renderers in STYLES
    domain: str


# Invented outlets. The style decides the page layout; PHRASES decides its words.
OUTLETS = (
    Outlet("Вісті Придніпров'я", "uk", "agency", "vistipr.example.ua"),
    Outlet("Новинар Полісся", "uk", "portal", "novynar-polissia.example.ua"),
    Outlet("Київська хвиля", "uk", "tabloid", "kyiv-khvylia.example.ua"),
    Outlet("Степ.UA", "uk", "feed", "step.example.ua"),
    Outlet("Подільський кур'єр", "uk", "wire", "podil-kurier.example.ua"),
    Outlet("Невский вестник", "ru", "agency", "nevsky-vestnik.example.ru"),
    Outlet("Восточный экспресс", "ru", "tabloid", "vost-express.example.ru"),
    Outlet("Юг.Инфо", "ru", "feed", "yug-info.example.ru"),
    Outlet("Харьковский обозреватель", "ru", "portal", "kh-obozr.example.ua"),
    Outlet("Northline Times", "en", "wire", "northline.example.com"),
    Outlet("Harbour Post", "en", "portal", "harbourpost.example.com"),
    Outlet("Eastgate Daily", "en", "agency", "eastgate.example.com"),
)

AGENCIES = ("Reuters", "AFP", "AP", "EPA", "Getty Images")
AUTHORS = {
    "uk": ("Ірина Коваленко", "Олег Мельник", "Марія Бондар"),
    "ru": ("Ирина Костюченко", "Олег Смирнов", "Анна Белова"),
    "en": ("Sarah Collins", "James Ward", "Emily Hart"),
}
MONTHS = {
    "uk": ("січня", "лютого", "березня", "квітня", "травня", "червня", "липня", "серпня",
           "вересня", "жовтня", "листопада", "грудня"),
    "ru": ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
           "сентября", "октября", "ноября", "декабря"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}
SHORT_MONTHS = {
    "uk": ("січ", "лют", "бер", "квіт", "трав", "черв", "лип", "серп", "вер", "жовт", "лист",
           "груд"),
    "ru": ("янв", "фев", "мар", "апр", "мая", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}
PHRASES = {
    "uk": {
        "read_time": "{n} хв читати", "ad": ("РЕКЛАМА", "Реклама"), "more": "ЩЕ ЗА ТЕМОЮ",
        "latest": ("ОСТАННЄ", "Останні новини"), "related": "Читайте також",
        "read_also": "Читайте також: {h}", "read_also_glued": "читайте також{h}",
        "cookie": "Ми використовуємо файли cookies, щоб сайт працював краще.",
        "accept": "Прийняти",
        "subscribe": "Підписуйтесь на наш Telegram-канал {o} - головні новини дня без зайвого",
        "newsletter": "Підпишіться на розсилку {o}: головне за день у вашій пошті",
        "photo": "Фото: {a}", "error": "Якщо ви помітили помилку, виділіть необхідний текст і "
        "натисніть Ctrl + Enter, щоб повідомити про це редакції.",
        "editorial": "Наші стандарти: Редакційна політика сайту {o}",
        "by_material": "За матеріалами: {o}", "yesterday": "Вчора", "at": "о",
        "news_label": "Новини", "home": "Головна", "sections": ("Політика", "Економіка", "Світ"),
    },
    "ru": {
        "read_time": "{n} мин чтения", "ad": ("РЕКЛАМА", "Реклама"), "more": "Далее по теме",
        "latest": ("ПОСЛЕДНЕЕ", "Последние новости"), "related": "Читайте также",
        "read_also": "Читайте также: {h}", "read_also_glued": "читайте также{h}",
        "cookie": "Мы используем cookies, чтобы сайт работал лучше.", "accept": "Принять",
        "subscribe": "Подписывайтесь на наш Telegram-канал {o} - только проверенные новости",
        "newsletter": "Подпишитесь на рассылку {o}: главное за день в вашей почте",
        "photo": "Фото: {a}", "error": "Если вы заметили ошибку, выделите необходимый текст и "
        "нажмите Ctrl + Enter, чтобы сообщить об этом редакции.",
        "editorial": "Наши стандарты: Редакционная политика сайта {o}",
        "by_material": "По материалам: {o}", "yesterday": "Вчера", "at": "в",
        "news_label": "Новости", "home": "Главная", "sections": ("Политика", "Экономика", "Мир"),
    },
    "en": {
        "read_time": "{n} min read", "ad": ("ADVERTISEMENT", "Advertisement"),
        "more": "More on this story", "latest": ("Latest news", "Most read"),
        "related": "Read also", "read_also": "Read also: {h}", "read_also_glued": "Read also{h}",
        "cookie": "We use cookies to give you the best experience on our website.",
        "accept": "Accept", "subscribe": "Follow us on our Telegram channel {o} - breaking news "
        "as it happens",
        "newsletter": "Subscribe to our newsletter: the {o} morning briefing in your inbox",
        "photo": "Photo: {a}", "error": "Spotted a mistake? Select the text and press "
        "Ctrl + Enter to tell the editors.",
        "editorial": "Our standards: editorial policy of {o}",
        "by_material": "Source: {o}", "yesterday": "Yesterday", "at": "at",
        "news_label": "News", "home": "Home", "sections": ("Politics", "Business", "World"),
    },
}


# -- one article --------------------------------------------------------------------------------

@dataclass(slots=True)
class ArticleSpec:
    id: str
    fmt: str
    lang: str
    title: str
    paragraphs: list[str]
    outlet: Outlet
    moment: datetime  # when the outlet published it
    pool_key: str
    duplicate_of: str | None = None
    copy_of: str | None = None
    others: list[str] = field(default_factory=list)  # other headlines for the lists

    @property
    def published_on_page(self) -> datetime | None:
        """The date the page itself states; the 'feed' layout prints none (only list times)."""
        return None if self.fmt == "txt" and self.outlet.style == "feed" else self.moment

    def truth(self) -> dict:
        published = self.published_on_page
        return {
            "id": self.id, "format": self.fmt, "title": self.title, "source": self.outlet.name,
            "published": published.isoformat() if published else None, "lang": self.lang,
            "body_paragraph_count": len(self.paragraphs),
            "body_hashes": [paragraph_hash(p) for p in self.paragraphs],
            "duplicate_of": self.duplicate_of, "copy_of": self.copy_of,
            "style": self.outlet.style if self.fmt == "txt" else self.fmt,
            "pool": self.pool_key,
        }


def paragraph_hash(text: str) -> str:
    """Short hash of a paragraph with white space folded: how the benchmark matches what the
    pipeline kept against what the generator wrote."""
    return hashlib.blake2b(fold(text).encode("utf-8"), digest_size=6).hexdigest()


def _date_numeric(m: datetime) -> str:
    return f"{m:%H:%M %d.%m.%Y}"


def _date_words(m: datetime, lang: str) -> str:
    month = MONTHS[lang][m.month - 1]
    if lang == "en":
        return f"{month} {m.day}, {m.year}, {m:%H:%M}"
    return f"{m.day} {month} {m.year}, {m:%H:%M}"


def _date_dotted(m: datetime, lang: str) -> str:
    return f"{m:%d.%m.%Y}, {PHRASES[lang]['at']} {m:%H:%M}" if lang != "en" else f"{m:%d.%m.%Y}, {m:%H:%M}"


def _list_time(rng: random.Random, m: datetime, lang: str, kind: int) -> str:
    later = m + timedelta(days=rng.randint(30, 900), minutes=rng.randint(0, 1440))
    if kind == 0:
        return f"{later:%H:%M}"
    if kind == 1:
        return f"{PHRASES[lang]['yesterday']}, {later:%H:%M}"
    return f"{later:%H:%M} {later.day:02d} {SHORT_MONTHS[lang][later.month - 1]} {later.year}."


# Each renderer returns the page's lines ("" for a blank line) in the manner of one of the seeds.

def _style_agency(spec: ArticleSpec, rng: random.Random) -> list[str]:
    p = PHRASES[spec.lang]
    lines = [spec.outlet.name, _date_numeric(spec.moment), "", spec.title, "",
             p["read_time"].format(n=rng.randint(1, 6)), spec.title, ""]
    for i, para in enumerate(spec.paragraphs):
        lines += [para, ""]
        if i == 1 and rng.random() < 0.5:
            lines += [p["ad"][0], ""]
        if i == 2 and spec.others and rng.random() < 0.5:
            lines += [p["read_also"].format(h=spec.others[0]), ""]
    lines += [" ", "", " ", "", p["more"], "", p["latest"][0], ""]
    for headline in spec.others[1:]:
        lines += [headline, ""]
    lines += [p["ad"][0], p["ad"][0], "", p["cookie"], p["accept"], "", p["ad"][0]]
    return lines


def _style_portal(spec: ArticleSpec, rng: random.Random) -> list[str]:
    p = PHRASES[spec.lang]
    agency = rng.choice(AGENCIES)
    words = re.findall(r"\w+", spec.title)  # a photo's alt text and caption: a few names
    lines = [spec.title, "", _date_words(spec.moment, spec.lang), spec.paragraphs[0],
             " ".join(words[:2]), f"{' '.join(words[:4])} / {agency}", ""]
    for i, para in enumerate(spec.paragraphs[1:], start=1):
        lines += [para, ""]
        if i == 2 and spec.others:
            lines += [p["read_also_glued"].format(h=spec.others[0]), ""]
    lines += [p["related"] + ":", "", p["error"], "", p["editorial"].format(o=spec.outlet.name),
              "", p["ad"][1], "", p["latest"][1], ""]
    for n, headline in enumerate(spec.others[1:5]):
        lines += [headline, _list_time(rng, spec.moment, spec.lang, n % 2), ""]
    lines += [p["ad"][1], p["ad"][1], p["cookie"], p["accept"]]
    return lines


def _style_tabloid(spec: ArticleSpec, rng: random.Random) -> list[str]:
    p = PHRASES[spec.lang]
    half = max(1, len(spec.paragraphs) // 2)
    lines = [spec.title, "", _date_dotted(spec.moment, spec.lang), ""]
    for para in spec.paragraphs[:half]:
        lines += [para, ""]
    lines += [spec.title, "", spec.title, "", p["more"], ""]
    for headline in spec.others[:3]:
        lines += [spec.title, "", headline, "", _list_time(rng, spec.moment, spec.lang, 1), ""]
    for para in spec.paragraphs[half:]:
        lines += [para, ""]
    lines += [p["by_material"].format(o=spec.outlet.name)]
    return lines


def _style_feed(spec: ArticleSpec, rng: random.Random) -> list[str]:
    """No date in the header and no blank lines: only the list below carries dates."""
    p = PHRASES[spec.lang]
    lines = ["", spec.title]
    for i, para in enumerate(spec.paragraphs):
        lines.append(para)
        if i == 1:
            lines.append(p["subscribe"].format(o=spec.outlet.name))
    lines.append(p["photo"].format(a=rng.choice(AGENCIES)))
    for headline in spec.others[:2]:
        lines.append(p["read_also"].format(h=headline))
    lines.append(rng.choice(AUTHORS[spec.lang]) + p["news_label"])
    for headline in spec.others[2:]:
        lines += [headline, _list_time(rng, spec.moment, spec.lang, 2)]
    return lines


def _style_wire(spec: ArticleSpec, rng: random.Random) -> list[str]:
    p = PHRASES[spec.lang]
    lines = [spec.outlet.name, _date_words(spec.moment, spec.lang), "", spec.title,
             p["read_time"].format(n=rng.randint(2, 9)), p["photo"].format(a=rng.choice(AGENCIES)),
             ""]
    for i, para in enumerate(spec.paragraphs):
        lines += [para, ""]
        if i == 1:
            lines += [p["ad"][1], ""]
        if i == 3 and spec.others:
            lines += [p["read_also"].format(h=spec.others[0]), ""]
    lines += [p["newsletter"].format(o=spec.outlet.name), "", p["latest"][0], ""]
    for headline in spec.others[1:6]:
        lines += [headline, _list_time(rng, spec.moment, spec.lang, 0), ""]
    lines += [p["cookie"], p["accept"], f"© {spec.moment.year} {spec.outlet.name}"]
    return lines


STYLES = {"agency": _style_agency, "portal": _style_portal, "tabloid": _style_tabloid,
          "feed": _style_feed, "wire": _style_wire}


def render_text(spec: ArticleSpec, rng: random.Random) -> str:
    return "\n".join(STYLES[spec.outlet.style](spec, rng)) + "\n"


def render_html(spec: ArticleSpec, rng: random.Random) -> str:
    p = PHRASES[spec.lang]
    e = html.escape
    iso = spec.moment.isoformat()
    nav = "".join(f'<a href="/{i}">{e(s)}</a> ' for i, s in enumerate(p["sections"]))
    body = []
    for i, para in enumerate(spec.paragraphs):
        body.append(f"<p>{e(para)}</p>")
        if i == 1:
            body.append(f'<div class="ad-slot">{e(p["ad"][0])}</div>')
        if i == 2 and spec.others:
            body.append(f'<p class="related">{e(p["related"])}: '
                        f'<a href="/news/{i}">{e(spec.others[0])}</a></p>')
    aside = "".join(f'<li><a href="/news/{n}">{e(h)}</a> <time>'
                    f'{_list_time(rng, spec.moment, spec.lang, 0)}</time></li>'
                    for n, h in enumerate(spec.others[1:6]))
    url = f"https://{spec.outlet.domain}/news/{spec.id}.html"
    header = (f'<header><a class="logo" href="/">{e(spec.outlet.name)}</a>'
              f'<nav><a href="/">{e(p["home"])}</a> {nav}</nav></header>')
    meta = (f'<div class="meta"><time datetime="{iso}">{e(_date_words(spec.moment, spec.lang))}'
            f'</time> · {e(p["read_time"].format(n=rng.randint(1, 6)))}</div>')
    return f"""<!DOCTYPE html>
<html lang="{spec.lang}"><head><meta charset="utf-8">
<title>{e(spec.title)} | {e(spec.outlet.name)}</title>
<meta property="og:title" content="{e(spec.title)}">
<meta property="og:site_name" content="{e(spec.outlet.name)}">
<meta property="article:published_time" content="{iso}">
<link rel="canonical" href="{url}">
</head><body>
{header}
<div class="banner">{e(p["ad"][0])}</div>
<main><article>
<h1>{e(spec.title)}</h1>
{meta}
<figure><figcaption>{e(p["photo"].format(a=rng.choice(AGENCIES)))}</figcaption></figure>
{chr(10).join(body)}
</article>
<aside><h2>{e(p["latest"][1])}</h2><ul>{aside}</ul></aside></main>
<footer><p>{e(p["newsletter"].format(o=spec.outlet.name))}</p>
<div class="cookies"><p>{e(p["cookie"])}</p><button>{e(p["accept"])}</button></div>
<p>© {spec.moment.year} {e(spec.outlet.name)}</p></footer>
</body></html>
"""


def render_record(spec: ArticleSpec, rng: random.Random) -> dict:
    """A feed record: the body already cut out, but with a stray ad or link line now and then."""
    p = PHRASES[spec.lang]
    paras = list(spec.paragraphs)
    if rng.random() < 0.5 and len(paras) > 2:
        paras.insert(2, p["ad"][1])
    if rng.random() < 0.5 and spec.others:
        paras.append(p["read_also"].format(h=spec.others[0]))
    return {"id": spec.id, "url": f"https://{spec.outlet.domain}/news/{spec.id}",
            "title": spec.title, "text": "\n\n".join(paras),
            "published": spec.moment.isoformat(), "source": spec.outlet.name}


# -- the stream ---------------------------------------------------------------------------------

@dataclass
class CorpusInfo:
    out: Path
    pages: Path
    truth: Path
    n: int
    seed: int
    formats: tuple[str, ...]
    dup_rate: float
    stream_rate: int | None
    counts: Counter = field(default_factory=Counter)  # format, lang:*, style:*, near_duplicates...
    seconds: float = 0.0

    def manifest(self) -> dict:
        return {"version": MANIFEST_VERSION, "n": self.n, "seed": self.seed,
                "formats": list(self.formats), "dup_rate": self.dup_rate,
                "stream_rate": self.stream_rate, "layout": layout(self.stream_rate),
                "counts": dict(self.counts), "seconds": round(self.seconds, 2)}


def parse_formats(value: str | Sequence[str]) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    formats = tuple(dict.fromkeys(x.strip().lower() for x in items if x.strip()))
    unknown = [f for f in formats if f not in FORMATS]
    if not formats or unknown:
        raise ValueError(f"formats must be some of {','.join(FORMATS)}, got {value!r}")
    return formats


def _check_out(out: Path) -> None:
    """Refuse to write into the repository (except benchmarks/work/) or over a folder that is not
    a corpus of ours."""
    resolved = out.resolve()
    if resolved.is_relative_to(REPO.resolve()) and not resolved.is_relative_to(WORK.resolve()):
        raise ValueError(f"refusing to write a corpus into the repository at {out}; "
                         f"use a folder under {WORK} or outside the repository")
    if resolved.exists():
        if not resolved.is_dir():
            raise ValueError(f"--out {out} exists and is not a folder")
        entries = {p.name for p in resolved.iterdir()}
        if entries and not entries <= {"pages", "truth.jsonl", "manifest.json"}:
            raise ValueError(f"--out {out} holds other files ({', '.join(sorted(entries)[:5])}); "
                             f"give an empty or new folder")


def existing_manifest(out: Path) -> dict | None:
    try:
        return json.loads((Path(out) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def layout(stream_rate: int | None) -> str:
    """How pages are laid out: by format, or (a stream) by position in the stream."""
    return "stream" if stream_rate else "by-format"


class _Writer:
    """Streams pages, records and truth to disk."""

    def __init__(self, out: Path, stream: bool = False):
        self.pages = out / "pages"
        self.stream = stream
        self.truth = (out / "truth.jsonl").open("w", encoding="utf-8")
        self._records = None
        self._records_path: Path | None = None
        self._record_count = 0
        self._made: set[Path] = set()

    def page(self, spec: ArticleSpec, index: int, text: str) -> None:
        ext = "txt" if spec.fmt == "txt" else "html"
        if self.stream:
            folder = self._folder(index)
        else:
            folder = self._made_folder(self.pages / ext / f"{index // FILES_PER_DIR:03d}")
        (folder / f"{spec.id}.{ext}").write_text(text, encoding="utf-8")

    def record(self, record: dict, index: int) -> None:
        if self.stream:
            # A stream's records go beside the pages of their stretch, so that it is read in order.
            path = self._folder(index) / "records.jsonl"
        else:
            name = f"records-{self._record_count // RECORDS_PER_FILE:03d}.jsonl"
            path = self.pages / "records" / name
        if path != self._records_path:
            if self._records:
                self._records.close()
            self._made_folder(path.parent)
            self._records, self._records_path = path.open("w", encoding="utf-8"), path
        self._records.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._record_count += 1

    def _folder(self, index: int) -> Path:
        return self._made_folder(self.pages / f"{index // STREAM_PER_DIR:04d}")

    def _made_folder(self, folder: Path) -> Path:
        if folder not in self._made:
            folder.mkdir(parents=True, exist_ok=True)
            self._made.add(folder)
        return folder

    def close(self) -> None:
        self.truth.close()
        if self._records:
            self._records.close()


def _near_duplicate(paragraphs: Sequence[str], rng: random.Random) -> list[str]:
    """The same text with a few words changed: a rewrite of a wire story by another outlet."""
    paras = list(paragraphs)
    words = [(i, m) for i, p in enumerate(paras) for m in _WORD.finditer(p)]
    if not words:
        return paras
    changes = min(len(words), rng.randint(2, 5))
    picked = sorted(rng.sample(range(len(words)), changes), reverse=True)
    for k in picked:  # right to left, so earlier offsets stay valid
        i, m = words[k]
        other = words[rng.randrange(len(words))][1].group(0)
        replacement = "" if rng.random() < 0.3 else other
        text = paras[i]
        paras[i] = fold(text[:m.start()] + replacement + text[m.end():])
    return paras


def _moment(text: PoolText, rng: random.Random, index: int, stream_rate: int | None) -> datetime:
    if stream_rate:
        day = STREAM_START + timedelta(days=index // stream_rate)
    elif text.day is not None:
        day = text.day
    else:
        year = text.year or 2021
        day = date(year, 1, 1) + timedelta(days=rng.randrange(365))
    return datetime(day.year, day.month, day.day, rng.randint(6, 23), rng.randrange(60),
                    tzinfo=KYIV)


def generate(n: int, out: str | Path = DEFAULT_OUT, *, seed: int = 1,
             formats: str | Sequence[str] = FORMATS, dup_rate: float = 0.05,
             datasets: str | Path | None = None, pools: list[PoolText] | None = None,
             stream_rate: int | None = None, progress: bool = False) -> CorpusInfo:
    """Write an ``n``-article corpus under ``out`` and return what was written. The same
    arguments give the same files (ids, pages, truth) byte for byte."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive whole number, got {n!r}")
    if not 0 <= dup_rate < 1:
        raise ValueError(f"dup_rate must be in [0, 1), got {dup_rate!r}")
    if stream_rate is not None and (not isinstance(stream_rate, int) or stream_rate < 1):
        raise ValueError(f"stream_rate must be a positive whole number of articles a day, "
                         f"got {stream_rate!r}")
    formats = parse_formats(formats)
    out = Path(out)
    _check_out(out)
    started = time.perf_counter()
    pools = pools if pools is not None else load_pools(Path(datasets) if datasets else None)
    if not pools:
        raise ValueError("no usable texts in the datasets")
    for name in ("pages", "truth.jsonl", "manifest.json"):
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    out.mkdir(parents=True, exist_ok=True)

    rng = random.Random(seed)
    titles_by_lang: dict[str, list[str]] = {}
    for text in pools:
        titles_by_lang.setdefault(text.lang, []).append(text.title)
    outlets_by_lang: dict[str, list[Outlet]] = {}
    for outlet in OUTLETS:
        outlets_by_lang.setdefault(outlet.lang, []).append(outlet)
    weights = [FORMAT_WEIGHTS[f] for f in formats]
    info = CorpusInfo(out, out / "pages", out / "truth.jsonl", n, seed, formats, dup_rate, stream_rate)
    recent: deque[ArticleSpec] = deque(maxlen=RECENT_ORIGINALS)
    first_use: dict[str, str] = {}
    order: list[int] = []
    writer = _Writer(out, stream=bool(stream_rate))
    try:
        for index in range(n):
            article_id = f"{index:06d}_{rng.getrandbits(64):016x}"
            fmt = rng.choices(formats, weights)[0]
            if recent and rng.random() < dup_rate:
                original = rng.choice(recent)
                outlets = [o for o in outlets_by_lang[original.lang]
                           if o.name != original.outlet.name] or outlets_by_lang[original.lang]
                spec = ArticleSpec(
                    article_id, fmt, original.lang, original.title,
                    _near_duplicate(original.paragraphs, rng), rng.choice(outlets),
                    original.moment + timedelta(minutes=rng.randint(5, 360)),
                    original.pool_key, duplicate_of=original.id)
                info.counts["near_duplicates"] += 1
            else:
                if not order:
                    order = list(range(len(pools)))
                    rng.shuffle(order)
                text = pools[order.pop()]
                copy_of = first_use.setdefault(text.key, article_id)
                spec = ArticleSpec(
                    article_id, fmt, text.lang, text.title, list(text.paragraphs),
                    rng.choice(outlets_by_lang[text.lang]), _moment(text, rng, index, stream_rate),
                    text.key,
                    copy_of=None if copy_of == article_id else copy_of)
                info.counts["reused_texts"] += spec.copy_of is not None
                recent.append(spec)
            pool_titles = titles_by_lang[spec.lang]
            # Without replacement: a headline twice on one page would pass for its title.
            spec.others = [h for h in rng.sample(pool_titles, min(10, len(pool_titles)))
                           if h != spec.title]
            if fmt == "jsonl":
                writer.record(render_record(spec, rng), index)
            else:
                page = render_text(spec, rng) if fmt == "txt" else render_html(spec, rng)
                writer.page(spec, index, page)
            writer.truth.write(json.dumps(spec.truth(), ensure_ascii=False) + "\n")
            info.counts[fmt] += 1
            info.counts[f"lang:{spec.lang}"] += 1
            if fmt == "txt":
                info.counts[f"style:{spec.outlet.style}"] += 1
            if progress and (index + 1) % 10_000 == 0:
                print(f"  {index + 1:,} articles written", file=sys.stderr)
    finally:
        writer.close()
    info.seconds = time.perf_counter() - started
    (out / "manifest.json").write_text(json.dumps(info.manifest(), indent=2) + "\n",
                                       encoding="utf-8")
    return info


def read_truth(path: str | Path) -> Iterator[dict]:
    """The truth rows of a corpus (``truth.jsonl`` or the corpus folder), one at a time."""
    path = Path(path)
    yield from _jsonl(path / "truth.jsonl" if path.is_dir() else path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=3000, help="articles to write (default 3000)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"output folder (default {DEFAULT_OUT.relative_to(REPO)})")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--formats", default=",".join(FORMATS),
                        help="comma-separated subset of txt,html,jsonl")
    parser.add_argument("--dup-rate", type=float, default=0.05,
                        help="share of near-duplicate articles (default 0.05)")
    parser.add_argument("--stream-rate", type=int, default=None, metavar="R",
                        help="date the articles R a day from 2021-01-01 instead of by their texts")
    args = parser.parse_args(argv)
    try:
        info = generate(args.n, args.out, seed=args.seed, formats=args.formats,
                        dup_rate=args.dup_rate, stream_rate=args.stream_rate, progress=True)
    except (ValueError, FileNotFoundError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{k}: {v}" for k, v in sorted(info.counts.items()))
    print(f"{info.n} articles in {info.out} ({info.seconds:.1f} s): {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
