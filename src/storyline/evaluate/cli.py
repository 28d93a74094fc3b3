"""`storyline eval ...`: thin click commands over the evaluation library."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from storyline.errors import StorylineError
from storyline.settings import load_settings

json_option = click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the report as JSON.",
)
limit_option = click.option(
    "--limit", type=click.IntRange(min=1), default=None, help="Evaluate only the first N items."
)


def reports_errors(func):
    """The CLI's own error boundary (storyline.cli.reports_errors), looked up when a command runs:
    storyline.cli imports this module, so importing it back here at load time would be circular."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from storyline.cli import reports_errors as boundary

        return boundary(func)(*args, **kwargs)

    return wrapper


@click.group(name="eval")
def eval_group():
    """Measure quality on labelled data."""


def _write_json(report, path: Path | None) -> None:
    if path:
        path.write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        click.echo(f"report written to {path}", err=True)


@eval_group.command(name="langid")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--languages",
    default=None,
    metavar="CODES",
    help="Languages the identifier may choose from (default: the project's set).",
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the report as JSON.",
)
@reports_errors
def eval_langid(paths, languages, json_out):
    """Language ID accuracy on lingua-style test files (<lang>.txt, one sample per line)."""
    from storyline.evaluate.langid import evaluate_langid, langid_files

    settings = load_settings(languages=languages)
    files = [f for p in paths for f in (langid_files(p) if p.is_dir() else [p])]
    report = evaluate_langid(files, languages=settings.languages)
    click.echo(report.table())
    _write_json(report, json_out)


@eval_group.command(name="extract")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--limit", type=int, default=None, help="Evaluate only the first N pages.")
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the report (with per-page rows) as JSON.",
)
@reports_errors
def eval_extract(directory, limit, json_out):
    """Body-text P/R/F1 of storyline's HTML extraction vs plain trafilatura, same pages."""
    from storyline.evaluate.extraction import evaluate_extraction

    report = evaluate_extraction(directory, limit=limit)
    click.echo(report.table())
    _write_json(report, json_out)


@eval_group.command(name="clusters")
@click.argument(
    "datasets", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--level",
    type=click.Choice(["event", "story"]),
    default=None,
    help="Compare gold labels with event_id or story_id (default: the dataset's own "
    "level: story for BSNLP topics, event otherwise).",
)
@click.option(
    "--label",
    "label",
    default=None,
    metavar="FIELD",
    help="Gold field of a contract JSONL file (default: the level's name).",
)
@click.option(
    "--min-chars",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Pipeline's minimum article length; gold documents are kept whatever their size.",
)
@limit_option
@click.option(
    "--config", type=click.Path(dir_okay=False, path_type=Path), default=None, help="TOML file of settings."
)
@json_option
@reports_errors
def eval_clusters(datasets, level, label, min_chars, limit, config, json_out):
    """B-cubed and pairwise P/R/F1 of the pipeline's clusters, overall and per language pair.

    Each DATASET is a JSON Lines file of the input contract ({"id","text","title","published",
    "source","lang"} plus a gold field named by --label), or a known dataset file: WMT x-en pairs
    with document ids (wmt2?_ru-en.jsonl, wmt2?_uk-en.jsonl: each document in its language and in
    English), WMT trilingual (trilingual_wmt2?_en_ru_uk.jsonl: documents recovered from line
    numbers, each in en, ru and uk) or BSNLP (bsnlp_dev_uk_ru.jsonl, story level only). Several
    files are clustered together as one corpus; --limit counts documents per file. Runs the real
    pipeline on an in-memory store."""
    from storyline.evaluate.datasets import load_many
    from storyline.evaluate.runs import evaluate_clusters

    settings = load_settings(config, min_chars=min_chars)
    fmt, level, documents = load_many(datasets, level=level, label=label, limit=limit)
    names = " + ".join(p.name for p in datasets)
    report = evaluate_clusters(documents, level=level, settings=settings, dataset=f"{names} ({fmt})")
    click.echo(report.table())
    _write_json(report, json_out)


@eval_group.command(name="calibrate")
@click.argument(
    "datasets", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--level", type=click.Choice(["event", "story"]), default=None,
              help="Which level's parameters to sweep (default: the dataset's own level).")
@click.option("--grid", required=True, metavar="JSON",
              help='Parameter values to try, e.g. \'{"bias": [-64, -62], "time": [4, 6]}\' '
                   "(names as in cluster/params.toml).")
