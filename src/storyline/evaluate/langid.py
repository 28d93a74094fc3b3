"""Language-identification accuracy on labelled test files (lingua's test-data format).

A test file is named ``<lang>.txt`` and holds one sample per line; its parent folder names the
category (``single-words``, ``word-pairs``, ``sentences``), so categories are reported separately.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from storyline.errors import InputError
from storyline.evaluate.metrics import format_table, safe_div
from storyline.nlp.language import LanguageIdentifier, supported_languages
from storyline.settings import DEFAULT_LANGUAGES

NONE_LABEL = "none"  # how "no language" is written in tables and JSON keys


@dataclass(slots=True)
class LangidResult:
    """Predictions for one test file: one category, one gold language."""

    category: str
    language: str
    path: str
    predicted: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.predicted.values())

    @property
    def correct(self) -> int:
        return self.predicted[self.language]

    @property
    def accuracy(self) -> float:
        return safe_div(self.correct, self.total)

    def share(self, languages: Iterable[str]) -> float:
        """Share of this file's samples that were called one of ``languages``."""
        return safe_div(sum(self.predicted[code] for code in set(languages)), self.total)


@dataclass(slots=True)
class LangidReport:
    languages: tuple[str, ...]
    results: list[LangidResult]

    @property
    def categories(self) -> list[str]:
        return sorted({r.category for r in self.results})

    def select(self, category: str | None = None, language: str | None = None):
        return [
            r
            for r in self.results
            if (category is None or r.category == category) and (language is None or r.language == language)
        ]

    def counts(self, category: str | None = None, language: str | None = None) -> tuple[int, int]:
        """(correct, total) over the selected files."""
        chosen = self.select(category, language)
        return sum(r.correct for r in chosen), sum(r.total for r in chosen)

    def accuracy(self, category: str | None = None, language: str | None = None) -> float:
        """Micro-averaged accuracy over the selected files (all of them by default)."""
        correct, total = self.counts(category, language)
        return safe_div(correct, total)

    def share(self, category: str | None, language: str, called: Iterable[str]) -> float:
        """How often gold ``language`` was called one of ``called`` (e.g. be called uk or ru)."""
        called = set(called)
        chosen = self.select(category, language)
        hits = sum(sum(r.predicted[c] for c in called) for r in chosen)
        return safe_div(hits, sum(r.total for r in chosen))

    def confusion(self, category: str | None = None) -> dict[str, dict[str, int]]:
        """gold -> predicted -> count."""
        table: dict[str, Counter[str]] = {}
        for r in self.select(category):
            table.setdefault(r.language, Counter()).update(r.predicted)
        return {gold: dict(pred.most_common()) for gold, pred in sorted(table.items())}

    def table(self) -> str:
        rows = []
        for category in self.categories:
            for r in sorted(self.select(category), key=lambda r: r.language):
                errors = [(p, n) for p, n in r.predicted.most_common() if p != r.language]
                rows.append(
                    [
                        category,
                        r.language,
                        r.total,
                        r.correct,
                        r.accuracy,
                        ", ".join(f"{p} {n}" for p, n in errors[:4]),
                    ]
                )
            correct, total = self.counts(category)
            rows.append([category, "ALL", total, correct, safe_div(correct, total), ""])
        headers = ["category", "lang", "n", "correct", "accuracy", "most frequent errors"]
        parts = [f"languages: {','.join(self.languages)}", format_table(headers, rows)]
        for category in self.categories:
            parts.append(f"\nconfusion ({category}): gold rows, predicted columns")
            parts.append(_confusion_table(self.confusion(category)))
        correct, total = self.counts()
        parts.append(f"\noverall accuracy: {safe_div(correct, total):.3f} ({correct}/{total})")
        return "\n".join(parts)

    def to_dict(self) -> dict:
        categories = {}
        for category in self.categories:
            correct, total = self.counts(category)
            categories[category] = {
                "n": total,
                "correct": correct,
                "accuracy": safe_div(correct, total),
                "languages": {
                    r.language: {
                        "n": r.total,
                        "correct": r.correct,
                        "accuracy": r.accuracy,
                        "path": r.path,
                        "predicted": dict(r.predicted.most_common()),
                    }
                    for r in sorted(self.select(category), key=lambda r: r.language)
                },
                "confusion": self.confusion(category),
            }
        correct, total = self.counts()
        return {
            "languages": list(self.languages),
            "n": total,
            "correct": correct,
            "accuracy": safe_div(correct, total),
            "categories": categories,
        }


def _confusion_table(confusion: dict[str, dict[str, int]]) -> str:
    predicted = sorted({p for row in confusion.values() for p in row})
    rows = [[gold] + [row.get(p, 0) for p in predicted] for gold, row in confusion.items()]
    return format_table(["gold"] + predicted, rows)


def langid_files(directory: Path) -> list[Path]:
    """Every ``<lang>.txt`` test file under ``directory`` (recursively), in a stable order.

    Other ``.txt`` files (a LICENSE.txt beside the data) are not test files and are left out."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(str(directory), "not_found", "not a directory")
    valid = set(supported_languages())
    return sorted(p for p in directory.rglob("*.txt") if p.is_file() and p.stem.lower() in valid)


def _expand(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found = langid_files(path)
            if not found:
                raise InputError(str(path), "not_found", "no *.txt test files in this directory")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise InputError(str(path), "not_found", "no such file or directory")
    if not files:
        raise InputError("-", "not_found", "no test files given")
    return files


def _read_samples(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(str(path), "undecodable", f"not UTF-8: {exc.reason}") from None
    except OSError as exc:
        raise InputError(str(path), "unreadable", exc.strerror or str(exc)) from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def evaluate_langid(
    files: Iterable[Path],
    languages: Sequence[str] | str = DEFAULT_LANGUAGES,
    *,
    identifier: LanguageIdentifier | None = None,
) -> LangidReport:
    """Run language identification over test files (or directories of them) and score it.

    ``identifier`` overrides the one built from ``languages`` (to compare configurations).
    """
    identifier = identifier or LanguageIdentifier(languages)
    valid = set(supported_languages())
    results = []
    for path in _expand(files):
        gold = path.stem.lower()
        if gold not in valid:
            raise InputError(
                str(path),
                "bad_name",
                f"file name {path.name!r} is not <ISO 639-1 code>.txt",
                hint="name test files like uk.txt, ru.txt",
            )
        predicted = identifier.detect_paragraphs(_read_samples(path))
        counts = Counter(NONE_LABEL if p is None else p for p in predicted)
        results.append(LangidResult(path.parent.name, gold, str(path), counts))
    return LangidReport(identifier.languages, results)
