"""`storyline search QUERY` and `storyline reindex`: thin click commands over ``search``.

Plain click commands; the main group adds them (``main.add_command(search)``)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import click

from storyline.errors import ConfigError
from storyline.settings import load_settings
from storyline.store import open_store
from storyline.stories.cli import db_option, parse_since, reports_errors


@click.command("search")
@click.argument("query")
@click.option("--lang", "langs", multiple=True, metavar="L",
              help="Only articles in this language (uk, ru, en); repeat for several.")
@click.option("--outlet", "outlets", multiple=True, metavar="NAME",
              help="Only articles from this outlet (any letter case); repeat for several.")
@click.option("--since", default=None, metavar="DATE", help="Only articles published on or after DATE.")
@click.option("--until", default=None, metavar="DATE",
              help="Only articles published before DATE (a bare date: up to the end of that day).")
@click.option("--limit", type=int, default=20, show_default=True, help="Articles per page (1-100).")
@click.option("--offset", type=int, default=0, show_default=True, help="Skip this many best articles.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "jsonl"]), default="table",
              show_default=True)
@db_option
@reports_errors
def search(query, langs, outlets, since, until, limit, offset, fmt, db):
    """Search articles and stories in uk, ru and en at once: a query for Путин finds Путіна and
    Putin, переговоры finds переговорів. Every word must match (when none has all of them, the
    articles with some are shown, and the output says so)."""
    from storyline.search import SearchQuery
    from storyline.search import search as run_search

    request = SearchQuery(query, tuple(langs), tuple(outlets), _date("--since", since),
                          _date("--until", until, end_of_day=True), limit, offset)
    settings = load_settings(db=db)
    with open_store(settings.db) as store:
        results = run_search(store, request)
    if fmt == "json":
        click.echo(json.dumps(results.to_dict(), ensure_ascii=False, indent=2))
    elif fmt == "jsonl":
        record = results.to_dict()
        for kind, items in (("article", record["articles"]), ("story", record["stories"])):
            for item in items:
                click.echo(json.dumps({"kind": kind, **item}, ensure_ascii=False))
    else:
        from storyline.search.render import results_table

        click.echo(results_table(results, color=click.get_current_context().color))


@click.command()
@db_option
@click.option("--missing", is_flag=True, help="Only articles that have no search document yet.")
@reports_errors
def reindex(db, missing):
    """Rebuild the search index from the stored articles (opening an older store fills it by
    itself; run this after upgrading storyline to new search keys)."""
    settings = load_settings(db=db)
    with open_store(settings.db) as store:
        count = store.reindex_search(missing_only=missing)
    click.echo(f"{count} articles indexed in {settings.db}")


def _date(option: str, value: str | None, end_of_day: bool = False) -> datetime | None:
    """parse_since for either option; ``--until 2025-10-31`` includes the 31st."""
    try:
        moment = parse_since(value)
    except ConfigError as exc:
        raise ConfigError(str(exc).replace("--since", option, 1),
                          hint=(exc.hint or "").replace("--since", option)) from None
    if moment is not None and end_of_day and len(value.strip()) == 10:
        moment += timedelta(days=1)
    return moment
