"""Named entities (PER, ORG, LOC, MISC) with a cross-lingual key, for uk, ru and en text.

Extraction is heuristic and fast: a cross-language alias gazetteer, capitalised token sequences
(a sentence-initial word only when morphology knows it as a name or place), acronyms, and types
from pymorphy3 grammemes (Name/Surn/Patr -> PER, Geox -> LOC, Orgn -> ORG) and from the word
before a name ("президент", "spokeswoman" -> PER). Everything language-specific is in
``data/entities.toml``.

The key (``entity_key``) is what makes Путін, Путина, Putin's and "Vladimir Putin" one entity:
a known alias's canonical key, else the sound skeleton (``translit.skeleton``) of the lemmatised
name; a person reduces to the surname.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from storyline.errors import ConfigError
from storyline.model import Entity, Paragraph
from storyline.nlp.lemmas import lemma, proper_kinds, text_lang, token_lang
from storyline.nlp.lemmas import load_data as load_lemma_data
from storyline.nlp.translit import phrase_skeleton

TYPES = ("PER", "ORG", "LOC", "MISC")
# Words with digits too (G7, "Північний потік-2"); hyphens and apostrophes stay inside a word.
TOKEN_RE = re.compile(r"[^\W_]+(?:[-'’ʼ][^\W_]+)*")
# A token starts a sentence after these, or right after an opening quote (not after a closing one:
# "...," Biden said). Not after «: mid-sentence it opens a name (компанія «Укрбуд»), and a quoted
# sentence has a sentence end (сказав: «Ми) or the paragraph start before it.
SENTENCE_END = re.compile(r"[.!?…:;\n]|\s[-–—]\s|[\"“„]$")
# A quoted company name after a legal form: one level of nested «» (ТОВ «ЛБК «Наш Дом»»), else up
# to the first » (ДП «НАЕК «Енергоатом» as often written), or straight or curly quotes.
QUOTED_NAME = (
    r"(?:«[^«»\n]*«[^«»\n]*»[^«»\n]*»|«[^»\n]{1,120}»"
    r"|\"[^\"\n]{1,120}\"|“[^”\n]{1,120}”|„[^“”\n]{1,120}[“”])"
)
EDGE_JUNK = " \t\n\"'«»“”„‘’()[]{}.,;:!?-–—"
ROMAN = re.compile(r"[IVXLC]+")
PERSON_GRAMMEMES = frozenset({"Name", "Surn", "Patr"})
MAX_GAZETTEER_WORDS = 5
QUOTES = frozenset('«"“„')


@dataclass(frozen=True, slots=True)
class Mention:
    """One occurrence of an entity: where (paragraph index, -1 for the title; character span)."""

    text: str
    type: str
    key: str
    paragraph: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class EntityData:
    exact: dict[str, tuple[str, str]]  # ACRONYM -> (key, type)
    skeletons: dict[str, tuple[str, str]]  # phrase skeleton -> (key, type)
    acronym_types: dict[str, str]
    hints: dict[str, frozenset[str]]
    not_entities: frozenset[str]
    function_tags: frozenset[str]  # pymorphy3 POS/grammemes of words that open sentences, not names
    sentence_start_words: frozenset[str]  # lowercase surface forms, never a name at a sentence start
    place_prepositions: dict[str, frozenset[str]]  # lang -> prepositions that put a place after them
    legal_forms: frozenset[str]  # ТОВ, ПАО: with a quoted name after them, one ORG mention
    legal_name: re.Pattern[str]  # a legal form followed by a quoted name
    titles: frozenset[str]  # English capitalised titles before a name (Transport Minister X)


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """Ukrainian first names and their Russian forms from names-translator (pymorphy3's
    Ukrainian dictionary tags few first names: Володимир is only a common noun there)."""
    from names_translator import normalize_key
    from names_translator.dicts import default_dicts

    table = default_dicts().as_dict("first")
    names = set(table)
    for variants in table.values():
        names.update(normalize_key(v) for v in variants)
    return frozenset(names)


@lru_cache(maxsize=100_000)
def _person_kinds(word: str, lang: str) -> frozenset[str]:
    """proper_kinds plus "Name" for a first name names-translator knows (as given or lemmatised)."""
    kinds = proper_kinds(word, lang)
    if "Name" in kinds or lang == "en" or not word[:1].isupper():
        return kinds
    from names_translator import normalize_key

    names = first_names()
    if normalize_key(word) in names or normalize_key(lemma(word, lang)) in names:
        return kinds | {"Name"}
    return kinds


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    return frozenset().union(*load_lemma_data().stopwords.values())


def _is_acronym(word: str) -> bool:
    letters = word.replace(".", "")
    return 2 <= len(letters) <= 6 and letters.isupper() and letters.isalnum() and not ROMAN.fullmatch(letters)


def _capitalise(word: str) -> str:
    # Keys must not depend on case (BSNLP mentions come lowercased): a name lemmatised as a name.
    return word[:1].upper() + word[1:] if word.islower() else word


def _words(name: str) -> list[str]:
    name = name.strip(EDGE_JUNK)
    name = re.sub(r"['’]s$", "", name)
    if re.fullmatch(r"(?:[^\W\d_]\.){2,}", name + ("." if not name.endswith(".") else "")):
        return [name.replace(".", "")]  # U.S. -> US
    return TOKEN_RE.findall(name)


def _lemmas(words: Sequence[str], lang: str | None) -> list[str]:
    lang = lang if lang in ("uk", "ru", "en") else text_lang(" ".join(words))
    return [w.lower() if _is_acronym(w) else lemma(_capitalise(w), token_lang(w, lang)) for w in words]


@lru_cache(maxsize=1)
def load_data() -> EntityData:
    text = resources.files("storyline.nlp").joinpath("data/entities.toml").read_text("utf-8")
    raw = tomllib.loads(text)
    exact: dict[str, tuple[str, str]] = {}
    skeletons: dict[str, tuple[str, str]] = {}
    for key, alias in raw["aliases"].items():
        kind = alias["type"]
        if kind not in TYPES:
            raise ConfigError(f"entities.toml: alias {key!r} has type {kind!r}; expected one of {TYPES}")
        for name in alias["names"]:
            words = _words(name)
            if len(words) == 1 and _is_acronym(words[0]):
                exact[words[0].upper()] = (key, kind)
                continue
            lang = text_lang(name)
            skeletons[phrase_skeleton(words)] = (key, kind)
            skeletons[phrase_skeleton(_lemmas(words, lang))] = (key, kind)
    acronym_types = {a.upper(): kind for kind, names in raw["acronym_types"].items() for a in names}
    hints = {kind: frozenset(words) for kind, words in raw["hints"].items()}
    start = raw["sentence_start"]
    return EntityData(
        exact,
        skeletons,
        acronym_types,
        hints,
        frozenset(raw["not_entities"]["words"]),
        frozenset(start["function_tags"]),
        frozenset(w.lower() for w in start["words"]),
        {lang: frozenset(words) for lang, words in raw["place_prepositions"].items()},
        frozenset(raw["legal_forms"]["words"]),
        _legal_name_pattern(raw["legal_forms"]["words"]),
        frozenset(w.lower() for w in raw["titles"]["en"]),
    )


def _legal_name_pattern(forms: Sequence[str]) -> re.Pattern[str]:
    if not forms or not all(isinstance(f, str) and f.strip() for f in forms):
        raise ConfigError(f"entities.toml: legal_forms.words must be non-empty strings, got {forms!r}")
    alternatives = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    return re.compile(rf"(?<![^\W_])(?:{alternatives})[ \u00a0]?{QUOTED_NAME}")


def alias_of(words: Sequence[str], lang: str | None) -> tuple[str, str] | None:
    """(key, type) of a known cross-language alias for these words, if any."""
    data = load_data()
    if not words:
        return None
    if len(words) == 1 and (_is_acronym(words[0]) or words[0].upper() in data.exact):
        return data.exact.get(words[0].upper().replace(".", ""))
    found = data.skeletons.get(phrase_skeleton(list(words)))
    return found or data.skeletons.get(phrase_skeleton(_lemmas(words, lang)))


def entity_key(name: str, type: str, lang: str | None) -> str:
    """The cross-lingual key of an entity name: equal for Путін, Путина, Putin's, Vladimir Putin.

    Known aliases (США = USA = Сполучені Штати) give their canonical key; a person gives the
    skeleton of the lemmatised surname; anything else the skeleton of its lemmatised words."""
    if type not in TYPES:
        raise ValueError(f"entity type must be one of {TYPES}, got {type!r}")
    words = _words(name)
    if type == "ORG" and len(words) > 1 and words[0] in load_data().legal_forms:
        words = words[1:]  # ПАТ «Газпром» is «Газпром»
    if not words:
        return ""
    found = alias_of(words, lang)
    if found:
        return found[0]
    if type == "PER":
        # Initials (В. Путін) and patronymic-less word order: the last word of 2+ letters is the surname.
        names = [w for w in words if len(w) > 1]
        words = names[-1:] or words[-1:]
    elif len(words) == 1 and _is_acronym(words[0]):
        return words[0].lower()
    return phrase_skeleton(_lemmas(words, lang))


# --- extraction ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Token:
    text: str
    start: int
    end: int
    sentence_start: bool
    lang: str


def _tokens(text: str, lang: str | None) -> list[_Token]:
    out: list[_Token] = []
    previous_end = 0
    for match in TOKEN_RE.finditer(text):
        gap = text[previous_end : match.start()]
        first = not out or bool(SENTENCE_END.search(gap))
        word = match.group()
        out.append(_Token(word, match.start(), match.end(), first, token_lang(word, lang)))
        previous_end = match.end()
    return out


def _capitalised(token: _Token) -> bool:
    return token.text[:1].isupper()


def _joined(tokens: Sequence[_Token], text: str) -> bool:
    """Two neighbouring tokens belong to one name: only spaces (or a hyphen) between them."""
    gap = text[tokens[0].end : tokens[1].start]
    return gap in (" ", "\u00a0", "-")


def _known_name(token: _Token, data: EntityData) -> bool:
    if _is_acronym(token.text) or token.text.upper() in data.exact:
        return True
    return bool(_person_kinds(token.text, token.lang))


@lru_cache(maxsize=100_000)
def _has_function_reading(word: str, lang: str, tags: frozenset[str]) -> bool:
    """Some pymorphy3 parse of the word is a pronoun, adverb, conjunction, particle, preposition...
    Any parse counts, not only the best one: Вона's top parses are the surname "Вон"."""
    if lang not in ("uk", "ru"):
        return False
    from storyline.nlp.lemmas import morph

    return any(tags & parse.tag.grammemes for parse in morph(lang).parse(word))


