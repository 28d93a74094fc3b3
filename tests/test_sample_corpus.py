"""The sample corpus in data/sample is what its README and labels.jsonl claim it is."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
FEED_KEYS = {"id", "url", "title", "text", "published", "source", "lang"}
LABEL_KEYS = {"id", "event", "story", "lang", "source", "published", "title"}
# Files written on purpose in a legacy encoding; everything else is UTF-8.
ENCODED = {"meridian-20251031-1": "cp1251", "stepinfo-20251014-1": "utf-16"}


def _labels() -> list[dict]:
    lines = (SAMPLE / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


LABELS = _labels()
BY_ID = {r["id"]: r for r in LABELS}


def _feed_lines() -> list[tuple[int, object]]:
    """(line number, parsed record or the JSONDecodeError) for every non-blank line."""
    out = []
    text = (SAMPLE / "feed.jsonl").read_text(encoding="utf-8")
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append((n, json.loads(line)))
        except json.JSONDecodeError as exc:
            out.append((n, exc))
    return out


def _good_records() -> list[dict]:
    return [r for _, r in _feed_lines()
            if isinstance(r, dict) and all(isinstance(r.get(k), str) for k in FEED_KEYS)]


def _decode(path: Path) -> str:
    return path.read_bytes().decode(ENCODED.get(path.stem, "utf-8"))


class _HtmlBits(HTMLParser):
    """Collects meta properties, the canonical link and the paragraphs inside <article>."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.canonical: str | None = None
        self.paragraphs: list[str] = []
        self._in_article = 0
        self._in_p = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta" and "property" in a:
            self.meta[a["property"]] = a.get("content", "")
        elif tag == "link" and a.get("rel") == "canonical":
            self.canonical = a.get("href")
        elif tag == "article":
            self._in_article += 1
        elif tag == "p" and self._in_article:
            self._in_p = True
            self.paragraphs.append("")

    def handle_endtag(self, tag):
        if tag == "article":
            self._in_article -= 1
        elif tag == "p":
            self._in_p = False

    def handle_data(self, data):
        if self._in_p:
            self.paragraphs[-1] += data


def _html(path: Path) -> _HtmlBits:
    parser = _HtmlBits()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _readme() -> str:
    return (SAMPLE / "README.md").read_text(encoding="utf-8")


# ---------------------------------------------------------------- ids and labels


def test_labels_have_required_fields_and_unique_ids():
    assert Counter(r["id"] for r in LABELS).most_common(1)[0][1] == 1
    for r in LABELS:
        assert LABEL_KEYS <= r.keys(), r["id"]
        assert r["lang"] in {"uk", "ru", "en"}, r["id"]
        assert r["event"] and r["story"] and r["title"] and r["source"], r["id"]


def test_every_article_has_a_label_and_every_label_an_article():
    file_ids = {p.stem for p in (SAMPLE / "pages").glob("*.txt")}
    file_ids |= {p.stem for p in (SAMPLE / "html").glob("*.html")}
    record_ids = {r["id"] for r in _good_records()}
    assert not file_ids & record_ids
    assert file_ids | record_ids == set(BY_ID)


def test_label_format_and_file_match_where_the_article_lives():
    for r in LABELS:
        path = SAMPLE / r["file"]
        assert path.is_file(), r["id"]
        if r["format"] == "jsonl":
            assert r["file"] == "feed.jsonl"
        else:
            assert path.stem == r["id"]
            assert path.suffix == {"txt": ".txt", "html": ".html"}[r["format"]]


def test_corpus_size_languages_formats_and_outlets():
    langs = Counter(r["lang"] for r in LABELS)
    formats = Counter(r["format"] for r in LABELS)
    assert len(LABELS) >= 48
    # Roughly 40% uk, 35% ru, 25% en.
    assert 0.35 <= langs["uk"] / len(LABELS) <= 0.45
    assert 0.30 <= langs["ru"] / len(LABELS) <= 0.40
    assert 0.20 <= langs["en"] / len(LABELS) <= 0.30
    assert formats["txt"] >= 28 and formats["html"] >= 8 and formats["jsonl"] >= 10
    assert len({r["source"] for r in LABELS}) >= 8


def test_readme_summary_line_matches_the_labels():
    m = re.search(r"\*\*(\d+) articles\*\* — uk (\d+), ru (\d+), en (\d+);\s*"
                  r"txt (\d+), html (\d+), jsonl (\d+); (\d+) outlets", _readme())
    assert m, "README summary line not found"
    langs = Counter(r["lang"] for r in LABELS)
    formats = Counter(r["format"] for r in LABELS)
    claimed = [int(g) for g in m.groups()]
    actual = [len(LABELS), langs["uk"], langs["ru"], langs["en"], formats["txt"], formats["html"],
              formats["jsonl"], len({r["source"] for r in LABELS})]
    assert claimed == actual


