"""The normalised keys an article is indexed under; the query side (``analyse.py``) makes the
same keys from the query's words, so both meet in the index.

A search document has four fields:

- ``title``: lemmas of the title (weighted up: a title says what the article is about);
- ``body``: the analysis stage's content-word lemmas of title and body (``Article.lemmas``);
- ``cognates``: a cognate key of each Cyrillic lemma, so that Ukrainian and Russian spellings
  of one word meet (переговори / переговоры -> peregovori, міністр / министр -> ministr);
- ``entities``: the articles' cross-lingual entity keys (Путіна / Путина / Putin -> patan),
  and the words of a several-word key.

The cognate key is a transliteration that forgets only what uk and ru spell differently for the
same sound: и/і/ї/ы are all i, е/є/э/ё all e, soft and hard signs and apostrophes go, doubled
letters collapse (процес / процесс), and the infinitive endings -ти/-ть and -тися/-ться meet.
It keeps the other vowels: the entities' sound skeleton (``translit.skeleton``), which turns
every vowel run into "a", made питання ("question", one of the commonest Ukrainian words) and
Путин the same key "patan". Measured on 24k uk/ru lemmas of the benchmark and sample corpora:
the skeleton merged 2,135 keys across words of one language, the cognate key 167 (mostly
spelling variants: проект / проєкт), while still bridging 799 uk/ru pairs.

Latin lemmas get no cognate key: names cross scripts through entity keys instead. Keys shorter
than ``MIN_COGNATE`` letters are left out (short words are where unrelated words collide).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

MIN_COGNATE = 4
MIN_NAME_PART = 3
FIELDS = ("title", "body", "cognates", "entities")
COGNATE_LETTERS = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "є": "e", "ё": "e",
    "ж": "zh", "з": "z", "и": "i", "і": "i", "ї": "i", "й": "j", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h",
    "ц": "c", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "i", "ь": "", "э": "e", "ю": "u",
    "я": "a", "ў": "u", "'": "", "’": "", "ʼ": "",
})  # fmt: skip
# Ukrainian and Russian infinitives: заявити / заявить, домовитися / домовиться.
COGNATE_ENDINGS = ((re.compile(r"tisa$"), "tsa"), (re.compile(r"ti$"), "t"))
DOUBLED = re.compile(r"(.)\1+")


@dataclass(frozen=True, slots=True)
class IndexDocument:
    """An article's keys per field, in text order (a key may repeat: term frequency counts)."""

    title: tuple[str, ...]
    body: tuple[str, ...]
    cognates: tuple[str, ...]
    entities: tuple[str, ...]

    def columns(self) -> dict[str, str]:
        """Each field as space-separated keys (what FTS5 stores)."""
        return {name: " ".join(getattr(self, name)) for name in FIELDS}


@lru_cache(maxsize=200_000)
def index_token(text: str) -> str:
    """A key as the index stores it: lowercase letters and digits only, ё as е.

    Anything else (hyphens, apostrophes, combining marks) is dropped, so that no tokenizer can
    split a key in two and no key can carry query syntax."""
    folded = unicodedata.normalize("NFC", text.lower()).replace("ё", "е")
    return "".join(c for c in folded if unicodedata.category(c)[0] in "LN")


def is_cyrillic(word: str) -> bool:
    return any("\u0400" <= c <= "\u04ff" for c in word)


@lru_cache(maxsize=200_000)
def cognate_key(lemma: str) -> str | None:
    """The cognate key of a Cyrillic lemma, or None (a Latin lemma, or too short to be safe)."""
    if not is_cyrillic(lemma):
        return None
    key = DOUBLED.sub(r"\1", lemma.lower().translate(COGNATE_LETTERS))
    for pattern, replacement in COGNATE_ENDINGS:
        key = pattern.sub(replacement, key)
    key = index_token(key)
    return key if len(key) >= MIN_COGNATE else None


def index_document(title: str | None, lang: str | None, lemmas: Sequence[str],
                   entity_keys: Iterable[str]) -> IndexDocument:
    """The search document of one article, from what the analysis stage stored."""
    from storyline.nlp.lemmas import lemmatise

    title_keys = _tokens(lemmatise(title, lang) if title else ())
    body = _tokens(lemmas)
    cognates = tuple(c for c in map(cognate_key, body) if c)
    entities = _tokens(dict.fromkeys(part for k in entity_keys if k for part in entity_parts(k)))
    return IndexDocument(title_keys, body, cognates, entities)


def entity_parts(key: str) -> list[str]:
    """An entity key and, for a name of several words, each word's skeleton too.

    The entity extractor sometimes takes a title into a name ("Russian President Vladimir
    Putin" -> rasan_prasadant_vladamar_patan); its last words still meet Путин's "patan".
    Alias keys (white-house) are one name, not words, and stay whole."""
    words = [w for w in key.split("_") if len(w) >= MIN_NAME_PART] if "_" in key else []
    return [key, *words]


def _tokens(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(t for t in (index_token(v) for v in values) if t)
