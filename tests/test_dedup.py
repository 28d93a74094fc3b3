from __future__ import annotations

import json
import pickle
import random

import numpy as np
import pytest

from storyline.cluster.dedup import DuplicateIndex, normalise, shingles

# Texts written for these tests (a made-up event), not taken from any outlet.
BRIDGE_UK = """
Міська рада Житомира у четвер затвердила проєкт нового пішохідного мосту через річку Тетерів, який
має з'єднати центральний парк із житловим масивом Малікова. За рішення проголосували тридцять два
депутати, проти були четверо, ще троє утрималися. Будівництво планують розпочати навесні наступного
року, а завершити до кінця осені, якщо підрядник вкладеться у графік.
Вартість робіт оцінюють у сто сорок мільйонів гривень. Половину суми надасть державний фонд
регіонального розвитку, решту місто візьме з власного бюджету та кредиту європейського банку. Міський
голова заявив журналістам, що міст стане найдовшою пішохідною спорудою в області і дозволить мешканцям
дістатися до центру без автобуса за п'ятнадцять хвилин.
Проєкт розробило київське архітектурне бюро, яке перемогло у відкритому конкурсі минулого літа. Міст
матиме довжину триста двадцять метрів, дві оглядові площадки, велосипедну доріжку та нічне освітлення
на сонячних панелях. Конструкцію розраховано на паводки, які трапляються на Тетереві раз на сто років.
Частина депутатів критикувала рішення через високу ціну та сумніви щодо кредиту. Депутатка від
опозиції нагадала, що торік місто не змогло вчасно відремонтувати дві школи, і запропонувала спочатку
закінчити ті роботи. Її колеги відповіли, що гроші фонду можна витратити лише на транспортну
інфраструктуру і перенести їх на школи неможливо.
Екологи просять перевірити, як будівництво вплине на береги річки, де гніздяться птахи. Управління
екології пообіцяло провести окрему експертизу до початку робіт і оприлюднити її висновки на сайті ради.
Мешканці Малікова здебільшого підтримують задум: на громадських слуханнях у жовтні понад вісімсот
людей підписали звернення на підтримку мосту, а місцеві підприємці пообіцяли відкрити біля нього кав'ярні
та прокат велосипедів. Наступне засідання ради, на якому обговорять кошторис, призначене на середину
грудня.
Старий автомобільний міст неподалік уже кілька років потребує ремонту, і транспортники сподіваються, що
частина пішоходів і велосипедистів перейде на нову споруду. Тоді, кажуть вони, старий міст можна буде
закрити на ремонт без великих заторів. У міській раді не виключають, що наступним кроком стане проєкт
нової лінії тролейбуса до Малікова, який чекає фінансування вже четвертий рік поспіль.
"""

# The same event, told independently: shares names and numbers, not sentences.
BRIDGE_OTHER_UK = """
Житомир отримає пішохідний міст через Тетерів: депутати міськради підтримали проєкт у четвер. Споруда
довжиною понад триста метрів поєднає парк у центрі з Маліковим. Кошторис становить близько ста сорока
мільйонів гривень, частину грошей дасть державний фонд, частину позичать у європейського банку.
Опозиція вважає проєкт задорогим і пропонує спершу відремонтувати школи. Мер переконаний, що новий міст
скоротить дорогу до центру для тисяч людей. Роботи можуть початися навесні, якщо екологічна експертиза
не виявить загроз для птахів на березі. Кав'ярні та прокат велосипедів біля мосту обіцяють відкрити
місцеві підприємці. Кошторис депутати розглянуть у грудні.
"""

# A Russian rendering of the first paragraph of BRIDGE_UK.
BRIDGE_RU = """
Городской совет Житомира в четверг утвердил проект нового пешеходного моста через реку Тетерев, который
должен соединить центральный парк с жилым массивом Маликова. За решение проголосовали тридцать два
депутата, против были четверо, еще трое воздержались. Строительство планируют начать весной следующего
года, а завершить до конца осени, если подрядчик уложится в график.
"""

WORDS = BRIDGE_UK.split()


def _edit(words: list[str], count: int, seed: int) -> str:
    rng = random.Random(seed)
    edited = list(words)
    for position in rng.sample(range(len(edited)), count):
        edited[position] = f"заміна{position}"
    return " ".join(edited)


