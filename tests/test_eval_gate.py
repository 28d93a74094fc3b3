from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from storyline.cli import main
from storyline.errors import ConfigError
from storyline.evaluate.datasets import GoldDocument
from storyline.evaluate.gate import _every_nth, load_baseline, run_gate, sha256_file

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / "eval" / "baseline.json"


def write_baseline(path: Path, checks: list[dict], tolerance: float = 0.01) -> Path:
    path.write_text(json.dumps({"tolerance": tolerance, "checks": checks}), encoding="utf-8")
    return path


SMALL_CHECKS = [
    {"name": "extract-3", "kind": "extract", "path": "extraction", "limit": 3},
    {"name": "wmt22-4", "kind": "clusters", "path": "wmt/trilingual_wmt22_en_ru_uk.jsonl", "limit": 4},
]


@pytest.mark.slow  # the full gate: up to two minutes with the analysis stage
def test_repository_baseline_passes_on_current_code(datasets):
    baseline = load_baseline(BASELINE)
    assert all(check.get("floors") and check.get("data") for check in baseline["checks"])
    result = CliRunner().invoke(
        main, ["eval", "gate", "--baseline", str(BASELINE), "--datasets", str(datasets)]
    )
    assert result.exit_code == 0, result.output
    assert "gate passed" in result.output
    for check in baseline["checks"]:
        assert check["name"] in result.output


def test_update_pins_floors_and_hashes_then_a_higher_floor_fails(tmp_path, datasets):
    path = write_baseline(tmp_path / "baseline.json", [dict(c) for c in SMALL_CHECKS])
    updated = run_gate(path, datasets=datasets, update=True)
    pinned = json.loads(path.read_text(encoding="utf-8"))
    extract, wmt = pinned["checks"]
    assert set(extract["floors"]) == {"storyline.precision", "storyline.recall", "storyline.f1"}
    assert "all.bcubed.f1" in wmt["floors"] and "uk-ru.bcubed.f1" in wmt["floors"]
    assert len(extract["data"]) == 4  # ground truth + 3 pages
    truth = datasets / "extraction" / "ground-truth.json"
    assert extract["data"]["extraction/ground-truth.json"] == sha256_file(truth)
    values = {(r.check, r.metric): r.value for r in updated.results}
    f1 = values[("extract-3", "storyline.f1")]
    assert extract["floors"]["storyline.f1"] == pytest.approx(f1 - 0.01, abs=0.001)
    assert extract["floors"]["storyline.f1"] <= f1 - 0.01 + 1e-9

    again = run_gate(path, datasets=datasets)
    assert again.passed, again.failures()

    extract["floors"]["storyline.f1"] = round(f1 + 0.001, 4)
    pinned["checks"] = [extract]  # the pipeline run is not needed to see a floor fail
    path.write_text(json.dumps(pinned), encoding="utf-8")
    failed = run_gate(path, datasets=datasets)
    assert not failed.passed
    assert [line for line in failed.failures() if "storyline.f1" in line] == failed.failures()

    result = CliRunner().invoke(main, ["eval", "gate", "--baseline", str(path), "--datasets", str(datasets)])
    assert result.exit_code == 1
    assert "extract-3: storyline.f1 =" in result.output and "below its floor" in result.output


def test_changed_data_fails_with_a_clear_message(tmp_path, datasets):
    path = write_baseline(tmp_path / "baseline.json", [dict(SMALL_CHECKS[0])])
    run_gate(path, datasets=datasets, update=True)
    pinned = json.loads(path.read_text(encoding="utf-8"))
    pinned["checks"][0]["data"]["extraction/ground-truth.json"] = "0" * 64
    path.write_text(json.dumps(pinned), encoding="utf-8")
    report = run_gate(path, datasets=datasets)
    assert not report.passed
    assert any("extraction/ground-truth.json changed" in line for line in report.failures())

    del pinned["checks"][0]["data"]
    path.write_text(json.dumps(pinned), encoding="utf-8")
    assert any("no dataset hashes pinned" in line for line in run_gate(path, datasets=datasets).failures())


@pytest.mark.parametrize(
    "checks, message",
    [
        ([], 'no "checks"'),
        ([{"name": "x", "kind": "magic", "path": "p"}], "unknown kind 'magic'"),
        ([{"name": "x", "kind": "langid"}], 'needs "name", "kind" and "path"'),
        (
            [{"name": "x", "kind": "langid", "path": "a"}, {"name": "x", "kind": "langid", "path": "b"}],
            "two checks",
        ),
    ],
)
def test_bad_baselines_are_refused(tmp_path, checks, message):
    with pytest.raises(ConfigError, match=message):
        load_baseline(write_baseline(tmp_path / "b.json", checks))


def test_unknown_metric_is_refused(tmp_path, datasets):
    check = dict(SMALL_CHECKS[0], floors={"storyline.magic": 0.5})
    path = write_baseline(tmp_path / "b.json", [check])
    run_gate(path, datasets=datasets, update=True)  # pins hashes; unknown floor names are dropped
    pinned = json.loads(path.read_text(encoding="utf-8"))
    assert pinned["checks"][0]["floors"] == {}
    pinned["checks"][0]["floors"] = {"storyline.magic": 0.5}
    path.write_text(json.dumps(pinned), encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown metric 'storyline.magic'"):
        run_gate(path, datasets=datasets)


def test_sampling_keeps_translation_triples_together():
    docs = [GoldDocument(f"{n}-{lang}", "t", event=str(n)) for n in range(6) for lang in ("en", "ru", "uk")]
    kept = list(_every_nth(iter(docs), stride=2, limit=2))
    assert [d.id for d in kept] == ["0-en", "0-ru", "0-uk", "2-en", "2-ru", "2-uk"]
    stories = [GoldDocument(str(n), "t", story="same") for n in range(7)]
    assert [d.id for d in _every_nth(iter(stories), stride=3, limit=None)] == ["0", "3", "6"]


def test_moved_langid_and_extract_commands_still_work(tmp_path, datasets):
    (tmp_path / "sentences").mkdir()
    (tmp_path / "sentences" / "en.txt").write_text("It is warm and sunny in town today.\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["eval", "langid", str(tmp_path), "--languages", "uk,ru,en"])
    assert result.exit_code == 0, result.output
    assert "overall accuracy: 1.000 (1/1)" in result.output

    out = tmp_path / "extract.json"
    result = CliRunner().invoke(
        main, ["eval", "extract", str(datasets / "extraction"), "--limit", "2", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "storyline" in result.output and "trafilatura" in result.output
    assert json.loads(out.read_text(encoding="utf-8"))["systems"]["storyline"]["pages"] == 2
