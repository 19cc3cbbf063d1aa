"""Standard quality checks for trained word vectors: WordSim-353 and the Google analogies.

Both benchmarks ship with gensim, so the functions here need no download and work on any
:class:`gensim.models.KeyedVectors`, whether it comes from :class:`torchw2v.TorchWord2Vec` or from
gensim's own ``Word2Vec``. They are thin wrappers over ``KeyedVectors.evaluate_word_pairs`` and
``KeyedVectors.evaluate_word_analogies`` that return plain numbers, and that give ``nan`` instead of
failing when a small vocabulary covers none of a benchmark's words.

>>> from gensim.models import Word2Vec
>>> from gensim.models.word2vec import LineSentence
>>> from gensim.test.utils import datapath
>>> model = Word2Vec(LineSentence(datapath("lee_background.cor")), vector_size=32, workers=1)
>>> result = evaluate(model.wv)
>>> -1.0 <= result.wordsim_spearman <= 1.0
True
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from gensim.models import KeyedVectors
from gensim.test.utils import datapath

logger = logging.getLogger(__name__)

WORDSIM353_PATH = datapath("wordsim353.tsv")
"""WordSim-353 word pairs with human similarity scores, as bundled with gensim."""

ANALOGIES_PATH = datapath("questions-words.txt")
"""Mikolov et al.'s 19,544 "a is to b as c is to d" questions, as bundled with gensim."""


@dataclass(frozen=True)
class Evaluation:
    """Scores of one set of word vectors on WordSim-353 and the Google analogies.

    Attributes
    ----------
    wordsim_spearman : float
        Spearman rank correlation between the model's cosine similarities and the human scores of the
        WordSim-353 pairs whose two words are both in the vocabulary; ``nan`` if there is none.
    wordsim_pearson : float
        Pearson correlation over the same pairs; ``nan`` if there is none.
    wordsim_oov_ratio : float
        Fraction (0 to 1) of the WordSim-353 pairs skipped because a word is out of vocabulary.
    analogy_accuracy : float
        Fraction (0 to 1) of the evaluated analogy questions answered correctly; ``nan`` if no
        question could be evaluated.
    analogy_questions : int
        Number of analogy questions evaluated, i.e. those whose four words are all among the
        ``restrict_vocab`` most frequent words.

    Examples
    --------
    >>> Evaluation(0.65, 0.62, 0.02, 0.31, 12000).analogy_questions
    12000
    """

    wordsim_spearman: float
    wordsim_pearson: float
    wordsim_oov_ratio: float
    analogy_accuracy: float
    analogy_questions: int


def wordsim353(wv: KeyedVectors) -> dict[str, float]:
    """Correlate the vectors' cosine similarities with the WordSim-353 human judgements.

    Parameters
    ----------
    wv : gensim.models.KeyedVectors
        The word vectors to evaluate. Words are matched case-insensitively.

    Returns
    -------
    dict of str to float
        ``"spearman"`` and ``"pearson"``: the correlation coefficients over the pairs whose two words
        are in the vocabulary (``nan`` when no pair is); ``"oov_ratio"``: the fraction (0 to 1, where
        gensim reports a percentage) of pairs skipped for an out-of-vocabulary word.

    Examples
    --------
    >>> from gensim.models import Word2Vec
    >>> from gensim.models.word2vec import LineSentence
    >>> from gensim.test.utils import datapath
    >>> model = Word2Vec(LineSentence(datapath("lee_background.cor")), vector_size=32, workers=1)
    >>> scores = wordsim353(model.wv)
    >>> sorted(scores)
    ['oov_ratio', 'pearson', 'spearman']
    >>> 0.0 < scores["oov_ratio"] < 1.0
    True
    """
    try:
        pearson, spearman, oov_percent = wv.evaluate_word_pairs(WORDSIM353_PATH)
    except ValueError:
        # gensim raises ValueError when not a single pair has both words in the vocabulary.
        logger.warning("WordSim-353: no pair is in the vocabulary of %d words", len(wv))
        return {"spearman": math.nan, "pearson": math.nan, "oov_ratio": 1.0}
    return {"spearman": float(spearman[0]), "pearson": float(pearson[0]), "oov_ratio": oov_percent / 100.0}


def analogy_accuracy(wv: KeyedVectors, restrict_vocab: int = 30000) -> dict[str, float]:
    """Answer the Google analogy questions with 3CosAdd and report the fraction answered correctly.

    Parameters
    ----------
    wv : gensim.models.KeyedVectors
        The word vectors to evaluate, ordered by decreasing frequency (as ``sorted_vocab=1`` leaves
        them). Words are matched case-insensitively.
    restrict_vocab : int, optional
        Only the ``restrict_vocab`` first (most frequent) words are used, both as candidate answers
        and to decide which questions are evaluated: a question with a word outside them is skipped.
        30,000 is the value of the original word2vec papers' evaluations.

    Returns
    -------
    dict of str to float
        ``"accuracy"``: the fraction (0 to 1) of the evaluated questions answered correctly, ``nan``
        when no question could be evaluated (gensim reports 0.0 then); ``"questions"``: the number of
        questions evaluated.

    Examples
    --------
    >>> import numpy as np
    >>> from gensim.models import KeyedVectors
    >>> wv = KeyedVectors(vector_size=4)
    >>> wv.add_vectors(["spam", "eggs"], np.ones((2, 4), dtype=np.float32))
    >>> analogy_accuracy(wv)
    {'accuracy': nan, 'questions': 0}
    """
    score, sections = wv.evaluate_word_analogies(ANALOGIES_PATH, restrict_vocab=restrict_vocab)
    total = sections[-1]  # gensim appends the section summing all the others last
    questions = len(total["correct"]) + len(total["incorrect"])
    return {"accuracy": float(score) if questions else math.nan, "questions": questions}


def evaluate(wv: KeyedVectors, restrict_vocab: int = 30000) -> Evaluation:
    """Run both :func:`wordsim353` and :func:`analogy_accuracy` on the same vectors.

    Parameters
    ----------
    wv : gensim.models.KeyedVectors
        The word vectors to evaluate.
    restrict_vocab : int, optional
        Passed to :func:`analogy_accuracy`.

    Returns
    -------
    Evaluation
        Both benchmarks' scores.

    Examples
    --------
    >>> from gensim.models import Word2Vec
    >>> from gensim.models.word2vec import LineSentence
    >>> from gensim.test.utils import datapath
    >>> model = Word2Vec(LineSentence(datapath("lee_background.cor")), vector_size=32, workers=1)
    >>> evaluate(model.wv).analogy_questions > 0
    True
    """
    pairs = wordsim353(wv)
    analogies = analogy_accuracy(wv, restrict_vocab=restrict_vocab)
    return Evaluation(
        wordsim_spearman=pairs["spearman"],
        wordsim_pearson=pairs["pearson"],
        wordsim_oov_ratio=pairs["oov_ratio"],
        analogy_accuracy=analogies["accuracy"],
        analogy_questions=int(analogies["questions"]),
    )