def test_the_test_text_is_long_enough_to_mean_something():
    assert len(WORDS) >= 300


def test_normalisation_ignores_case_punctuation_and_spacing():
    assert normalise("«Путін»,  заявив:\n— Ні!") == ["путін", "заявив", "ні"]
    assert normalise("Ещё") == normalise("еще")
    assert shingles("A b, c", 5) == {"a b c"}
    assert shingles("", 5) == set()
    assert len(shingles("one two three four five six", 5)) == 2


@pytest.mark.parametrize(
    "copy",
    [
        BRIDGE_UK,
        BRIDGE_UK.upper().replace(",", " ,").replace("\n", "  "),  # re-formatted copy
        "РЕКЛАМА\n" + BRIDGE_UK + "\nЧитайте також: інші новини",  # copy with a little boilerplate
        _edit(WORDS, 3, seed=1),  # a few words changed
        " ".join(WORDS[:-12]),  # the last sentence cut
    ],
    ids=["exact", "reformatted", "boilerplate", "three-words-changed", "tail-cut"],
)
def test_copies_and_small_edits_are_duplicates(copy):
    index = DuplicateIndex()
    assert index.add("original", BRIDGE_UK) is None
    assert index.add("copy", copy) == "original"
    assert index.find(copy)[0][0] == "original"


def test_a_different_article_on_the_same_event_is_not_a_duplicate():
    index = DuplicateIndex()
    index.add("original", BRIDGE_UK)
    assert index.add("other", BRIDGE_OTHER_UK) is None
    assert index.find(BRIDGE_OTHER_UK) == [("other", 1.0)]


def test_another_language_is_never_a_duplicate():
    index = DuplicateIndex(threshold=0.3)  # even with a very loose threshold
    index.add("uk", " ".join(WORDS[:60]))
    assert index.add("ru", BRIDGE_RU) is None


