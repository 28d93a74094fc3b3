"""Search: latency on a large store, and quality on the labelled sample corpus.

    python benchmarks/bench_search.py latency [--store FILE] [--repeats 5] [--reindex] [--json FILE]
    python benchmarks/bench_search.py quality [--json FILE]

latency: a copy of the store (default benchmarks/work/scale-n10000-lexical.db, as bench_scale.py
leaves it; the original is never written) is opened (a store from before the search index is
backfilled then, and timed), every query runs once ("first": story headlines not yet in memory),
then --repeats times; p50/p95 per query and over all of them. Queries mix uk, ru and en, names
and common words, filters, partial matches (relaxed) and nonsense.

quality: the sample corpus ingested with e5 vectors (benchmarks/work/search-sample-e5.db, built
once), then 40 queries with a known story (data/sample/labels.jsonl) and 7 nonsense ones under
four configurations: lexical keys only, + other-script reports of the hits' events, + dense
hits, + dense feedback. P@5 and precision over all hits count articles of the right story;
recall is the share of the story's articles found; "junk" counts hits of nonsense queries.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

try:
    from benchmarks.bench_latency import percentile
except ImportError:  # run as a script: benchmarks/ itself is on sys.path
    from bench_latency import percentile

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "benchmarks" / "work"
SAMPLE = REPO / "data" / "sample"

LATENCY_QUERIES: list[tuple[str, dict]] = [
    ("Путін", {}), ("Путин", {}), ("Putin", {}), ("Зеленський", {}), ("Трамп", {}),
    ("переговори", {}), ("переговоры", {}), ("talks", {}), ("вибори президента", {}),
    ("санкції проти Росії", {}), ("Україна Росія", {}), ("economy growth", {}),
    ("Путин переговоры", {}), ("Путін переговори", {"langs": ("uk",)}),
    ("війна", {"since": datetime(2020, 1, 1, tzinfo=UTC)}), ("Київ", {"langs": ("ru", "en")}),
    ("Путин Стамбул футбол", {}), ('"Путин" OR NEAR(', {}), ("asdkjh qwpoeiru", {}),
]

QUALITY_QUERIES: dict[str | None, list[str]] = {
    "corridor": ["переговоры", "talks", "переговори Стамбул", "mine clearing", "страховой пул", "Yardim",
                 "Ярдым", "insurance pool"],
    "grid": ["power plant fire", "пожежа на ТЕС", "отключения электроэнергии", "Zarichne",
             "автотрансформатор", "графіки відключень"],
    "flood": ["flood Mukachevo", "наводнение", "повінь", "Латорица", "evacuated", "dam repair"],
    "cup": ["football final", "Литвин", "футбол", "penalties", "Batumi", "збірна"],
    "rate": ["key rate", "учетная ставка", "облікова ставка", "hryvnia", "НБУ", "deposit rates"],
    "solo-lviv-tram": ["tram Lviv", "трамвай"],
    "solo-kharkiv-books": ["book festival Kharkiv", "книжный фестиваль"],
    "solo-scythian-burial": ["скифское захоронение", "Scythian burial"],
    "solo-chernihiv-library": ["library Chernihiv", "бібліотека"],
    None: ["asdkjh qwpoeiru", "banana smoothie recipe", "квантовий комп'ютер", "Путин", "Biden",
           "bitcoin price", "погода завтра"],
}


def latency(args) -> dict:
    from storyline.search import SearchQuery, search
    from storyline.store import open_store

    source = Path(args.store)
    if not source.exists():
        sys.exit(f"no store at {source}: run benchmarks/bench_scale.py first, or pass --store")
    copy = WORK / f"search-{source.stem}.db"
    WORK.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", f"{copy}{suffix}")
    started = time.perf_counter()
    store = open_store(f"sqlite:///{copy}")
    opened = time.perf_counter() - started
    rows, every = [], []
    with store:
        articles = store.count_articles()
        reindexed = None
        if args.reindex:  # a store indexed by an older storyline: today's keys first
            started = time.perf_counter()
            store.reindex_search()
            reindexed = round(time.perf_counter() - started, 1)
            print(f"reindexed {articles} articles in {reindexed} s")
        started = time.perf_counter()
        search(store, SearchQuery(LATENCY_QUERIES[0][0]))
        first = time.perf_counter() - started
        for text, options in LATENCY_QUERIES:
            query = SearchQuery(text, **options)
            started = time.perf_counter()
            found = search(store, query)
            cold = (time.perf_counter() - started) * 1000
            times = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                search(store, query)
                times.append((time.perf_counter() - started) * 1000)
            every += times
            rows.append({"query": text, "filters": {k: str(v) for k, v in options.items()},
                         "total": found.total, "relaxed": found.relaxed, "first_ms": round(cold, 1),
                         "p50_ms": round(statistics.median(times), 1),
                         "p95_ms": round(percentile(times, 95), 1)})
    result = {"bench": "search-latency", "store": str(source), "articles": articles,
              "open_s": round(opened, 2), "reindex_s": reindexed, "first_query_s": round(first, 2),
              "repeats": args.repeats,
              "p50_ms": round(statistics.median(every), 1), "p95_ms": round(percentile(every, 95), 1),
              "queries": rows}
    print(f"{articles} articles; open (with any backfill) {opened:.2f} s; first query {first:.2f} s")
    print(f"{'query':34} {'filters':28} {'total':>6} {'first ms':>8} {'p50 ms':>7} {'p95 ms':>7}")
    for row in rows:
        flag = " (relaxed)" if row["relaxed"] else ""
        filters = ",".join(f"{k}={v}" for k, v in row["filters"].items())[:28]
        print(f"{row['query'][:34]:34} {filters:28} {row['total']:6} {row['first_ms']:8} "
              f"{row['p50_ms']:7} {row['p95_ms']:7}{flag}")
    print(f"all queries: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms")
    return result


def quality(args) -> dict:
    import storyline.search.dense as dense
    import storyline.search.engine as engine
    import storyline.search.expand as expand
    from storyline.ingest.run import ingest
    from storyline.search import SearchQuery, search
    from storyline.settings import Settings
    from storyline.store import open_store

    labels = {r["id"]: r for r in map(json.loads, (SAMPLE / "labels.jsonl").open(encoding="utf-8"))}
    sizes: dict[str, int] = {}
    for record in labels.values():
        sizes[record["story"]] = sizes.get(record["story"], 0) + 1
    path = WORK / "search-sample-e5.db"
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        with open_store(f"sqlite:///{path}") as store:
            inputs = [str(SAMPLE / "pages"), str(SAMPLE / "html"), str(SAMPLE / "feed.jsonl")]
            crawled = datetime.fromisoformat("2025-10-24T18:00:00+03:00")
            ingest(inputs, store, Settings(crawled_at=crawled, embedder="e5"))
    configurations = {
        "lexical keys": dict(expand=0, dense=False, feedback=0.0),
        "+ event reports": dict(expand=expand.EXPAND_HITS, dense=False, feedback=0.0),
        "+ dense hits": dict(expand=expand.EXPAND_HITS, dense=True, feedback=0.0),
        "+ dense feedback (default)": dict(expand=expand.EXPAND_HITS, dense=True,
                                           feedback=dense.FEEDBACK_WEIGHT),
    }
    defaults = (expand.EXPAND_HITS, engine.Z_SUPPORT, engine.Z_ANCHORED, engine.Z_ALONE_MARGIN,
                dense.FEEDBACK_WEIGHT)
    rows = []
    with open_store(f"sqlite:///{path}") as store:
        for name, conf in configurations.items():
            expand.EXPAND_HITS, dense.FEEDBACK_WEIGHT = conf["expand"], conf["feedback"]
            off = 99.0
            engine.Z_SUPPORT, engine.Z_ANCHORED, engine.Z_ALONE_MARGIN = \
                defaults[1:4] if conf["dense"] else (off, off, off)
            p5, precision, recall, junk = [], [], [], 0
            for story, queries in QUALITY_QUERIES.items():
                for text in queries:
                    ids = [h.id for h in search(store, SearchQuery(text, limit=100)).articles]
                    if story is None:
                        junk += len(ids)
                        continue
                    right = [labels[i]["story"] == story for i in ids]
                    p5.append(sum(right[:5]) / min(5, len(ids)) if ids else 0.0)
                    precision.append(sum(right) / len(ids) if ids else 0.0)
                    recall.append(sum(right) / sizes[story])
            rows.append({"configuration": name, "p_at_5": round(statistics.mean(p5), 3),
                         "precision": round(statistics.mean(precision), 3),
                         "recall": round(statistics.mean(recall), 3), "nonsense_hits": junk})
    (expand.EXPAND_HITS, engine.Z_SUPPORT, engine.Z_ANCHORED, engine.Z_ALONE_MARGIN,
     dense.FEEDBACK_WEIGHT) = defaults
    print(f"{'configuration':28} {'P@5':>6} {'P':>6} {'R':>6} {'nonsense hits':>14}")
    for row in rows:
        print(f"{row['configuration']:28} {row['p_at_5']:6} {row['precision']:6} {row['recall']:6} "
              f"{row['nonsense_hits']:14}")
    return {"bench": "search-quality", "queries": sum(map(len, QUALITY_QUERIES.values())), "rows": rows}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["latency", "quality"])
    parser.add_argument("--store", default=str(WORK / "scale-n10000-lexical.db"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--reindex", action="store_true", help="latency: rebuild the copy's index first")
    parser.add_argument("--json", default=None, help="append the result to a JSON array in FILE")
    args = parser.parse_args(argv)
    result = latency(args) if args.mode == "latency" else quality(args)
    if args.json:
        target = Path(args.json)
        existing = json.loads(target.read_text()) if target.exists() else []
        target.write_text(json.dumps(existing + [result], ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
