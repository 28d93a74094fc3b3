"""Loaders for the labelled datasets in ``../shared/datasets`` and for the contract's JSON Lines.

Every loader streams its file (a generator) and yields plain dataclasses; nothing is copied.
Language-ID files and the extraction benchmark have their loaders in ``langid.py`` and
``extraction.py``.

Gold labels per dataset:

- **WMT trilingual** (``trilingual_wmt2{2,3}_en_ru_uk.jsonl``): one English sentence per line with its
  human ru and uk translations. A document is a group of consecutive lines; it yields three
  ``GoldDocument`` s (en, ru, uk) whose event and story label is the document id. The files carry no
  usable ``doc_id`` (absent in 2022, null in 2023), so documents are recovered as follows:

  * lines with a ``doc_id`` are grouped by it (consecutive runs);
  * 2022 lines carry their line numbers in the en-ru and the en-uk test sets (``line_en_ru``,
    ``line_en_uk``). The two test sets order documents differently, so a document is a run of lines
    whose both numbers advance by 1 to ``MAX_LINE_STEP`` (a step over a line that one test set lacks).
    Two documents that happen to be adjacent in both orders merge (observed: 247 documents, 1-51 lines);
  * 2023 lines have only their line number (one English source shared by both test sets), so no
    boundary can be recovered: documents are fixed chunks of ``chunk_lines`` consecutive lines. A
    chunk may straddle two short posts, and two chunks of one long document get different labels;
    both make the measured precision an under-estimate.

  Title = the first sentence, text = all sentences as one paragraph (the body repeats the title,
  like most news pages); a one-sentence document has no title (the pipeline takes its first
  paragraph, as for any untitled record). All documents get the same date: spreading them would
  let a clusterer's time window separate documents for free. Each (document, language) gets its
  own source, so a same-outlet guard neither helps nor hurts.
- **WMT translation pairs with documents** (``wmt2?_{ru,uk}-en.jsonl``, format ``wmt-pairs``): native
  ru or uk news, posts, reviews and manuals with their human English translation, sentence by
  sentence, each line carrying the source document's ``doc_id``. These are the real documents: a
  document yields two ``GoldDocument`` s (its source language and English) labelled with
  ``testset/pair/doc_id``. Several files can be evaluated together (ru-en with uk-en: three
  languages, every document in two). Files without ``doc_id`` (the en-x directions) are refused.
- **BSNLP** (``bsnlp_dev_uk_ru.jsonl``): real uk/ru news on six topics; ``topic`` is the gold
  *story* label. There is no event label: BSNLP is a story-level benchmark only.
- **ParaPhraser** (``paraphrases_train.jsonl``): Russian headline pairs, ``class`` 1 precise
  paraphrase, 0 near paraphrase, -1 not; positive ("same event") = class 0 or 1, as the dataset's
  README and the published results count it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from storyline.errors import InputError

WMT_LANGUAGES = ("en", "ru", "uk")
MAX_LINE_STEP = 3
DEFAULT_CHUNK_LINES = 8
# A fixed, plausible date per WMT test set (the news was collected in that year).
WMT_DATES = {"generaltest2022": "2022-06-01T12:00:00+00:00", "generaltest2023": "2023-06-01T12:00:00+00:00"}
CONTRACT_FIELDS = ("id", "text", "title", "published", "source", "lang", "url")


@dataclass(frozen=True, slots=True)
class GoldDocument:
    """An article with its gold labels; ``event`` / ``story`` is None when the dataset has none."""

    id: str
    text: str
    title: str | None = None
    published: str | None = None  # ISO 8601
    source: str | None = None
    lang: str | None = None
    url: str | None = None
    event: str | None = None
    story: str | None = None

    def label(self, level: str) -> str | None:
        if level not in ("event", "story"):
            raise ValueError(f"level must be 'event' or 'story', got {level!r}")
        return self.event if level == "event" else self.story


@dataclass(frozen=True, slots=True)
class LabelledPair:
    """Two texts and whether they report the same event. ``cls`` is ParaPhraser's -1/0/1."""

    id: str
    text_1: str
    text_2: str
    cls: int

    @property
    def label(self) -> bool:
        return self.cls in (0, 1)

    @property
    def graded(self) -> float:
        """-1/0/1 mapped onto 0, 0.5, 1 for graded (correlation-style) use."""
        return (self.cls + 1) / 2


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    path = Path(path)
    try:
        f = path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(str(path), "not_found", exc.strerror or str(exc)) from None
    with f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{number}", "bad_record", f"not valid JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise InputError(f"{path}:{number}", "bad_record", "expected a JSON object")
            yield number, record


def _require(record: dict, names: Iterable[str], where: str) -> None:
    missing = [n for n in names if n not in record]
    if missing:
        raise InputError(where, "bad_record", f"missing field(s) {', '.join(missing)}")


# ---------------------------------------------------------------- ParaPhraser


