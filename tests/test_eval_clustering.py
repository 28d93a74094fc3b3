from __future__ import annotations

import time
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storyline.evaluate.clustering import bcubed, language_buckets, pairwise, score_clustering

# Bagga & Baldwin (1998), figure 3: gold {1-5} {6,7} {8-12}.
BB_GOLD = {i: "A" if i <= 5 else "B" if i <= 7 else "C" for i in range(1, 13)}
BB_RESPONSE_1 = {i: "x" if i <= 5 else "y" for i in range(1, 13)}  # merges B and C
BB_RESPONSE_2 = {i: "y" if i in (6, 7) else "x" for i in range(1, 13)}  # merges A and C


def test_bcubed_textbook_example():
    one = bcubed(BB_GOLD, BB_RESPONSE_1)
    assert one.precision == pytest.approx(16 / 21)  # (5 + 2*2/7 + 5*5/7) / 12
    assert one.recall == 1.0
    two = bcubed(BB_GOLD, BB_RESPONSE_2)
    assert two.precision == pytest.approx(7 / 12)  # (5*5/10 * 2 + 2) / 12
    assert two.recall == 1.0
    assert two.f1 == pytest.approx(2 * 7 / 12 / (1 + 7 / 12))
    assert one.support_precision == one.support_recall == 12


def test_pairwise_textbook_example():
    score = pairwise(BB_GOLD, BB_RESPONSE_1)
    assert (score.support_precision, score.support_recall) == (10 + 21, 10 + 1 + 10)
    assert score.precision == pytest.approx(21 / 31)
    assert score.recall == 1.0


def test_perfect_and_all_singletons():
    assert bcubed(BB_GOLD, BB_GOLD).f1 == 1.0
    assert pairwise(BB_GOLD, BB_GOLD).f1 == 1.0
    alone = bcubed(BB_GOLD, {})
    assert alone.precision == 1.0
    assert alone.recall == pytest.approx((5 * (1 / 5) + 2 * (1 / 2) + 5 * (1 / 5)) / 12)
    # No predicted pairs: pairwise precision is undefined, recall 0, so F1 is 0.
    none = pairwise(BB_GOLD, {i: None for i in BB_GOLD})
    assert none.precision is None and none.recall == 0.0 and none.f1 == 0.0


def test_missing_and_none_predictions_are_singletons_and_extra_items_ignored():
    gold = {"a": 1, "b": 1, "c": 2}
    # "b" is missing, "c" is None: they must not join each other nor "a".
    predicted = {"a": "k", "c": None, "zzz": "k"}
    score = bcubed(gold, predicted)
    assert score.precision == 1.0
    assert score.recall == pytest.approx((1 / 2 + 1 / 2 + 1) / 3)
    # A predicted label equal to another item's id must not merge them with that singleton.
    assert bcubed({"a": 1, "b": 2}, {"a": "b"}).precision == 1.0


# Five items in three languages, scored by hand in the test below.
LANG_GOLD = {"a_uk": "A", "a_ru": "A", "a_en": "A", "b_uk": "B", "b_ru": "B"}
LANG_PRED = {"a_uk": "X", "a_ru": "X", "b_uk": "X", "a_en": "Y"}  # b_ru missing: a singleton
LANGS = {item: item.split("_")[1] for item in LANG_GOLD}


def test_language_pair_breakdown_hand_computed():
    scores = score_clustering(LANG_GOLD, LANG_PRED, LANGS)
    assert list(scores) == ["all", "same", "cross", "uk-ru", "uk-en", "ru-en"]

    overall = scores["all"]
    assert overall.bcubed.precision == pytest.approx(11 / 15)
    assert overall.bcubed.recall == pytest.approx(8 / 15)
    assert (overall.pairwise.precision, overall.pairwise.recall) == (pytest.approx(1 / 3), 0.25)

    # uk-ru: a_uk P1 R1; b_uk P0 R0; a_ru P1/2 R1; b_ru (alone) no P, R0.
    uk_ru = scores["uk-ru"]
    assert uk_ru.items == 4
    assert (uk_ru.bcubed.support_precision, uk_ru.bcubed.support_recall) == (3, 4)
    assert uk_ru.bcubed.precision == pytest.approx(0.5)
    assert uk_ru.bcubed.recall == pytest.approx(0.5)
    assert uk_ru.pairwise.precision == 0.5 and uk_ru.pairwise.recall == 0.5

    # uk-en: nothing was predicted across uk and en: precision undefined, recall 0.
    uk_en = scores["uk-en"]
    assert uk_en.bcubed.precision is None and uk_en.bcubed.recall == 0.0
    assert uk_en.bcubed.support_recall == 2 and uk_en.bcubed.f1 == 0.0
    assert uk_en.pairwise.precision is None and uk_en.pairwise.support_recall == 1

    # same-language: the only same-language predicted pair (a_uk, b_uk) is wrong; no gold pairs.
    same = scores["same"]
    assert same.bcubed.precision == 0.0 and same.bcubed.recall is None
    assert (same.pairwise.support_precision, same.pairwise.support_recall) == (1, 0)

    cross = scores["cross"]
    assert (cross.pairwise.support_precision, cross.pairwise.support_recall) == (2, 4)
    assert cross.pairwise.precision == 0.5 and cross.pairwise.recall == 0.25


