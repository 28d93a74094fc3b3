"""Ukrainian mention extraction against NER-UK 2.0 (``ner_uk_dev.jsonl``): exact and overlap P/R/F1.

Each NER-UK record has ``text`` (one sentence a line, a blank line between paragraphs; the
``bruk`` part is tokenised with spaces around punctuation, the ``ng`` part mostly is not) and
``entities`` with character offsets into that text. The text is rebuilt the way an article
would reach storyline (paragraphs, sentences joined by a space, no space before ``,`` or after
``«``), every original character keeps its new position, and the gold spans are moved through
that map. ``extract_mentions`` then runs on the paragraphs with language ``uk``.

Types. Gold PERS, ORG and LOC are storyline's PER, ORG and LOC. MISC, ART (titles of works)
and DOC (laws, treaties) are names storyline would call MISC, so they score as MISC. The other
NER-UK types (DATE, TIME, PERIOD, MON, PCT, QUANT, JOB) are not names and the extractor does not
aim at them: they are not gold to find, and a prediction on one that touches no name span
("Президента" of the JOB "Президента України") is not a false positive but counted as ``ignored``.
A second table gives, for every raw gold type, how many of its spans some mention hits.

Matching is one-to-one. Exact: same start and end. Overlap (partial credit as in
SemEval-2013 "partial" without the half point): spans share at least one character; pairs are
taken greedily, largest shared length first. Typed rows match only mentions and gold of one
type; "all" sums them (micro); "mentions" ignores types (mention detection).
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from storyline.errors import InputError
from storyline.evaluate.metrics import format_table, prf
from storyline.model import Paragraph
from storyline.nlp.entities import extract_mentions

TYPE_MAP = {"PERS": "PER", "ORG": "ORG", "LOC": "LOC", "MISC": "MISC", "ART": "MISC", "DOC": "MISC"}
NOT_NAMES = frozenset({"DATE", "TIME", "PERIOD", "MON", "PCT", "QUANT", "JOB"})
TYPES = ("PER", "ORG", "LOC", "MISC")
ROWS = (*TYPES, "all", "mentions")
MODES = ("exact", "overlap")

# A whole token of these attaches to the word before it / after it (tokenised "селах , старцювали").
CLOSING = re.compile(r"[,.:;!?)\]}»”…%]+")
OPENING = re.compile(r"[(\[{«„“]+")


@dataclass(frozen=True, slots=True)
class Span:
    """A character span with a type: raw NER-UK type for gold, storyline type for predictions."""

    start: int
    end: int
    type: str

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"span needs 0 <= start < end, got start={self.start} end={self.end}")


@dataclass(frozen=True, slots=True)
class NerDocument:
    doc_id: str
    text: str
    entities: tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class RebuiltText:
    """Paragraphs as storyline sees them; ``starts[i]`` is paragraph i's offset in ``text`` (the
    paragraphs joined by a blank line) and ``positions[j]`` the new offset of original character
    j (-1 for whitespace that was dropped or replaced)."""

    paragraphs: tuple[str, ...]
    starts: tuple[int, ...]
    positions: tuple[int, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)

    def move(self, span: Span) -> Span | None:
        """The span in the rebuilt text (None when it covers only whitespace)."""
        inside = [p for p in self.positions[span.start : span.end] if p >= 0]
        if not inside:
            return None
        return Span(inside[0], inside[-1] + 1, span.type)


def rebuild_text(text: str) -> RebuiltText:
    """Detokenise one NER-UK text into paragraphs, keeping where each original character went."""
    positions = [-1] * len(text)
    paragraphs: list[str] = []
    starts: list[int] = []
    parts: list[str] = []  # the paragraph being built
    length = 0  # of the paragraph being built
    glue = False  # no space before the next token (after an opening bracket or quote)
    straight_open = False  # a lone '"' opens, the next one closes
    offset = 0  # of the paragraph being built in the joined text

    def close() -> None:
        nonlocal parts, length, offset, glue, straight_open
        if parts:
            paragraphs.append("".join(parts))
            starts.append(offset)
            offset += length + 2
        parts, length, glue, straight_open = [], 0, False, False

    line_start = 0
    for line in text.split("\n"):
        tokens = list(re.finditer(r"\S+", line))
        if not tokens:
            close()  # a blank line ends the paragraph
        for match in tokens:
            token = match.group()
            attach = glue or not parts
            if token == '"':
                attach = attach or straight_open
                glue = not straight_open
                straight_open = not straight_open
            else:
                attach = attach or bool(CLOSING.fullmatch(token))
                glue = bool(OPENING.fullmatch(token))
            if not attach:
                parts.append(" ")
                length += 1
            base = line_start + match.start()
            for k in range(len(token)):
                positions[base + k] = offset + length + k
            parts.append(token)
            length += len(token)
        line_start += len(line) + 1
    close()
    return RebuiltText(tuple(paragraphs), tuple(starts), tuple(positions))


def load_documents(path: str | Path, limit: int | None = None) -> list[NerDocument]:
    """NER-UK JSON Lines records ({"doc_id", "text", "entities": [{"type","start","end"}]})."""
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    documents = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                spans = tuple(Span(int(e["start"]), int(e["end"]), str(e["type"])) for e in row["entities"])
                documents.append(NerDocument(str(row["doc_id"]), row["text"], spans))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise InputError(f"{path}:{number}", "bad_record", f"not a NER-UK record ({exc})") from None
            if limit is not None and len(documents) >= limit:
                break
    return documents


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def scores(self) -> tuple[float, float, float]:
        return prf(self.tp, self.fp, self.fn)

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn


def _shared(a: Span, b: Span) -> int:
    return min(a.end, b.end) - max(a.start, b.start)


def match_spans(gold: Sequence[Span], predicted: Sequence[Span], mode: str) -> list[tuple[int, int]]:
    """One-to-one (gold index, predicted index) pairs: equal spans, or for "overlap" spans sharing
    a character, largest shared length first (ties: earlier gold, then earlier prediction)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if mode == "exact":
        free: dict[tuple[int, int], list[int]] = {}
        for j, p in enumerate(predicted):
            free.setdefault((p.start, p.end), []).append(j)
        pairs = []
        for i, g in enumerate(gold):
            waiting = free.get((g.start, g.end))
            if waiting:
                pairs.append((i, waiting.pop(0)))
        return pairs
    candidates = sorted(
        (-_shared(g, p), i, j)
        for i, g in enumerate(gold)
        for j, p in enumerate(predicted)
        if _shared(g, p) > 0
    )
    used_gold: set[int] = set()
    used_pred: set[int] = set()
    pairs = []
    for _, i, j in candidates:
        if i not in used_gold and j not in used_pred:
            used_gold.add(i)
            used_pred.add(j)
            pairs.append((i, j))
    return sorted(pairs)


