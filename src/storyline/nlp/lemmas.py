"""Content-word lemmas for uk, ru (pymorphy3) and en (suffix rules).

Lemmas feed lexical overlap between articles and morphology-aware search, so the two things that
matter are speed (thousands of articles) and consistency (Путіна, Путіним and Путін give one lemma).
Each (token, lang) is analysed once per process (bounded LRU); each MorphAnalyzer is built once.

A capitalised token prefers a name, surname, place or organisation parse: pymorphy ranks the
common-noun reading of a surname first ("Лаврова" -> "лавровий"), which would break names.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from storyline.errors import ConfigError

MORPH_LANGS = ("uk", "ru")
PROPER_GRAMMEMES = frozenset({"Name", "Surn", "Patr", "Geox", "Orgn"})
# Letters only, with inner hyphens and apostrophes (Ukrainian writes "зобов'язаний").
WORD_RE = re.compile(r"[^\W\d_]+(?:[-'’ʼ][^\W\d_]+)*")
APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'"})
UK_ONLY = frozenset("іїєґІЇЄҐ")
RU_ONLY = frozenset("ыэъёЫЭЪЁ")
CACHE_SIZE = 200_000


@dataclass(frozen=True, slots=True)
class LemmaData:
    min_letters: int
    stopwords: dict[str, frozenset[str]]
    irregular: dict[str, str]
    overrides: dict[str, dict[str, str]]


@lru_cache(maxsize=1)
def load_data() -> LemmaData:
    text = resources.files("storyline.nlp").joinpath("data/lemmas.toml").read_text("utf-8")
    raw = tomllib.loads(text)
    min_letters = int(raw["min_letters"])
    if min_letters < 1:
        raise ConfigError(f"lemmas.toml: min_letters must be >= 1, got {min_letters}")
    stop = {lang: frozenset(words.split()) for lang, words in raw["stopwords"].items()}
    overrides = {lang: dict(table) for lang, table in raw.get("overrides", {}).items()}
    return LemmaData(min_letters, stop, dict(raw["english_irregular"]), overrides)


@cache
def morph(lang: str):
    """One pymorphy3 analyser per language per process (building one takes ~0.1 s)."""
    if lang not in MORPH_LANGS:
        raise ValueError(f"no morphology for language {lang!r}; expected one of {MORPH_LANGS}")
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang=lang)


def tokens(text: str) -> list[str]:
    return WORD_RE.findall(text)


def token_lang(token: str, lang: str | None) -> str:
    """The language whose lemmatiser handles this token: script first, then the paragraph's
    language, then letters only one of uk/ru writes."""
    if token.isascii():
        return "en"
    if lang in MORPH_LANGS:
        return lang
    if any(c in UK_ONLY for c in token):
        return "uk"
    return "ru"


def text_lang(text: str) -> str:
    """A cheap uk/ru/en guess for a short text whose language nobody told us (alias tables, tests)."""
    letters = [c for c in text if c.isalpha()]
    if not letters or sum(c.isascii() for c in letters) * 2 > len(letters):
        return "en"
    if any(c in UK_ONLY for c in letters):
        return "uk"
    return "ru"


@lru_cache(maxsize=CACHE_SIZE)
def lemma(token: str, lang: str | None) -> str:
    """The lowercase lemma of one token; capitalised tokens prefer proper-name parses."""
    token = token.translate(APOSTROPHES)
    which = token_lang(token, lang)
    if which == "en":
        return english_lemma(token)
    if len(token) > 1 and token.isupper():  # an acronym: НАТО, ОБСЄ, РФ
        return token.lower()
    fixed = load_data().overrides.get(which, {}).get(token.lower())
    if fixed:
        return fixed
    parses = morph(which).parse(token)
    if not parses:
        return token.lower()
    best = parses[0]
    if token[0].isupper():
        for parse in parses:
            if PROPER_GRAMMEMES & parse.tag.grammemes:
                best = parse
                break
    return best.normal_form.replace("ё", "е")


def is_proper(token: str, lang: str | None) -> bool:
    """True when morphology knows this capitalised token as a name, surname, place or organisation."""
    token = token.translate(APOSTROPHES)
    which = token_lang(token, lang)
    if which == "en" or not token[:1].isupper():
        return False
    return _proper_grammemes(token, which) is not None


@lru_cache(maxsize=CACHE_SIZE)
def _proper_grammemes(token: str, lang: str) -> frozenset[str] | None:
    # Only parses with a reasonable share of the probability mass count: otherwise every
    # capitalised common noun has some rare surname reading.
    parses = morph(lang).parse(token)
    if not parses:
        return None
    top = parses[0].score
    found: set[str] = set()
    for parse in parses:
        if parse.score < top * 0.3:
            break
        found |= PROPER_GRAMMEMES & parse.tag.grammemes
    return frozenset(found) or None


def proper_kinds(token: str, lang: str | None) -> frozenset[str]:
    """Which of Name/Surn/Patr/Geox/Orgn morphology gives this capitalised token (empty if none)."""
    token = token.translate(APOSTROPHES)
    which = token_lang(token, lang)
    if which == "en" or not token[:1].isupper():
        return frozenset()
    return _proper_grammemes(token, which) or frozenset()


def english_lemma(token: str) -> str:
    """A light English lemmatiser: possessives, plurals, -ed/-ing where the stem stays a word."""
    word = token.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    word = word.rstrip("'")
    irregular = load_data().irregular
    if word in irregular:
        return irregular[word]
    if len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "as", "os")):
        return word[:-1]
    if word.endswith("ied") and len(word) > 4:
        return word[:-3] + "y"
    for suffix in ("ing", "ed"):
        if word.endswith(suffix):
            stem = word[: -len(suffix)]
            if len(stem) >= 3 and any(v in stem for v in "aeiouy"):
                if len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
                    stem = stem[:-1]  # running -> run, stopped -> stop
                return stem
    return word


def lemmatise(text: str, lang: str | None) -> list[str]:
    """Lowercase lemmas of the content words of ``text``: no stop words, punctuation or numbers."""
    data = load_data()
    out: list[str] = []
    for token in WORD_RE.findall(text):
        if len(token) < data.min_letters:
            continue
        which = token_lang(token, lang)
        value = lemma(token, which)
        if len(value) < data.min_letters or value in data.stopwords.get(which, ()):
            continue
        out.append(value)
    return out
