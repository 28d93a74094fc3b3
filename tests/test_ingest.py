"""Readers: files, directories, stdin, JSON Lines, encodings, ids and rejections."""

from __future__ import annotations

import gzip
import io
import json
from datetime import UTC, datetime

import pytest

from storyline.errors import InputError
from storyline.ingest.encoding import decode
from storyline.ingest.readers import read_inputs
from storyline.model import RawDocument, Rejection

UK = "Уряд України ухвалив рішення про відбудову мостів у Харківській області. " * 3
RU = "Правительство объявило о новых мерах поддержки экспортёров зерна в этом году. " * 3
CRAWLED = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


UNICODE = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"]


# koi8-r has no Ukrainian і, so Ukrainian is tried in koi8-u only.
@pytest.mark.parametrize("encoding,text", [(e, t) for e in UNICODE + ["cp1251", "koi8-u"]
                                           for t in (UK, RU)] + [("koi8-r", RU)])
def test_decode_round_trips_common_encodings(encoding, text):
    decoded, _ = decode(text.encode(encoding), "x.txt")
    assert decoded == text


def test_decode_names_the_encoding():
    assert decode(RU.encode("cp1251"), "x")[1] == "cp1251"
    assert decode(RU.encode("koi8-r"), "x")[1].startswith("koi8")
    assert decode(RU.encode("utf-8"), "x")[1] == "utf-8"


@pytest.mark.parametrize("data", [bytes(range(256)) * 4, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 50])
def test_binary_is_undecodable(data):
    with pytest.raises(InputError) as info:
        decode(data, "photo.txt")
    assert info.value.reason == "undecodable"
    assert "photo.txt" in str(info.value)


def write(path, text, encoding="utf-8"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def test_directory_is_walked_recursively_and_ids_are_stems(tmp_path):
    write(tmp_path / "a" / "one.txt", UK)
    write(tmp_path / "a" / "b" / "two.html", f"<html><body><p>{RU}</p></body></html>")
    write(tmp_path / "notes.md", "# not news")
    items = list(read_inputs([str(tmp_path)], crawled_at=CRAWLED))
    assert [(i.id, i.format) for i in items] == [("one", "text"), ("two", "html")]
    assert all(i.crawled_at == CRAWLED for i in items)


def test_named_unsupported_file_is_rejected_with_a_hint(tmp_path):
    item, = read_inputs([str(write(tmp_path / "notes.md", "# hi"))])
    assert isinstance(item, Rejection) and item.reason == "unsupported"
    assert "notes.md" in item.origin


def test_missing_and_empty_files_are_rejected_and_batch_goes_on(tmp_path):
    good = write(tmp_path / "good.txt", UK)
    empty = write(tmp_path / "empty.txt", "  \n\n ")
    items = list(read_inputs([str(tmp_path / "nope.txt"), str(empty), str(good)]))
    assert [getattr(i, "reason", "ok") for i in items] == ["not_found", "empty", "ok"]


def test_file_time_is_the_default_crawl_time(tmp_path):
    path = write(tmp_path / "a.txt", UK)
    item, = read_inputs([str(path)])
    assert item.crawled_at.tzinfo is not None
    assert abs(item.crawled_at.timestamp() - path.stat().st_mtime) < 1


def test_jsonl_records_and_their_errors(tmp_path):
    lines = [
        json.dumps({"id": "r1", "text": UK, "title": "Мости", "lang": "uk"}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": "r2", "text": 42}),
        json.dumps({"title": "no body"}),
        json.dumps(["a", "list"]),
        "",
        json.dumps({"text": RU, "published": "2025-03-01T10:00:00+02:00"}, ensure_ascii=False),
        json.dumps({"id": 7, "html": f"<p>{RU}</p>"}, ensure_ascii=False),
    ]
    path = write(tmp_path / "feed.jsonl", "\n".join(lines))
    items = list(read_inputs([str(path)]))
    docs = [i for i in items if isinstance(i, RawDocument)]
    bad = {i.origin: i for i in items if isinstance(i, Rejection)}
    assert [d.id for d in docs][0] == "r1" and docs[-1].id == "7" and docs[-1].format == "html"
    assert len(docs[1].id) == 16  # content hash when the record has no id
    assert docs[0].fields["title"] == "Мости" and "text" not in docs[0].fields
    assert set(bad) == {f"{path}:2", f"{path}:3", f"{path}:4", f"{path}:5"}
    assert "not valid JSON" in bad[f"{path}:2"].detail
    assert 'field "text" must be a string' in bad[f"{path}:3"].detail
    assert "needs a non-empty" in bad[f"{path}:4"].detail
    assert "expected a JSON object" in bad[f"{path}:5"].detail
    # nothing a user gave is lost: the bad line itself travels with its rejection
    assert bad[f"{path}:2"].raw.content == "{not json"


def test_gzip_inputs(tmp_path):
    path = tmp_path / "page.txt.gz"
    path.write_bytes(gzip.compress(UK.encode()))
    item, = read_inputs([str(path)])
    assert item.id == "page" and item.content == UK
    broken = tmp_path / "broken.txt.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00garbage")
    item, = read_inputs([str(broken)])
    assert isinstance(item, Rejection) and item.reason == "undecodable"


@pytest.mark.parametrize("payload,kind", [
    (UK, "text"),
    (f"<html><body><p>{UK}</p></body></html>", "html"),
])
def test_stdin_is_sniffed(payload, kind):
    item, = read_inputs(["-"], stdin=io.BytesIO(payload.encode()))
    assert item.format == kind and item.origin == "<stdin>" and len(item.id) == 16


def test_stdin_json_lines():
    data = "\n".join(json.dumps({"id": f"s{i}", "text": UK}) for i in range(3)).encode()
    items = list(read_inputs(["-"], stdin=io.BytesIO(data)))
    assert [i.id for i in items] == ["s0", "s1", "s2"]
    assert items[1].origin == "<stdin>:2"
