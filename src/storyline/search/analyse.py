"""A query's words as index keys: each word becomes a group of alternative keys (its lemmas in
every language its script allows, their cognates, its entity keys); an article must match a
key of every group.

A Cyrillic word is read as Ukrainian and as Russian (only one of them when it has letters that
only one language writes: і/ї/є/ґ or ы/э/ъ/ё), a Latin word as English; a word is read both as
typed and capitalised, because a name typed in lower case (путин) lemmatises as a common noun.
A known alias of several words (Білий дім = White House) adds its key to each of its words.

Nothing of the query's own syntax survives: quotes, stars, OR, NEAR( are punctuation or words.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

from storyline.errors import InvalidQuery
from storyline.nlp.entities import TOKEN_RE, alias_of, entity_key
from storyline.nlp.lemmas import UK_ONLY, lemmatise, load_data
from storyline.search.keys import cognate_key, index_token, is_cyrillic
from storyline.store.base import IndexTerm

MAX_WORDS = 12
RU_ONLY = frozenset("ыэъёЫЭЪЁ")
ALIAS_SPANS = (3, 2)
MIN_NAME_KEY = 3


@dataclass(frozen=True, slots=True)
class QueryWord:
    text: str
    langs: tuple[str, ...]
    terms: tuple[IndexTerm, ...]


@dataclass(frozen=True)
class QueryPlan:
    words: tuple[QueryWord, ...]

    @property
    def groups(self) -> tuple[tuple[IndexTerm, ...], ...]:
        return tuple(w.terms for w in self.words)

    @property
    def terms(self) -> tuple[str, ...]:
        """Every distinct key, in query order."""
        return tuple(dict.fromkeys(t.token for w in self.words for t in w.terms))

    @cached_property
    def keys(self) -> dict[str, dict[str, frozenset[int]]]:
        """field -> key -> the indexes of the words it stands for (snippets mark with this)."""
        out: dict[str, dict[str, set[int]]] = {"lemma": {}, "cognate": {}, "entity": {}}
        for index, word in enumerate(self.words):
            for term in word.terms:
                out[term.field].setdefault(term.token, set()).add(index)
        return {field: {k: frozenset(v) for k, v in keys.items()} for field, keys in out.items()}


def analyse_query(text: str) -> QueryPlan:
    """The searchable words of ``text`` with their keys; stop words and numbers drop out."""
    tokens = TOKEN_RE.findall(text)
    words: list[tuple[str, tuple[str, ...], list[IndexTerm]]] = []
    for token in tokens:
        langs = word_langs(token)
        terms = word_terms(token, langs)
        if terms:
            words.append((token, langs, list(terms)))
    if len(words) > MAX_WORDS:
        raise InvalidQuery(f"the query has {len(words)} searchable words; at most {MAX_WORDS} are allowed",
                           hint="keep the words that matter most")
    _add_alias_spans(words)
    return QueryPlan(tuple(QueryWord(t, langs, tuple(dict.fromkeys(terms))) for t, langs, terms in words))


def word_langs(word: str) -> tuple[str, ...]:
    if not is_cyrillic(word):
        return ("en",)
    if any(c in UK_ONLY for c in word):
        return ("uk",)
    if any(c in RU_ONLY for c in word):
        return ("ru",)
    return ("uk", "ru")


@lru_cache(maxsize=4096)
def word_terms(word: str, langs: tuple[str, ...]) -> tuple[IndexTerm, ...]:
    """The alternative keys of one query word (empty for a stop word or a bare number)."""
    stop = load_data().stopwords
    if any(word.lower() in stop.get(lang, ()) for lang in langs):
        return ()
    forms = dict.fromkeys((word, word.lower(), word.lower().capitalize()))
    lemmas = [index_token(lem) for lang in langs for form in forms for lem in lemmatise(form, lang)]
    terms = [IndexTerm("lemma", lem) for lem in lemmas if lem]
    terms += [IndexTerm("cognate", s) for s in map(cognate_key, lemmas) if s]
    has_digit = any(c.isdigit() for c in word)
    if not terms and (not has_digit or word.isdigit()):
        # A stop word after lemmatisation (a form of "be"), a single letter or a bare number:
        # only letters-and-digits names (G7, Ту-154) are keys without being lemmas.
        return ()
    for lang in langs:
        found = alias_of([word], lang)
        if found:
            terms.append(IndexTerm("entity", index_token(found[0])))
        key = index_token(entity_key(word, "PER", lang))
        # Two-letter name skeletons (Fa, Бо) belong to too many names to be worth a match.
        if len(key) >= MIN_NAME_KEY or word.isupper():
            terms.append(IndexTerm("entity", key))
    return tuple(dict.fromkeys(t for t in terms if t.token))


def _add_alias_spans(words: list[tuple[str, tuple[str, ...], list[IndexTerm]]]) -> None:
    """Білий дім: the alias key of the phrase is an alternative of each of its words."""
    for size in ALIAS_SPANS:
        for start in range(len(words) - size + 1):
            span = words[start:start + size]
            for lang in dict.fromkeys(lang for _, langs, _ in span for lang in langs):
                found = alias_of([w for w, _, _ in span], lang)
                key = index_token(found[0]) if found else ""
                if key:
                    for _, _, terms in span:
                        terms.append(IndexTerm("entity", key))
