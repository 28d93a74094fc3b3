"""The `storyline` command. Thin: the library does the work; errors become one clear line."""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

# One BLAS thread: the matrix-vector products of clustering are small, and on a busy machine a
# woken thread pool costs more than it saves (measured: 12 ms vs 0.5 ms per candidate search).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import click

from storyline.engines import ENGINES
from storyline.errors import StorylineError
from storyline.evaluate.cli import eval_group
from storyline.search.cli import reindex, search
from storyline.settings import load_settings
from storyline.store import DEFAULT_URL, open_store
from storyline.stories.cli import stories, story
from storyline.watch.cli import watch

db_option = click.option("--db", default=None, metavar="URL",
                         help=f"Store URL (default {DEFAULT_URL}; env STORYLINE_DB).")
config_option = click.option("--config", type=click.Path(dir_okay=False, path_type=Path),
                             default=None, help="TOML file of settings.")


def reports_errors(func):
    """Turn a StorylineError into 'Error: ...' (and a hint) and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except StorylineError as exc:
            click.secho(f"Error: {exc}", fg="red", err=True)
            if exc.hint:
                click.echo(f"Hint: {exc.hint}", err=True)
            sys.exit(1)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="storyline")
def main():
    """storyline: raw multilingual news in, clean articles and cross-lingual stories out."""
    import logging

    # trafilatura warns on every page without a body; storyline reports those as rejections.
    logging.getLogger("trafilatura").setLevel(logging.ERROR)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@db_option
@config_option
@click.option("--crawled-at", default=None, metavar="ISO",
              help="When the pages were fetched, for relative dates like 'Вчера, 20:07' "
                   "(default: each file's modification time).")
@click.option("--languages", default=None, metavar="CODES",
              help="Languages to tell apart, comma-separated (default uk,ru,en and neighbours).")
@click.option("--min-chars", type=int, default=None,
              help="Reject articles with less clean text than this (default 200).")
@click.option("--embedder", default=None, metavar="NAME",
              help="Vectors for clustering: e5 (default, bundled), lexical (no model), st:MODEL.")
@click.option("--cluster/--no-cluster", default=None,
              help="Build events and stories while ingesting (default: on).")
@click.option("--engine", type=click.Choice(ENGINES), default="serial", show_default=True,
              envvar="STORYLINE_ENGINE",
              help="Where cleaning, analysis and embedding run: in this process, a local process "
                   "pool, or Dask workers (env STORYLINE_ENGINE).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes of the local engine or of a local Dask cluster "
                   "(default: one per core).")
@click.option("--scheduler", default=None, metavar="ADDRESS", envvar="STORYLINE_SCHEDULER",
              help="A running Dask cluster's scheduler (tcp://HOST:8786) for --engine dask; "
                   "without it a local cluster is started.")
@click.option("--max-document-bytes", default=None, metavar="SIZE",
              help="Reject a page, file or record larger than this as too_large, without reading it "
                   "whole (default 16M; accepts 32M, 1G; env STORYLINE_MAX_DOCUMENT_BYTES).")
@click.option("--strict", is_flag=True, help="Exit with status 2 when any input was rejected.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the summary line.")
@reports_errors
def ingest(paths, db, config, crawled_at, languages, min_chars, embedder, cluster, engine, workers,
           scheduler, max_document_bytes, strict, quiet):
    """Ingest files, directories (recursively) or '-' for stdin: .txt pages, .html/.htm pages,
    .jsonl records. Re-ingesting the same input changes nothing."""
    from tqdm import tqdm

    from storyline.engines import open_engine
    from storyline.ingest.run import ingest as run_ingest

    settings = load_settings(config, db=db, crawled_at=crawled_at, languages=languages,
                             min_chars=min_chars, embedder=embedder, cluster=cluster,
                             max_document_bytes=max_document_bytes)
    bar = tqdm(unit=" docs", desc="ingest", disable=quiet or not sys.stderr.isatty(),
               file=sys.stderr)

    def report(rejection):
        if not quiet:
            bar.write(click.style(f"rejected {rejection}", fg="yellow"), file=sys.stderr)

    # The engine first: a wrong --scheduler should not leave a new empty store behind.
    with open_engine(engine, workers=workers, scheduler=scheduler) as runner, \
            open_store(settings.db) as store:
        summary = run_ingest(paths, store, settings, on_rejection=report,
                             on_item=bar.update, stdin=sys.stdin.buffer, engine=runner)
        bar.close()
        total = store.count_articles()
    click.echo(f"{summary.line()}; {total} articles in {settings.db}")
    if strict and summary.total_rejected:
        sys.exit(2)


@main.command()
@click.argument("article_id")
@db_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@reports_errors
def article(article_id, db, fmt):
    """Show one article: clean text and metadata."""
    settings = load_settings(db=db)
    with open_store(settings.db) as store:
        art = store.get_article(article_id)
    if fmt == "json":
        record = art.to_record()
        record["paragraphs"] = [{"text": p.text, "lang": p.lang} for p in art.paragraphs]
        record["origin"] = art.raw.origin
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    click.secho(art.title or "(untitled)", bold=True)
    when = art.published.isoformat(sep=" ", timespec="minutes") if art.published else "no date"
    click.echo(" · ".join(x for x in (art.source or "unknown outlet", when, art.lang or "?",
                                      art.id) if x))
    if art.url:
        click.echo(art.url)
    click.echo()
    click.echo(art.text)


@main.command()
@db_option
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="Show the newest N articles.")
@click.option("--lang", default=None, help="Only articles in this language (uk, ru, en, ...).")
@reports_errors
def articles(db, limit, lang):
    """List stored articles, newest first: date, language, outlet, id, title."""
    from collections import deque

    settings = load_settings(db=db)
    with open_store(settings.db) as store:
        total = store.count_articles()
        newest = deque((a for a in store.iter_articles() if not lang or a.lang == lang),
                       maxlen=limit)
    rows = list(reversed(newest))
    for art in rows:
        when = art.published.strftime("%Y-%m-%d %H:%M") if art.published else "(no date)       "
        title = (art.title or "(untitled)").replace("\n", " ")
        click.echo(f"{when}  {art.lang or '??':2}  {(art.source or '?')[:22]:22}  "
                   f"{art.id[:24]:24}  {title[:80]}")
    click.echo(f"{len(rows)} of {total} articles shown", err=True)


@main.command()
@db_option
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "parquet"]), default="jsonl",
              show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: standard output; parquet needs a file).")
@reports_errors
def export(db, fmt, output):
    """Export every article with its assignments (the contract's JSON fields)."""
    from storyline.export import export_articles

    settings = load_settings(db=db)
    if fmt == "parquet" and output is None:
        raise StorylineError("parquet output needs a file", hint="add -o articles.parquet")
    with open_store(settings.db) as store:
        count = export_articles(store, fmt, output if output else sys.stdout.buffer)
    if output:
        click.echo(f"{count} articles written to {output}", err=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 for every interface.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@db_option
@config_option
@click.option("--token-env", default="STORYLINE_API_TOKEN", show_default=True, metavar="NAME",
              help="Environment variable holding the API token that POST /api/articles needs. "
                   "Without one, only a server on 127.0.0.1 takes writes (from this machine).")
@reports_errors
def serve(host, port, db, config, token_env):
    """Serve the HTTP API (/api, OpenAPI at /openapi.json, docs at /docs) and the web pages."""
    from storyline.app import serve as run_server

    settings = load_settings(config, db=db)
    run_server(settings, host=host, port=port, api_token=os.environ.get(token_env) or None,
               echo=click.echo)


main.add_command(stories)
main.add_command(story)
main.add_command(eval_group)
main.add_command(search)
main.add_command(reindex)
main.add_command(watch)