def test_readme_table_lists_every_article_with_its_labels():
    rows = {}
    for line in _readme().splitlines():
        m = re.match(r"\| `([^`]+)` \| (\w+) \| ([^|]+) \| (\w\w) \| [^|]+ \| ([^|]+) \| ([^|]+) \|", line)
        if m:
            rows[m.group(1)] = (m.group(2), m.group(3).strip(), m.group(4), m.group(5).strip(),
                                m.group(6).strip())
    assert set(rows) == set(BY_ID)
    for i, (fmt, source, lang, story, event) in rows.items():
        r = BY_ID[i]
        assert (fmt, source, lang, story, event) == (r["format"], r["source"], r["lang"], r["story"],
                                                     r["event"])


def test_each_outlet_writes_in_one_language():
    langs = defaultdict(set)
    for r in LABELS:
        langs[r["source"]].add(r["lang"])
    assert all(len(v) == 1 for v in langs.values()), langs


# ---------------------------------------------------------------- stories and events


def test_storylines_have_several_events_in_several_languages():
    events = defaultdict(set)
    for r in LABELS:
        events[r["story"]].add(r["event"])
    multi = [s for s, ev in events.items() if len(ev) >= 2]
    assert len(multi) >= 4
    assert max(len(events[s]) for s in multi) >= 4
    for s in multi:
        assert len({r["lang"] for r in LABELS if r["story"] == s}) == 3, s
    for s in multi:
        for e in events[s]:
            members = [r for r in LABELS if r["event"] == e]
            assert len({r["source"] for r in members}) >= 2, e
            assert len({r["lang"] for r in members}) >= 2, e


def test_an_event_belongs_to_one_story_and_one_day():
    story_of = {}
    days = defaultdict(set)
    for r in LABELS:
        assert story_of.setdefault(r["event"], r["story"]) == r["story"], r["event"]
        if r["published"]:
            days[r["event"]].add(datetime.fromisoformat(r["published"]).date())
    # Reports of one event come out the same day or the next (late evening, agency follow-ups).
    for e, ds in days.items():
        assert (max(ds) - min(ds)).days <= 1, e


def test_standalone_events_and_their_count():
    solo = [r for r in LABELS if sum(x["story"] == r["story"] for x in LABELS) == 1]
    assert 3 <= len(solo) <= 4
    assert all(r["story"] == r["event"] for r in solo)


def test_published_dates_span_about_five_weeks_with_offsets():
    dated = [datetime.fromisoformat(r["published"]) for r in LABELS if r["published"]]
    assert all(d.tzinfo is not None for d in dated)
    assert all(d.year == 2025 for d in dated)
    assert 28 <= (max(dated) - min(dated)).days <= 40


# ---------------------------------------------------------------- feed.jsonl


def test_feed_has_exactly_one_malformed_line_and_one_wrong_type():
    lines = _feed_lines()
    broken = [n for n, r in lines if isinstance(r, json.JSONDecodeError)]
    wrong = [n for n, r in lines
             if isinstance(r, dict) and not all(isinstance(r.get(k), str) for k in FEED_KEYS)]
    assert len(broken) == 1 and len(wrong) == 1
    bad_record = dict(lines[wrong[0] - 1][1])
    assert not isinstance(bad_record["text"], str)
    assert bad_record["id"] not in BY_ID
    # The README points at the right lines.
    assert f"line {broken[0]} is malformed JSON" in _readme()
    assert f"line {wrong[0]} (`{bad_record['id']}`)" in _readme()


@pytest.mark.parametrize("record", _good_records(), ids=lambda r: r["id"])
def test_feed_record_is_clean_and_agrees_with_labels(record):
    label = BY_ID[record["id"]]
    assert set(record) == FEED_KEYS
    assert record["url"].startswith("https://") and ".example-news.test/" in record["url"]
    published = datetime.fromisoformat(record["published"])
    assert published.tzinfo is not None
    assert published == datetime.fromisoformat(label["published"])
    assert (record["lang"], record["source"], record["title"]) == (
        label["lang"], label["source"], label["title"])
    paragraphs = record["text"].split("\n\n")
    assert 3 <= len(paragraphs) <= 8
    assert all(p.strip() == p and p and "\n" not in p for p in paragraphs)
    assert 120 <= len(record["text"].split()) <= 500


# ---------------------------------------------------------------- html pages


@pytest.mark.parametrize("path", sorted((SAMPLE / "html").glob("*.html")), ids=lambda p: p.stem)
def test_html_page_has_metadata_and_an_article(path):
    label = BY_ID[path.stem]
    page = _html(path)
    assert page.meta["og:title"] == label["title"]
    assert page.meta["og:site_name"] == label["source"]
    published = datetime.fromisoformat(page.meta["article:published_time"])
    assert published.tzinfo is not None
    assert published == datetime.fromisoformat(label["published"])
    assert page.canonical and ".example-news.test/" in page.canonical
    body = [p for p in page.paragraphs if len(p.split()) > 12]
    assert 3 <= len(body) <= 9
    assert 120 <= sum(len(p.split()) for p in body) <= 550
    raw = path.read_text(encoding="utf-8")
    for part in ("<nav", "<header", "<aside", "<footer", "cookie"):
        assert part in raw.lower(), (path.name, part)


