"""Tables of docs/reliability.md from what the reliability tests found.

    .venv/bin/python benchmarks/reliability_report.py            # print the tables
    .venv/bin/python benchmarks/reliability_report.py --write    # put them into docs/reliability.md

tests/test_crash.py, tests/test_concurrency.py and tests/test_security.py write their findings to
out/reliability/*.json as they run; this script only renders them. In the document each table
sits between ``<!-- reliability:NAME -->`` and ``<!-- /reliability:NAME -->``; --write replaces what
is between the markers and nothing else (other sections of the file belong to other tests).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FINDINGS = REPO / "out" / "reliability"
DOC = REPO / "docs" / "reliability.md"


def _load(name: str) -> dict | None:
    path = FINDINGS / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _yes(value: bool) -> str:
    return "yes" if value else "**no**"


def crash_tables(found: dict) -> str:
    kills = _table(["kill", "when", "after (s)", "articles stored then", "batch in flight rolled back"], [
        [i, k["when"], k["at_s"], f"{k['articles_after']:,}",
         _yes(k["batch_rolled_back"]) if "batch_rolled_back" in k else "-"]
        for i, k in enumerate(found["kills"], 1)])
    runs = found["runs"]
    cpu = sum(r["cpu_s"] for r in runs)
    checks = _table(["check", "result"], [
        ["articles (corpus + extra inputs)", f"{found['articles']:,}"],
        ["rejections", found["rejections"]],
        ["events / stories", f"{found['events']:,} / {found['stories']:,}"],
        ["every article stored once (articles, search documents, vectors, signatures)",
         _yes(found["same_articles"])],
        ["every rejection once, same reason and detail", _yes(found["same_rejections"])],
        ["same event partition / story partition",
         f"{_yes(found['same_event_partition'])} / {_yes(found['same_story_partition'])}"],
        ["same event, story and duplicate ids on every article", _yes(found["same_ids"])],
        ["same clusters rows (state, vector sums) and key frequencies, vectors, listing",
         f"{_yes(found['same_clusters'])}, {_yes(found['same_state'])}"],
        ["batch size", found["batch_size"]],
        ["machine: CPUs, 1-minute load average at the end",
         f"{found.get('cpus', '?')}, {found.get('load_average_1m', '?')}"],
        ["interrupted runs + final run: CPU s (wall s)",
         f"{cpu:,.0f} ({sum(r['wall_s'] for r in runs):,.0f})"],
        ["uninterrupted run: CPU s (wall s)",
         f"{found['reference']['cpu_s']:,.0f} ({found['reference']['wall_s']:,.0f})"],
    ])
    return f"{kills}\n\n{checks}"


def concurrency_table(found: list[dict]) -> str:
    rows = []
    for f in found:
        rows.append([f["backend"], f["clients"], f["seconds"], f"{f['requests']:,}", f["requests_per_s"],
                     f["errors"], f["server_5xx"], f"{f['articles_before']} → {f['articles_after']}",
                     f["writer_batches"], f["articles_checked"], f["stories_merged_meanwhile"],
                     f["p50_ms"], f["p99_ms"], f"{f.get('load_average_1m', '?')} on {f.get('cpus', '?')}"])
    main = _table(["store", "clients", "s", "requests", "req/s", "errors", "5xx", "articles",
                   "write batches", "listed articles read back", "stories merged meanwhile",
                   "p50 ms", "p99 ms", "load (CPUs)"], rows)
    endpoints = sorted({kind for f in found for kind in f["by_endpoint"]})
    per = _table(["endpoint"] + [f"{f['backend']} p50 / p99 ms" for f in found], [
        [kind] + [f"{f['by_endpoint'][kind]['p50_ms']} / {f['by_endpoint'][kind]['p99_ms']}"
                  if kind in f["by_endpoint"] else "-" for f in found]
        for kind in endpoints])
    return f"{main}\n\n{per}"


def security_table(found: dict) -> str:
    backends = sorted(found)
    kinds = sorted({kind for b in backends for kind in found[b]})

    def cell(counts: dict | None) -> str:
        if not counts:
            return "-"
        return ", ".join(f"{n}× {status}" for status, n in sorted(counts.items()))

    return _table(["requests", *backends], [[k] + [cell(found[b].get(k)) for b in backends] for k in kinds])


def sections() -> dict[str, str]:
    out = {}
    if (crash := _load("crash")) is not None:
        out["crash"] = crash_tables(crash)
    runs = [f for f in (_load("concurrency-sqlite"), _load("concurrency-postgresql")) if f]
    if runs:
        out["concurrency"] = concurrency_table(runs)
    if (security := _load("security")) is not None:
        out["security"] = security_table(security)
    return out


def write(doc: Path, tables: dict[str, str]) -> list[str]:
    """Replace each marked block of ``doc`` that has a table; return the names written."""
    text = doc.read_text(encoding="utf-8")
    written = []
    for name, table in tables.items():
        start, end = f"<!-- reliability:{name} -->", f"<!-- /reliability:{name} -->"
        pattern = re.compile(rf"({start}\n)(?:.*?\n)?({end})", re.S)
        text, n = pattern.subn(lambda m, t=table: m.group(1) + t + "\n" + m.group(2), text)
        if n:
            written.append(name)
    doc.write_text(text, encoding="utf-8")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"update the tables in {DOC.relative_to(REPO)}")
    args = parser.parse_args(argv)
    tables = sections()
    if not tables:
        print(f"no findings under {FINDINGS}: run the reliability tests first", file=sys.stderr)
        return 1
    if args.write:
        written = write(DOC, tables)
        print(f"updated {', '.join(written) or 'nothing (no markers)'} in {DOC.relative_to(REPO)}")
    else:
        for name, table in tables.items():
            print(f"## {name}\n\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
