from __future__ import annotations

import json
from pathlib import Path

import pytest

from storyline.errors import ConfigError, InputError
from storyline.evaluate.langid import evaluate_langid, langid_files
from storyline.evaluate.metrics import format_table, prf
from storyline.nlp.language import LanguageIdentifier

CORE = ("uk", "ru", "en", "be", "bg")


def write(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    return path


@pytest.fixture
def small_set(tmp_path: Path) -> Path:
    # Samples written for this test; sentences-long, so lingua gets them right.
    write(tmp_path / "sentences" / "uk.txt", ["Сьогодні в місті тепло і сонячно.", "ъгъл"])
    write(tmp_path / "sentences" / "ru.txt", ["Сегодня в городе тепло и солнечно."])
    write(tmp_path / "sentences" / "en.txt", ["It is warm and sunny in town today."])
    write(tmp_path / "words" / "en.txt", ["weather", "sunny", "12345"])
    (tmp_path / "LICENSE.txt").write_text("not a test file\n", encoding="utf-8")
    return tmp_path


def test_langid_files_finds_language_files_only(small_set):
    files = langid_files(small_set)
    assert [f"{p.parent.name}/{p.name}" for p in files] == [
        "sentences/en.txt",
        "sentences/ru.txt",
        "sentences/uk.txt",
        "words/en.txt",
    ]


def test_report_counts_accuracy_and_confusion(small_set):
    report = evaluate_langid([small_set], languages=CORE)
    assert report.categories == ["sentences", "words"]
    assert report.counts("sentences", "uk") == (1, 2)  # "ъгъл" is Bulgarian, not Ukrainian
    assert report.confusion("sentences")["uk"] == {"uk": 1, "bg": 1}
    assert report.accuracy("sentences", "ru") == 1.0
    # A line without letters gets no language and counts as an error.
    assert report.confusion("words")["en"] == {"en": 2, "none": 1}
    assert report.counts() == (5, 7)
    assert report.accuracy() == pytest.approx(5 / 7)
    assert report.share("sentences", "uk", {"bg"}) == pytest.approx(0.5)


def test_table_and_dict(small_set):
    report = evaluate_langid([small_set / "sentences", small_set / "words" / "en.txt"], "uk,ru,en")
    table = report.table()
    assert "sentences" in table and "words" in table and "languages: uk,ru,en" in table
    assert "overall accuracy" in table
    data = json.loads(json.dumps(report.to_dict()))
    assert data["languages"] == ["uk", "ru", "en"]
    assert data["categories"]["words"]["languages"]["en"]["predicted"] == {"en": 2, "none": 1}
    assert data["n"] == 7


@pytest.mark.parametrize(("name", "reason"), [("missing.txt", "not_found"), ("empty_dir", "not_found")])
def test_bad_paths_are_input_errors(tmp_path, name, reason):
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(InputError) as info:
        evaluate_langid([tmp_path / name])
    assert info.value.reason == reason


def test_file_not_named_for_a_language_is_an_input_error(tmp_path):
    path = write(tmp_path / "english.txt", ["hello world"])
    with pytest.raises(InputError) as info:
        evaluate_langid([path])
    assert info.value.reason == "bad_name" and "english.txt" in str(info.value)


def test_unknown_language_in_the_set_is_a_config_error(small_set):
    with pytest.raises(ConfigError, match="qq"):
        evaluate_langid([small_set], languages=["uk", "qq"])


def test_metrics_helpers():
    assert prf(3, 1, 2) == pytest.approx((0.75, 0.6, 2 / 3))
    assert prf(0, 0, 0) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="fp"):
        prf(1, -1, 0)
    table = format_table(["lang", "n", "acc"], [["uk", 1000, 0.93], ["ru", 7, 1.0]])
    lines = table.splitlines()
    assert lines[2] == "uk    1000  0.930" and lines[3] == "ru       7  1.000"
    with pytest.raises(ValueError, match="row 0"):
        format_table(["a", "b"], [["x"]])


# Measured with the default language set (11 languages), see the module report:
#                 uk     ru     en     be     bg    be->uk/ru  bg->uk/ru
# word-pairs    0.985  0.969  0.998  0.991  0.957    0.006      0.042
# single-words  0.880  0.832  0.978  0.931  0.856    0.061      0.131
# plain lingua, word-pairs:   0.973 0.948 0.958 0.992 0.912; single words 0.848 0.770 0.813 0.916 0.705
FLOORS = {
    "word-pairs": {"uk": 0.965, "ru": 0.949, "en": 0.978, "be": 0.971, "bg": 0.937},
    "single-words": {"uk": 0.86, "ru": 0.812, "en": 0.958, "be": 0.911, "bg": 0.836},
}
CALLED_UK_OR_RU_CEILING = {
    "word-pairs": {"be": 0.02, "bg": 0.06},
    "single-words": {"be": 0.08, "bg": 0.15},
}


@pytest.fixture(scope="module")
def lingua_report(datasets):
    return evaluate_langid([datasets / "langid"])


@pytest.mark.parametrize("category", sorted(FLOORS))
def test_langid_accuracy_floors(lingua_report, category):
    for lang, floor in FLOORS[category].items():
        assert lingua_report.accuracy(category, lang) >= floor, (category, lang)


@pytest.mark.parametrize("category", sorted(CALLED_UK_OR_RU_CEILING))
def test_neighbours_are_rarely_called_uk_or_ru(lingua_report, category):
    for lang, ceiling in CALLED_UK_OR_RU_CEILING[category].items():
        assert lingua_report.share(category, lang, {"uk", "ru"}) <= ceiling, (category, lang)


def test_evidence_beats_plain_lingua_on_short_text(datasets, lingua_report):
    plain = evaluate_langid(
        [datasets / "langid" / "word-pairs"], identifier=LanguageIdentifier(evidence=False)
    )
    assert lingua_report.accuracy("word-pairs") > plain.accuracy("word-pairs") + 0.01
