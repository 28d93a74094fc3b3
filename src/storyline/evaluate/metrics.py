"""Small, generic metric helpers shared by every evaluation (language ID, extraction, clustering)."""

from __future__ import annotations

from collections.abc import Sequence


def safe_div(numerator: float, denominator: float) -> float:
    """A ratio that is 0.0 when there is nothing to divide by (an empty class scores zero, not NaN)."""
    return numerator / denominator if denominator else 0.0


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall and F1 from true positive, false positive and false negative counts."""
    for name, value in (("tp", tp), ("fp", fp), ("fn", fn)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    precision = safe_div(tp, tp + fp)
    recall = safe_div(tp, tp + fn)
    f1 = safe_div(2 * precision * recall, precision + recall)
    return precision, recall, f1


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "" if value is None else str(value)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table: floats with three decimals, numbers right-aligned, text left-aligned."""
    width = len(headers)
    for i, row in enumerate(rows):
        if len(row) != width:
            raise ValueError(f"row {i} has {len(row)} cells, the table has {width} columns")
    cells = [[_cell(v) for v in row] for row in rows]
    numeric = [all(isinstance(row[c], int | float) for row in rows) and bool(rows) for c in range(width)]
    widths = [max([len(h)] + [len(r[c]) for r in cells]) for c, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        cells = zip(values, widths, numeric, strict=True)
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in cells]
        return "  ".join(parts).rstrip()

    out = [line(list(headers)), line(["-" * w for w in widths])]
    out.extend(line(r) for r in cells)
    return "\n".join(out)
