"""`storyline watch`: a thin click command over ``storyline.watch.Watcher``."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from storyline.errors import ConfigError
from storyline.settings import load_settings
from storyline.store import open_store
from storyline.stories.cli import db_option, reports_errors


@click.command("watch")
@click.argument("sources", nargs=-1, metavar="FEED_OR_URL...")
@click.option("--feeds", "feeds_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File of feed or page URLs, one a line ('#' starts a comment).")
@click.option("--interval", type=click.FloatRange(min=1), default=900, show_default=True,
              help="Seconds between two polling rounds.")
@click.option("--once", is_flag=True, help="Poll every source once and exit (for cron and tests).")
@click.option("--host-delay", type=click.FloatRange(min=0), default=2.0, show_default=True,
              help="Seconds between two requests to one host.")
@click.option("--timeout", type=click.FloatRange(min=0.01), default=20.0, show_default=True,
              help="Seconds to wait for a connection or for each read.")
@click.option("--retries", type=click.IntRange(min=0), default=3, show_default=True,
              help="Tries after the first on 5xx answers, timeouts and broken connections.")
@click.option("--max-bytes", type=click.IntRange(min=1), default=5 * 1024 * 1024, show_default=True,
              help="Largest page or feed read; larger ones are refused.")
@click.option("--workers", type=click.IntRange(min=1), default=4, show_default=True,
              help="Hosts fetched at once (never more than one request in flight per host).")
@click.option("--batch-size", type=click.IntRange(min=1), default=10, show_default=True,
              help="Articles stored per transaction.")
@db_option
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="TOML file of settings.")
@click.option("--embedder", default=None, metavar="NAME",
              help="Vectors for clustering: e5 (default, bundled), lexical (no model), st:MODEL.")
@click.option("--min-chars", type=int, default=None,
              help="Reject articles with less clean text than this (default 200).")
@click.option("--quiet", "-q", is_flag=True, help="Print only round summaries and errors.")
@reports_errors
def watch(sources, feeds_file, interval, once, host_delay, timeout, retries, max_bytes, workers,
          batch_size, db, config, embedder, min_chars, quiet):
    """Poll RSS/Atom feeds and article pages, politely (robots.txt, a pause between requests to
    one host, conditional GET, retries with backoff, Retry-After), several hosts at once, and
    ingest every new entry's page as it comes in. Runs until Ctrl-C or SIGTERM, which finish
    the batch in hand first."""
    from storyline.watch.fetch import FetchOptions, PoliteClient
    from storyline.watch.loop import Watcher, stop_on_signals

    urls = list(sources) + (_read_feeds_file(feeds_file) if feeds_file else [])
    if not urls:
        raise ConfigError("nothing to watch", hint="give feed or page URLs, or --feeds FILE")
    _log_to_stderr(quiet)
    settings = load_settings(config, db=db, embedder=embedder, min_chars=min_chars)
    options = FetchOptions(host_delay=host_delay, timeout=timeout, total_timeout=max(timeout * 3, 60),
                           max_bytes=max_bytes, retries=retries)
    with open_store(settings.db) as store, PoliteClient(options) as client:
        watcher = Watcher(store, urls, settings, client=client, batch_size=batch_size,
                          workers=workers)
        with stop_on_signals(watcher.stop):
            try:
                watcher.run(interval, once=once)
            except KeyboardInterrupt:
                click.echo("stopped at once; the batch in hand will be fetched again next time",
                           err=True)
                sys.exit(130)
    if watcher.stop.is_set():
        click.echo("stopped", err=True)


def _read_feeds_file(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read feeds file {path}: {exc.strerror}") from None
    # Only whole-line comments: a '#' inside a URL is a fragment, not a comment.
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def _log_to_stderr(quiet: bool) -> None:
    logger = logging.getLogger("storyline.watch")
    # Replaced on every call: an earlier handler may hold a stream that is gone (CliRunner).
    for old in [h for h in logger.handlers if getattr(h, "storyline_cli", False)]:
        logger.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler.storyline_cli = True
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    if quiet:  # round summaries and warnings only, not every rejected page
        handler.addFilter(lambda record: record.levelno >= logging.WARNING
                          or record.getMessage().startswith("round "))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
