"""Load the boilerplate rules table (rules/boilerplate.toml) and answer questions about one line."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from storyline.errors import ConfigError

DEFAULT_RULES = Path(__file__).with_name("rules") / "boilerplate.toml"

# Latin letters that scrapers and copy-paste leave inside Cyrillic words ("Підписуйтеcь").
_LATIN_TO_CYRILLIC = str.maketrans("aceiopxyACEHIKMOPTXBy", "асеіорхуАСЕНІКМОРТХВу")
_WORD = re.compile(r"\w+")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z]")
_SPACES = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")


def normalise(line: str) -> str:
    """Fold white space and map Latin look-alikes inside Cyrillic words, for matching only."""
    line = _SPACES.sub(" ", line).strip()
    if _CYRILLIC.search(line) and _LATIN.search(line):
        line = _WORD.sub(_fix_mixed_word, line)
    return line


def _fix_mixed_word(match: re.Match) -> str:
    word = match.group(0)
    if _CYRILLIC.search(word) and _LATIN.search(word):
        return word.translate(_LATIN_TO_CYRILLIC)
    return word


@dataclass(frozen=True, slots=True)
class BodyShape:
    min_chars: int
    long_chars: int
    headline_max_chars: int
    header_lines: int
    sentence_end: re.Pattern


@dataclass(frozen=True, slots=True)
class Rules:
    date_line: tuple[re.Pattern, ...]
    drop: tuple[tuple[str, re.Pattern], ...]
    block_start: tuple[tuple[str, re.Pattern], ...]
    link_prefix: tuple[tuple[str, re.Pattern], ...]
    source: tuple[tuple[str, re.Pattern], ...]
    body: BodyShape

    def drop_rule(self, norm: str) -> str | None:
        return next((name for name, rx in self.drop if rx.fullmatch(norm)), None)

    def is_date_line(self, norm: str) -> bool:
        return any(rx.fullmatch(norm) for rx in self.date_line)

    def block_rule(self, norm: str) -> str | None:
        return next((name for name, rx in self.block_start if rx.fullmatch(norm)), None)

    def link_rule(self, norm: str) -> str | None:
        return next((name for name, rx in self.link_prefix if rx.match(norm)), None)

    def source_in(self, norm: str) -> tuple[str, str] | None:
        for name, rx in self.source:
            found = rx.search(norm)
            if found:
                return name, found.group("name").strip(" \"'«»“”.")
        return None

    def is_prose(self, norm: str) -> bool:
        """Reads like a paragraph of article prose: long enough and ending a sentence."""
        if len(norm) >= self.body.long_chars:
            return True
        return len(norm) >= self.body.min_chars and bool(self.body.sentence_end.search(norm))

    def is_headline(self, norm: str) -> bool:
        """Could be a headline (a title, a list item, a sub-head): short, no closing full stop."""
        return (0 < len(norm) <= self.body.headline_max_chars
                and not norm.endswith((".", ":", ";", ","))
                and any(ch.isalpha() for ch in norm))


def _compile(pattern: str, vocabulary: dict[str, str], where: str) -> re.Pattern:
    expanded = pattern
    for key, value in vocabulary.items():
        expanded = expanded.replace("{" + key + "}", value)
    try:
        return re.compile(expanded, re.IGNORECASE)
    except re.error as exc:
        raise ConfigError(
            f"bad regular expression in boilerplate rules [{where}]: {exc}: {pattern!r}") from None


def _named(table: dict, vocabulary: dict, section: str) -> tuple[tuple[str, re.Pattern], ...]:
    return tuple((name, _compile(p, vocabulary, f"{section}.{name}"))
                 for name, patterns in table.items() for p in patterns)


@lru_cache(maxsize=8)
def load_rules(path: Path = DEFAULT_RULES) -> Rules:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read boilerplate rules {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"boilerplate rules {path} are not valid TOML: {exc}") from None
    vocab = data.get("vocabulary", {})
    body = data["body"]
    return Rules(
        date_line=tuple(_compile(p, vocab, "date_line") for p in data["date_line"]["patterns"]),
        drop=_named(data["drop"], vocab, "drop"),
        block_start=_named(data["block_start"], vocab, "block_start"),
        link_prefix=_named(data["link_prefix"], vocab, "link_prefix"),
        source=tuple((entry["rule"], _compile(p, vocab, f"source.{entry['rule']}"))
                     for entry in data["source"] for p in entry["patterns"]),
        body=BodyShape(
            min_chars=int(body["min_chars"]),
            long_chars=int(body["long_chars"]),
            headline_max_chars=int(body["headline_max_chars"]),
            header_lines=int(body["header_lines"]),
            sentence_end=re.compile(body["sentence_end"]),
        ),
    )