def test_heavy_edits_fall_below_the_threshold():
    index = DuplicateIndex()
    index.add("original", BRIDGE_UK)
    assert index.add("rewritten", _edit(WORDS, len(WORDS) // 4, seed=2)) is None


def test_short_texts():
    index = DuplicateIndex()
    assert index.add("a", "Путін заявив") is None
    assert index.add("b", "путін, заявив!") == "a"
    assert index.add("c", "Байден заявив") is None
    # Texts without words are never duplicates of each other (they would all look alike).
    assert index.add("empty-1", "") is None
    assert index.add("empty-2", " … ") is None
    assert index.find("") == []
    assert len(index) == 5


def test_earliest_original_wins_and_a_copy_of_a_copy_maps_to_the_original():
    index = DuplicateIndex()
    index.add("first", BRIDGE_UK)
    assert index.add("second", _edit(WORDS, 2, seed=3)) == "first"
    assert index.add("third", _edit(WORDS, 2, seed=3)) == "first"  # identical to the duplicate
    assert index.duplicate_of("third") == "first"
    found = index.find(BRIDGE_UK)
    assert [i for i, _ in found] == ["first"]  # duplicates are not indexed themselves
    assert found[0][1] == 1.0


def test_adding_the_same_id_again_changes_nothing():
    index = DuplicateIndex()
    index.add("a", BRIDGE_UK)
    index.add("b", BRIDGE_UK)
    assert index.add("a", BRIDGE_UK) is None
    assert index.add("b", BRIDGE_OTHER_UK) == "a"
    assert len(index) == 2


def test_removing_an_original_promotes_its_earliest_duplicate():
    index = DuplicateIndex()
    index.add("a", BRIDGE_UK)
    index.add("b", _edit(WORDS, 2, seed=4))
    index.add("c", _edit(WORDS, 2, seed=5))
    index.add("x", BRIDGE_OTHER_UK)
    assert index.remove("a") == {"b": None, "c": "b"}
    assert index.find(BRIDGE_UK)[0][0] == "b"
    assert index.add("d", BRIDGE_UK) == "b"
    assert index.remove("c") == {}
    assert "c" not in index and len(index) == 3
    with pytest.raises(KeyError):
        index.remove("c")


def test_signature_round_trips_through_bytes_and_state():
    index = DuplicateIndex(num_perm=64)
    signature = index.signature(BRIDGE_UK)
    assert signature.shape == (64,)
    assert np.array_equal(index.signature_from_bytes(signature.tobytes()), signature)
    index.add("a", signature=signature.tobytes())
    index.add("b", _edit(WORDS, 1, seed=6))
    index.add("c", BRIDGE_OTHER_UK)
    state = pickle.loads(pickle.dumps(index.to_state()))
    rebuilt = DuplicateIndex.from_state(state)
    assert list(rebuilt.entries()) == list(index.entries())
    assert rebuilt.add("d", BRIDGE_UK) == "a"
    # The stored links are kept as they were, not recomputed.
    entries = [("p", index.signature("x y z w v u"), None), ("q", index.signature(BRIDGE_RU), "p")]
    assert DuplicateIndex.from_entries(entries, num_perm=64).duplicate_of("q") == "p"


def test_signatures_are_stable_across_instances():
    assert np.array_equal(DuplicateIndex().signature(BRIDGE_UK), DuplicateIndex().signature(BRIDGE_UK))


def test_state_from_other_parameters_is_refused():
    state = DuplicateIndex(shingle_size=3).to_state()
    state["shingle_size"] = 4
    with pytest.raises(ValueError, match="stored signatures are"):
        DuplicateIndex.from_state(state)


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [
        ({"threshold": 0}, "got 0"),
        ({"threshold": 1.5}, "got 1.5"),
        ({"threshold": "0.8"}, "got '0.8'"),
        ({"num_perm": 8}, "got 8"),
        ({"shingle_size": 0}, "got 0"),
        ({"shingle_size": True}, "got True"),
    ],
)
def test_constructor_names_the_bad_value(kwargs, bad):
    with pytest.raises(ValueError, match=bad):
        DuplicateIndex(**kwargs)


def test_bad_calls():
    index = DuplicateIndex()
    with pytest.raises(ValueError, match="exactly one"):
        index.add("a")
    with pytest.raises(ValueError, match="exactly one"):
        index.add("a", "text", signature=index.signature("text"))
    with pytest.raises(ValueError, match=r"shape \(128,\)"):
        index.add("a", signature=np.zeros(64, dtype=np.uint32))
    with pytest.raises(ValueError, match="non-empty str"):
        index.add("", "text")
    with pytest.raises(ValueError, match="comes later or is missing"):
        DuplicateIndex.from_entries([("a", index.signature("text"), "ghost")])


def test_real_press_texts_are_not_duplicates_of_each_other_but_their_copies_are(datasets):
    rows = [json.loads(line) for line in (datasets / "bruk" / "bruk_press.jsonl").open(encoding="utf-8")]
    texts = [row["text"] for row in rows][:150]
    index = DuplicateIndex()
    found = [index.add(f"p{i}", text) for i, text in enumerate(texts)]
    assert sum(f is not None for f in found) <= 2  # distinct press fragments
    for i, text in enumerate(texts[:40]):
        words = text.split()
        expected = found[i] or f"p{i}"
        assert index.add(f"copy{i}", " ".join(words[: max(len(words) - 3, 1)])) == expected


def test_retire_before_forgets_old_originals_and_equals_a_rebuilt_index():
    from datetime import UTC, datetime, timedelta

    base = datetime(2024, 1, 1, tzinfo=UTC)
    words = "the quick brown fox jumps over the lazy dog near the old river bank today".split()
    texts = {f"a{i}": " ".join(words[i:] + words[:i]) + f" story number {i}" for i in range(6)}
    index = DuplicateIndex(threshold=0.5)
    for day, (article_id, text) in enumerate(texts.items()):
        index.add(article_id, text, time=base + timedelta(days=30 * day))
    index.add("undated", "a text with no date that nothing else resembles at all ever")
    copy_of_old = texts["a0"] + " again"
    assert index.find(copy_of_old)[0][0] == "a0"

    retired = index.retire_before(base + timedelta(days=61))
    assert retired == ["a0", "a1", "a2"]
    assert "a0" not in index and "undated" in index and "a3" in index
    assert all(hit != "a0" for hit, _ in index.find(copy_of_old))
    rebuilt = DuplicateIndex(threshold=0.5)
    for article_id, signature, _ in index.entries():
        rebuilt.add(article_id, signature=signature)
    assert list(rebuilt.entries()) == list(index.entries())
    assert index.oldest() == base + timedelta(days=90)
    assert index.retire_before(base) == []
