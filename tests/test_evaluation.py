"""Tests of torchw2v.evaluation against gensim's own evaluation methods."""
import dataclasses
import logging
import math
import re

import numpy as np
import pytest
from gensim.models import KeyedVectors, Word2Vec
from gensim.models.word2vec import LineSentence
from gensim.test.utils import datapath

from torchw2v.evaluation import (
    ANALOGIES_PATH,
    Evaluation,
    analogies,
    case_insensitive_index,
    evaluate,
    find_words,
    nearest_neighbours,
    word_pairs,
)


@pytest.fixture(scope="module")
def wv():
    """Vectors of a small gensim model trained on the bundled Lee corpus (mixed case)."""
    corpus = LineSentence(datapath("lee_background.cor"))
    return Word2Vec(corpus, vector_size=32, min_count=2, epochs=3, seed=1, workers=1).wv


@pytest.fixture(scope="module")
def capitals_wv():
    """Vectors where each capital is its country plus a shared offset plus noise.

    The capital-common-countries analogies are then partly solvable (real accuracies, not 0), and
    case variants test the case-insensitive rules: "Athens" comes before (is more frequent than)
    "athens", and "GREECE" after "greece".
    """
    with open(ANALOGIES_PATH, encoding="utf8") as fin:
        lines = fin.read().split(": capital-world")[0].splitlines()[1:]
    pairs = sorted({(line.split()[2].lower(), line.split()[3].lower()) for line in lines})  # (capital, country)
    rng = np.random.default_rng(0)
    dim = 16
    offset = rng.standard_normal(dim)
    keys, vectors = ["Athens"], [rng.standard_normal(dim)]
    for capital, country in pairs:
        country_vector = rng.standard_normal(dim)
        keys += [country, capital]
        vectors += [country_vector, country_vector + offset + 0.9 * rng.standard_normal(dim)]
    keys += ["GREECE"] + [f"filler{i}" for i in range(100)]
    vectors += [vectors[keys.index("greece")] + 0.01] + list(rng.standard_normal((100, dim)))
    result = KeyedVectors(vector_size=dim)
    result.add_vectors(keys, np.array(vectors, dtype=np.float32))
    return result


@pytest.fixture
def tiny_wv():
    """Vectors of two words that appear in neither benchmark."""
    wv = KeyedVectors(vector_size=4)
    wv.add_vectors(["spamx", "eggsx"], np.ones((2, 4), dtype=np.float32))
    return wv


def _gensim_answer(candidates, question):
    """The first of gensim's candidates that is no case variant of a question word."""
    ignored = {word.upper() for word in question[:3]}
    return next(word for word, _ in candidates if word.upper() not in ignored)


def _question_keys(wv, question, restrict_vocab=None):
    """The vocabulary keys gensim uses for a question's words (first case variants)."""
    index = case_insensitive_index(wv, restrict_vocab)
    return [wv.index_to_key[index[word.upper()]] for word in question]


def test_evaluate_wordsim353_matches_gensim(wv):
    pearson, spearman, oov_percent = wv.evaluate_word_pairs(datapath("wordsim353.tsv"))
    result = evaluate(wv)
    assert result.wordsim_spearman == pytest.approx(spearman[0])
    assert result.wordsim_pearson == pytest.approx(pearson[0])
    assert result.wordsim_oov_ratio == pytest.approx(oov_percent / 100)
    assert 0 < result.wordsim_oov_ratio < 1


def test_word_pairs_matches_gensim(wv):
    pearson, spearman, oov_percent = wv.evaluate_word_pairs(datapath("wordsim353.tsv"))
    result = word_pairs(wv)
    assert result.spearman == spearman[0]
    assert result.pearson == pytest.approx(pearson[0], rel=1e-6)
    assert result.pairs_total == 353
    assert result.pairs == round(353 * (1 - oov_percent / 100))
    assert result.oov_ratio == pytest.approx(oov_percent / 100)
    assert len(result.word1) == len(result.word2) == len(result.human) == len(result.cosine) == result.pairs
    first = result.word1[0], result.word2[0]
    keys = case_insensitive_index(wv)
    assert result.cosine[0] == pytest.approx(wv.similarity(*(wv.index_to_key[keys[w.upper()]] for w in first)))