def _function_word_start(token: _Token, data: EntityData) -> bool:
    """A sentence-initial word that is a function word (Вона, Тому, Крім) or a listed non-name."""
    if not token.sentence_start:
        return False
    if token.text.lower() in data.sentence_start_words:
        return True
    return _has_function_reading(token.text, token.lang, data.function_tags)


@lru_cache(maxsize=100_000)
def _only_person(word: str, lang: str) -> bool:
    """Morphology knows the word as a person and not as a common inanimate noun: Путіна, Ірини,
    but not Львові (surname Львов, also львів inan) or Одесі (no person reading)."""
    if not _person_kinds(word, lang):
        return False
    from storyline.nlp.lemmas import morph

    for parse in morph(lang).parse(word):
        grammemes = parse.tag.grammemes
        if "NOUN" in grammemes and "inan" in grammemes and not grammemes & PERSON_GRAMMEMES:
            return False
    return True


def _after_place_preposition(
    run: Sequence[_Token], before: _Token | None, quoted: bool, data: EntityData
) -> bool:
    """у Львові, до Канади, в Одессе: a Cyrillic name after a place preposition, not a person
    (nor a quoted name: на «Укрбуді» is a company)."""
    if before is None or quoted or run[0].lang not in ("uk", "ru"):
        return False
    if before.text.lower() not in data.place_prepositions.get(before.lang, frozenset()):
        return False
    return not _only_person(run[0].text, run[0].lang)


