"""The benchmark corpus generator (benchmarks/corpus.py): deterministic, every format, boilerplate
around real text, near duplicates, reuse beyond the pool, and never inside the repository."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _load_corpus_module():
    spec = importlib.util.spec_from_file_location("bench_corpus", REPO / "benchmarks" / "corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


corpus = _load_corpus_module()


@pytest.fixture(scope="module")
def pools(datasets):
    return corpus.load_pools(datasets)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != "manifest.json"}


def _truth(out: Path) -> list[dict]:
    return list(corpus.read_truth(out))


def _page(out: Path, row: dict) -> str:
    ext = {"txt": "txt", "html": "html"}[row["format"]]
    return next((out / "pages" / ext).rglob(f"{row['id']}.{ext}")).read_text(encoding="utf-8")


def test_pools_hold_all_three_languages(pools):
    langs = {t.lang for t in pools}
    assert langs == {"uk", "ru", "en"}
    assert all(len(t.paragraphs) >= 2 and "\n" not in "".join(t.paragraphs) for t in pools)


def test_same_seed_same_corpus_other_seed_other_corpus(tmp_path, pools):
    a = corpus.generate(40, tmp_path / "a", seed=7, pools=pools)
    b = corpus.generate(40, tmp_path / "b", seed=7, pools=pools)
    c = corpus.generate(40, tmp_path / "c", seed=8, pools=pools)
    assert _files(a.out) == _files(b.out)
    assert _files(a.out) != _files(c.out)


def test_every_format_is_written_and_matches_the_truth(tmp_path, pools):
    info = corpus.generate(80, tmp_path / "c", seed=3, pools=pools)
    truth = _truth(info.out)
    assert len(truth) == 80 == len({row["id"] for row in truth})
    by_format = {f: [r for r in truth if r["format"] == f] for f in corpus.FORMATS}
    assert all(by_format.values()), {f: len(v) for f, v in by_format.items()}
    assert len(by_format["txt"]) > len(by_format["html"])  # text pages are the majority
    assert len(list((info.pages / "txt").rglob("*.txt"))) == len(by_format["txt"])
    assert len(list((info.pages / "html").rglob("*.html"))) == len(by_format["html"])
    records = [json.loads(line) for f in sorted((info.pages / "records").glob("*.jsonl"))
               for line in f.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == [r["id"] for r in by_format["jsonl"]]
    for record, row in zip(records, by_format["jsonl"], strict=True):
        assert record["title"] == row["title"] and record["source"] == row["source"]
        assert record["published"] == row["published"]
    for row in truth:
        assert row["lang"] in {"uk", "ru", "en"}
        assert row["body_paragraph_count"] == len(row["body_hashes"]) >= 2


def test_only_the_formats_asked_for(tmp_path, pools):
    info = corpus.generate(15, tmp_path / "c", seed=1, formats="txt", pools=pools)
    assert {row["format"] for row in _truth(info.out)} == {"txt"}
    assert not (info.pages / "html").exists() and not (info.pages / "records").exists()
    with pytest.raises(ValueError, match="pdf"):
        corpus.generate(5, tmp_path / "d", formats="txt,pdf", pools=pools)


def test_text_pages_wrap_the_body_in_boilerplate(tmp_path, pools):
    info = corpus.generate(60, tmp_path / "c", seed=5, formats="txt", pools=pools)
    markers = {phrase for p in corpus.PHRASES.values()
               for key in ("more", "related", "accept", "yesterday")
               for phrase in ([p[key]] if isinstance(p[key], str) else p[key])}
    markers |= {ad for p in corpus.PHRASES.values() for ad in p["ad"] + p["latest"]}
    styles = set()
    for row in _truth(info.out):
        page = _page(info.out, row)
        lines = [corpus.fold(x) for x in page.splitlines() if x.strip()]
        body = set(row["body_hashes"])
        page_hashes = {corpus.paragraph_hash(x) for x in lines}
        assert body <= page_hashes, row["id"]  # every body paragraph is on the page, whole
        extra = [x for x in lines if corpus.paragraph_hash(x) not in body]
        assert len(extra) >= 5, row["id"]  # title, dates, lists, ads...
        assert row["title"] in lines
        assert any(x in markers or x.split(":")[0] in markers for x in extra), row["id"]
        assert any(re.search(r"\d{1,2}:\d{2}", x) for x in extra)  # dated lines: header or lists
        styles.add(row["style"])
    assert styles == set(corpus.STYLES)


def test_html_pages_carry_metadata_and_page_chrome(tmp_path, pools):
    info = corpus.generate(40, tmp_path / "c", seed=2, formats="html", pools=pools)
    for row in _truth(info.out):
        page = _page(info.out, row)
        for tag in ("og:title", "og:site_name", "article:published_time", "<nav>", "<aside>",
                    "<footer>", "<article>"):
            assert tag in page
        assert f'content="{row["published"]}"' in page
        assert page.count("<p>") >= row["body_paragraph_count"]


def test_near_duplicates_change_a_few_words_and_the_outlet(tmp_path, pools):
    info = corpus.generate(80, tmp_path / "c", seed=4, dup_rate=0.3, pools=pools)
    truth = _truth(info.out)
    by_id = {row["id"]: (i, row) for i, row in enumerate(truth)}
    dups = [row for row in truth if row["duplicate_of"]]
    assert len(dups) >= 10
    for i, row in enumerate(truth):
        if not row["duplicate_of"]:
            continue
        j, original = by_id[row["duplicate_of"]]
        assert j < i and original["duplicate_of"] is None
        assert row["source"] != original["source"] and row["lang"] == original["lang"]
        assert row["body_hashes"] != original["body_hashes"]
        same = len(set(row["body_hashes"]) & set(original["body_hashes"]))
        assert same >= len(original["body_hashes"]) - 5  # at most 5 words changed


def test_texts_come_round_again_with_fresh_ids_when_the_pool_is_small(tmp_path, pools):
    small = pools[:4]
    info = corpus.generate(20, tmp_path / "c", seed=1, dup_rate=0.0, pools=small)
    truth = _truth(info.out)
    assert len({row["id"] for row in truth}) == 20
    copies = [row for row in truth if row["copy_of"]]
    assert len(copies) == 16
    first = {row["id"]: row for row in truth if not row["copy_of"]}
    assert all(first[row["copy_of"]]["pool"] == row["pool"] for row in copies)
    # the same text, but not the same page: another outlet or date somewhere along the way
    assert len({(row["pool"], row["source"], row["published"]) for row in truth}) > 4


def test_a_stream_rate_keeps_the_density_whatever_n(tmp_path, pools):
    from datetime import date, datetime

    info = corpus.generate(60, tmp_path / "c", seed=3, dup_rate=0.2, pools=pools[:10], stream_rate=7)
    truth = [row for row in _truth(info.out) if row["published"]]  # the feed layout prints no date
    days = [datetime.fromisoformat(row["published"]).date() for row in truth]
    originals = [d for d, row in zip(days, truth, strict=True) if not row["duplicate_of"]]
    assert len(truth) > 40
    assert min(days) == date(2021, 1, 1) and (max(days) - min(days)).days <= 8  # 60 articles, 7 a day
    assert originals == sorted(originals)  # in stream order; duplicates a few hours after theirs
    assert max(Counter(originals).values()) <= 7
    assert json.loads((info.out / "manifest.json").read_text())["stream_rate"] == 7
    with pytest.raises(ValueError, match="stream_rate"):
        corpus.generate(5, tmp_path / "d", stream_rate=0, pools=pools)


@pytest.mark.parametrize("n, dup_rate", [(0, 0.05), (5, 1.0), (5, -0.1)])
def test_bad_arguments_are_refused(tmp_path, pools, n, dup_rate):
    with pytest.raises(ValueError):
        corpus.generate(n, tmp_path / "c", dup_rate=dup_rate, pools=pools)


def test_never_writes_into_the_repository(pools):
    with pytest.raises(ValueError, match="repository"):
        corpus.generate(3, REPO / "src" / "corpus", pools=pools)
    assert not (REPO / "src" / "corpus").exists()


def test_refuses_a_folder_of_other_files(tmp_path, pools):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ValueError, match="other files"):
        corpus.generate(3, tmp_path, pools=pools)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_a_stream_is_read_in_its_order(tmp_path, pools):
    from storyline.ingest.readers import read_inputs

    info = corpus.generate(1200, tmp_path / "c", seed=4, pools=pools[:10], stream_rate=500)
    assert json.loads((info.out / "manifest.json").read_text())["layout"] == "stream"
    order = [int(doc.id.split("_")[0]) for doc in read_inputs([str(info.pages)])]
    assert sorted(order) == list(range(1200))
    # All formats in one folder per stretch of the stream: read in order to within a stretch.
    stretches = [i // corpus.STREAM_PER_DIR for i in order]
    assert stretches == sorted(stretches)
    assert len(set(stretches)) == 5 and any(p.suffix == ".jsonl" for p in info.pages.rglob("*"))