# ---------------------------------------------------------------- raw pages


@pytest.mark.parametrize("path", sorted((SAMPLE / "pages").glob("*.txt")), ids=lambda p: p.stem)
def test_raw_page_decodes_and_shows_its_headline(path):
    label = BY_ID[path.stem]
    text = _decode(path)
    if path.stem not in ENCODED:
        path.read_bytes().decode("utf-8")
    assert (label["title"] in text) == ("no_title" not in label["traps"])
    # Raw pages carry boilerplate around the article, like the seeds.
    assert len(text.split()) > label["words"] + 30


def test_cp1251_page_is_not_utf8_but_is_russian_cp1251():
    raw = (SAMPLE / "pages" / "meridian-20251031-1.txt").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert "Черноморск" in raw.decode("cp1251")


def test_utf16_page_starts_with_a_bom():
    raw = (SAMPLE / "pages" / "stepinfo-20251014-1.txt").read_bytes()
    assert raw[:2] == b"\xff\xfe"
    assert "Латориця" in raw.decode("utf-16")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


def test_undated_articles_have_null_published_and_no_header_date():
    undated = [r for r in LABELS if r["published"] is None]
    assert len(undated) >= 2
    assert all("no_own_date" in r["traps"] for r in undated)
    for r in undated:
        text = _decode(SAMPLE / r["file"])
        head = "\n".join(text.splitlines()[:3])
        assert not re.search(r"\d{1,2}[.:]\d{2}", head), r["id"]
        # The only dates are in the latest-news list.
        assert re.search(r"\d\d:\d\d \d\d \w{3} 2025\.", text), r["id"]


def test_relative_date_article_has_a_relative_header():
    rel = [r for r in LABELS if "relative_date" in r["traps"]]
    assert rel
    for r in rel:
        head = _decode(SAMPLE / r["file"]).splitlines()[:6]
        assert any(re.fullmatch(r"(Сегодня|Вчера|Сьогодні|Вчора), \d\d:\d\d", h) for h in head)
        assert r["published"] is not None


def test_read_also_phrase_inside_a_real_paragraph():
    hits = [r for r in LABELS if "read_also_in_sentence" in r["traps"]]
    assert hits
    for r in hits:
        lines = _decode(SAMPLE / r["file"]).splitlines()
        sentence = [x for x in lines if x.startswith("Читайте також") and not x.startswith("Читайте також:")]
        links = [x for x in lines if x.startswith("Читайте також:")]
        assert sentence and len(sentence[0].split()) > 20
        assert links


# ---------------------------------------------------------------- duplicates


def _body_words(r: dict) -> list[str]:
    if r["format"] == "jsonl":
        text = next(x["text"] for x in _good_records() if x["id"] == r["id"])
    elif r["format"] == "html":
        text = " ".join(_html(SAMPLE / r["file"]).paragraphs)
    else:
        # Long lines are paragraphs; short ones are headlines, plugs and list items.
        lines = _decode(SAMPLE / r["file"]).splitlines()
        text = " ".join(x for x in lines if len(x.split()) > 12)
    return re.findall(r"\w+", text.lower())


def _shingles(words: list[str], k: int = 5) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + k]) for i in range(len(words) - k + 1)}


def test_duplicates_point_to_an_earlier_article_of_the_same_event():
    dups = [r for r in LABELS if r["duplicate_of"]]
    assert len(dups) >= 3
    assert any(BY_ID[r["duplicate_of"]]["source"] == r["source"] for r in dups)
    assert any(BY_ID[r["duplicate_of"]]["source"] != r["source"] for r in dups)
    for r in dups:
        orig = BY_ID[r["duplicate_of"]]
        assert orig["event"] == r["event"]
        assert datetime.fromisoformat(orig["published"]) <= datetime.fromisoformat(r["published"])


def test_near_duplicates_share_most_text_and_other_reports_do_not():
    for r in (x for x in LABELS if x["duplicate_of"]):
        a = _shingles(_body_words(r))
        b = _shingles(_body_words(BY_ID[r["duplicate_of"]]))
        # Containment of the shorter body: near-duplicates keep most 5-word runs.
        assert len(a & b) / min(len(a), len(b)) > 0.5, r["id"]
    # Two independent reports of the same event in the same language are not near-duplicates.
    a = _shingles(_body_words(BY_ID["podillia-20251012-1"]))
    b = _shingles(_body_words(BY_ID["stepinfo-20251014-1"]))
    assert len(a & b) / min(len(a), len(b)) < 0.2