def _type_of(run: Sequence[_Token], before: _Token | None, quoted: bool, data: EntityData) -> str:
    """The type of a capitalised run; ``quoted`` when an opening quote separates it from ``before``."""
    lemmas = [lemma(t.text, t.lang) for t in run]
    kinds: set[str] = set()
    for t in run:
        kinds |= _person_kinds(t.text, t.lang)
    hint = _hint(before, data)
    first_kinds = _person_kinds(run[0].text, run[0].lang)
    if any(w in data.hints["ORG"] for w in lemmas) or (quoted and hint in data.hints["ORG"]):
        return "ORG"  # Міністерство фінансів; компанія «Укрбуд»
    if len(run) == 1 and _is_acronym(run[0].text):
        return data.acronym_types.get(run[0].text.upper(), "ORG")
    if _names_person(hint, data) or (len(run) >= 2 and "Name" in first_kinds):
        return "PER"
    if any(w in data.hints["LOC"] for w in lemmas[1:]) or _after_place_preposition(run, before, quoted, data):
        return "LOC"
    if kinds & PERSON_GRAMMEMES and "Geox" not in kinds:
        return "PER"
    if "Geox" in kinds:
        return "LOC"
    if "Orgn" in kinds:
        return "ORG"
    if run[0].lang == "en" and 2 <= len(run) <= 3:
        return (
            "PER"  # "Emily Horne": English has no morphology to ask; two capitalised words are mostly a name
        )
    return "MISC"


