"""Export every article in the contract's shape (``Article.to_record``): JSON Lines, CSV, Parquet.

Articles stream from the store in batches; nothing holds the whole corpus in memory."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import BinaryIO, Literal

from storyline.errors import ConfigError
from storyline.store.base import Store

ExportFormat = Literal["jsonl", "csv", "parquet"]
FORMATS: tuple[str, ...] = ("jsonl", "csv", "parquet")
# The exported article of the contract (DESIGN.md), in column order.
RECORD_FIELDS = (
    "id", "url", "source", "title", "published", "lang", "text",
    "event_id", "story_id", "duplicate_of", "entities",
)  # fmt: skip
# Rows per Parquet row group: bounds memory, and keeps row groups large enough to scan well.
PARQUET_BATCH_ROWS = 2_000


def export_articles(
    store: Store, fmt: ExportFormat = "jsonl", out: BinaryIO | Path | str | None = None
) -> int:
    """Write every article to ``out`` (a binary stream, a file path, or None for stdout).

    A path is written whole or not at all (through a ``.part`` file). Returns the count."""
    if fmt not in FORMATS:
        raise ConfigError(
            f"unknown export format {fmt!r}", hint=f"choose one of: {', '.join(FORMATS)}"
        )
    write = _WRITERS[fmt]
    records = (article.to_record() for article in store.iter_articles())
    if out is None:
        count = write(records, sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return count
    if isinstance(out, (str, Path)):
        return _write_file(Path(out), write, records)
    return write(records, out)


def _write_file(path: Path, write, records: Iterator[dict]) -> int:
    part = path.with_name(path.name + ".part")
    try:
        with open(part, "wb") as stream:
            count = write(records, stream)
        os.replace(part, path)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise ConfigError(
            f"cannot write export file {path}: {exc.strerror or exc}",
            hint="check that the folder exists and is writable",
        ) from None
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return count


def _write_jsonl(records: Iterable[dict], out: BinaryIO) -> int:
    count = 0
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
        count += 1
    return count


def _write_csv(records: Iterable[dict], out: BinaryIO) -> int:
    # newline="": the csv module writes its own line ends and quotes newlines inside text.
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    count = 0
    try:
        writer = csv.DictWriter(text, fieldnames=RECORD_FIELDS)
        writer.writeheader()
        for record in records:
            entities = json.dumps(record["entities"], ensure_ascii=False)
            writer.writerow({**record, "entities": entities})
            count += 1
        text.flush()
    finally:
        text.detach()  # the caller's stream stays open
    return count


def _parquet_schema():
    import pyarrow as pa

    entity = pa.struct([("text", pa.string()), ("type", pa.string()), ("key", pa.string())])
    # published stays ISO text: a timestamp column would drop the article's own UTC offset.
    columns = [(name, pa.string()) for name in RECORD_FIELDS if name != "entities"]
    return pa.schema([*columns, ("entities", pa.list_(entity))])


def _write_parquet(records: Iterable[dict], out: BinaryIO) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _parquet_schema()
    count = 0
    with pq.ParquetWriter(out, schema) as writer:
        iterator = iter(records)
        while batch := list(islice(iterator, PARQUET_BATCH_ROWS)):
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            count += len(batch)
    return count


_WRITERS = {"jsonl": _write_jsonl, "csv": _write_csv, "parquet": _write_parquet}