def score_spans(gold: Sequence[Span], predicted: Sequence[Span], mode: str) -> Counts:
    """tp/fp/fn of one one-to-one matching."""
    tp = len(match_spans(gold, predicted, mode))
    return Counts(tp=tp, fp=len(predicted) - tp, fn=len(gold) - tp)


@dataclass
class NerReport:
    documents: int = 0
    seconds: float = 0.0
    dropped: int = 0  # gold spans lost in rebuilding (whitespace only)
    counts: dict[str, dict[str, Counts]] = field(
        default_factory=lambda: {m: {r: Counts() for r in ROWS} for m in MODES}
    )
    gold_types: dict[str, list[int]] = field(default_factory=dict)  # raw type -> [gold, exact, overlap]
    confusion: Counter = field(default_factory=Counter)  # (gold type, predicted type) on equal spans
    ignored: Counter = field(default_factory=Counter)  # predicted type -> mentions on non-name spans only

    def add(self, gold: Sequence[Span], predicted: Sequence[Span]) -> None:
        """Score one document: gold with raw NER-UK types, predictions with storyline types."""
        for s in predicted:
            if s.type not in TYPES:
                raise ValueError(f"predicted type must be one of {TYPES}, got {s.type!r}")
        self.documents += 1
        names = [Span(g.start, g.end, TYPE_MAP[g.type]) for g in gold if g.type in TYPE_MAP]
        others = [g for g in gold if g.type not in TYPE_MAP]
        # A mention on a DATE/JOB/... span that touches no name is outside what is scored.
        scored = []
        for p in predicted:
            if any(_shared(p, s) > 0 for s in others) and not any(_shared(p, s) > 0 for s in names):
                self.ignored[p.type] += 1
            else:
                scored.append(p)
        for mode in MODES:
            rows = self.counts[mode]
            for kind in TYPES:
                counts = score_spans(
                    [g for g in names if g.type == kind], [p for p in scored if p.type == kind], mode
                )
                rows[kind].add(counts)
                rows["all"].add(counts)
            rows["mentions"].add(score_spans(names, scored, mode))
        for g in gold:
            seen = self.gold_types.setdefault(g.type, [0, 0, 0])
            seen[0] += 1
            seen[1] += any(p.start == g.start and p.end == g.end for p in predicted)
            seen[2] += any(_shared(p, g) > 0 for p in predicted)
        for i, j in match_spans(names, scored, "exact"):
            self.confusion[(names[i].type, scored[j].type)] += 1

    def row(self, mode: str, name: str) -> dict:
        c = self.counts[mode][name]
        p, r, f = c.scores()
        return {"tp": c.tp, "fp": c.fp, "fn": c.fn, "precision": p, "recall": r, "f1": f}

    def to_dict(self) -> dict:
        return {
            "documents": self.documents,
            "seconds": round(self.seconds, 2),
            "dropped_gold_spans": self.dropped,
            "ignored_mentions": dict(sorted(self.ignored.items())),
            "type_map": TYPE_MAP,
            "not_scored": sorted(NOT_NAMES),
            **{mode: {name: self.row(mode, name) for name in ROWS} for mode in MODES},
            "gold_types": {
                t: {"gold": n, "exact_hit": e, "overlap_hit": o}
                for t, (n, e, o) in sorted(self.gold_types.items())
            },
            "type_confusion_on_exact_spans": {f"{g}->{p}": n for (g, p), n in sorted(self.confusion.items())},
        }

    def table(self) -> str:
        rows = []
        for name in ROWS:
            exact, overlap = self.counts["exact"][name], self.counts["overlap"][name]
            rows.append([name, exact.tp + exact.fn, exact.tp + exact.fp, *exact.scores(), *overlap.scores()])
        headers = ["type", "gold", "found", "exact P", "exact R", "exact F1", "ovl P", "ovl R", "ovl F1"]
        by_type = [
            [t, n, e / n if n else 0.0, o / n if n else 0.0]
            for t, (n, e, o) in sorted(self.gold_types.items(), key=lambda kv: -kv[1][0])
        ]
        confused = ", ".join(f"{g}->{p} {n}" for (g, p), n in self.confusion.most_common() if g != p)
        return (
            format_table(headers, rows)
            + f"\n{self.documents} documents in {self.seconds:.1f} s; gold MISC = MISC+ART+DOC; "
            f"{sum(self.ignored.values())} mentions only on DATE/JOB/... spans not scored\n\n"
            + format_table(["gold type", "spans", "exact hit", "overlap hit"], by_type)
            + f"\ntype errors on exact spans: {confused or 'none'}"
        )