def test_word_pairs_reads_an_extra_file_with_tabs_or_spaces(wv, tmp_path):
    pairs = [("money", "bank", 8.5), ("Police", "officer", 7.0), ("fire", "water", 2.0),
             ("government", "minister", 6.9), ("day", "night", 3.1), ("zzunknown", "bank", 4.0)]
    tabbed = tmp_path / "pairs.tsv"
    tabbed.write_text("# my pairs\n" + "".join(f"{a}\t{b}\t{s}\n" for a, b, s in pairs), encoding="utf8")
    spaced = tmp_path / "pairs.txt"
    spaced.write_text("# my pairs\n\n" + "".join(f"{a}  {b} {s}\n" for a, b, s in pairs) + "not a pair\n",
                      encoding="utf8")
    pearson, spearman, oov_percent = wv.evaluate_word_pairs(str(tabbed))

    for path in (tabbed, spaced):
        result = word_pairs(wv, path)
        assert (result.pairs, result.pairs_total) == (5, 6)
        assert result.spearman == spearman[0]
        assert result.coverage == pytest.approx(1 - oov_percent / 100)
        assert result.word1 == ("money", "Police", "fire", "government", "day")
        np.testing.assert_array_equal(result.human, [8.5, 7.0, 2.0, 6.9, 3.1])


def test_word_pairs_matches_case_insensitively_on_the_first_variant(tmp_path):
    wv = KeyedVectors(vector_size=2)
    wv.add_vectors(["Tiger", "cat", "tiger", "dog"],
                   np.array([[1, 0], [1, 1], [0, 1], [0.2, 1]], dtype=np.float32))
    path = tmp_path / "pairs.txt"
    path.write_text("TIGER cat 7.35\ncat dog 6\ndog tiger 5\n", encoding="utf8")
    result = word_pairs(wv, path)
    assert result.pairs == 3
    np.testing.assert_allclose(result.cosine, [wv.similarity("Tiger", "cat"), wv.similarity("cat", "dog"),
                                               wv.similarity("dog", "Tiger")], rtol=1e-6)