def paraphraser_pairs(path: Path, limit: int | None = None) -> Iterator[LabelledPair]:
    """ParaPhraser pairs in file order (the first ``limit`` when given)."""
    count = 0
    for number, record in _read_jsonl(path):
        if limit is not None and count >= limit:
            return
        where = f"{path}:{number}"
        _require(record, ("text_1", "text_2", "class"), where)
        try:
            cls = int(record["class"])
        except (TypeError, ValueError):
            raise InputError(
                where, "bad_record", f"class must be -1, 0 or 1, got {record['class']!r}"
            ) from None
        if cls not in (-1, 0, 1):
            raise InputError(where, "bad_record", f"class must be -1, 0 or 1, got {cls}")
        yield LabelledPair(str(record.get("id", number)), record["text_1"], record["text_2"], cls)
        count += 1


# ---------------------------------------------------------------- WMT trilingual


def _wmt_groups(path: Path, chunk_lines: int) -> Iterator[list[dict]]:
    """Consecutive lines grouped into documents (see the module docstring)."""
    group: list[dict] = []
    previous: dict | None = None
    for number, record in _read_jsonl(path):
        _require(record, WMT_LANGUAGES, f"{path}:{number}")
        record["_line"] = number
        if previous is not None and _wmt_boundary(previous, record, len(group), chunk_lines):
            yield group
            group = []
        group.append(record)
        previous = record
    if group:
        yield group


def _wmt_boundary(previous: dict, record: dict, size: int, chunk_lines: int) -> bool:
    if record.get("doc_id") is not None or previous.get("doc_id") is not None:
        return record.get("doc_id") != previous.get("doc_id")
    if "line_en_ru" in record and "line_en_uk" in record:
        steps = (record["line_en_ru"] - previous["line_en_ru"], record["line_en_uk"] - previous["line_en_uk"])
        return not all(1 <= step <= MAX_LINE_STEP for step in steps)
    return size >= chunk_lines


def wmt_documents(
    path: Path, limit: int | None = None, chunk_lines: int = DEFAULT_CHUNK_LINES
) -> Iterator[GoldDocument]:
    """Three GoldDocuments (en, ru, uk) per WMT document; ``limit`` counts source documents."""
    if not isinstance(chunk_lines, int) or chunk_lines < 1:
        raise ValueError(f"chunk_lines must be a whole number >= 1, got {chunk_lines!r}")
    path = Path(path)
    for count, group in enumerate(_wmt_groups(path, chunk_lines)):
        if limit is not None and count >= limit:
            return
        first = group[0]
        testset = str(first.get("testset") or path.stem)
        doc = str(first.get("doc_id") or f"{testset}-{first['_line']:05d}")
        published = WMT_DATES.get(testset, WMT_DATES["generaltest2022"])
        for lang in WMT_LANGUAGES:
            sentences = [str(r[lang]).strip() for r in group if str(r[lang]).strip()]
            if not sentences:
                continue
            yield GoldDocument(
                id=f"{doc}-{lang}",
                text=" ".join(sentences),
                # A one-sentence body equal to its title would be dropped as a repeated title.
                title=sentences[0] if len(sentences) > 1 else None,
                published=published,
                source=f"{testset}/{lang}/{doc}",
                lang=lang,
                event=doc,
                story=doc,
            )


# ---------------------------------------------------------------- WMT translation pairs


def wmt_pair_documents(path: Path, limit: int | None = None) -> Iterator[GoldDocument]:
    """Two GoldDocuments (source language, target language) per ``doc_id`` of a WMT pair file;
    ``limit`` counts documents. A document's lines need not be adjacent."""
    path = Path(path)
    documents: dict[str, list[dict]] = {}
    for number, record in _read_jsonl(path):
        where = f"{path}:{number}"
        _require(record, ("src_lang", "tgt_lang", "src", "ref_A"), where)
        if not record.get("doc_id"):
            raise InputError(
                where,
                "no_labels",
                "this WMT pair file has no doc_id, so its sentences cannot be grouped into documents",
                hint="use the x-en files (wmt22_ru-en.jsonl, wmt22_uk-en.jsonl, ...) or the trilingual file",
            )
        documents.setdefault(str(record["doc_id"]), []).append(record)
    for count, (doc_id, lines) in enumerate(documents.items()):
        if limit is not None and count >= limit:
            return
        first = lines[0]
        testset = str(first.get("testset") or path.stem)
        label = f"{testset}/{first['src_lang']}-{first['tgt_lang']}/{doc_id}"
        published = WMT_DATES.get(testset, WMT_DATES["generaltest2022"])
        for lang, field_name in ((first["src_lang"], "src"), (first["tgt_lang"], "ref_A")):
            sentences = [str(r[field_name]).strip() for r in lines if str(r[field_name] or "").strip()]
            if not sentences:
                continue
            yield GoldDocument(
                id=f"{label}/{lang}",
                text=" ".join(sentences),
                title=sentences[0] if len(sentences) > 1 else None,
                published=published,
                source=f"{label}/{lang}",
                lang=str(lang),
                event=label,
                story=label,
            )


# ---------------------------------------------------------------- BSNLP


