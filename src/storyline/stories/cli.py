"""`storyline stories` and `storyline story ID`: thin click commands over ``view`` and ``render``.

Plain click commands; the main group adds them (``main.add_command(stories)``)."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime

import click

from storyline.errors import ConfigError
from storyline.settings import load_settings
from storyline.store import DEFAULT_URL, open_store

db_option = click.option(
    "--db", default=None, metavar="URL", help=f"Store URL (default {DEFAULT_URL}; env STORYLINE_DB)."
)
lang_option = click.option(
    "--lang", default=None, metavar="L", help="Reader's language for headlines and summaries (uk, ru, en)."
)


def reports_errors(func):
    """The CLI's own error boundary (storyline.cli.reports_errors), looked up when a command runs:
    storyline.cli imports this module, so importing it back at load time would be circular."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from storyline.cli import reports_errors as boundary

        return boundary(func)(*args, **kwargs)

    return wrapper


def parse_since(value: str | None) -> datetime | None:
    """An ISO 8601 date or date-time; a date means its midnight, a time without offset UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ConfigError(
            f"--since must be an ISO 8601 date or date-time, got {value!r}",
            hint="e.g. --since 2025-10-20 or --since 2025-10-20T12:00+03:00",
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@click.command()
@click.option(
    "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Show the best N stories."
)
@click.option(
    "--lang", default=None, metavar="L", help="Only stories with articles in this language; headlines in it."
)
@click.option("--since", default=None, metavar="DATE", help="Only stories with an article on or after DATE.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "jsonl"]), default="table", show_default=True
)
@db_option
@reports_errors
def stories(limit, lang, since, fmt, db):
    """Ranked stories: outlets, languages, articles, recency and velocity."""
    from storyline.stories.render import stories_table, summary_to_dict
    from storyline.stories.view import list_stories

    moment = parse_since(since)
    settings = load_settings(db=db)
    with open_store(settings.db) as store:
        items = list_stories(store, limit, lang=lang, since=moment)
    records = [summary_to_dict(item, rank) for rank, item in enumerate(items, 1)]
    if fmt == "json":
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
    elif fmt == "jsonl":
        for record in records:
            click.echo(json.dumps(record, ensure_ascii=False))
    else:
        if not items:
            click.echo("no stories" + (" matching these filters" if lang or since else " yet"), err=True)
            return
        click.echo(stories_table(items))


@click.command()
@click.argument("story_id")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "md"]), default="text", show_default=True)
@lang_option
@db_option
@reports_errors
def story(story_id, fmt, lang, db):
    """One story: headline, summary, timeline of events, articles by language, entities, quotes,
    and why its articles are together."""
    from storyline.stories.render import story_json, story_markdown, story_text
    from storyline.stories.view import story_view

    settings = load_settings(db=db)
    with open_store(settings.db) as store:
        view = story_view(store, story_id, lang=lang)
    if fmt == "json":
        click.echo(story_json(view))
    elif fmt == "md":
        click.echo(story_markdown(view), nl=False)
    else:
        click.echo(story_text(view))