Extractor = Callable[[Sequence[Paragraph]], Iterable]


def _uk_mentions(paragraphs: Sequence[Paragraph]) -> Iterable:
    return extract_mentions(paragraphs, "uk")


def evaluate_documents(documents: Iterable[NerDocument], extract: Extractor = _uk_mentions) -> NerReport:
    """Rebuild each document, extract mentions (``extract`` returns objects with paragraph, start,
    end, type, as ``Mention``) and score them against the moved gold spans."""
    report = NerReport()
    began = time.perf_counter()
    for doc in documents:
        rebuilt = rebuild_text(doc.text)
        gold = []
        for span in doc.entities:
            moved = rebuilt.move(span)
            if moved is None:
                report.dropped += 1
            else:
                gold.append(moved)
        paragraphs = [Paragraph(p, "uk") for p in rebuilt.paragraphs]
        predicted = [
            Span(rebuilt.starts[m.paragraph] + m.start, rebuilt.starts[m.paragraph] + m.end, m.type)
            for m in extract(paragraphs)
        ]
        report.add(gold, predicted)
    report.seconds = time.perf_counter() - began
    return report


def evaluate_ner(path: str | Path, *, limit: int | None = None) -> NerReport:
    """Score ``extract_mentions`` (lang uk) on a NER-UK JSON Lines file."""
    return evaluate_documents(load_documents(path, limit))