def test_without_languages_only_overall():
    assert list(score_clustering(LANG_GOLD, LANG_PRED)) == ["all"]
    assert language_buckets({"x": "bg", "y": "uk", "z": None}, {"x": 1, "y": 1, "z": 2}) == [
        "all",
        "same",
        "cross",
        "uk-?",
        "uk-bg",
        "?-bg",
    ]


def test_bad_inputs_are_refused_with_the_value():
    with pytest.raises(ValueError, match="'b'"):
        bcubed({"a": 1, "b": None}, {})
    with pytest.raises(ValueError, match="zh-hans"):
        score_clustering({"a": 1}, {}, {"a": "zh-hans"})


def _brute_force(gold, pred, langs, bucket):
    """The module docstring's definitions, pair by pair."""
    items = list(gold)
    pred = {i: pred.get(i) if pred.get(i) is not None else ("alone", i) for i in items}

    def comparable(i, j):
        if i == j:
            return bucket == "all"
        a, b = langs[i], langs[j]
        if bucket == "all":
            return True
        if bucket == "same":
            return a == b
        if bucket == "cross":
            return a != b
        x, y = bucket.split("-")
        return {a, b} == {x, y} and a != b

    ps, rs = [], []
    for i in items:
        s = [j for j in items if comparable(i, j)]
        c = [j for j in s if pred[j] == pred[i]]
        g = [j for j in s if gold[j] == gold[i]]
        both = [j for j in c if gold[j] == gold[i]]
        if c:
            ps.append(len(both) / len(c))
        if g:
            rs.append(len(both) / len(g))
    pairs = [(i, j) for i, j in combinations(items, 2) if comparable(i, j)]
    tp = sum(1 for i, j in pairs if pred[i] == pred[j] and gold[i] == gold[j])
    pp = sum(1 for i, j in pairs if pred[i] == pred[j])
    gp = sum(1 for i, j in pairs if gold[i] == gold[j])
    mean = lambda xs: sum(xs) / len(xs) if xs else None  # noqa: E731
    return mean(ps), mean(rs), (tp / pp if pp else None), (tp / gp if gp else None)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3),
            st.one_of(st.none(), st.integers(0, 3)),
            st.sampled_from(["uk", "ru", "en"]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_matches_pair_by_pair_definition(rows):
    gold = {n: g for n, (g, _, _) in enumerate(rows)}
    pred = {n: p for n, (_, p, _) in enumerate(rows) if p is not None}
    langs = {n: lang for n, (_, _, lang) in enumerate(rows)}
    for bucket, got in score_clustering(gold, pred, langs).items():
        p, r, pp, pr = _brute_force(gold, pred, langs, bucket)
        assert got.bcubed.precision == pytest.approx(p), bucket
        assert got.bcubed.recall == pytest.approx(r), bucket
        assert got.pairwise.precision == pytest.approx(pp), bucket
        assert got.pairwise.recall == pytest.approx(pr), bucket


def test_ten_thousand_items_is_fast():
    n = 10_000
    gold = {i: i // 3 for i in range(n)}
    pred = {i: i // 4 for i in range(n)}
    langs = {i: ("uk", "ru", "en")[i % 3] for i in range(n)}
    started = time.perf_counter()
    scores = score_clustering(gold, pred, langs)
    assert time.perf_counter() - started < 2.0
    assert scores["all"].pairwise.support_recall == 3333 * 3  # 3333 gold triples and one item alone


# ---------------------------------------------------------------- runners (evaluate_clusters, pairs)

from storyline.evaluate.datasets import GoldDocument, LabelledPair  # noqa: E402
from storyline.evaluate.runs import average_precision, evaluate_clusters, evaluate_pairs, roc_auc  # noqa: E402
from storyline.settings import Settings  # noqa: E402

# Records written for these tests: two events, each reported in uk and ru (and one in en).
BODY = {
    "uk": "Міська рада ухвалила рішення про ремонт мосту через річку. Роботи почнуться навесні.",
    "ru": "Городской совет принял решение о ремонте моста через реку. Работы начнутся весной.",
    "en": "The city council decided to repair the bridge over the river. Work starts in spring.",
}
STRIKE = {
    "uk": "Портові працівники оголосили страйк через затримку зарплати на три місяці.",
    "ru": "Портовые рабочие объявили забастовку из-за задержки зарплаты на три месяца.",
}


def _docs():
    docs = [
        GoldDocument(
            f"bridge-{lang}",
            text,
            title=text.split(".")[0],
            lang=lang,
            source=f"src-{lang}",
            published="2024-03-01T10:00:00+00:00",
            event="bridge",
            story="city",
        )
        for lang, text in BODY.items()
    ]
    docs += [
        GoldDocument(f"strike-{lang}", text, lang=lang, source=f"port-{lang}", event="strike", story="port")
        for lang, text in STRIKE.items()
    ]
    return docs


class _PredictingStore:
    """The real store, with event ids set on the way out: checks the runner's plumbing whatever
    the clustering does today."""

    def __init__(self, store, events):
        self._store, self._events = store, events

    def __getattr__(self, name):
        return getattr(self._store, name)

    def __enter__(self):
        self._store.__enter__()
        return self

    def __exit__(self, *exc):
        return self._store.__exit__(*exc)

    def iter_articles(self, *args, **kwargs):
        for article in self._store.iter_articles(*args, **kwargs):
            article.event_id = self._events.get(article.id)
            yield article


def test_evaluate_clusters_runs_the_pipeline_and_reads_ids_back(monkeypatch):
    import storyline.store as store_module

    real_open = store_module.open_store
    events = {"bridge-uk": "e1", "bridge-ru": "e1", "strike-uk": "e1", "strike-ru": "e2"}  # bridge-en: none
    seen = []

    def fake_open(url):
        seen.append(url)
        return _PredictingStore(real_open(url), events)

    monkeypatch.setattr(store_module, "open_store", fake_open)
    report = evaluate_clusters(_docs(), level="event", dataset="tiny")
    assert seen == ["sqlite://"]  # never the user's store
    assert (report.documents, report.gold_clusters, report.articles) == (5, 2, 5)
    assert report.unassigned == 1 and report.predicted_clusters == 3 and not report.rejected
    # Hand-computed: e1 = {bridge-uk, bridge-ru, strike-uk}, e2 = {strike-ru}, {bridge-en}.
    overall = report.scores["all"].bcubed
    assert overall.precision == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1 + 1) / 5)
    assert overall.recall == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1 / 2 + 1 / 2) / 5)
    assert report.scores["uk-ru"].pairwise.precision == 0.5
    assert report.scores["uk-en"].pairwise.recall == 0.0
    table = report.table()
    assert "tiny: event level; 5 documents, 2 gold clusters, 3 predicted" in table
    assert "uk-ru" in table and "ru-en" in table
    assert report.to_dict()["scores"]["all"]["bcubed"]["precision"] == pytest.approx(overall.precision)