def _hint(before: _Token | None, data: EntityData) -> str | None:
    """The lemma of the word before a name when it says what kind of name follows: a lowercase
    word (міністр, компанія) or a capitalised English title (Minister)."""
    if before is None or (_capitalised(before) and before.text.lower() not in data.titles):
        return None
    return lemma(before.text, before.lang)


def _names_person(hint: str | None, data: EntityData) -> bool:
    return hint is not None and (hint in data.hints["PER"] or hint in data.titles)


def _split_runs(run: list[_Token]) -> list[list[_Token]]:
    """Split "Росії Володимир Путін" before a first name that follows a non-name word."""
    parts: list[list[_Token]] = [[run[0]]]
    for prev, tok in zip(run, run[1:], strict=False):
        kinds = _person_kinds(tok.text, tok.lang)
        prev_kinds = _person_kinds(prev.text, prev.lang)
        if "Name" in kinds and not prev_kinds & PERSON_GRAMMEMES:
            parts.append([tok])
        else:
            parts[-1].append(tok)
    return parts


def find_mentions(text: str, lang: str | None, paragraph: int = 0) -> list[Mention]:
    """Entity mentions in one paragraph (or title), in text order."""
    data = load_data()
    tokens = _tokens(text, lang)
    out: list[Mention] = []
    legal = {m.start(): m.end() for m in data.legal_name.finditer(text)}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.start in legal:
            # 0. a legal form and its quoted name: ТОВ «Бюро Ейнштейн» is one organisation.
            end = legal[tok.start]
            surface = text[tok.start : end]
            out.append(Mention(surface, "ORG", entity_key(surface, "ORG", lang), paragraph, tok.start, end))
            while i < len(tokens) and tokens[i].start < end:
                i += 1
            continue
        # A sentence-opening function word goes before the gazetteer: Крім sounds like Крим.
        if not _capitalised(tok) or tok.text[0].isdigit() or _function_word_start(tok, data):
            i += 1
            continue
        # 1. the alias gazetteer, longest match first (Білий дім, Сполучених Штатах).
        matched = 0
        for n in range(min(MAX_GAZETTEER_WORDS, len(tokens) - i), 0, -1):
            span = tokens[i : i + n]
            if n > 1 and not all(_joined(span[k : k + 2], text) for k in range(n - 1)):
                continue
            found = alias_of([t.text for t in span], lang)
            if found:
                key, kind = found
                out.append(
                    Mention(
                        text[span[0].start : span[-1].end], kind, key, paragraph, span[0].start, span[-1].end
                    )
                )
                matched = n
                break
        if matched:
            i += matched
            continue
        # 2. a run of capitalised words.
        j = i + 1
        while (
            j < len(tokens)
            and _capitalised(tokens[j])
            and not tokens[j].sentence_start
            and _joined((tokens[j - 1], tokens[j]), text)
        ):
            j += 1
        run = tokens[i:j]
        before = tokens[i - 1] if i > 0 and not tok.sentence_start else None
        # A sentence-initial word is a name only if morphology (or the alias table) says so.
        stop = stopwords()
        if len(run) > 1 and all(t.text.isupper() for t in run):
            i = j  # a shouted line (ЩЕ ЗА ТЕМОЮ) is a heading, not a name
            continue
        while run and (
            lemma(run[0].text, run[0].lang) in data.not_entities
            or lemma(run[0].text, run[0].lang) in stop
            or _function_word_start(run[0], data)
            or (
                run[0].sentence_start
                and not _known_name(run[0], data)
                and (run[0].lang != "en" or len(run) == 1)
            )
        ):
            before = run[0]
            run = run[1:]
        if run and run[-1].lang == "en" and run[-1].text.lower() in data.titles:
            i = j  # "Prime Minister", "Foreign Minister" with no name after: a role, not a name
            continue
        titled = [k for k, t in enumerate(run[:-1]) if t.lang == "en" and t.text.lower() in data.titles]
        if titled:
            # "Transport Minister Andrei Popescu": the name is what follows the last title word
            before, run = run[titled[-1]], run[titled[-1] + 1 :]
        if run and run[0] is not tok:
            i = tokens.index(run[0], i)  # trimmed: the rest may start an alias (Адміністрація | США)
            continue
        i = j
        if not run:
            continue
        parts = _split_runs(run)
        for n, part in enumerate(parts):
            surface = text[part[0].start : part[-1].end]
            found = alias_of([t.text for t in part], part[0].lang)
            quoted = before is not None and text[before.end : part[0].start].strip() in QUOTES
            # "голова Мукачева Андрій Балог": a title before a split run is the person's, not
            # the place's between them
            title_of_later = n == 0 and len(parts) > 1 and _names_person(_hint(before, data), data)
            typed_after = None if title_of_later else before
            kind = found[1] if found else _type_of(part, typed_after, quoted, data)
            key = found[0] if found else entity_key(surface, kind, part[0].lang)
            if key:
                out.append(Mention(surface, kind, key, paragraph, part[0].start, part[-1].end))
            before = part[-1]
    return out


