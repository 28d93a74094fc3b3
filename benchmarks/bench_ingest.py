"""Ingest throughput and memory on the synthetic corpus (benchmarks/corpus.py).

    python benchmarks/bench_ingest.py --n 3000 [--corpus DIR] [--json FILE] [--profile 500]

1. Generates the corpus (or reuses one with the same parameters under benchmarks/work/).
2. Runs the real `storyline ingest` in a subprocess on a fresh SQLite file, the way a user runs
   it: wall time, articles/s, CPU time and peak RSS (from /usr/bin/time -v when present, else
   getrusage of the children).
3. Checks extraction quality of what that run stored against the corpus truth: title, outlet,
   date and language match, body paragraphs kept, boilerplate lines left.
4. Times each stage in-process over the same corpus (read+decode, clean text/html/record, of which
   date parsing, language ID, store write), mirroring storyline.pipeline.Pipeline.process.
5. Optionally profiles the in-process stages with cProfile (top functions with file:line).

Prints tables; --json FILE appends the results to a JSON array in FILE.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import re
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

try:
    from benchmarks import corpus as _corpus
except ImportError:  # run as a script: benchmarks/ itself is on sys.path
    import corpus as _corpus

FORMATS, WORK, fold = _corpus.FORMATS, _corpus.WORK, _corpus.fold
existing_manifest, generate, read_truth = _corpus.existing_manifest, _corpus.generate, _corpus.read_truth
paragraph_hash = _corpus.paragraph_hash

STAGES = ("read+decode", "clean text", "clean html", "clean record", "  of which dates",
          "language ID", "store write")


# -- corpus -------------------------------------------------------------------------------------

def corpus_for(args) -> tuple[Path, dict]:
    """The corpus folder and its manifest: the one named, or a cached one with these parameters."""
    stream_rate = getattr(args, "stream_rate", None)
    wanted = {"n": args.n, "seed": args.seed, "formats": list(args.formats),
              "dup_rate": args.dup_rate, "stream_rate": stream_rate,
              "layout": _corpus.layout(stream_rate)}
    if args.corpus is not None:
        manifest = existing_manifest(args.corpus)
        if manifest is not None:
            return args.corpus, manifest
        out = args.corpus
    else:
        out = WORK / (f"corpus-n{args.n}-s{args.seed}" + (f"-r{stream_rate}" if stream_rate else ""))
        manifest = existing_manifest(out)
        if manifest and all(manifest.get(k) == v for k, v in wanted.items()):
            return out, manifest
    print(f"generating {args.n} articles into {out} ...", file=sys.stderr)
    generate(args.n, out, seed=args.seed, formats=args.formats, dup_rate=args.dup_rate,
             stream_rate=stream_rate, progress=True)
    return out, existing_manifest(out)


# -- the real CLI -------------------------------------------------------------------------------

def storyline_command() -> list[str]:
    script = Path(sys.executable).parent / "storyline"
    if script.exists():
        return [str(script)]
    found = shutil.which("storyline")
    if found:
        return [found]
    sys.exit("Error: the storyline command is not installed (pip install -e . in the venv)")


def fresh_db(path: Path) -> str:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


_TIME_FIELDS = {
    "Maximum resident set size (kbytes)": "peak_rss_mb",
    "User time (seconds)": "user_s",
    "System time (seconds)": "system_s",
}


def run_cli(pages: Path, db_url: str, articles: int) -> dict:
    cmd = storyline_command() + ["ingest", str(pages), "--db", db_url, "--quiet"]
    timer = Path("/usr/bin/time")
    use_time = timer.exists() and os.access(timer, os.X_OK)
    full = ([str(timer), "-v"] if use_time else []) + cmd
    started = time.perf_counter()
    proc = subprocess.run(full, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"Error: storyline ingest exited with {proc.returncode}:\n{proc.stderr[-2000:]}")
    result: dict = {"command": " ".join(cmd), "wall_s": round(wall, 2),
                    "articles_per_s": round(articles / wall, 1),
                    "summary": proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""}
    if use_time:
        for line in proc.stderr.splitlines():
            label, _, value = line.strip().rpartition(": ")
            if label in _TIME_FIELDS:
                number = float(value)
                key = _TIME_FIELDS[label]
                result[key] = round(number / 1024, 1) if key == "peak_rss_mb" else number
        result["rss_from"] = "/usr/bin/time -v"
    else:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        result.update(peak_rss_mb=round(usage.ru_maxrss / 1024, 1), user_s=usage.ru_utime,
                      system_s=usage.ru_stime, rss_from="getrusage(RUSAGE_CHILDREN)")
    if "user_s" in result:
        result["cpu_s"] = round(result["user_s"] + result["system_s"], 2)
        result["cpu_per_wall"] = round(result["cpu_s"] / wall, 2)
    found = re.search(r"(\d+) ingested", result["summary"])
    result["ingested"] = int(found.group(1)) if found else None
    return result


# -- extraction quality against the truth -------------------------------------------------------

def _same_text(a: str | None, b: str | None) -> bool:
    return fold(a or "").casefold() == fold(b or "").casefold()


def _same_moment(got: datetime | None, truth: str | None) -> bool:
    if truth is None or got is None:
        return truth is None and got is None
    want = datetime.fromisoformat(truth)
    if got.tzinfo is None:
        return got == want.replace(tzinfo=None)
    return got == want


def check_quality(db_url: str, corpus: Path) -> dict:
    """Per format (and per page layout of .txt pages): share of articles stored, with the right
    title/outlet/date/language; body paragraphs kept; paragraphs kept that are not body
    (boilerplate left)."""
    from storyline.errors import NotFound
    from storyline.store import open_store

    rows: dict[str, Counter] = {}
    with open_store(db_url) as store:
        for truth in read_truth(corpus):
            c: Counter = Counter(articles=1, body=truth["body_paragraph_count"])
            try:
                _compare(store.get_article(truth["id"]), truth, c)
            except NotFound:
                pass
            groups = [truth["format"]]
            if truth["format"] == "txt":  # per page layout: where the misses are
                groups.append(f"txt/{truth['style']}")
            for group in groups:
                rows.setdefault(group, Counter()).update(c)
        rejected = Counter(r.reason for r in store.iter_rejections())
    rows["all"] = sum((c for g, c in rows.items() if "/" not in g), Counter())
    report = {}
    for group in sorted(rows, key=lambda g: (g == "all", "/" in g, g)):
        c = rows[group]
        stored = max(c["stored"], 1)
        report[group] = {
            "articles": c["articles"], "stored": round(c["stored"] / max(c["articles"], 1), 3),
            "title": round(c["title"] / stored, 3), "source": round(c["source"] / stored, 3),
            "date": round(c["date"] / stored, 3), "lang": round(c["lang"] / stored, 3),
            "body_kept": round(c["kept"] / max(c["body"], 1), 3),
            "boilerplate_left": round(c["left"] / max(c["paragraphs"], 1), 3),
            "boilerplate_lines_per_article": round(c["left"] / stored, 2),
        }
    report["rejected"] = dict(rejected)
    return report


def _compare(art, truth: dict, c: Counter) -> None:
    c["stored"] += 1
    c["title"] += _same_text(art.title, truth["title"])
    c["source"] += _same_text(art.source, truth["source"])
    c["date"] += _same_moment(art.published, truth["published"])
    c["lang"] += art.lang == truth["lang"]
    wanted = set(truth["body_hashes"])
    got = [paragraph_hash(p.text) for p in art.paragraphs]
    c["kept"] += len(wanted & set(got))
    c["paragraphs"] += len(got)
    c["left"] += sum(h not in wanted for h in got)


# -- per-stage cost in-process ------------------------------------------------------------------

@contextmanager
def timed_attr(owner, name: str, seconds: Counter, key: str):
    """Time every call of ``owner.name`` (a function looked up by name at call time)."""
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            seconds[key] += time.perf_counter() - started
            seconds[key + "#"] += 1

    setattr(owner, name, wrapper)
    try:
        yield
    finally:
        setattr(owner, name, original)


def warm_up(pipeline) -> float:
    """Import and load what the stages need (lingua models, dateparser data, rules, trafilatura),
    so the stage timings are steady-state. Returns the seconds it took."""
    from storyline.clean.dates import parse_date_line
    from storyline.clean.html import extract_html
    from storyline.clean.rules import load_rules

    started = time.perf_counter()
    load_rules()
    pipeline.languages.detect_paragraphs(
        ["The talks will resume next week.", "Переговори відновляться наступного тижня.",
         "Переговоры возобновятся на следующей неделе."])
    parse_date_line("06:50 31.12.2021", None, pipeline.settings.timezone)
    extract_html("<html><body><article><p>Warm up.</p></article></body></html>")
    return time.perf_counter() - started


def run_stages(pages: Path, db_url: str, limit: int | None = None,
               on_item: Callable[[], None] | None = None) -> dict:
    """Time each stage over the corpus, the way Pipeline.process runs them, one document at a
    time, writing batches of ingest.run.BATCH_SIZE to a fresh store."""
    import storyline.clean.text as clean_text
    from storyline.errors import InputError
    from storyline.ingest.readers import read_inputs
    from storyline.ingest.run import BATCH_SIZE
    from storyline.model import Rejection
    from storyline.pipeline import Pipeline
    from storyline.settings import Settings
    from storyline.store import open_store

    settings = Settings(db=db_url)
    pipeline = Pipeline(settings)
    startup = warm_up(pipeline)
    seconds: Counter = Counter()
    counts: Counter = Counter()
    clean_key = {"text": "clean text", "html": "clean html", "record": "clean record"}
    perf = time.perf_counter
    with open_store(db_url) as store, \
            timed_attr(clean_text, "parse_date_line", seconds, "  of which dates"):
        reader = read_inputs([str(pages)], crawled_at=settings.crawled_at)
        batch = []
        while limit is None or counts["read+decode"] < limit:
            t0 = perf()
            item = next(reader, None)
            seconds["read+decode"] += perf() - t0
            if item is None:
                break
            counts["read+decode"] += 1
            if on_item:
                on_item()
            if isinstance(item, Rejection):
                counts["rejected"] += 1
                continue
            key = clean_key[item.format]
            t0 = perf()
            try:
                article = pipeline._clean(item)
                pipeline._check_length(article)
            except InputError:
                counts["rejected"] += 1
                continue
            finally:
                seconds[key] += perf() - t0
                counts[key] += 1
            t0 = perf()
            pipeline._detect_language(article)
            seconds["language ID"] += perf() - t0
            counts["language ID"] += 1
            batch.append(article)
            if len(batch) >= BATCH_SIZE or limit is not None and counts["read+decode"] >= limit:
                t0 = perf()
                store.upsert_many(batch)
                seconds["store write"] += perf() - t0
                counts["store write"] += len(batch)
                batch = []
        if batch:
            t0 = perf()
            store.upsert_many(batch)
            seconds["store write"] += perf() - t0
            counts["store write"] += len(batch)
    counts["  of which dates"] = int(seconds.pop("  of which dates#", 0))
    total = sum(seconds[s] for s in STAGES if not s.startswith(" "))
    table = {}
    for stage in STAGES:
        if not counts[stage]:
            continue
        secs = seconds[stage]
        table[stage] = {"items": counts[stage], "seconds": round(secs, 3),
                        "per_s": round(counts[stage] / secs, 1) if secs else None,
                        "ms_each": round(1000 * secs / counts[stage], 2),
                        "share": round(secs / total, 3) if total else None}
    return {"startup_s": round(startup, 2), "total_s": round(total, 2),
            "documents": counts["read+decode"], "rejected": counts["rejected"],
            "articles_per_s": round(counts["read+decode"] / total, 1) if total else None,
            "stages": table}


def profile_stages(pages: Path, db_url: str, limit: int, top: int = 25) -> dict:
    """cProfile over the in-process stages on the first ``limit`` documents."""
    profiler = cProfile.Profile()
    profiler.enable()
    run_stages(pages, db_url, limit=limit)
    profiler.disable()
    out = WORK / f"profile-{limit}.pstats"
    profiler.dump_stats(out)
    stats = pstats.Stats(profiler)
    rows = []
    for (filename, line, func), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():
        rows.append({"where": f"{_short(filename)}:{line}", "function": func, "calls": calls,
                     "tottime": round(tottime, 3), "cumtime": round(cumtime, 3)})
    by_self = sorted(rows, key=lambda r: -r["tottime"])[:top]
    ours = sorted((r for r in rows if "storyline/" in r["where"]), key=lambda r: -r["cumtime"])
    return {"documents": limit, "pstats": str(out), "top_self": by_self, "storyline_cum": ours[:top]}


def _short(filename: str) -> str:
    for marker in ("site-packages/", "src/", "lib/python"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


# -- report -------------------------------------------------------------------------------------

def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text()
                      .splitlines() if line.startswith("MemTotal"))
    except (OSError, StopIteration, ValueError):
        mem_kb = 0
    versions = {}
    for package in ("storyline", "lingua-language-detector", "trafilatura", "dateparser",
                    "sqlalchemy", "pymorphy3"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gb": round(mem_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "packages": versions}


def _table(headers: Sequence[str], rows: list[Sequence]) -> str:
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths, strict=True))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render(result: dict) -> str:
    out = []
    cli = result.get("cli")
    if cli:
        out.append(f"storyline ingest, {result['n']} articles ({cli['summary']})")
        out.append(_table(["wall s", "articles/s", "CPU s", "CPU/wall", "peak RSS MB"],
                          [[cli["wall_s"], cli["articles_per_s"], cli.get("cpu_s"),
                            cli.get("cpu_per_wall"), cli.get("peak_rss_mb")]]))
    quality = result.get("quality")
    if quality:
        out.append("\nextraction quality vs truth (shares)")
        rows = [[fmt, q["articles"], q["stored"], q["title"], q["source"], q["date"], q["lang"],
                 q["body_kept"], q["boilerplate_left"], q["boilerplate_lines_per_article"]]
                for fmt, q in quality.items() if fmt != "rejected"]
        out.append(_table(["format", "articles", "stored", "title", "outlet", "date", "lang",
                           "body kept", "bp left", "bp lines/art"], rows))
        if quality.get("rejected"):
            out.append(f"rejected: {quality['rejected']}")
    stages = result.get("stages")
    if stages:
        out.append(f"\nper stage, in-process (startup {stages['startup_s']} s excluded; "
                   f"total {stages['total_s']} s = {stages['articles_per_s']} articles/s)")
        out.append(_table(["stage", "items", "seconds", "items/s", "ms each", "share"],
                          [[name, s["items"], s["seconds"], s["per_s"], s["ms_each"], s["share"]]
                           for name, s in stages["stages"].items()]))
    prof = result.get("profile")
    if prof:
        out.append(f"\ncProfile over {prof['documents']} documents ({prof['pstats']}): "
                   f"top self time")
        out.append(_table(["where", "function", "calls", "tottime", "cumtime"],
                          [[r["where"], r["function"][:60], r["calls"], r["tottime"], r["cumtime"]]
                           for r in prof["top_self"][:15]]))
        out.append("\nstoryline functions by cumulative time")
        out.append(_table(["where", "function", "calls", "tottime", "cumtime"],
                          [[r["where"], r["function"][:60], r["calls"], r["tottime"], r["cumtime"]]
                           for r in prof["storyline_cum"][:15]]))
    return "\n".join(out)


def append_json(path: Path, result: dict) -> None:
    results = []
    if path.exists():
        try:
            results = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            results = []
        if not isinstance(results, list):
            results = [results]
    results.append(result)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="corpus size (default 3000)")
    parser.add_argument("--corpus", type=Path, default=None,
                        help="use (or create) this corpus folder instead of the cached one")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--dup-rate", type=float, default=0.05)
    parser.add_argument("--json", type=Path, default=None, help="append the results to FILE")
    parser.add_argument("--no-cli", action="store_true", help="skip the subprocess run")
    parser.add_argument("--no-stages", action="store_true", help="skip the per-stage timing")
    parser.add_argument("--profile", type=int, default=0, metavar="DOCS",
                        help="also cProfile the stages over the first DOCS documents")
    args = parser.parse_args(argv)
    args.formats = tuple(x.strip() for x in args.formats.split(",") if x.strip())

    corpus, manifest = corpus_for(args)
    pages = corpus / "pages"
    n = manifest["n"]
    result: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "n": n,
                    "corpus": str(corpus), "manifest": manifest, "machine": machine()}
    if not args.no_cli:
        db_url = fresh_db(WORK / f"bench-n{n}.db")
        result["cli"] = run_cli(pages, db_url, n)
        result["quality"] = check_quality(db_url, corpus)
    if not args.no_stages:
        result["stages"] = run_stages(pages, fresh_db(WORK / f"stages-n{n}.db"))
    if args.profile:
        result["profile"] = profile_stages(pages, fresh_db(WORK / f"profile-n{n}.db"),
                                           min(args.profile, n))
    text = render(result)
    print(text)
    if args.json:
        append_json(args.json, result)
        print(f"\nresults appended to {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
