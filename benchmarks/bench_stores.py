"""SQLite against PostgreSQL: the same corpus ingested into each by the real CLI (lexical
embedder, clustering on), then the reads the CLI and API make, timed on each store.

    .venv/bin/python benchmarks/bench_stores.py --n 2000 [--pg postgresql://postgres@127.0.0.1:5432/test]
                                                [--repeats 50] [--json FILE] [--keep]

Ingest: `storyline ingest pages/ --db URL -q` in a subprocess; wall time, articles per second,
the CPU of the storyline process (PostgreSQL's own CPU is not in it: wall time is the fair
comparison). Queries, in this process on an opened store, after one warm-up call each:
list stories (page 1, and lang=uk), one story (story_view of stories taken in turn), search (a
few queries in turn) and article by id (ids taken in turn); p50 and p95 in ms.

The SQLite store is benchmarks/work/stores-n<N>.db, made afresh; on PostgreSQL a schema
`bench_stores_n<N>` is made afresh in the given database and dropped at the end (unless
--keep). The load average is printed before and after: other work on the machine shows in
every number."""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

try:
    from benchmarks import corpus as _corpus
except ImportError:  # run as a script: benchmarks/ itself is on sys.path
    import corpus as _corpus

WORK = _corpus.WORK
SEARCHES = ["Путін", "переговори", "Зеленский", "energy", "вибори у Польщі", "football"]


def corpus_folder(n: int, seed: int) -> Path:
    """The corpus bench_ingest.py uses for these parameters, generated when missing."""
    out = WORK / f"corpus-n{n}-s{seed}"
    manifest = _corpus.existing_manifest(out)
    wanted = {"n": n, "seed": seed, "formats": list(_corpus.FORMATS), "dup_rate": 0.05}
    if not (manifest and all(manifest.get(k) == v for k, v in wanted.items())):
        print(f"generating {n} articles into {out} ...", file=sys.stderr)
        _corpus.generate(n, out, seed=seed)
    return out


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share / 100 * (len(ordered) - 1)))]


def ingest(url: str, pages: Path) -> dict:
    env = {**os.environ, "STORYLINE_EMBEDDER": "lexical"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", "from storyline.cli import main; main()", "ingest",
                           str(pages), "--db", url, "-q"], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"storyline ingest into {url} failed ({done.returncode}): {done.stderr[-2000:]}")
    return {"wall_s": round(wall, 1),
            "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1),
            "peak_rss_mb": round(after.ru_maxrss / 1024)}


def timed(calls: list, repeats: int) -> dict:
    """p50/p95 in ms over ``repeats`` calls, taken in turn from ``calls``."""
    calls[0]()  # warm: imports and caches
    times = []
    for i in range(repeats):
        started = time.perf_counter()
        calls[i % len(calls)]()
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(percentile(times, 95), 2),
            "n": repeats}


def queries(url: str, repeats: int) -> tuple[dict, dict]:
    from storyline.search import SearchQuery, search
    from storyline.store import open_store
    from storyline.stories.view import list_stories, story_view

    with open_store(url) as store:
        ids = [a.id for a in store.iter_articles()][:: max(1, store.count_articles() // 200)]
        stories = [s.id for s in list_stories(store, 50)]
        counts = {"articles": store.count_articles(), "stories": len(store.load_clusters("story"))}
        result = {
            "list stories": timed([lambda: list_stories(store, 20)], repeats),
            "list stories lang=uk": timed([lambda: list_stories(store, 20, lang="uk")], repeats),
            "one story": timed([lambda s=s: story_view(store, s, embed=False) for s in stories], repeats),
            "search": timed([lambda q=q: search(store, SearchQuery(q)) for q in SEARCHES], repeats),
            "article by id": timed([lambda i=i: store.get_article(i) for i in ids], repeats),
        }
    return counts, result


def pg_schema(base: str, schema: str, *, drop_only: bool = False) -> str:
    from sqlalchemy import create_engine

    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        if not drop_only:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    admin.dispose()
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options={quote(f'-csearch_path={schema}')}"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="articles in the corpus")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg", default=os.environ.get("STORYLINE_TEST_POSTGRES",
                                                       "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--repeats", type=int, default=50, help="timed calls per query kind")
    parser.add_argument("--json", type=Path, default=None, help="append the result to this JSON array")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema")
    args = parser.parse_args(argv)

    pages = corpus_folder(args.n, args.seed) / "pages"
    WORK.mkdir(parents=True, exist_ok=True)
    sqlite_path = WORK / f"stores-n{args.n}.db"
    for suffix in ("", "-wal", "-shm", ".writer-lock"):
        Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
    schema = f"bench_stores_n{args.n}"
    stores = {"sqlite": f"sqlite:///{sqlite_path}", "postgresql": pg_schema(args.pg, schema)}
    result = {"bench": "stores", "n": args.n, "repeats": args.repeats,
              "load_before": [round(x, 2) for x in os.getloadavg()], "stores": {}}
    print(f"load average before: {result['load_before']}")
    try:
        for name, url in stores.items():
            print(f"{name}: ingesting {pages} ...", file=sys.stderr)
            run = ingest(url, pages)
            counts, latency = queries(url, args.repeats)
            run["articles_per_s"] = round(counts["articles"] / run["wall_s"], 1)
            result["stores"][name] = {**counts, "ingest": run, "queries": latency}
    finally:
        if not args.keep:
            pg_schema(args.pg, schema, drop_only=True)
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]

    print(f"\n{'':22} " + " ".join(f"{name:>22}" for name in result["stores"]))
    rows = [("articles", lambda s: f"{s['articles']}"), ("stories", lambda s: f"{s['stories']}"),
            ("ingest wall s", lambda s: f"{s['ingest']['wall_s']}"),
            ("ingest articles/s", lambda s: f"{s['ingest']['articles_per_s']}"),
            ("ingest CPU s (client)", lambda s: f"{s['ingest']['cpu_s']}")]
    for label, cell in rows:
        print(f"{label:22} " + " ".join(f"{cell(s):>22}" for s in result["stores"].values()))
    for query in next(iter(result["stores"].values()))["queries"]:
        cells = [f"{s['queries'][query]['p50_ms']} / {s['queries'][query]['p95_ms']}"
                 for s in result["stores"].values()]
        print(f"{query + ' ms':22} " + " ".join(f"{c:>22}" for c in cells))
    print("(query cells: p50 / p95 ms)")
    print(f"load average after: {result['load_after']}")
    if args.json:
        runs = json.loads(args.json.read_text()) if args.json.exists() else []
        args.json.write_text(json.dumps(runs + [result], ensure_ascii=False, indent=1))
    return result


if __name__ == "__main__":
    main()