@click.option("--label", default=None, metavar="FIELD", help="Gold field of a contract JSONL file.")
@limit_option
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True)
@reports_errors
def eval_calibrate(datasets, level, grid, label, limit, top):
    """Sweep clustering parameters on labelled documents: each document is analysed and embedded
    once, then the production online clusterer replays them per parameter set (B-cubed). Several
    DATASETS are one corpus, as in `eval clusters`."""
    from storyline.cluster.engine import make_embedder
    from storyline.cluster.params import load_params
    from storyline.evaluate.calibrate import cosine_quantiles, prepare, sweep
    from storyline.evaluate.datasets import load_many
    from storyline.evaluate.metrics import format_table

    try:
        values = json.loads(grid)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--grid") from None
    if not isinstance(values, dict) or not all(isinstance(v, list) and v for v in values.values()):
        raise click.BadParameter('a JSON object of non-empty lists, e.g. {"bias": [-64, -62]}',
                                 param_hint="--grid")
    settings = load_settings(None).with_overrides(min_chars=0)
    fmt, level_found, documents = load_many(datasets, level=level, label=label, limit=limit)
    params = load_params(embedder=settings.embedder)
    prepared = prepare(documents, make_embedder(settings), params, settings)
    quantiles = cosine_quantiles(prepared, level_found)
    names = " + ".join(p.name for p in datasets)
    click.echo(f"{names} ({fmt}): {len(prepared.profiles)} documents, {level_found} level; "
               f"cosine 5/50/95%: same {quantiles['same']}, different {quantiles['different']}")
    try:
        rows = sweep(prepared, level_found, values, params)
    except TypeError as exc:
        raise click.BadParameter(str(exc), param_hint="--grid") from None
    click.echo(format_table(list(values) + ["B3 P", "B3 R", "B3 F1"],
                            [[*v.values(), f"{p:.3f}", f"{r:.3f}", f"{f:.3f}"] for v, p, r, f in rows[:top]]))


@eval_group.command(name="entities")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@limit_option
@json_option
@reports_errors
def eval_entities(file, limit, json_out):
    """Cross-lingual entity keys on BSNLP (bsnlp_dev_uk_ru.jsonl): do the keys group the gold
    mentions of one entity (xling_id) across documents and languages, and does extraction find them."""
    from storyline.evaluate.entities import evaluate_entity_keys

    report = evaluate_entity_keys(file, limit=limit)
    click.echo(report.table())
    _write_json(report, json_out)


@eval_group.command(name="ner")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@limit_option
@json_option
@reports_errors
def eval_ner(file, limit, json_out):
    """Ukrainian mention extraction on NER-UK 2.0 (ner_uk_dev.jsonl): exact-span and overlap P/R/F1
    per type (gold PERS/ORG/LOC; MISC+ART+DOC as MISC; dates, jobs, money... not scored) and for
    type-agnostic mention detection."""
    from storyline.evaluate.ner import evaluate_ner

    report = evaluate_ner(file, limit=limit)
    click.echo(report.table())
    _write_json(report, json_out)


def load_pair_scorer(settings):
    """The clustering's similarity model as a pair scorer; never a stand-in."""
    try:
        from storyline.cluster.pairs import pair_scorer
    except ImportError as exc:
        raise StorylineError(
            f"the similarity model is not available yet ({exc})",
            hint="storyline.cluster.pairs must provide pair_scorer(settings)",
        ) from None
    return pair_scorer(settings)


@eval_group.command(name="pairs")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@limit_option
@click.option(
    "--thresholds",
    default=None,
    metavar="LIST",
    help="Comma-separated thresholds to sweep (default 0, 0.05, ..., 1).",
)
@click.option(
    "--config", type=click.Path(dir_okay=False, path_type=Path), default=None, help="TOML file of settings."
)
@json_option
@reports_errors
def eval_pairs(file, limit, thresholds, config, json_out):
    """P/R/F1 of "same event" for labelled pairs (ParaPhraser format: text_1, text_2, class with
    0 and 1 positive) at a sweep of thresholds of the similarity model, plus ROC-AUC and AP."""
    from storyline.evaluate.datasets import paraphraser_pairs
    from storyline.evaluate.runs import DEFAULT_THRESHOLDS, evaluate_pairs

    sweep = DEFAULT_THRESHOLDS
    if thresholds:
        try:
            sweep = tuple(float(x) for x in thresholds.split(",") if x.strip())
        except ValueError:
            raise click.BadParameter(
                f"not a list of numbers: {thresholds!r}", param_hint="--thresholds"
            ) from None
    settings = load_settings(config)
    scorer = load_pair_scorer(settings)
    report = evaluate_pairs(paraphraser_pairs(file, limit=limit), scorer, sweep, dataset=file.name)
    click.echo(report.table())
    _write_json(report, json_out)


@eval_group.command(name="gate")
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("eval/baseline.json"),
    show_default=True,
    help="Checks, pinned floors and dataset hashes.",
)
@click.option(
    "--datasets",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Root of the shared datasets (default: $STORYLINE_SHARED/datasets, else the "
    "baseline's own 'datasets' path).",
)
@click.option(
    "--update",
    is_flag=True,
    help="Rewrite the baseline: floors = current values minus its tolerance, fresh hashes.",
)
@json_option
@reports_errors
def eval_gate(baseline, datasets, update, json_out):
    """Quality gate for CI: a small, fast evaluation whose metrics must stay above pinned floors.

    Exits 1 naming every metric below its floor, or when a dataset file changed."""
    from storyline.evaluate.gate import run_gate

    report = run_gate(baseline, datasets=datasets, update=update)
    click.echo(report.table())
    _write_json(report, json_out)
    if update:
        click.echo(f"baseline written to {baseline}", err=True)
    elif not report.passed:
        for line in report.failures():
            click.secho(f"Error: {line}", fg="red", err=True)
        sys.exit(1)