def extract_mentions(
    paragraphs: Iterable[Paragraph], lang: str | None, title: str | None = None
) -> list[Mention]:
    """Every entity mention of an article, title first (paragraph -1), each paragraph in its own language."""
    out: list[Mention] = []
    if title:
        out.extend(find_mentions(title, lang, -1))
    for index, para in enumerate(paragraphs):
        out.extend(find_mentions(para.text, para.lang or lang, index))
    return out


def entity_counts(mentions: Iterable[Mention]) -> Counter[str]:
    """Mentions per key: what later stages rank top entities by."""
    return Counter(m.key for m in mentions)


def aggregate(mentions: Sequence[Mention]) -> list[Entity]:
    """One Entity per key, most mentioned first; its text is the most frequent surface form and
    its type the most frequent type (a person's surname alone counts toward the full name)."""
    by_key: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        by_key[m.key].append(m)
    entities = []
    for key, group in sorted(
        by_key.items(), key=lambda kv: (-len(kv[1]), kv[1][0].paragraph, kv[1][0].start)
    ):
        surface = Counter(m.text for m in group).most_common(1)[0][0]
        types = Counter(m.type for m in group)
        kind = max(types, key=lambda t: (types[t], t != "MISC"))
        entities.append(Entity(surface, kind, key))
    return entities


def extract_entities(
    paragraphs: Iterable[Paragraph], lang: str | None, title: str | None = None
) -> list[Entity]:
    """The article's entities, deduplicated by key, most mentioned first."""
    return aggregate(extract_mentions(paragraphs, lang, title))
