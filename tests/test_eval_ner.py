from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from storyline.cli import main
from storyline.errors import InputError
from storyline.evaluate.ner import (
    NerDocument,
    NerReport,
    Span,
    evaluate_documents,
    evaluate_ner,
    load_documents,
    match_spans,
    rebuild_text,
)


def test_rebuild_text_detokenises_and_keeps_every_character_in_place():
    text = 'ПАТ « Укртрансгаз » уклало угоду , кажуть .\nДругий " рядок " ( тут ) …\n\n\nНовий абзац !'
    rebuilt = rebuild_text(text)
    assert rebuilt.paragraphs == (
        'ПАТ «Укртрансгаз» уклало угоду, кажуть. Другий "рядок" (тут)…',
        "Новий абзац!",
    )
    assert rebuilt.text[rebuilt.starts[1] :] == "Новий абзац!"
    for j, ch in enumerate(text):
        if ch.isspace():
            assert rebuilt.positions[j] == -1
        else:
            assert rebuilt.text[rebuilt.positions[j]] == ch
    org = rebuilt.move(Span(0, text.index("»") + 1, "ORG"))
    assert rebuilt.text[org.start : org.end] == "ПАТ «Укртрансгаз»"
    assert rebuilt.move(Span(3, 4, "ORG")) is None  # only a space


def test_scoring_arithmetic_exact_and_overlap():
    gold = [
        Span(0, 10, "PERS"),
        Span(20, 35, "ORG"),
        Span(40, 45, "LOC"),
        Span(50, 60, "DATE"),  # not a name: not scored
        Span(70, 80, "ART"),  # scored as MISC
    ]
    predicted = [
        Span(0, 10, "PER"),  # exact
        Span(24, 35, "ORG"),  # overlap only
        Span(40, 45, "PER"),  # right span, wrong type
        Span(52, 56, "PER"),  # on the DATE only: ignored
        Span(90, 95, "MISC"),  # nothing there
    ]
    report = NerReport()
    report.add(gold, predicted)

    def counts(mode, row):
        c = report.counts[mode][row]
        return c.tp, c.fp, c.fn

    assert counts("exact", "PER") == (1, 1, 0)
    assert counts("exact", "ORG") == (0, 1, 1)
    assert counts("exact", "LOC") == (0, 0, 1)
    assert counts("exact", "MISC") == (0, 1, 1)
    assert counts("exact", "all") == (1, 3, 3)
    assert counts("exact", "mentions") == (2, 2, 2)
    assert counts("overlap", "PER") == (1, 1, 0)
    assert counts("overlap", "ORG") == (1, 0, 0)
    assert counts("overlap", "all") == (2, 2, 2)
    assert counts("overlap", "mentions") == (3, 1, 1)
    assert report.row("exact", "all")["precision"] == pytest.approx(0.25)
    assert report.row("overlap", "mentions")["f1"] == pytest.approx(0.75)
    assert report.row("exact", "PER")["f1"] == pytest.approx(2 / 3)
    assert report.ignored == {"PER": 1}
    assert report.confusion == {("PER", "PER"): 1, ("LOC", "PER"): 1}
    assert report.gold_types == {
        "PERS": [1, 1, 1],
        "ORG": [1, 0, 1],
        "LOC": [1, 1, 1],
        "DATE": [1, 0, 1],
        "ART": [1, 0, 0],
    }
    data = report.to_dict()
    assert data["overlap"]["mentions"]["tp"] == 3 and data["ignored_mentions"] == {"PER": 1}
    assert "mentions" in report.table()


def test_overlap_matching_is_one_to_one_largest_overlap_first():
    gold = [Span(0, 5, "PER"), Span(6, 20, "PER")]
    predicted = [Span(3, 18, "PER")]  # shares 2 chars with the first, 12 with the second
    assert match_spans(gold, predicted, "overlap") == [(1, 0)]
    assert match_spans(gold, [Span(0, 5, "PER"), Span(0, 5, "PER")], "exact") == [(0, 0)]
    with pytest.raises(ValueError, match="mode"):
        match_spans(gold, predicted, "fuzzy")


def test_gold_and_mentions_meet_in_the_rebuilt_paragraphs():
    text = "Петро Іваненко приїхав до Києва .\n\nУ « Укрзалізниці » кажуть ."
    surfaces = {"Петро Іваненко": "PERS", "Києва": "LOC", "Укрзалізниці": "ORG"}
    gold = tuple(Span(text.index(s), text.index(s) + len(s), t) for s, t in surfaces.items())
    seen = []

    def extract(paragraphs):
        # Mentions as extract_mentions gives them: paragraph index, offsets inside that paragraph.
        seen.extend(p.text for p in paragraphs)
        kinds = {"PERS": "PER", "LOC": "LOC", "ORG": "ORG"}
        return [
            SimpleNamespace(paragraph=i, start=p.text.index(s), end=p.text.index(s) + len(s), type=kinds[t])
            for i, p in enumerate(paragraphs)
            for s, t in surfaces.items()
            if s in p.text
        ]

    report = evaluate_documents([NerDocument("d1", text, gold)], extract)
    assert seen == ["Петро Іваненко приїхав до Києва.", "У «Укрзалізниці» кажуть."]
    assert report.row("exact", "all")["f1"] == 1.0
    assert report.counts["exact"]["all"].tp == 3


def test_bad_record_names_its_line(tmp_path):
    path = tmp_path / "ner.jsonl"
    path.write_text('{"doc_id": "a", "text": "x", "entities": []}\n{"doc_id": "b"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"ner.jsonl:2"):
        load_documents(path)
    assert len(load_documents(path, limit=1)) == 1


@pytest.fixture(scope="module")
def ner_file(datasets):
    return datasets / "ner_uk" / "ner_uk_dev.jsonl"


def test_first_fifty_real_documents_stay_above_floors(ner_file):
    # Measured on the first 50 documents: mentions exact F1 0.774, overlap F1 0.880;
    # PER exact F1 0.750; typed (all) overlap F1 0.589; LOC overlap R 0.213.
    report = evaluate_ner(ner_file, limit=50)
    assert report.documents == 50
    assert report.dropped == 0
    assert report.row("exact", "mentions")["f1"] >= 0.74
    assert report.row("overlap", "mentions")["f1"] >= 0.85
    assert report.row("exact", "PER")["f1"] >= 0.72
    assert report.row("overlap", "all")["f1"] >= 0.56
    assert report.row("overlap", "LOC")["recall"] >= 0.19


def test_cli_prints_table_and_writes_json(ner_file, tmp_path):
    out = tmp_path / "ner.json"
    result = CliRunner().invoke(main, ["eval", "ner", str(ner_file), "--limit", "3", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "mentions" in result.output and "ovl F1" in result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["documents"] == 3
    assert set(data["exact"]) == {"PER", "ORG", "LOC", "MISC", "all", "mentions"}
