"""A Latin sound skeleton shared by Ukrainian, Russian and English spellings of one name.

Transliteration standards disagree (Путін -> Putin, Путин -> Putin, Лавров -> Lavrov, but
Байден -> Bajden, Biden; Зеленський -> Zelenskyi, Zelensky, Zelenskiy), so the skeleton keeps
what the spellings agree on and forgets the rest:

- consonants are mapped to one Latin letter per sound class: г/ґ/х/h/kh -> g, ш/щ/sh -> w,
  ж/zh -> x, ч/ch -> q, ц/ts -> c, дж/j -> j; soft and hard signs and apostrophes disappear;
- every run of vowels (and й/y/j as a glide) becomes one "a": vowels are where uk, ru and
  English spellings differ most (и/і/ы/y, е/є/э, ai/i in Biden);
- doubled letters collapse; a final vowel is dropped (Псакі = Psaki, Зеленська = Зеленський,
  Horne = Горн), unless the skeleton would become a single letter.

The skeleton is lossy on purpose: it is a grouping key, not a spelling.
"""

from __future__ import annotations

import re
import unicodedata

CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "є": "e", "ё": "e",
    "ж": "x", "з": "z", "и": "i", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "g",
    "ц": "c", "ч": "q", "ш": "w", "щ": "w", "ъ": "", "ы": "i", "ь": "", "э": "e", "ю": "u",
    "я": "a", "ў": "u",
}  # fmt: skip

# English digraphs first, longest first; the Cyrillic table already speaks this alphabet.
# English digraphs first, longest first. Replacements are upper case so that a later rule never
# rewrites an earlier rule's output (sh -> W must not become v); the result is lowered after.
LATIN_RULES = [
    (re.compile(r"shch|sch"), "W"),
    (re.compile(r"tch|ch"), "Q"),
    (re.compile(r"sh"), "W"),
    (re.compile(r"zh"), "X"),
    (re.compile(r"kh"), "G"),
    (re.compile(r"ph"), "F"),
    (re.compile(r"th"), "T"),
    (re.compile(r"ck"), "K"),
    (re.compile(r"qu"), "KV"),
    (re.compile(r"ts|tz"), "C"),
    (re.compile(r"x"), "KS"),
    (re.compile(r"q"), "K"),
    (re.compile(r"w"), "V"),
    (re.compile(r"c(?=[eiy])"), "S"),
    (re.compile(r"c"), "K"),
    # h after a consonant, or between a vowel and a consonant, is silent: Johnson = Джонсон.
    (re.compile(r"(?<=[bdfgjklmnprtvz])h"), ""),
    (re.compile(r"(?<=[aeiou])h(?=[bdfgjklmnprstvz])"), ""),
    (re.compile(r"h"), "G"),
]
VOWEL_RUN = re.compile(r"[aeiouy]+")
DOUBLED = re.compile(r"(.)\1+")
NON_WORD = re.compile(r"[^a-z0-9]+")


def _latin(word: str) -> str:
    """Diacritics off (Mélenchon -> melenchon), then the English digraph rules."""
    plain = unicodedata.normalize("NFKD", word)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    for pattern, replacement in LATIN_RULES:
        plain = pattern.sub(replacement, plain)
    return plain.lower()


def _cyrillic(word: str) -> str:
    word = word.replace("дж", "j").replace("тс", "c").replace("дз", "z")
    return "".join(CYRILLIC.get(c, c) for c in word)


def skeleton(word: str) -> str:
    """The sound skeleton of one word (lowercase Latin letters and digits, possibly empty)."""
    word = word.lower().replace("'", "").replace("’", "").replace("ʼ", "")
    if any("\u0400" <= c <= "\u04ff" for c in word):
        word = _cyrillic(word)
    else:
        word = _latin(word)
    word = NON_WORD.sub("", word)
    word = VOWEL_RUN.sub("a", word)
    word = DOUBLED.sub(r"\1", word)
    if len(word) > 2 and word.endswith("a"):
        word = word[:-1]
    return word


def phrase_skeleton(words: list[str]) -> str:
    """Skeletons of several words joined with "_" (empty words left out)."""
    return "_".join(s for s in (skeleton(w) for w in words) if s)
