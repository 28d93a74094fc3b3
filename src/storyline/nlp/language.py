"""Language identification per paragraph and per article (lingua, plus evidence it lacks).

lingua's statistics are strong on sentences and weak on one or two words, where close Cyrillic
neighbours (uk, ru, be, bg, mk, sr) share most n-grams. Three kinds of evidence help there, all
kept as data in ``data/language.toml``:

- letters: a language that never writes a letter of the text cannot be its language (ў, ы, ї, ъ);
- a prior: the stream is uk/ru/en news, so guest languages in the set need stronger evidence;
- word lists: when lingua says uk or ru, pymorphy3's dictionaries arbitrate between the two.

It also works around a lingua-py 2.1.1 rule that rules Ukrainian out for the letter щ (see
``lingua_blind_spots`` in the data file).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from storyline.errors import ConfigError
from storyline.settings import DEFAULT_LANGUAGES

# Detection looks at the first this-many characters of a text: a paragraph's language is settled
# long before that, and lingua's cost grows with length.
MAX_CHARS = 1000


@dataclass(frozen=True, slots=True)
class Evidence:
    """What ``data/language.toml`` holds: alphabets, priors, the dictionary threshold."""

    letters: dict[str, frozenset[str]]
    scripts: dict[str, str]
    tolerance: float
    prior: dict[str, float]
    dictionary_max_letters: int
    blind_spots: dict[str, frozenset[str]]


@lru_cache(maxsize=1)
def load_evidence() -> Evidence:
    raw = tomllib.loads(resources.files("storyline.nlp").joinpath("data/language.toml").read_text("utf-8"))
    letters = {code: frozenset(chars) for code, chars in raw["alphabets"].items()}
    scripts = {}
    for code, chars in letters.items():
        found = {script_of(c) for c in chars}
        if len(found) != 1:
            raise ConfigError(f"alphabet of {code!r} mixes scripts: {sorted(found)}")
        scripts[code] = found.pop()
    tolerance = float(raw["tolerance"])
    if not 0 <= tolerance < 1:
        raise ConfigError(f"alphabet tolerance must be in [0, 1), got {tolerance}")
    prior = {code: float(w) for code, w in raw.get("prior", {}).items()}
    bad = {code: w for code, w in prior.items() if w <= 0}
    if bad:
        raise ConfigError(f"language prior weights must be > 0, got {bad}")
    blind = {code: frozenset(chars) for code, chars in raw.get("lingua_blind_spots", {}).items()}
    return Evidence(letters, scripts, tolerance, prior, int(raw["dictionary_max_letters"]), blind)


@lru_cache(maxsize=4096)
def script_of(char: str) -> str:
    """The Unicode script word of a letter: ``CYRILLIC``, ``LATIN``, ``GREEK``, ..."""
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0] if name else ""


def supported_languages() -> list[str]:
    """ISO 639-1 codes lingua can identify."""
    return sorted(lang.iso_code_639_1.name.lower() for lang in Language.all())


def _normalise_codes(languages: Sequence[str]) -> tuple[str, ...]:
    if isinstance(languages, str):
        languages = languages.split(",")
    codes = tuple(dict.fromkeys(code.strip().lower() for code in languages if code.strip()))
    if not codes:
        raise ConfigError("at least one language is needed", hint="e.g. uk,ru,en")
    valid = set(supported_languages())
    unknown = [code for code in codes if code not in valid]
    if unknown:
        raise ConfigError(
            f"unknown language code(s): {', '.join(unknown)}",
            hint=f"valid ISO 639-1 codes: {', '.join(sorted(valid))}",
        )
    return codes


@lru_cache(maxsize=8)
def _detector(codes: frozenset[str]) -> LanguageDetector:
    # Building loads models lazily but is still the slow part; one detector per language set.
    # High accuracy mode: on single words and word pairs it is 8-16 points better than low
    # accuracy mode and fast enough (about 0.1 ms per short text).
    isos = [getattr(IsoCode639_1, code.upper()) for code in sorted(codes)]
    builder = LanguageDetectorBuilder.from_iso_codes_639_1(*isos)
    return builder.build()


def _by_code(values) -> dict[str, float]:
    return {v.language.iso_code_639_1.name.lower(): v.value for v in values}


def letter_count(text: str) -> int:
    return sum(1 for c in text if c.isalpha())


def _clip(text: str) -> str:
    if len(text) <= MAX_CHARS:
        return text
    cut = text.rfind(" ", 0, MAX_CHARS)
    return text[: cut if cut > MAX_CHARS // 2 else MAX_CHARS]


class UkRuLexicon:
    """pymorphy3's Ukrainian and Russian dictionaries, used to tell uk from ru in short text.

    Optional: without pymorphy3 installed, ``available`` is False and no word is known."""

    def __init__(self) -> None:
        try:
            import pymorphy3
        except ImportError:  # the other evidence still works; the CLI stays usable
            self._analysers = {}
        else:
            self._analysers = {
                "uk": pymorphy3.MorphAnalyzer(lang="uk"),
                "ru": pymorphy3.MorphAnalyzer(lang="ru"),
            }

    @property
    def available(self) -> bool:
        return bool(self._analysers)

    def known_only_in(self, words: Sequence[str]) -> Counter[str]:
        """How many of ``words`` only the uk, or only the ru, dictionary knows."""
        tally: Counter[str] = Counter()
        for word in words:
            known = [lang for lang, a in self._analysers.items() if a.word_is_known(word)]
            if len(known) == 1:
                tally[known[0]] += 1
        return tally


@lru_cache(maxsize=1)
def _lexicon() -> UkRuLexicon:
    return UkRuLexicon()


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'", "`": "'"})
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


def dictionary_words(text: str) -> list[str]:
    """Lowercased words to look up; capitalised ones (names: Байден is only in the uk list) are
    left out unless the text has nothing else."""
    words = _WORD.findall(text.translate(_APOSTROPHES))
    common = [w for w in words if w.islower()]
    return [w.lower() for w in (common or words)]


class LanguageIdentifier:
    """Identifies the language of paragraphs and articles among a fixed set of languages.

    ``evidence=False`` gives plain lingua (kept to measure what the evidence adds).
    """

    def __init__(self, languages: Sequence[str] = DEFAULT_LANGUAGES, *, evidence: bool = True):
        self.languages = _normalise_codes(languages)
        self.use_evidence = evidence
        self._evidence = load_evidence()

    def __repr__(self) -> str:
        return f"LanguageIdentifier(languages={self.languages!r}, evidence={self.use_evidence})"

    @property
    def detector(self) -> LanguageDetector:
        return _detector(frozenset(self.languages))

    def candidates(self, text: str) -> tuple[str, ...]:
        """The languages of the set that can write ``text``.

        Only letters of the text's main script count. When no language's alphabet fits, every
        language of that script is kept (a Polish word among uk/ru/en is still Latin, so en);
        when the set has none of that script, every language is (lingua then decides)."""
        letters = [c.lower() for c in text if c.isalpha()]
        if not letters:
            return ()
        if not self.use_evidence:
            return self.languages
        by_script = Counter(script_of(c) for c in letters)
        main_script = by_script.most_common(1)[0][0]
        main = Counter(c for c in letters if script_of(c) == main_script)
        allowed = self._evidence.tolerance * sum(main.values())
        fits, same_script = [], []
        for code in self.languages:
            alphabet = self._evidence.letters.get(code)
            if alphabet is None:
                fits.append(code)
                same_script.append(code)
            elif self._evidence.scripts[code] == main_script:
                same_script.append(code)
                if sum(n for c, n in main.items() if c not in alphabet) <= allowed:
                    fits.append(code)
        return tuple(fits or same_script or self.languages)

    def _blind_spotted(self, text: str, candidates: tuple[str, ...], values) -> set[str]:
        """Candidates lingua's rules zeroed for a letter they do write (``lingua_blind_spots``)."""
        if not self.use_evidence:
            return set()
        scores = _by_code(values)
        lowered = text.lower()
        return {
            code
            for code in candidates
            if scores.get(code, 0.0) == 0.0
            and any(c in lowered for c in self._evidence.blind_spots.get(code, ()))
        }

    def _scores(self, texts: list[str], candidates: list[tuple[str, ...]]) -> list:
        """lingua's confidence values for each text, working around its blind spots: a zeroed
        language is scored again on the text without the words that hold its blind letters, and
        that second scoring counts only if the language then wins (else the words it dropped
        were evidence for another language)."""
        detector = self.detector
        if len(texts) == 1:
            values = [detector.compute_language_confidence_values(texts[0])]
        else:
            values = detector.compute_language_confidence_values_in_parallel(texts)
        for i, (text, cands) in enumerate(zip(texts, candidates, strict=True)):
            zeroed = self._blind_spotted(text, cands, values[i])
            if not zeroed:
                continue
            blind = set().union(*(self._evidence.blind_spots[code] for code in zeroed))
            kept = " ".join(w for w in text.split() if not blind & set(w.lower()))
            if not any(c.isalpha() for c in kept):
                continue
            retry = detector.compute_language_confidence_values(kept)
            if self._best(cands, _by_code(retry)) in zeroed:
                values[i] = retry
        return values

    def _best(self, candidates: tuple[str, ...], scores: dict[str, float]) -> str:
        prior = self._evidence.prior if self.use_evidence else {}
        return max(candidates, key=lambda code: scores.get(code, 0.0) * prior.get(code, 1.0))

    def _choose(self, text: str, candidates: tuple[str, ...], values) -> str | None:
        scores = _by_code(values)
        if not any(scores.get(code, 0.0) > 0 for code in candidates):
            # lingua's own rules excluded every candidate: trust lingua over the letter table;
            # letters of no language in the set (all scores zero): say so instead of guessing.
            top = max(scores, key=scores.__getitem__, default=None)
            return top if top is not None and scores[top] > 0 else None
        best = self._best(candidates, scores)
        return self._uk_or_ru(text, best, candidates) if self.use_evidence else best

    def _uk_or_ru(self, text: str, best: str, candidates: tuple[str, ...]) -> str:
        # Only a uk/ru choice is reconsidered: the word lists know nothing of be or bg, and many
        # Bulgarian words are in the Russian list, so they must not move a decision to uk or ru.
        other = {"uk": "ru", "ru": "uk"}.get(best)
        if other is None or other not in candidates:
            return best
        if letter_count(text) > self._evidence.dictionary_max_letters:
            return best
        lexicon = _lexicon()
        if not lexicon.available:
            return best
        tally = lexicon.known_only_in(dictionary_words(text))
        return other if tally[other] > tally[best] else best

    def detect(self, text: str) -> str | None:
        """ISO 639-1 code of ``text``'s language; None when it has no letters, or only letters
        no language of the set writes (Chinese among uk/ru/en)."""
        text = _clip(text)
        candidates = self.candidates(text)
        if len(candidates) <= 1:
            return candidates[0] if candidates else None
        values = self._scores([text], [candidates])[0]
        return self._choose(text, candidates, values)

    def detect_paragraphs(self, paragraphs: Sequence[str]) -> list[str | None]:
        """One language (or None) per paragraph; lingua scores the ambiguous ones in parallel."""
        clipped = [_clip(p) for p in paragraphs]
        candidates = [self.candidates(p) for p in clipped]
        result: list[str | None] = [c[0] if len(c) == 1 else None for c in candidates]
        todo = [i for i, c in enumerate(candidates) if len(c) > 1]
        if todo:
            batch = self._scores([clipped[i] for i in todo], [candidates[i] for i in todo])
            for i, values in zip(todo, batch, strict=True):
                result[i] = self._choose(clipped[i], candidates[i], values)
        return result

    def article_language(
        self, paragraphs: Sequence[str], paragraph_langs: Sequence[str | None]
    ) -> str | None:
        """The language with the most letters of body text (None when no paragraph has one)."""
        return article_language(paragraphs, paragraph_langs)


def article_language(paragraphs: Sequence[str], paragraph_langs: Sequence[str | None]) -> str | None:
    """Majority language of a body, each paragraph weighted by its letter count.

    Ties go to the language of the earliest paragraph, so the result does not depend on set order.
    """
    if len(paragraphs) != len(paragraph_langs):
        raise ValueError(f"{len(paragraphs)} paragraphs but {len(paragraph_langs)} paragraph languages")
    weight: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for index, (text, lang) in enumerate(zip(paragraphs, paragraph_langs, strict=True)):
        if lang is None:
            continue
        weight[lang] += letter_count(text)
        first_seen.setdefault(lang, index)
    if not weight:
        return None
    return max(weight, key=lambda lang: (weight[lang], -first_seen[lang]))