def test_word_pairs_rejects_a_file_without_pairs(wv, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("# only a comment\nword1 word2\nthree words here\n", encoding="utf8")
    with pytest.raises(ValueError, match=re.escape(str(path))):
        word_pairs(wv, path)


def test_evaluate_analogy_accuracy_matches_gensim(wv):
    score, sections = wv.evaluate_word_analogies(datapath("questions-words.txt"), restrict_vocab=1000)
    total = sections[-1]
    result = evaluate(wv, restrict_vocab=1000)
    assert result.analogy_questions == len(total["correct"]) + len(total["incorrect"]) > 0
    assert result.analogy_accuracy == pytest.approx(score)


@pytest.mark.parametrize("restrict_vocab", [30, 60, None])
def test_analogies_3cosadd_matches_gensim_exactly(capitals_wv, restrict_vocab):
    wv = capitals_wv
    score, sections = wv.evaluate_word_analogies(ANALOGIES_PATH, restrict_vocab=restrict_vocab or len(wv))
    result = analogies(wv, restrict_vocab=restrict_vocab, methods=("3cosadd",))
    total = sections.pop()
    assert result.questions == len(total["correct"]) + len(total["incorrect"]) > 0
    assert result.accuracy["3cosadd"] == score
    assert 0 < score < 1  # a real test: some questions answered, some not
    assert list(result.section_questions) == [section["section"] for section in sections]
    for section in sections:
        evaluated = len(section["correct"]) + len(section["incorrect"])
        assert result.section_questions[section["section"]] == evaluated
        if evaluated:
            assert result.section_accuracy["3cosadd"][section["section"]] == len(section["correct"]) / evaluated
        else:
            assert math.isnan(result.section_accuracy["3cosadd"][section["section"]])
    correct = {tuple(w.upper() for w in question)
               for question, answer in zip(result.evaluated, result.predictions["3cosadd"])
               if answer.upper() == question[3].upper()}
    assert correct == set(total["correct"])


def test_analogies_3cosadd_answers_as_gensim_most_similar(wv):
    result = analogies(wv, restrict_vocab=None, methods=("3cosadd",))
    score, sections = wv.evaluate_word_analogies(ANALOGIES_PATH, restrict_vocab=len(wv))
    assert result.questions == len(sections[-1]["correct"]) + len(sections[-1]["incorrect"]) > 100
    assert result.accuracy["3cosadd"] == score
    for question, answer in zip(result.evaluated[::5], result.predictions["3cosadd"][::5]):
        a, b, c, _ = _question_keys(wv, question)
        candidates = wv.most_similar(positive=[b, c], negative=[a], topn=10)
        assert answer == _gensim_answer(candidates, question)


@pytest.mark.filterwarnings("ignore:Call to deprecated `init_sims`:DeprecationWarning")  # gensim's own call
@pytest.mark.parametrize("fixture", ["wv", "capitals_wv"])
def test_analogies_3cosmul_answers_as_gensim_most_similar_cosmul(fixture, request):
    wv = request.getfixturevalue(fixture)
    result = analogies(wv, restrict_vocab=None, methods=("3cosmul",), epsilon=1e-6)  # gensim's epsilon
    sample = np.random.default_rng(0).choice(result.questions, size=min(100, result.questions), replace=False)
    for i in sample:
        question = result.evaluated[i]
        a, b, c, _ = _question_keys(wv, question)
        candidates = wv.most_similar_cosmul(positive=[b, c], negative=[a], topn=10)
        assert result.predictions["3cosmul"][i] == _gensim_answer(candidates, question)


def test_analogies_both_methods_and_chunks(capitals_wv):
    whole = analogies(capitals_wv, restrict_vocab=None)
    chunked = analogies(capitals_wv, restrict_vocab=None, chunk_size=7)
    assert chunked.predictions == whole.predictions
    assert set(whole.accuracy) == {"3cosadd", "3cosmul"}
    assert 0 < whole.accuracy["3cosmul"] < 1
    assert whole.questions_total == 19544
    assert sum(whole.section_questions.values()) == whole.questions
    assert all(len(answers) == whole.questions for answers in whole.predictions.values())
    # the question words and their case variants are never answers
    for question, answer in zip(whole.evaluated, whole.predictions["3cosmul"]):
        assert answer.upper() not in {word.upper() for word in question[:3]}


def test_analogies_rejects_unknown_methods_and_empty_files(wv, tmp_path):
    with pytest.raises(ValueError, match="3cosavg"):
        analogies(wv, methods=("3cosavg",))
    path = tmp_path / "questions.txt"
    path.write_text(": family\nboy girl\n", encoding="utf8")
    with pytest.raises(ValueError, match=re.escape(str(path))):
        analogies(wv, path)


def test_analogies_restrict_vocab_limits_questions(wv):
    assert analogies(wv, restrict_vocab=200).questions < analogies(wv).questions


def test_no_known_words_give_nan_scores(tiny_wv):
    result = evaluate(tiny_wv)
    assert result.analogy_questions == 0 and result.wordsim_pairs == 0
    assert math.isnan(result.analogy_accuracy) and math.isnan(result.analogy_accuracy_3cosmul)
    assert math.isnan(result.wordsim_spearman) and math.isnan(result.wordsim_pearson)
    assert result.wordsim_oov_ratio == 1.0


def test_nearest_neighbours_skips_and_reports_missing_words(wv, caplog):
    with caplog.at_level(logging.WARNING, logger="torchw2v.evaluation"):
        result = nearest_neighbours(wv, ["attacks", "zzunknown", "australia"], topn=5)
    assert list(result) == ["attacks", "australia"]
    assert result["attacks"] == wv.most_similar("attacks", topn=5)
    assert result["australia"] == wv.most_similar("Australia", topn=5)  # only "Australia" is in the corpus
    assert "zzunknown" in caplog.text
    assert find_words(wv, ["australia"]) == {"australia": "Australia"}


def test_evaluate_holds_all(wv, tmp_path):
    extra = tmp_path / "pairs.txt"
    extra.write_text("money bank 8.5\nfire water 2\nday night 3.1\nzzunknown bank 4\n", encoding="utf8")
    result = evaluate(wv, restrict_vocab=1000, pair_files=[extra], neighbour_words=["attacks"], topn=3)
    pairs, analogy = word_pairs(wv), analogies(wv, restrict_vocab=1000)
    extra_pairs = word_pairs(wv, extra)
    assert result == Evaluation(
        wordsim_spearman=pairs.spearman,
        wordsim_pearson=pairs.pearson,
        wordsim_pairs=pairs.pairs,
        wordsim_pairs_total=353,
        analogy_accuracy=analogy.accuracy["3cosadd"],
        analogy_accuracy_3cosmul=analogy.accuracy["3cosmul"],
        analogy_questions=analogy.questions,
        extra_pairs={str(extra): (extra_pairs.spearman, 0.75)},
        neighbours={"attacks": wv.most_similar("attacks", topn=3)},
    )
    assert result.wordsim_oov_ratio == pairs.oov_ratio
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.analogy_accuracy = 1.0