def test_evaluate_clusters_counts_rejections_as_singletons():
    report = evaluate_clusters(_docs(), level="story", settings=Settings(min_chars=80), dataset="tiny")
    # The strike texts are under 80 characters: rejected, yet still scored, each alone.
    assert report.rejected == {"too_short": 2}
    assert report.documents == 5 and report.articles == 3
    assert report.scores["all"].bcubed.support_precision == 5
    assert report.scores["all"].bcubed.recall < 1.0  # the two port articles cannot meet


def test_evaluate_clusters_refuses_unlabelled_or_repeated_documents():
    docs = _docs()
    with pytest.raises(ValueError, match="no gold event label"):
        evaluate_clusters([GoldDocument("x", "text", story="s")], level="event")
    with pytest.raises(ValueError, match="appears twice"):
        evaluate_clusters(docs + docs[:1])
    with pytest.raises(ValueError, match="'topic'"):
        evaluate_clusters(docs, level="topic")


def _jaccard_scorer(pairs):
    def tokens(text):
        return {t.lower().strip(".,") for t in text.split()}

    return [len(tokens(a) & tokens(b)) / len(tokens(a) | tokens(b)) for a, b in pairs]


PAIRS = [
    LabelledPair("1", "a b c d", "a b c d", 1),  # jaccard 1
    LabelledPair("2", "a b c d", "a b c e", 0),  # 3/5 = 0.6
    LabelledPair("3", "a b c d", "a b x y", -1),  # 2/6
    LabelledPair("4", "a b", "c d", -1),  # 0
    LabelledPair("5", "a b c", "a x y", 0),  # 1/5 = 0.2
]