def bsnlp_documents(path: Path, limit: int | None = None) -> Iterator[GoldDocument]:
    """BSNLP documents with ``story`` = topic (no event label: a story-level benchmark)."""
    count = 0
    for number, record in _read_jsonl(path):
        if limit is not None and count >= limit:
            return
        _require(record, ("topic", "lang", "text"), f"{path}:{number}")
        url = record.get("url") or None
        doc_id = record.get("doc_id") or number
        yield GoldDocument(
            id=f"bsnlp-{record['topic']}-{record['lang']}-{doc_id}",
            text=record["text"],
            title=record.get("title") or None,
            published=record.get("date") or None,
            source=urlsplit(url).hostname if url else None,
            lang=record["lang"],
            url=url,
            event=None,
            story=str(record["topic"]),
        )
        count += 1


# ---------------------------------------------------------------- the contract's JSON Lines


def contract_documents(
    path: Path, label: str, level: str = "event", limit: int | None = None
) -> Iterator[GoldDocument]:
    """Records of the input contract plus a gold field ``label``, read as ``level`` labels.

    A record without the gold field is refused: an unlabelled item would silently count as a
    cluster of its own in the gold standard."""
    if level not in ("event", "story"):
        raise ValueError(f"level must be 'event' or 'story', got {level!r}")
    count = 0
    for number, record in _read_jsonl(path):
        if limit is not None and count >= limit:
            return
        where = f"{path}:{number}"
        _require(record, ("text", label), where)
        gold = record[label]
        if gold is None or isinstance(gold, dict | list):
            raise InputError(where, "bad_record", f'gold field "{label}" must be a string or number')
        values = {k: (str(record[k]) if record.get(k) is not None else None) for k in CONTRACT_FIELDS}
        values["id"] = values["id"] or f"{Path(path).stem}-{number}"
        yield GoldDocument(**values, **{level: str(gold)})
        count += 1


def detect_format(path: Path) -> str:
    """``wmt``, ``wmt-pairs``, ``bsnlp`` or ``contract``, from the file name, else from the first
    record."""
    name = Path(path).name.lower()
    if name.startswith("trilingual_wmt"):
        return "wmt"
    if name.startswith("bsnlp"):
        return "bsnlp"
    for _, record in _read_jsonl(path):
        if all(lang in record for lang in WMT_LANGUAGES) and "text" not in record:
            return "wmt"
        if {"src", "ref_A", "src_lang", "tgt_lang"} <= record.keys() and "text" not in record:
            return "wmt-pairs"
        if "topic" in record and "bsnlp_year" in record:
            return "bsnlp"
        break
    return "contract"


def natural_level(fmt: str) -> str:
    """The level a dataset's gold labels describe: BSNLP topics are stories, the rest events."""
    return "story" if fmt == "bsnlp" else "event"


def load_documents(
    path: Path, level: str | None = None, label: str | None = None, limit: int | None = None
) -> tuple[str, str, Iterator[GoldDocument]]:
    """(format, level, documents) for any supported file; ``label`` names a contract file's gold field
    (default: the level's name). ``limit`` counts source documents (WMT: translation triples)."""
    fmt = detect_format(path)
    level = level or natural_level(fmt)
    if fmt == "wmt":
        return fmt, level, wmt_documents(path, limit=limit)
    if fmt == "wmt-pairs":
        return fmt, level, wmt_pair_documents(path, limit=limit)
    if fmt == "bsnlp":
        if level == "event":
            raise InputError(
                str(path),
                "no_labels",
                "BSNLP has topic (story) labels only, no event labels",
                hint="use --level story",
            )
        return fmt, level, bsnlp_documents(path, limit=limit)
    return fmt, level, contract_documents(path, label or level, level=level, limit=limit)


def load_many(
    paths: Iterable[Path], level: str | None = None, label: str | None = None, limit: int | None = None
) -> tuple[str, str, Iterator[GoldDocument]]:
    """Several files as one corpus: (formats joined by "+", level, documents of each file in turn).
    ``limit`` applies per file. The files' natural levels must agree unless ``level`` is given, and
    a document id may not appear twice (labels of different files would silently merge)."""
    loaded = [load_documents(Path(p), level=level, label=label, limit=limit) for p in paths]
    if not loaded:
        raise ValueError("no dataset given")
    levels = {lvl for _, lvl, _ in loaded}
    if len(levels) > 1:
        raise InputError(
            ", ".join(str(p) for p in paths),
            "mixed_levels",
            f"these files describe different levels ({', '.join(sorted(levels))})",
            hint="choose one with --level",
        )
    formats = "+".join(dict.fromkeys(fmt for fmt, _, _ in loaded))
    return formats, levels.pop(), _unique_ids(doc for _, _, docs in loaded for doc in docs)


def _unique_ids(documents: Iterable[GoldDocument]) -> Iterator[GoldDocument]:
    seen: set[str] = set()
    for doc in documents:
        if doc.id in seen:
            raise InputError(doc.id, "bad_record", "this document id appears in two of the files given")
        seen.add(doc.id)
        yield doc


__all__ = [
    "GoldDocument",
    "LabelledPair",
    "bsnlp_documents",
    "contract_documents",
    "detect_format",
    "load_documents",
    "load_many",
    "natural_level",
    "paraphraser_pairs",
    "wmt_documents",
    "wmt_pair_documents",
]
