"""Tests of torchw2v.evaluation against gensim's own evaluation methods."""
import dataclasses
import math

import numpy as np
import pytest
from gensim.models import KeyedVectors, Word2Vec
from gensim.models.word2vec import LineSentence
from gensim.test.utils import datapath

from torchw2v.evaluation import Evaluation, analogy_accuracy, evaluate, wordsim353


@pytest.fixture(scope="module")
def wv():
    """Vectors of a small gensim model trained on the bundled Lee corpus."""
    corpus = LineSentence(datapath("lee_background.cor"))
    return Word2Vec(corpus, vector_size=32, min_count=2, epochs=3, seed=1, workers=1).wv


@pytest.fixture
def tiny_wv():
    """Vectors of two words that appear in neither benchmark."""
    wv = KeyedVectors(vector_size=4)
    wv.add_vectors(["spamx", "eggsx"], np.ones((2, 4), dtype=np.float32))
    return wv


def test_wordsim353_matches_gensim(wv):
    pearson, spearman, oov_percent = wv.evaluate_word_pairs(datapath("wordsim353.tsv"))
    result = wordsim353(wv)
    assert result == {
        "spearman": pytest.approx(spearman[0]),
        "pearson": pytest.approx(pearson[0]),
        "oov_ratio": pytest.approx(oov_percent / 100),
    }
    assert 0 < result["oov_ratio"] < 1


def test_analogy_accuracy_matches_gensim(wv):
    score, sections = wv.evaluate_word_analogies(datapath("questions-words.txt"), restrict_vocab=1000)
    total = sections[-1]
    result = analogy_accuracy(wv, restrict_vocab=1000)
    assert result["questions"] == len(total["correct"]) + len(total["incorrect"]) > 0
    assert result["accuracy"] == pytest.approx(score)


def test_analogy_accuracy_restrict_vocab_limits_questions(wv):
    assert analogy_accuracy(wv, restrict_vocab=200)["questions"] < analogy_accuracy(wv)["questions"]


def test_zero_questions_give_nan(tiny_wv):
    result = analogy_accuracy(tiny_wv)
    assert result["questions"] == 0
    assert math.isnan(result["accuracy"])


def test_wordsim353_without_known_pairs_gives_nan(tiny_wv):
    result = wordsim353(tiny_wv)
    assert math.isnan(result["spearman"]) and math.isnan(result["pearson"])
    assert result["oov_ratio"] == 1.0


def test_evaluate_holds_both(wv):
    result = evaluate(wv, restrict_vocab=1000)
    pairs, analogies = wordsim353(wv), analogy_accuracy(wv, restrict_vocab=1000)
    assert result == Evaluation(
        wordsim_spearman=pairs["spearman"],
        wordsim_pearson=pairs["pearson"],
        wordsim_oov_ratio=pairs["oov_ratio"],
        analogy_accuracy=analogies["accuracy"],
        analogy_questions=analogies["questions"],
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.analogy_accuracy = 1.0