def test_evaluate_pairs_sweep_best_and_ranking_metrics():
    report = evaluate_pairs(PAIRS, _jaccard_scorer, thresholds=[0.1, 0.5, 0.9], dataset="tiny")
    assert report.pairs == 5 and report.positives == 3
    at = {s.threshold: s for s in report.sweep}
    # 0.1: predicted {1,2,3,5}: tp 3, fp 1.  0.5: {1,2}: tp 2.  0.9: {1}: tp 1.
    assert (at[0.1].precision, at[0.1].recall) == (0.75, 1.0)
    assert (at[0.5].precision, at[0.5].recall) == (1.0, pytest.approx(2 / 3))
    assert at[0.9].predicted_positive == 1
    assert report.best.threshold == 0.1 and report.best.f1 == pytest.approx(6 / 7)
    # Positives score 1, 0.6, 0.2; negatives 1/3, 0: 5 of the 6 (pos, neg) pairs are ordered right.
    assert report.roc_auc == pytest.approx(5 / 6)
    # Ranked 1(+) 0.6(+) 1/3(-) 0.2(+) 0(-): AP = (1 + 1 + 3/4) / 3.
    assert report.average_precision == pytest.approx((1 + 1 + 3 / 4) / 3)
    assert "best threshold 0.100" in report.table()
    assert report.to_dict()["best"]["threshold"] == 0.1


def test_ranking_metrics_handle_ties_and_one_class():
    assert roc_auc([0.5, 0.5], [True, False]) == 0.5
    assert roc_auc([0.1, 0.9], [True, True]) is None
    assert average_precision([0.5, 0.5, 0.1], [True, False, True]) == pytest.approx(0.5 * 0.5 + 0.5 * 2 / 3)
    assert average_precision([0.3], [False]) is None


def test_evaluate_pairs_checks_the_scorer():
    with pytest.raises(ValueError, match="returned 1 scores for 5 pairs"):
        evaluate_pairs(PAIRS, lambda pairs: [0.5])
    with pytest.raises(ValueError, match="NaN"):
        evaluate_pairs(PAIRS, lambda pairs: [float("nan")] * len(pairs))
    with pytest.raises(ValueError, match="thresholds"):
        evaluate_pairs(PAIRS, _jaccard_scorer, thresholds=[])


# ---------------------------------------------------------------- CLI: eval clusters, eval pairs

import json  # noqa: E402

from click.testing import CliRunner  # noqa: E402

from storyline.cli import main  # noqa: E402


def test_cli_eval_clusters_on_a_contract_file(tmp_path):
    path = tmp_path / "gold.jsonl"
    records = [
        {"id": d.id, "text": d.text, "title": d.title, "lang": d.lang, "source": d.source, "topic": d.story}
        for d in _docs()
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        main, ["eval", "clusters", str(path), "--label", "topic", "--level", "story", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "gold.jsonl (contract): story level; 5 documents, 2 gold clusters" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["level"] == "story" and set(report["scores"]) >= {"all", "uk-ru", "uk-en", "ru-en"}

    missing = CliRunner().invoke(main, ["eval", "clusters", str(path)])  # gold field "event" absent
    assert missing.exit_code == 1 and "Error:" in missing.output and "event" in missing.output


def test_cli_eval_clusters_takes_several_files_as_one_corpus(tmp_path):
    records = [
        {"id": d.id, "text": d.text, "title": d.title, "lang": d.lang, "source": d.source, "topic": d.story}
        for d in _docs()
    ]
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path, part in ((first, records[:2]), (second, records[2:])):
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in part), encoding="utf-8")
    args = ["eval", "clusters", str(first), str(second), "--label", "topic", "--level", "story"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "a.jsonl + b.jsonl (contract): story level; 5 documents, 2 gold clusters" in result.output

    twice = CliRunner().invoke(main, [*args[:2], str(first), str(first), *args[4:]])
    assert twice.exit_code == 1 and "appears in two of the files" in twice.output


def test_cli_eval_pairs_runs_the_similarity_model(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": p.id, "text_1": p.text_1, "text_2": p.text_2, "class": str(p.cls)}) + "\n"
            for p in PAIRS
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["eval", "pairs", str(path), "--thresholds", "0.1,0.5,0.9"])
    assert result.exit_code == 0, result.output
    assert f"{len(PAIRS)} pairs" in result.output and "best threshold" in result.output
