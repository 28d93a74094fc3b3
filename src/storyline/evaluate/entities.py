"""How well entity keys group mentions, and how many gold entities extraction finds (BSNLP uk+ru).

BSNLP annotates every mention with ``xling_id``: the same entity across documents and languages.
Two measures:

- grouping: over distinct gold mentions (language, surface form, entity), pairwise precision and
  recall of "same ``entity_key``" against "same ``xling_id``", per type and for uk-ru pairs only
  (a uk mention with a ru one: the cross-lingual case the key exists for);
- extraction: per document, the share of gold entities whose key (from any of their mentions) is
  among the keys ``extract_entities`` finds (recall), and the share of found keys that belong to
  some gold entity (precision; BSNLP annotates PER/ORG/LOC/PRO/EVT exhaustively).

2017 topics number their ``xling_id`` per topic (and 2019 uses named ids), so a pair is only
counted inside one id scheme: all 2019 documents together, each 2017 topic on its own.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from storyline.evaluate.metrics import format_table, prf, safe_div
from storyline.model import Paragraph
from storyline.nlp.entities import entity_key, extract_entities

# BSNLP types -> storyline types; products and events have no type of their own here.
TYPE_MAP = {"PER": "PER", "ORG": "ORG", "LOC": "LOC", "PRO": "MISC", "EVT": "MISC", "MISC": "MISC"}
GROUPS = ("PER", "ORG", "LOC", "MISC", "all")


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


@dataclass
class PairCounts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    items: int = 0

    def scores(self) -> tuple[float, float, float]:
        return prf(self.tp, self.fp, self.fn)


@dataclass
class EntityKeyReport:
    documents: int
    grouping: dict[str, PairCounts] = field(default_factory=dict)
    cross: dict[str, PairCounts] = field(default_factory=dict)
    found: dict[str, tuple[int, int]] = field(default_factory=dict)  # type -> (found, gold)
    extracted: tuple[int, int] = (0, 0)  # (keys matching a gold entity, keys extracted)

    def recall(self, group: str) -> float:
        hit, total = self.found.get(group, (0, 0))
        return safe_div(hit, total)

    @property
    def extraction_precision(self) -> float:
        return safe_div(*self.extracted)

    def to_dict(self) -> dict:
        def block(counts: dict[str, PairCounts]) -> dict:
            out = {}
            for group, c in counts.items():
                p, r, f = c.scores()
                out[group] = {"items": c.items, "precision": p, "recall": r, "f1": f}
            return out

        return {
            "documents": self.documents,
            "grouping": block(self.grouping),
            "uk_ru_pairs": block(self.cross),
            "extraction_recall": {
                g: {"found": h, "gold": t, "recall": safe_div(h, t)} for g, (h, t) in self.found.items()
            },
            "extraction_precision": self.extraction_precision,
        }

    def table(self) -> str:
        rows = []
        for group in GROUPS:
            if group not in self.grouping:
                continue
            gp, gr, gf = self.grouping[group].scores()
            xp, xr, xf = self.cross[group].scores()
            hit, total = self.found.get(group, (0, 0))
            rows.append(
                [group, self.grouping[group].items, gp, gr, gf, xp, xr, xf, total, safe_div(hit, total)]
            )
        headers = [
            "type",
            "forms",
            "key P",
            "key R",
            "key F1",
            "uk-ru P",
            "uk-ru R",
            "uk-ru F1",
            "gold ents",
            "extract R",
        ]
        return (
            format_table(headers, rows)
            + f"\n{self.documents} documents; extraction precision (keys matching gold): "
            f"{self.extraction_precision:.3f}"
        )


def _gold_id(row: dict, entity: dict) -> str:
    return f"{row['topic']}:{entity['xling_id']}" if row.get("bsnlp_year") == 2017 else entity["xling_id"]


def _scope(row: dict) -> str:
    return f"2017:{row['topic']}" if row.get("bsnlp_year") == 2017 else str(row.get("bsnlp_year"))


def load_rows(path: str | Path, limit: int | None = None) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                rows.append(json.loads(line))
            if limit is not None and len(rows) >= limit:
                break
    return rows


def evaluate_entity_keys(
    bsnlp_path: str | Path, *, limit: int | None = None, extraction: bool = True
) -> EntityKeyReport:
    """Score ``entity_key`` grouping and ``extract_entities`` recall on a BSNLP JSON Lines file."""
    rows = load_rows(bsnlp_path, limit)
    report = EntityKeyReport(documents=len(rows))
    # distinct gold forms: (lang, surface, gold id, type, scope) -> key
    forms: dict[tuple[str, str, str, str, str], str] = {}
    for row in rows:
        for ent in row["entities"]:
            surface = " ".join(ent["mention"].split())
            kind = TYPE_MAP.get(ent["type"], "MISC")
            item = (row["lang"], surface, _gold_id(row, ent), kind, _scope(row))
            if item not in forms and surface:
                forms[item] = entity_key(surface, kind, row["lang"])
    for group in GROUPS:
        items = [(i, k) for i, k in forms.items() if group == "all" or i[3] == group]
        report.grouping[group] = _pair_counts(items, cross=False)
        report.cross[group] = _pair_counts(items, cross=True)
    if extraction:
        _extraction(rows, forms, report)
    return report


def _pair_counts(items: list[tuple[tuple[str, str, str, str, str], str]], cross: bool) -> PairCounts:
    """Pairwise counts from contingency tables, not by enumerating pairs (thousands of forms)."""
    cells: Counter = Counter()
    by_gold: Counter = Counter()
    by_key: Counter = Counter()
    for (lang, _surface, gold, _kind, scope), key in items:
        cells[(scope, gold, key, lang)] += 1
        by_gold[(scope, gold, lang)] += 1
        by_key[(scope, key, lang)] += 1
    if cross:

        def count(table: Counter) -> int:
            groups: dict = defaultdict(dict)
            for k, n in table.items():
                groups[k[:-1]][k[-1]] = n
            return sum(g.get("uk", 0) * g.get("ru", 0) for g in groups.values())

        tp, gold_pairs, key_pairs = count(cells), count(by_gold), count(by_key)
    else:

        def merged(table: Counter) -> int:
            sums: Counter = Counter()
            for k, n in table.items():
                sums[k[:-1]] += n
            return sum(_pairs(n) for n in sums.values())

        tp, gold_pairs, key_pairs = merged(cells), merged(by_gold), merged(by_key)
    return PairCounts(tp=tp, fp=key_pairs - tp, fn=gold_pairs - tp, items=len(items))


def _extraction(rows: list[dict], forms: dict, report: EntityKeyReport) -> None:
    found: Counter = Counter()
    total: Counter = Counter()
    matched = extracted = 0
    for row in rows:
        paragraphs = [Paragraph(p, row["lang"]) for p in row["text"].split("\n\n") if p.strip()]
        keys = {e.key for e in extract_entities(paragraphs, row["lang"], row.get("title"))}
        gold: dict[tuple[str, str], set[str]] = defaultdict(set)
        for ent in row["entities"]:
            surface = " ".join(ent["mention"].split())
            kind = TYPE_MAP.get(ent["type"], "MISC")
            gid = _gold_id(row, ent)
            key = forms.get((row["lang"], surface, gid, kind, _scope(row)))
            if key:
                gold[(gid, kind)].add(key)
        gold_keys = set().union(*gold.values()) if gold else set()
        for (_gid, kind), ent_keys in gold.items():
            hit = bool(ent_keys & keys)
            for group in (kind, "all"):
                total[group] += 1
                found[group] += hit
        extracted += len(keys)
        matched += len(keys & gold_keys)
    report.found = {g: (found[g], total[g]) for g in GROUPS if total[g]}
    report.extracted = (matched, extracted)
