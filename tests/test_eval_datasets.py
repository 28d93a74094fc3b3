from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from storyline.errors import InputError
from storyline.evaluate.datasets import (
    DEFAULT_CHUNK_LINES,
    MAX_LINE_STEP,
    GoldDocument,
    bsnlp_documents,
    contract_documents,
    detect_format,
    load_documents,
    load_many,
    paraphraser_pairs,
    wmt_documents,
    wmt_pair_documents,
)


def raw_lines(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="module")
def wmt22(datasets) -> Path:
    return datasets / "wmt" / "trilingual_wmt22_en_ru_uk.jsonl"


@pytest.fixture(scope="module")
def wmt23(datasets) -> Path:
    return datasets / "wmt" / "trilingual_wmt23_en_ru_uk.jsonl"


def test_paraphraser_pairs_match_the_file(datasets):
    path = datasets / "paraphraser" / "paraphrases_train.jsonl"
    raw = raw_lines(path)
    pairs = list(paraphraser_pairs(path))
    assert len(pairs) == len(raw) > 7000
    assert Counter(p.cls for p in pairs) == Counter(int(r["class"]) for r in raw)
    assert sum(p.label for p in pairs) == sum(1 for r in raw if r["class"] in ("0", "1"))
    first = pairs[0]
    assert (first.id, first.text_1, first.text_2) == (raw[0]["id"], raw[0]["text_1"], raw[0]["text_2"])
    assert {p.cls: p.graded for p in pairs} == {-1: 0.0, 0: 0.5, 1: 1.0}
    assert {p.cls: p.label for p in pairs} == {-1: False, 0: True, 1: True}
    assert len(list(paraphraser_pairs(path, limit=10))) == 10


def test_paraphraser_refuses_a_bad_class(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"text_1": "a", "text_2": "b", "class": "2"}) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="class must be -1, 0 or 1"):
        list(paraphraser_pairs(path))


def _check_wmt_triples(docs: list[GoldDocument], raw: list[dict]) -> dict[str, list[GoldDocument]]:
    by_event: dict[str, list[GoldDocument]] = defaultdict(list)
    for doc in docs:
        by_event[doc.event].append(doc)
        assert doc.story == doc.event and doc.id == f"{doc.event}-{doc.lang}"
    assert all(sorted(d.lang for d in group) == ["en", "ru", "uk"] for group in by_event.values())
    # One date for every document; one outlet per (document, language).
    assert len({d.published for d in docs}) == 1
    assert len({d.source for d in docs}) == len(docs)
    # Grouping keeps every sentence, in file order, in each language.
    for lang in ("en", "ru", "uk"):
        text = " ".join(d.text for d in docs if d.lang == lang)
        assert text == " ".join(r[lang].strip() for r in raw)
    return by_event


def test_wmt22_documents_follow_both_line_numberings(wmt22):
    raw = raw_lines(wmt22)
    docs = list(wmt_documents(wmt22))
    by_event = _check_wmt_triples(docs, raw)
    assert 100 < len(by_event) < len(raw)
    # Rebuild the boundaries from the raw line numbers: a document starts where either
    # numbering does not advance by 1..MAX_LINE_STEP.
    starts = [0] + [
        i
        for i in range(1, len(raw))
        if not all(1 <= raw[i][k] - raw[i - 1][k] <= MAX_LINE_STEP for k in ("line_en_ru", "line_en_uk"))
    ]
    assert len(by_event) == len(starts)
    en_docs = [d for d in docs if d.lang == "en"]
    assert [d.text for d in en_docs[:3]] == [
        " ".join(r["en"].strip() for r in raw[a:b]) for a, b in zip(starts, starts[1:4], strict=False)
    ]
    # A title is the document's first sentence; a one-sentence document has none (its body would
    # otherwise be dropped as a repeated title).
    for doc in en_docs:
        assert doc.title is None or doc.text.startswith(doc.title)
    assert any(d.title is None for d in en_docs) and any(d.title for d in en_docs)


def test_wmt23_documents_are_fixed_chunks(wmt23):
    raw = raw_lines(wmt23)
    assert all(r.get("doc_id") is None for r in raw)  # why chunks: see the loader's docstring
    docs = list(wmt_documents(wmt23))
    by_event = _check_wmt_triples(docs, raw)
    assert len(by_event) == -(-len(raw) // DEFAULT_CHUNK_LINES)
    assert len({d.event for d in wmt_documents(wmt23, chunk_lines=20)}) == -(-len(raw) // 20)
    assert len(list(wmt_documents(wmt23, limit=5))) == 15
    with pytest.raises(ValueError, match="chunk_lines"):
        list(wmt_documents(wmt23, chunk_lines=0))


def test_wmt_groups_by_doc_id_when_present(tmp_path):
    path = tmp_path / "trilingual_test.jsonl"
    rows = [("d1", "One."), ("d1", "Two."), ("d2", "Three."), ("d1", "Four.")]
    path.write_text(
        "".join(json.dumps({"doc_id": d, "en": s, "ru": s, "uk": s}) + "\n" for d, s in rows),
        encoding="utf-8",
    )
    docs = [d for d in wmt_documents(path) if d.lang == "en"]
    # Consecutive runs: d1 comes back later as its own run, but keeps its label.
    assert [(d.event, d.text) for d in docs] == [("d1", "One. Two."), ("d2", "Three."), ("d1", "Four.")]


@pytest.mark.parametrize(
    "name", ["wmt22_ru-en.jsonl", "wmt22_uk-en.jsonl", "wmt23_ru-en.jsonl", "wmt23_uk-en.jsonl"]
)
def test_wmt_pair_documents_follow_doc_ids(datasets, name):
    path = datasets / "wmt" / name
    raw = raw_lines(path)
    src_lang, tgt_lang = raw[0]["src_lang"], raw[0]["tgt_lang"]
    docs = list(wmt_pair_documents(path))
    assert detect_format(path) == "wmt-pairs"
    assert {d.lang for d in docs} == {src_lang, tgt_lang}
    by_event: dict[str, list[GoldDocument]] = defaultdict(list)
    for doc in docs:
        by_event[doc.event].append(doc)
    assert len(by_event) == len({r["doc_id"] for r in raw})
    assert all(sorted(d.lang for d in pair) == sorted([src_lang, tgt_lang]) for pair in by_event.values())
    # Every sentence lands in its document, in file order, in both languages.
    expected: dict[str, list[str]] = defaultdict(list)
    for r in raw:
        expected[r["doc_id"]].append(r["src"].strip())
    for doc in docs:
        if doc.lang == src_lang:
            assert doc.text == " ".join(expected[doc.event.rsplit("/", 1)[1]])
    assert len({d.source for d in docs}) == len(docs)  # no same-outlet guard effect
    assert len(list(wmt_pair_documents(path, limit=3))) == 6


def test_wmt_pair_files_without_doc_ids_are_refused(datasets):
    path = datasets / "wmt" / "wmt22_en-ru.jsonl"
    with pytest.raises(InputError, match="no doc_id") as caught:
        list(load_documents(path)[2])
    assert caught.value.reason == "no_labels" and caught.value.hint


def test_several_files_make_one_corpus(datasets, tmp_path):
    ru_en, uk_en = datasets / "wmt" / "wmt23_ru-en.jsonl", datasets / "wmt" / "wmt23_uk-en.jsonl"
    fmt, level, docs = load_many([ru_en, uk_en], limit=2)
    docs = list(docs)
    assert (fmt, level) == ("wmt-pairs", "event")
    assert [d.lang for d in docs] == ["ru", "en", "ru", "en", "uk", "en", "uk", "en"]
    with pytest.raises(InputError, match="two of the files"):
        list(load_many([ru_en, ru_en], limit=1)[2])
    with pytest.raises(InputError, match="different levels") as caught:
        load_many([ru_en, datasets / "bsnlp" / "bsnlp_dev_uk_ru.jsonl"])
    assert caught.value.hint == "choose one with --level"


def test_bsnlp_documents(datasets):
    path = datasets / "bsnlp" / "bsnlp_dev_uk_ru.jsonl"
    raw = raw_lines(path)
    docs = list(bsnlp_documents(path))
    assert len(docs) == len(raw) and len({d.id for d in docs}) == len(docs)
    assert Counter(d.story for d in docs) == Counter(r["topic"] for r in raw)
    assert {d.lang for d in docs} == {"uk", "ru"}
    assert all(d.event is None for d in docs)  # BSNLP is a story-level benchmark
    assert sum(d.published is None for d in docs) == sum(not r.get("date") for r in raw)
    assert docs[0].source and "/" not in docs[0].source  # the outlet's host name
    with pytest.raises(InputError, match="story"):
        load_documents(path, level="event")
    fmt, level, loaded = load_documents(path, limit=4)
    assert (fmt, level, len(list(loaded))) == ("bsnlp", "story", 4)


def test_contract_documents_and_format_detection(tmp_path, datasets):
    path = tmp_path / "mine.jsonl"
    records = [
        {"id": "a", "text": "Body A", "title": "A", "lang": "uk", "cluster": "x"},
        {"text": "Body B", "cluster": 7},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    assert detect_format(path) == "contract"
    assert detect_format(datasets / "wmt" / "trilingual_wmt22_en_ru_uk.jsonl") == "wmt"
    renamed = tmp_path / "copy.jsonl"
    renamed.write_text(
        (datasets / "bsnlp" / "bsnlp_dev_uk_ru.jsonl").open(encoding="utf-8").readline(), encoding="utf-8"
    )
    assert detect_format(renamed) == "bsnlp"  # by content

    docs = list(contract_documents(path, "cluster", level="story"))
    assert [(d.id, d.story, d.event, d.lang) for d in docs] == [
        ("a", "x", None, "uk"),
        ("mine-2", "7", None, None),
    ]
    fmt, level, loaded = load_documents(path, label="cluster")
    assert (fmt, level) == ("contract", "event") and [d.event for d in loaded] == ["x", "7"]
    with pytest.raises(InputError, match="missing field"):
        list(contract_documents(path, "event"))
